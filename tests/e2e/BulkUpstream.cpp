// The bulk-body upstream: see BulkUpstream.h.
#include "BulkUpstream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

namespace epserve::e2e {

namespace {

constexpr std::size_t kWriteSize = 256 * 1024;
constexpr int kPollMillis = 50;

std::string bodyBlock(std::size_t size) {
  std::string b(size + 251, '\0');
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = BulkUpstream::bodyByte(i);
  return b;
}

const std::string& block() {
  static const std::string b = bodyBlock(kWriteSize);
  return b;
}

}  // namespace

bool BulkUpstream::isBody(std::string_view data, std::uint64_t at) {
  const std::string& b = block();
  while (!data.empty()) {
    std::size_t n = std::min(data.size(), kWriteSize);
    if (std::memcmp(data.data(), b.data() + at % 251, n) != 0) return false;
    data.remove_prefix(n);
    at += n;
  }
  return true;
}

BulkUpstream::BulkUpstream(Options options) : options_(std::move(options)) {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
      ::listen(listener_, 16) != 0 ||
      ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    throw std::runtime_error(std::string("bulk upstream: ") + std::strerror(errno));
  }
  port_ = ntohs(a.sin_port);
  (void)block();
  thread_ = std::thread([this] { run(); });
}

BulkUpstream::~BulkUpstream() {
  stop_ = true;
  thread_.join();
  ::close(listener_);
}

void BulkUpstream::run() {
  while (!stop_) {
    pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, kPollMillis) <= 0) continue;
    int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    while (!stop_ && serve(fd)) {
    }
    ::close(fd);
  }
}

bool BulkUpstream::writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    if (stop_) return false;
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, kPollMillis) <= 0) continue;  // a slow proxy: wait, checking stop_
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// One request, one response; false when the connection is over.
bool BulkUpstream::serve(int fd) {
  std::string head;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (head.find("\r\n\r\n") == std::string::npos) {
    if (stop_ || std::chrono::steady_clock::now() > deadline || head.size() > 65536) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, kPollMillis) <= 0) continue;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    head.append(buf, static_cast<std::size_t>(n));
  }
  written_ = 0;
  done_ = false;
  std::string h = "HTTP/1.1 200 OK\r\n" + options_.extraHeaders;
  h += options_.chunked ? "Transfer-Encoding: chunked\r\n"
                        : "Content-Length: " + std::to_string(options_.bodyBytes) + "\r\n";
  h += "\r\n";
  if (!writeAll(fd, h)) return false;
  const std::string& b = block();
  for (std::uint64_t at = 0; at < options_.bodyBytes;) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kWriteSize, options_.bodyBytes - at));
    std::string_view data(b.data() + at % 251, n);
    if (options_.chunked) {
      char size[32];
      int len = std::snprintf(size, sizeof size, "%zx\r\n", n);
      if (!writeAll(fd, std::string_view(size, static_cast<std::size_t>(len)))) return false;
    }
    if (!writeAll(fd, data)) return false;
    if (options_.chunked && !writeAll(fd, "\r\n")) return false;
    at += n;
    written_ = at;
  }
  if (options_.chunked && !writeAll(fd, "0\r\n\r\n")) return false;
  done_ = true;
  ++responses_;
  return true;
}

}  // namespace epserve::e2e
