// A blocking loopback TCP client that speaks raw HTTP/1.1 bytes and parses responses strictly.
// Every socket has 5 s send/receive timeouts and every read loop has a deadline, so no test hangs.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "HttpResponse.h"

namespace epserve::e2e {

class Client {
 public:
  // Connects to host:port (IPv4 or IPv6 literal). `receiveBuffer` > 0 shrinks SO_RCVBUF before
  // connecting, so a slow reader really does hold the server back. Throws if it cannot connect.
  explicit Client(std::uint16_t port, const std::string& host = "127.0.0.1", int receiveBuffer = 0);
  ~Client();
  Client(Client&& other) noexcept;
  Client& operator=(Client&&) = delete;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends all of `bytes`, in as few send() calls as the kernel allows (one, for small inputs).
  void send(std::string_view bytes);
  // Sends a FIN (shutdown SHUT_WR): the server reads EOF, the client can still read.
  void shutdownWrite();
  // Reads one final response, skipping (and recording) 1xx interim ones unless `stopAtInterim`.
  // `headRequest` means the response has no body whatever its headers say (RFC 9110 §9.3.2).
  HttpResponse readResponse(bool headRequest = false, bool stopAtInterim = false);
  HttpResponse request(std::string_view bytes, bool headRequest = false);
  // Reads just the status line and headers; the body stays to be read with recvSome().
  HttpResponse readHead();
  // Up to `max` bytes (buffered ones first); "" once the server has closed the connection.
  std::string recvSome(std::size_t max);
  // True if the server closes the connection within `bound`. Bytes that arrive meanwhile are kept
  // and can be inspected with pending().
  bool waitForClose(std::chrono::milliseconds bound);
  // Everything the server sends until it closes, within `bound` (throws on timeout).
  std::string readUntilEof(std::chrono::milliseconds bound);
  const std::string& pending() const { return buffer_; }
  std::uint16_t localPort() const;

 private:
  // One recv() into buffer_; false on orderly close. Throws on timeout or error.
  bool fill(std::chrono::steady_clock::time_point deadline);
  HttpResponse parseHead(std::size_t headEnd);
  void readBody(HttpResponse& response, std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string buffer_;
};

// `METHOD target HTTP/1.1`, `Host: 127.0.0.1`, then `extraHeaders` (each ending in CRLF), then
// the blank line that ends the head.
std::string requestHead(std::string_view method, std::string_view target,
                        std::string_view extraHeaders = {});
// Whether a TCP connect to host:port succeeds right now (the socket is closed again at once).
bool canConnect(std::uint16_t port, const std::string& host = "127.0.0.1");
// Byte-exact comparison that, on mismatch, says where instead of printing megabytes.
bool sameBytes(const std::string& actual, const std::string& expected);

}  // namespace epserve::e2e
