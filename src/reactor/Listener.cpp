// The listening socket: see Listener.h.
#include "reactor/Listener.h"

#include <netinet/tcp.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace epserve::reactor {

namespace {

// Options for the connections, set on the listener (accepted sockets inherit them on Linux);
// valid before bind() and after listen() alike. `where` names the socket in an error.
void setOptions(int fd, unsigned notSentLowat, const std::string& where) {
  int one = 1;
  // Responses are written whole (one writev); Nagle would only delay the last segment.
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  // Large bodies: without a bound, one sendfile() of a whole MiB is accepted into the send
  // buffer and most of it is transmitted later, from the ACK path; on loopback ACKs are
  // processed on the receiver's core, so the kernel's transmit work for our bytes ran on the
  // client's core (measured: epserve's core 26-34 % busy, wrk's 92-99 %, 1 MiB at 0.44x
  // lighttpd). TCP_NOTSENT_LOWAT makes the socket stop taking bytes (EAGAIN) once this many are
  // queued but not yet sent, and EPOLLOUT fire when they drain below it, so each sendfile() is
  // paced by the wire and transmits from our own core. The default (16 KiB) came out of a sweep
  // of 4 KiB..1 MiB (README, benchmarks); re-run on another VM, 8-32 KiB tie (7.8-8.5 GB/s at
  // 1 MiB), 64 KiB gives 4.6-5.9 and 128 KiB 1.9-2.9: above ~32 KiB the ACK path takes the
  // transmit work back. Set on the listener: every accepted socket inherits it, so it costs no
  // syscall per connection.
  if (notSentLowat > 0 &&
      ::setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &notSentLowat, sizeof(notSentLowat)) != 0) {
    throw std::system_error(errno, std::generic_category(),
                            "setsockopt(TCP_NOTSENT_LOWAT) " + where);
  }
  // Wake us only when the first request bytes arrive, not on the bare handshake.
  int deferSeconds = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &deferSeconds, sizeof(deferSeconds));
}

}  // namespace

Fd listenTcp(const SocketAddress& address, int backlog, bool reusePort, unsigned notSentLowat) {
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
  setOptions(fd.get(), notSentLowat, address.toString());
  if (::bind(fd.get(), &address.addr.any, address.length) != 0) fail("bind");
  if (::listen(fd.get(), backlog) != 0) fail("listen");
  return fd;
}

void setListenerOptions(int fd, unsigned notSentLowat) {
  setOptions(fd, notSentLowat, SocketAddress::local(fd).toString());
}

}  // namespace epserve::reactor
