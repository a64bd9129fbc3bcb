// The listening socket: see Listener.h.
#include "reactor/Listener.h"

#include <netinet/tcp.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace epserve::reactor {

Fd listenTcp(const SocketAddress& address, int backlog, bool reusePort) {
  auto fail = [&](const char* what) {
    throw std::system_error(errno, std::generic_category(),
                            std::string(what) + " " + address.toString());
  };
  Fd fd(::socket(address.addr.any.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) fail("socket");
  int one = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) fail("setsockopt");
  if (reusePort && ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    fail("setsockopt(SO_REUSEPORT)");
  }
  // Responses are written whole (one writev); Nagle would only delay the last segment.
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  // Wake us only when the first request bytes arrive, not on the bare handshake.
  int deferSeconds = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_DEFER_ACCEPT, &deferSeconds, sizeof(deferSeconds));
  if (::bind(fd.get(), &address.addr.any, address.length) != 0) fail("bind");
  if (::listen(fd.get(), backlog) != 0) fail("listen");
  return fd;
}

}  // namespace epserve::reactor
