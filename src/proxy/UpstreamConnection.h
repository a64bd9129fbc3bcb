// One connection to an upstream server: a Stream and its timer, whose events go to whoever
// uses it now (an exchange sending a request, or the pool watching it while idle).
#pragma once

#include <cstdint>

#include "reactor/Buffer.h"
#include "reactor/EventLoop.h"
#include "reactor/Fd.h"
#include "reactor/Stream.h"
#include "reactor/TimeoutList.h"

namespace epserve::proxy {

class UpstreamConnection;

class UpstreamUser {
 public:
  virtual void onUpstreamEvents(UpstreamConnection& c) = 0;
  virtual void onUpstreamTimeout(UpstreamConnection& c) = 0;

 protected:
  ~UpstreamUser() = default;
};

class UpstreamConnection final : public reactor::IoHandler, public reactor::TimeoutHandler {
 public:
  explicit UpstreamConnection(reactor::BufferPool& pool) : stream_(pool), timer_(this) {}

  void open(reactor::Fd fd, reactor::EventLoop& loop, UpstreamUser* user) {
    loop_ = &loop;
    user_ = user;
    stream_.open(std::move(fd), loop, this, reactor::Stream::Origin::Connected);
  }
  void setUser(UpstreamUser* user) { user_ = user; }
  // Resumes the user in the next iteration without waiting for I/O (it capped its reads).
  void post() {
    if (posted_) return;
    posted_ = true;
    loop_->post(this);
  }
  // Closes the socket now (no event can arrive after this) and forgets the user.
  void close() {
    timer_.cancel();
    if (posted_) loop_->unpost(this);
    posted_ = false;
    user_ = nullptr;
    stream_.close();
  }

  reactor::Stream& stream() { return stream_; }
  reactor::Timer& timer() { return timer_; }
  std::uint32_t requests = 0;  // requests sent on it so far: > 1 means it was reused

  void onEvents(std::uint32_t events) override {
    if (events == 0) {
      posted_ = false;
    } else {
      stream_.onEvents(events);
    }
    if (user_) user_->onUpstreamEvents(*this);
  }
  void onTimeout() override {
    if (user_) user_->onUpstreamTimeout(*this);
  }

 private:
  reactor::Stream stream_;
  reactor::Timer timer_;
  reactor::EventLoop* loop_ = nullptr;
  UpstreamUser* user_ = nullptr;
  bool posted_ = false;
};

}  // namespace epserve::proxy
