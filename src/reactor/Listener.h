// Creates the listening TCP socket: non-blocking, close-on-exec, SO_REUSEADDR, TCP_NODELAY and
// TCP_NOTSENT_LOWAT (both inherited by accepted sockets on Linux) and TCP_DEFER_ACCEPT.
#pragma once

#include "reactor/Fd.h"
#include "reactor/SocketAddress.h"

namespace epserve::reactor {

// Binds and listens; throws std::system_error whose what() says which step failed on which
// address ("bind 127.0.0.1:80: Permission denied"). With `reusePort`, several sockets (one per
// worker) share the port and the kernel spreads new connections across them (SO_REUSEPORT).
// `notSentLowat` > 0 sets TCP_NOTSENT_LOWAT, which accepted sockets inherit (see Listener.cpp).
Fd listenTcp(const SocketAddress& address, int backlog, bool reusePort = false,
             unsigned notSentLowat = 0);

// The same per-connection options (TCP_NODELAY, TCP_NOTSENT_LOWAT, TCP_DEFER_ACCEPT) on a
// socket that is already listening: one passed in by systemd. Throws like listenTcp.
void setListenerOptions(int fd, unsigned notSentLowat);

}  // namespace epserve::reactor
