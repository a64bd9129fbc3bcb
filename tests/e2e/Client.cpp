// Raw-socket HTTP client for the end-to-end tests: exact bytes out, strict parsing in.
// Framing follows RFC 9112 §6.3: no body for HEAD, 1xx, 204, 304; else chunked, length, or EOF.
#include "Client.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <stdexcept>
#include <system_error>

namespace epserve::e2e {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr auto kResponseBound = 10s;
constexpr std::size_t kMaxHeadBytes = 256 * 1024;
constexpr std::size_t kRecvChunk = 64 * 1024;

void setIoTimeouts(int fd) {
  const timeval five{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five, sizeof five);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &five, sizeof five);
}

// A connected socket to host:port with I/O timeouts, or -1 with errno set.
int connectTo(std::uint16_t port, const std::string& host, int receiveBuffer) {
  sockaddr_storage address{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    length = sizeof *v4;
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    length = sizeof *v6;
  } else {
    throw std::invalid_argument("not an IP literal: " + host);
  }
  const int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  setIoTimeouts(fd);  // SO_SNDTIMEO also bounds connect() on Linux
  if (receiveBuffer > 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::size_t parseSize(std::string_view text, int base, const char* what) {
  std::size_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) {
    throw std::runtime_error(std::string("bad ") + what + ": '" + std::string(text) + "'");
  }
  return value;
}

}  // namespace

Client::Client(std::uint16_t port, const std::string& host, int receiveBuffer)
    : fd_(connectTo(port, host, receiveBuffer)) {
  if (fd_ < 0) {
    throw std::system_error(errno, std::generic_category(),
                            "connect to " + host + ":" + std::to_string(port));
  }
}

Client::~Client() {
  if (fd_ >= 0) ::close(fd_);
}

Client::Client(Client&& other) noexcept : fd_(other.fd_), buffer_(std::move(other.buffer_)) {
  other.fd_ = -1;
}

void Client::send(std::string_view bytes) {
  while (!bytes.empty()) {
    // MSG_NOSIGNAL: a server that already closed must fail the test, not kill it with SIGPIPE.
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "send");
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

bool Client::fill(Clock::time_point deadline) {
  for (;;) {
    if (Clock::now() >= deadline) throw std::runtime_error("timed out waiting for the server");
    char chunk[kRecvChunk];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      throw std::runtime_error("no data from the server for 5 s (SO_RCVTIMEO)");
    }
    throw std::system_error(errno, std::generic_category(), "recv");
  }
}

HttpResponse Client::parseHead(std::size_t headEnd) {
  const std::string head = buffer_.substr(0, headEnd);
  buffer_.erase(0, headEnd + 4);
  HttpResponse response;
  std::size_t lineEnd = head.find("\r\n");
  const std::string statusLine = head.substr(0, lineEnd);
  // status-line = HTTP-version SP status-code SP [ reason-phrase ]  (RFC 9112 §4)
  const std::size_t sp1 = statusLine.find(' ');
  if (sp1 == std::string::npos || statusLine.size() < sp1 + 4 ||
      (statusLine.size() > sp1 + 4 && statusLine[sp1 + 4] != ' ')) {
    throw std::runtime_error("bad status line: '" + statusLine + "'");
  }
  response.version = statusLine.substr(0, sp1);
  if (response.version.rfind("HTTP/", 0) != 0) {
    throw std::runtime_error("bad status line: '" + statusLine + "'");
  }
  response.status =
      static_cast<int>(parseSize(std::string_view(statusLine).substr(sp1 + 1, 3), 10, "status"));
  if (statusLine.size() > sp1 + 5) response.reason = statusLine.substr(sp1 + 5);
  while (lineEnd != std::string::npos) {
    const std::size_t start = lineEnd + 2;
    lineEnd = head.find("\r\n", start);
    const std::string_view line = std::string_view(head).substr(
        start, lineEnd == std::string::npos ? std::string::npos : lineEnd - start);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      throw std::runtime_error("bad header line: '" + std::string(line) + "'");
    }
    response.headers.emplace_back(std::string(line.substr(0, colon)),
                                  std::string(trim(line.substr(colon + 1))));
  }
  return response;
}

HttpResponse Client::readHead() {
  const auto deadline = Clock::now() + kResponseBound;
  for (;;) {
    const std::size_t end = buffer_.find("\r\n\r\n");
    if (end != std::string::npos) return parseHead(end);
    if (buffer_.size() > kMaxHeadBytes) throw std::runtime_error("response head too large");
    if (!fill(deadline)) {
      throw std::runtime_error("connection closed before a complete response head; got " +
                               std::to_string(buffer_.size()) + " bytes: '" + buffer_ + "'");
    }
  }
}

