// accept4 loop with EMFILE handling: see Acceptor.h.
#include "reactor/Acceptor.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

namespace epserve::reactor {

namespace {
// Accepting is level-triggered: stopping after a batch keeps one busy listener from starving
// the connections already open; the rest are picked up on the next iteration.
constexpr int kMaxAcceptsPerWakeup = 256;
}  // namespace

Acceptor::Acceptor(EventLoop& loop, Fd listener, NewConnection onAccept, Sharing sharing)
    : loop_(loop),
      listener_(std::move(listener)),
      spare_(::open("/dev/null", O_RDONLY | O_CLOEXEC)),
      onAccept_(std::move(onAccept)) {
  // A socket handed in by systemd cannot be split into one SO_REUSEPORT socket per worker (a
  // new socket would need the port's privilege, which the unit withholds, and the manager's
  // queue, kept across restarts, is that one socket's), so every worker's epoll watches it.
  // Plain EPOLLIN would wake every waiting worker for each connection, all but one to find
  // EAGAIN. EPOLLEXCLUSIVE wakes one: the kernel walks the socket's waiters and stops at the
  // first loop that is blocked in epoll_wait, so a worker busy serving is passed over for an
  // idle one, which balances by load (a loop passed over still finds the listener ready at its
  // next epoll_wait; whichever accept4 loses the race gets EAGAIN). EPOLLEXCLUSIVE is only
  // allowed at EPOLL_CTL_ADD, which suits a listener: added once, removed once.
  const std::uint32_t events = sharing == Sharing::Shared ? EPOLLIN | EPOLLEXCLUSIVE : EPOLLIN;
  loop_.add(listener_.get(), events, this);
}

Acceptor::~Acceptor() { close(); }

void Acceptor::close() {
  if (!listener_) return;
  loop_.remove(listener_.get());
  listener_.reset();
}

void Acceptor::onEvents(std::uint32_t) {
  for (int i = 0; i < kMaxAcceptsPerWakeup && listener_; ++i) {
    SocketAddress peer;
    peer.length = sizeof(peer.addr);
    int fd = ::accept4(listener_.get(), &peer.addr.any, &peer.length,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      onAccept_(Fd(fd), peer);
      continue;
    }
    switch (errno) {
      case EAGAIN:
        return;
      case EINTR:
      case ECONNABORTED:  // the peer gave up while queued
      case EPROTO:
        continue;
      case EMFILE:
      case ENFILE:
        shedOneConnection();
        continue;
      default:
        spdlog::error("accept4: {}", std::strerror(errno));
        return;
    }
  }
}

void Acceptor::shedOneConnection() {
  // Out of descriptors: the pending connection would keep the level-triggered listener
  // readable forever. Free the spare fd, accept and close the connection, re-take the spare.
  if (loop_.now() - lastExhaustionLog_ >= 1000) {
    spdlog::warn("out of file descriptors ({}): closing new connections until some free up",
                 std::strerror(errno));
    lastExhaustionLog_ = loop_.now();
  }
  spare_.reset();
  int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
  if (fd >= 0) {
    ::close(fd);
    shed_.add();
  }
  spare_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
}

}  // namespace epserve::reactor
