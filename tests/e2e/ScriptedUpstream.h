// A scripted upstream HTTP/1.1 origin for the proxy end-to-end tests: it records every byte it
// receives, frames each request (head, then a Content-Length or chunked body, RFC 9112 §6.3), and
// answers with scripted bytes, written verbatim. One background thread serves the 127.0.0.1
// listener (ephemeral port) and, optionally, a unix socket, with poll() and short timeouts.
//
// Requests are recorded as soon as they are framed, so a pipelined or smuggled request shows up
// in received() even while the one before it is still unanswered. Each connection answers its
// requests strictly in order, one at a time, like a real server; a reply is taken from the script
// when a request's turn to be answered comes (a global queue across connections), or the default
// reply when the script is empty. After a closing reply, requests still queued on that
// connection stay recorded but are never answered and consume no reply. There is no leniency:
// stray bytes between requests (an extra CRLF, say) become the start of the next one's head.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace epserve::e2e {

class ScriptedUpstream {
 public:
  // One scripted answer. neverAnswer and closeWithoutAnswer ignore everything else; otherwise
  // wait delayMillis, write `bytes` (in pieces if asked), then RST if resetAfter, else close if
  // closeAfter (or Options::closeAfterEachResponse), else read the next request.
  struct Reply {
    std::string bytes;               // written verbatim after the request is received
    int delayMillis = 0;             // wait this long before writing
    bool closeAfter = false;         // close (FIN, then drain the peer) after writing
    bool resetAfter = false;         // after writing, SO_LINGER {1, 0} close: RST
    std::size_t writeInPieces = 0;   // > 0: write in pieces of this many bytes, ...
    int pieceDelayMillis = 5;        // ... this long apart (TCP_NODELAY is set)
    bool neverAnswer = false;        // send nothing, keep the socket open (read timeouts)
    bool closeWithoutAnswer = false;  // EOF right after reading the request
  };

  // One request as the upstream received it.
  struct Received {
    std::string head;      // request line and fields, through the empty line that ends them
    std::string body;      // the payload; de-chunked if it was chunked
    bool chunked = false;  // framed by Transfer-Encoding: chunked
    std::string trailers;  // chunked only: the trailer field lines (each ending in CRLF)
    std::string raw;       // every byte of this request as received
    int connectionIndex = -1;  // which accepted connection (0, 1, 2... in accept order)
    std::string error;     // "" unless the framing was broken (then nothing more is parsed)
    std::chrono::steady_clock::time_point receivedAt{};  // when its last byte was framed

    // "GET /x HTTP/1.1"
    std::string requestLine() const;
    std::string method() const;
    std::string target() const;
    // The first field named `name` (case-insensitive), its value trimmed; "" if absent.
    std::string header(std::string_view name) const;
    std::size_t headerCount(std::string_view name) const;
  };

  struct Options {
    bool unixSocket = false;            // also listen on unixPath(), in a fresh temp dir
    // > 0: close (FIN) a connection with no request to answer once nothing has been read or
    // written on it for this long: a stale pooled connection for the proxy.
    int closeIdleAfterMillis = 0;
    bool closeAfterEachResponse = false;  // every reply behaves as closeAfter
    // A 101 reply to a request carrying Upgrade turns the connection into an echo tunnel (the
    // bytes right behind that request included); framing halts behind such a request meanwhile.
    bool tunnelAfter101 = false;
    // Once the head of a request with "Expect: 100-continue" is in but its body is not, write
    // "HTTP/1.1 100 Continue" (only when it is the next request to answer).
    bool continueOnExpect = false;
    // The answer once the script is empty: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".
    Reply defaultReply = ok("ok");
  };

  ScriptedUpstream();
  explicit ScriptedUpstream(Options options);
  // Stops the thread (it notices within ~10 ms), joins it, closes every socket, removes the
  // unix socket and its directory.
  ~ScriptedUpstream();
  ScriptedUpstream(const ScriptedUpstream&) = delete;
  ScriptedUpstream& operator=(const ScriptedUpstream&) = delete;

  std::uint16_t port() const { return port_; }
  // The unix socket's path, or "" without Options::unixSocket.
  std::string unixPath() const { return unixPath_.string(); }

  // Appends to the script.
  void push(Reply reply);
  void script(std::vector<Reply> replies);
  void setDefaultReply(Reply reply);
  // Script items not consumed yet.
  std::size_t scriptLeft() const;

  // "HTTP/1.1 200 OK", Content-Length, then `extraHeaders` (each ending in CRLF), then `body`.
  static Reply ok(std::string body, std::string extraHeaders = "");
  // "HTTP/1.1 200 OK", Transfer-Encoding: chunked, `extraHeaders`, one chunk per non-empty
  // element of `chunks`, then the last chunk and the empty trailer section.
  static Reply chunked(std::vector<std::string> chunks, std::string extraHeaders = "");
  // "HTTP/1.1 200 OK" with neither Content-Length nor Transfer-Encoding: the body ends at the
  // close (RFC 9112 §6.3 rule 8), so closeAfter is set.
  static Reply closeDelimited(std::string body, std::string extraHeaders = "");

  // Every request framed so far, in the order received (across connections).
  std::vector<Received> received() const;
  std::size_t connectionsAccepted() const;
  // Connections the upstream still holds open.
  std::size_t openConnections() const;
  // True once at least `n` requests have been received; false if that takes longer than `bound`.
  bool waitForRequests(std::size_t n, std::chrono::milliseconds bound) const;
  // True once at least `n` connections have been accepted, within `bound`.
  bool waitForConnections(std::size_t n, std::chrono::milliseconds bound) const;
  // True once exactly `n` connections are open (say 0: the proxy let go of its pool).
  bool waitForOpenConnections(std::size_t n, std::chrono::milliseconds bound) const;
  // Everything ever read on connection `connectionIndex` (requests, partial ones, bytes after a
  // framing error, bytes read while closing); "" for an unknown index.
  std::string allBytes(int connectionIndex) const;

 private:
  struct Connection;

  void run();
  void pollOnce();
  void acceptFrom(int listener, bool tcp);
  void readFrom(Connection& connection);
  void frameRequests(Connection& connection);
  void advance(Connection& connection);
  void startReply(Connection& connection);
  void writeSome(Connection& connection);
  void finishReply(Connection& connection);
  void closeGracefully(Connection& connection);
  void closeNow(Connection& connection, bool reset);
  Reply takeReply();

  Options options_;
  int listenFd_ = -1;
  int unixFd_ = -1;
  std::uint16_t port_ = 0;
  std::filesystem::path unixDir_;
  std::filesystem::path unixPath_;
  std::vector<std::unique_ptr<Connection>> connections_;  // the thread's alone

  mutable std::mutex mutex_;  // guards everything below
  mutable std::condition_variable changed_;
  bool stop_ = false;
  std::deque<Reply> script_;
  std::vector<Received> received_;
  std::map<int, std::string> allBytes_;
  std::size_t accepted_ = 0;
  std::size_t open_ = 0;

  std::thread thread_;  // last: started once everything above exists
};

}  // namespace epserve::e2e
