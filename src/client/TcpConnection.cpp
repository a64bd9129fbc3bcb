// Bounded blocking socket I/O for epserve-get: see TcpConnection.h.
#include "client/TcpConnection.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>

#include "client/ClientError.h"
#include "client/Options.h"

namespace epserve::client {

namespace {

using Clock = std::chrono::steady_clock;

// Waits for a non-blocking connect() to finish, retrying poll() after signals with the time
// that is left. Returns 0 or the connect error; ETIMEDOUT when the deadline passes.
int awaitConnect(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return ETIMEDOUT;
    pollfd p{fd, POLLOUT, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return ETIMEDOUT;
    int err = 0;
    socklen_t len = sizeof(err);
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errno;
    return err;
  }
}

}  // namespace

TcpConnection::TcpConnection(const reactor::SocketAddress& server,
                             std::chrono::milliseconds timeout)
    : peer_(server.toString()), timeout_(timeout) {
  const std::string what = "connect " + peer_;
  fd_.reset(::socket(server.addr.any.sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd_) throw ClientError(what + ": " + std::strerror(errno), errno);

  // Non-blocking only while connecting: a blocking connect() could wait for minutes of SYN
  // retries, far past --timeout.
  int err = ::connect(fd_.get(), &server.addr.any, server.length) == 0 ? 0 : errno;
  if (err == EINPROGRESS) err = awaitConnect(fd_.get(), timeout);
  if (err == ETIMEDOUT) throw ClientError(what + ": timed out after " + describeTimeout(timeout),
                                          err);
  if (err != 0) throw ClientError(what + ": " + std::strerror(err), err);

  const int flags = ::fcntl(fd_.get(), F_GETFL);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  if (flags < 0 || ::fcntl(fd_.get(), F_SETFL, flags & ~O_NONBLOCK) < 0 ||
      ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
      ::setsockopt(fd_.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
    throw ClientError(what + ": " + std::strerror(errno), errno);
  }
}

void TcpConnection::sendAll(std::string_view bytes) {
  while (!bytes.empty()) {
    // MSG_NOSIGNAL: a closed peer is an EPIPE to report, not a SIGPIPE that kills us.
    const ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    const int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      throw ClientError("send to " + peer_ + ": timed out after " + describeTimeout(timeout_),
                        ETIMEDOUT);
    }
    throw ClientError("send to " + peer_ + ": " + std::strerror(err), err);
  }
}

std::size_t TcpConnection::receive(char* buf, std::size_t size) {
  for (;;) {
    const ssize_t n = ::recv(fd_.get(), buf, size, 0);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    const int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      throw ClientError("receive from " + peer_ + ": timed out after " +
                        describeTimeout(timeout_), ETIMEDOUT);
    }
    throw ClientError("receive from " + peer_ + ": " + std::strerror(err), err);
  }
}

std::uint16_t TcpConnection::localPort() const {
  return reactor::SocketAddress::local(fd_.get()).port();
}

}  // namespace epserve::client
