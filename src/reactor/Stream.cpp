// Socket readiness, reads, flushes and half-close: see Stream.h.
#include "reactor/Stream.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>

namespace epserve::reactor {

namespace {
constexpr std::uint32_t kEvents = EPOLLIN | EPOLLRDHUP | EPOLLET;
}  // namespace

void Stream::open(Fd fd, EventLoop& loop, IoHandler* handler, Origin origin) {
  fd_ = std::move(fd);
  loop_ = &loop;
  handler_ = handler;
  watchingOut_ = false;
  readable_ = origin == Origin::Accepted;
  writable_ = true;
  hangup_ = eof_ = paused_ = false;
  loop.add(fd_.get(), kEvents, handler);
}

void Stream::close() {
  out_.clear();
  in_.clear();
  in_.releaseIfEmpty();
  // Closing the fd also removes it from the epoll set (it is never duplicated).
  fd_.reset();
}

void Stream::onEvents(std::uint32_t events) {
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readable_ = true;
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) writable_ = true;
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) hangup_ = true;
}

Stream::ReadResult Stream::readSome() {
  std::size_t room = in_.prepareWrite();
  if (room == 0) return ReadResult::Full;
  std::size_t got = 0;
  ReadResult r = readInto(in_.writePtr(), room, got);
  in_.commit(got);
  return r;
}

Stream::ReadResult Stream::readInto(char* dst, std::size_t max, std::size_t& got) {
  got = 0;
  for (;;) {
    ssize_t n = ::recv(fd_.get(), dst, max, 0);
    if (n > 0) {
      got = static_cast<std::size_t>(n);
      if (got < max && !hangup_) readable_ = false;
      return ReadResult::Data;
    }
    if (n == 0) {
      eof_ = true;
      readable_ = false;
      return ReadResult::Eof;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      readable_ = false;
      return ReadResult::Again;
    }
    return ReadResult::Failed;  // ECONNRESET and friends: the peer is gone
  }
}

OutputQueue::FlushResult Stream::flush() {
  auto r = out_.flush(fd_.get());
  if (r == OutputQueue::FlushResult::Blocked) {
    writable_ = false;
    // Watched from now on, for the rest of the connection: a socket that filled up once (a
    // large body) will again, and one epoll_ctl per connection beats one per blocked write.
    // Modifying re-checks readiness, so room that appeared since the EAGAIN is reported.
    if (!watchingOut_) {
      watchingOut_ = true;
      loop_->modify(fd_.get(), kEvents | EPOLLOUT, handler_);
    }
  }
  return r;
}

void Stream::shutdownWrite() { ::shutdown(fd_.get(), SHUT_WR); }

Stream::DiscardResult Stream::discardInput() {
  char sink[4096];
  ssize_t n;
  while ((n = ::recv(fd_.get(), sink, sizeof(sink), 0)) > 0) {
  }
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    if (n == 0) eof_ = true;
    return DiscardResult::Done;
  }
  readable_ = false;
  return DiscardResult::Again;
}

}  // namespace epserve::reactor
