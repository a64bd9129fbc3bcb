// Fetches paths from one server in order, reusing a keep-alive connection between them and
// reconnecting when the server closes it. Bodies go byte for byte to one stream, heads to another.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "client/Options.h"
#include "client/TcpConnection.h"
#include "http/ResponseParser.h"

namespace epserve::client {

class HttpClient {
 public:
  // Bodies are written to `body`; with options.verbose, heads and connection notes to `log`.
  HttpClient(const ClientOptions& options, std::FILE* body, std::FILE* log);

  // Sends one request for `path` and copies the final response's body out; returns its status.
  // Throws ClientError on connection, protocol and output errors.
  int fetch(const std::string& path);

 private:
  enum class Exchange { Done, ServerHadClosed };

  // What outlives the parsed head: its views die when buffer_ changes.
  struct FinalHead {
    int status;
    http::ResponseFraming framing;
    std::uint64_t length;
    bool keepAlive;
  };

  std::string requestFor(const std::string& path) const;
  void connect();
  void disconnect();
  // One request and its response. ServerHadClosed: a `reused` connection turned out to be closed
  // before any byte of the response arrived, so the request can be sent again.
  Exchange exchange(const std::string& request, bool reused, int& status);
  // Reads heads up to the final one; nullopt in the ServerHadClosed case above.
  std::optional<FinalHead> readFinalHead(bool reused);
  // Copies the body to body_; true if the server closed the connection to end it.
  bool readBody(const FinalHead& head);
  // Receives into buffer_; 0 once the server has closed.
  std::size_t fill();
  void logRequest(std::string_view request) const;
  void logHead(const http::ParsedResponse& head) const;
  void writeBody(std::string_view bytes);

  const ClientOptions& options_;
  std::FILE* body_;
  std::FILE* log_;
  std::optional<TcpConnection> connection_;
  std::string buffer_;         // received bytes not consumed yet
  http::ParsedResponse head_;  // the latest head; its views die when buffer_ next changes
};

}  // namespace epserve::client
