// Lets another thread wake an event loop and run a callback in it (an eventfd the loop
// watches). The only cross-thread entry point of a loop: used to stop worker loops.
#pragma once

#include <functional>

#include "reactor/EventLoop.h"
#include "reactor/Fd.h"

namespace epserve::reactor {

class Wakeup final : public IoHandler {
 public:
  // `onWake` runs in the loop's thread after notify() was called from any thread.
  Wakeup(EventLoop& loop, std::function<void()> onWake);
  ~Wakeup();

  // Thread-safe and async-signal-safe.
  void notify();

  void onEvents(std::uint32_t events) override;

 private:
  EventLoop& loop_;
  Fd fd_;
  std::function<void()> onWake_;
};

}  // namespace epserve::reactor
