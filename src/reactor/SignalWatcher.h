// Delivers SIGINT, SIGTERM, SIGHUP and SIGUSR1 through the event loop (signalfd) and ignores
// SIGPIPE, so a vanished client never kills the server. Works when the server is PID 1 in a
// container.
#pragma once

#include <functional>

#include "reactor/EventLoop.h"
#include "reactor/Fd.h"

namespace epserve::reactor {

class SignalWatcher final : public IoHandler {
 public:
  // Blocks SIGINT/SIGTERM/SIGHUP/SIGUSR1 for the process and watches them; `onSignal` gets the
  // signal number.
  SignalWatcher(EventLoop& loop, std::function<void(int)> onSignal);
  ~SignalWatcher();

  void onEvents(std::uint32_t events) override;

 private:
  EventLoop& loop_;
  Fd fd_;
  std::function<void(int)> onSignal_;
};

}  // namespace epserve::reactor
