// An IPv4 or IPv6 socket address (what accept4/getsockname fill in), printable as
// "1.2.3.4:80" or "[::1]:80" for logs.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace epserve::reactor {

struct SocketAddress {
  union {
    sockaddr any;
    sockaddr_in v4;
    sockaddr_in6 v6;
  } addr{};
  socklen_t length = sizeof(addr);

  std::uint16_t port() const;
  // host:port, with brackets around IPv6 hosts.
  std::string toString() const;
  // Writes host:port into buf (NUL-terminated, truncated to size); returns the length.
  std::size_t format(char* buf, std::size_t size) const;

  // Parses a numeric IPv4/IPv6 address or "localhost"; returns false if it is neither.
  static bool parse(const std::string& host, std::uint16_t port, SocketAddress& out);
  // The local address a socket is bound to.
  static SocketAddress local(int fd);
};

}  // namespace epserve::reactor
