// Socket address parsing and printing: see SocketAddress.h.
#include "reactor/SocketAddress.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

namespace epserve::reactor {

std::uint16_t SocketAddress::port() const {
  return ntohs(addr.any.sa_family == AF_INET6 ? addr.v6.sin6_port : addr.v4.sin_port);
}

std::size_t SocketAddress::format(char* buf, std::size_t size) const {
  char host[INET6_ADDRSTRLEN] = {};
  int n;
  if (addr.any.sa_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &addr.v6.sin6_addr, host, sizeof(host));
    n = std::snprintf(buf, size, "[%s]:%u", host, static_cast<unsigned>(port()));
  } else {
    ::inet_ntop(AF_INET, &addr.v4.sin_addr, host, sizeof(host));
    n = std::snprintf(buf, size, "%s:%u", host, static_cast<unsigned>(port()));
  }
  if (n < 0) return 0;
  return static_cast<std::size_t>(n) < size ? static_cast<std::size_t>(n) : size - 1;
}

std::string SocketAddress::toString() const {
  char buf[INET6_ADDRSTRLEN + 8];
  std::size_t n = format(buf, sizeof(buf));
  return std::string(buf, n);
}

bool SocketAddress::parse(const std::string& host, std::uint16_t port, SocketAddress& out) {
  out = SocketAddress{};
  std::string h = host == "localhost" ? "127.0.0.1" : host;
  // Accept "[::1]" as well as "::1".
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (::inet_pton(AF_INET, h.c_str(), &out.addr.v4.sin_addr) == 1) {
    out.addr.v4.sin_family = AF_INET;
    out.addr.v4.sin_port = htons(port);
    out.length = sizeof(sockaddr_in);
    return true;
  }
  if (::inet_pton(AF_INET6, h.c_str(), &out.addr.v6.sin6_addr) == 1) {
    out.addr.v6.sin6_family = AF_INET6;
    out.addr.v6.sin6_port = htons(port);
    out.length = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

SocketAddress SocketAddress::local(int fd) {
  SocketAddress a;
  a.length = sizeof(a.addr);
  ::getsockname(fd, &a.addr.any, &a.length);
  return a;
}

}  // namespace epserve::reactor