void Client::readBody(HttpResponse& response, Clock::time_point deadline) {
  if (response.header("Transfer-Encoding").find("chunked") != std::string::npos) {
    // chunked-body = *chunk last-chunk trailer-section CRLF  (RFC 9112 §7.1)
    for (;;) {
      std::size_t lineEnd;
      while ((lineEnd = buffer_.find("\r\n")) == std::string::npos) {
        if (!fill(deadline)) throw std::runtime_error("closed inside a chunk size line");
      }
      std::string_view sizeText = std::string_view(buffer_).substr(0, lineEnd);
      sizeText = sizeText.substr(0, sizeText.find(';'));
      const std::size_t size = parseSize(trim(sizeText), 16, "chunk size");
      buffer_.erase(0, lineEnd + 2);
      if (size == 0) break;
      while (buffer_.size() < size + 2) {
        if (!fill(deadline)) throw std::runtime_error("closed inside a chunk");
      }
      response.body.append(buffer_, 0, size);
      buffer_.erase(0, size + 2);
    }
    for (;;) {  // trailer fields up to the empty line
      std::size_t lineEnd;
      while ((lineEnd = buffer_.find("\r\n")) == std::string::npos) {
        if (!fill(deadline)) throw std::runtime_error("closed inside the trailer section");
      }
      buffer_.erase(0, lineEnd + 2);
      if (lineEnd == 0) return;
    }
  }
  if (response.has("Content-Length")) {
    const std::size_t length = parseSize(response.header("Content-Length"), 10, "Content-Length");
    while (buffer_.size() < length) {
      if (!fill(deadline)) {
        throw std::runtime_error("closed after " + std::to_string(buffer_.size()) + " of " +
                                 std::to_string(length) + " body bytes");
      }
    }
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return;
  }
  while (fill(deadline)) {
  }
  response.body = std::move(buffer_);
  buffer_.clear();
}

HttpResponse Client::readResponse(bool headRequest, bool stopAtInterim) {
  const auto deadline = Clock::now() + kResponseBound;
  std::vector<int> interim;
  for (;;) {
    HttpResponse response = readHead();
    if (response.status >= 100 && response.status < 200) {
      interim.push_back(response.status);
      if (stopAtInterim) {
        response.interimStatuses = std::move(interim);
        return response;
      }
      continue;
    }
    response.interimStatuses = std::move(interim);
    if (!headRequest && response.status != 204 && response.status != 304) {
      readBody(response, deadline);
    }
    return response;
  }
}

HttpResponse Client::request(std::string_view bytes, bool headRequest) {
  send(bytes);
  return readResponse(headRequest);
}

std::string Client::recvSome(std::size_t max) {
  if (buffer_.empty() && !fill(Clock::now() + kResponseBound)) return {};
  const std::size_t n = std::min(max, buffer_.size());
  std::string out = buffer_.substr(0, n);
  buffer_.erase(0, n);
  return out;
}

bool Client::waitForClose(std::chrono::milliseconds bound) {
  const auto deadline = Clock::now() + bound;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd watched{fd_, POLLIN, 0};
    const int ready = ::poll(&watched, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) throw std::system_error(errno, std::generic_category(), "poll");
    if (ready == 0) return false;
    char chunk[kRecvChunk];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n == 0) return true;
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      continue;
    }
    if (errno == ECONNRESET) return true;  // an abortive close is still a close
    if (errno != EINTR && errno != EAGAIN) {
      throw std::system_error(errno, std::generic_category(), "recv");
    }
  }
}

std::string Client::readUntilEof(std::chrono::milliseconds bound) {
  const auto deadline = Clock::now() + bound;
  while (fill(deadline)) {
  }
  std::string all = std::move(buffer_);
  buffer_.clear();
  return all;
}

void Client::shutdownWrite() {
  if (::shutdown(fd_, SHUT_WR) != 0) {
    throw std::system_error(errno, std::generic_category(), "shutdown");
  }
}

std::uint16_t Client::localPort() const {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
}

std::string requestHead(std::string_view method, std::string_view target,
                        std::string_view extraHeaders) {
  std::string head;
  head.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  head.append(extraHeaders).append("\r\n");
  return head;
}

bool canConnect(std::uint16_t port, const std::string& host) {
  const int fd = connectTo(port, host, 0);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

bool sameBytes(const std::string& actual, const std::string& expected) {
  if (actual == expected) return true;
  std::size_t at = 0;
  while (at < actual.size() && at < expected.size() && actual[at] == expected[at]) ++at;
  MESSAGE("bodies differ: got " << actual.size() << " bytes, expected " << expected.size()
                                << ", first difference at offset " << at);
  return false;
}

}  // namespace epserve::e2e
