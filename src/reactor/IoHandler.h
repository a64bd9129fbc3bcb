// The interface the event loop calls back: one object per watched fd.
// The loop never owns handlers; whoever registers one keeps it alive until it is removed.
#pragma once

#include <cstdint>

namespace epserve::reactor {

class IoHandler {
 public:
  // `events` is the epoll mask that fired (EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLHUP, EPOLLERR),
  // or 0 when the handler was posted (EventLoop::post) to resume work it had capped.
  virtual void onEvents(std::uint32_t events) = 0;

 protected:
  ~IoHandler() = default;
};

}  // namespace epserve::reactor
