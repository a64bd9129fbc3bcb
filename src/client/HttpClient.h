// Fetches paths from one server in order, reusing a keep-alive connection between them and
// reconnecting when the server closes it. Bodies go byte for byte to one stream, heads to another.
#pragma once

#include <cstdio>
#include <optional>
#include <string>

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

  std::string requestFor(const std::string& path) const;
  void connect();
  void disconnect();
  Exchange exchange(const std::string& request, bool reused, int& status);
  // Receives into buffer_; 0 once the server has closed.
  std::size_t fill();
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
