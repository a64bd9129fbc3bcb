// The outbound connect state machine: see Connector.h.
#include "reactor/Connector.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace epserve::reactor {

ConnectError classifyConnectErrno(int errnum) {
  switch (errnum) {
    case ECONNREFUSED:
    case ENOENT:  // a unix socket path nobody bound
    case EAGAIN:  // a unix listener's backlog is full (see Connector.h)
      return ConnectError::Refused;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case EADDRNOTAVAIL:
    case ENETDOWN:
    case EHOSTDOWN:
      return ConnectError::Unreachable;
    case ETIMEDOUT:
      return ConnectError::Timeout;
    case EACCES:
    case EPERM:
      return ConnectError::Permission;
    default:
      return ConnectError::Other;
  }
}

const char* describe(ConnectError error) {
  switch (error) {
    case ConnectError::Refused:
      return "refused";
    case ConnectError::Unreachable:
      return "unreachable";
    case ConnectError::Timeout:
      return "timed out";
    case ConnectError::Permission:
      return "permission denied";
    case ConnectError::Other:
      break;
  }
  return "failed";
}

Connector::Connector(EventLoop& loop, TimeoutList& deadlines)
    : loop_(loop), deadlines_(deadlines) {}

Connector::~Connector() { cancel(); }

void Connector::start(const SocketAddress& to, ConnectHandler& handler) {
  cancel();
  tcp_ = true;
  tcpTarget_ = to;
  begin(&to.addr.any, to.length, handler);
}

void Connector::start(const UnixAddress& to, ConnectHandler& handler) {
  cancel();
  tcp_ = false;
  begin(reinterpret_cast<const sockaddr*>(&to.addr), to.length, handler);
}

void Connector::begin(const sockaddr* to, socklen_t length, ConnectHandler& handler) {
  handler_ = &handler;
  Fd fd(::socket(to->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    completeLater(errno);
    return;
  }
  if (::connect(fd.get(), to, length) == 0) {
    // Typical for unix sockets with room in the backlog. Delivered from the loop all the same,
    // so a handler never runs inside start() (where its caller may hold half-updated state).
    fd_ = std::move(fd);
    completeLater(0);
    return;
  }
  // EINTR on a non-blocking connect: the handshake goes on in the background, as EINPROGRESS.
  if (errno != EINPROGRESS && errno != EINTR) {
    completeLater(errno);
    return;
  }
  // Level-triggered EPOLLOUT: the socket turns writable once, on success or failure (with
  // EPOLLERR); we unregister on the first event, so it cannot repeat.
  loop_.add(fd.get(), EPOLLOUT, this);
  fd_ = std::move(fd);
  deadlines_.arm(deadline_, loop_.now());
  state_ = State::Connecting;
}

void Connector::cancel() {
  switch (state_) {
    case State::Idle:
      return;
    case State::Connecting:
      loop_.remove(fd_.get());
      deadline_.cancel();
      break;
    case State::Completing:
      loop_.unpost(this);
      break;
  }
  fd_.reset();
  handler_ = nullptr;
  state_ = State::Idle;
}

void Connector::completeLater(int errnum) {
  pendingErrno_ = errnum;
  state_ = State::Completing;
  loop_.post(this);
}

void Connector::onEvents(std::uint32_t events) {
  switch (state_) {
    case State::Connecting:
      finishConnect();
      return;
    case State::Completing:
      // Only the post delivers: an epoll event now is left over from an abandoned attempt.
      if (events != 0) return;
      if (pendingErrno_ == 0) {
        succeed();
      } else {
        fail(classifyConnectErrno(pendingErrno_), pendingErrno_);
      }
      return;
    case State::Idle:
      return;  // an event left over from an abandoned attempt
  }
}

void Connector::finishConnect() {
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err == 0) {
    // SO_ERROR is 0 during the handshake too. An event collected for an earlier attempt,
    // before another handler restarted us in the same iteration, must not pass for success.
    SocketAddress peer;
    if (::getpeername(fd_.get(), &peer.addr.any, &peer.length) != 0) {
      if (errno == ENOTCONN) return;  // still connecting: keep waiting
      err = errno;
    }
  }
  loop_.remove(fd_.get());
  deadline_.cancel();
  // Loopback TCP to a closed port in the ephemeral range can "succeed" by a simultaneous open
  // of the socket with itself; nobody is listening, so it is a refusal.
  if (err == 0 && isSelfConnect()) err = ECONNREFUSED;
  if (err != 0) {
    fail(classifyConnectErrno(err), err);
    return;
  }
  succeed();
}

bool Connector::isSelfConnect() const {
  if (!tcp_) return false;
  const SocketAddress& to = tcpTarget_;
  SocketAddress local = SocketAddress::local(fd_.get());
  if (local.addr.any.sa_family != to.addr.any.sa_family || local.port() != to.port()) {
    return false;
  }
  if (to.addr.any.sa_family == AF_INET) {
    return local.addr.v4.sin_addr.s_addr == to.addr.v4.sin_addr.s_addr;
  }
  return std::memcmp(&local.addr.v6.sin6_addr, &to.addr.v6.sin6_addr, sizeof(in6_addr)) == 0;
}

void Connector::onTimeout() {
  if (state_ != State::Connecting) return;
  loop_.remove(fd_.get());
  fail(ConnectError::Timeout, ETIMEDOUT);
}

void Connector::succeed() {
  if (tcp_) {
    // Upstream requests are written whole; Nagle would only hold back their last segment.
    int one = 1;
    ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  Fd fd = std::move(fd_);
  ConnectHandler* handler = std::exchange(handler_, nullptr);
  state_ = State::Idle;
  // Last: the handler may destroy or restart this Connector.
  handler->onConnected(*this, std::move(fd));
}

void Connector::fail(ConnectError error, int errnum) {
  fd_.reset();
  ConnectHandler* handler = std::exchange(handler_, nullptr);
  state_ = State::Idle;
  // Last: the handler may destroy or restart this Connector.
  handler->onConnectFailed(*this, error, errnum);
}

}  // namespace epserve::reactor
