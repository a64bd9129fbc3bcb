// Delivers SIGINT, SIGTERM, SIGHUP and SIGUSR1 through the event loop (signalfd) and ignores
// SIGPIPE, so a vanished client never kills the server. Works when the server is PID 1 in a
// container.
#pragma once

#include <csignal>
#include <functional>

#include "reactor/EventLoop.h"
#include "reactor/Fd.h"

namespace epserve::reactor {

class SignalWatcher final : public IoHandler {
 public:
  // The signals the server acts on: SIGINT, SIGTERM, SIGHUP (a reload) and SIGUSR1 (reopen logs).
  static sigset_t controlSignals();
  // Blocks them for the calling thread (and the threads it starts): they stay pending until a
  // watcher's signalfd or a sigwait takes them, instead of their default action ending the
  // process.
  static void blockControlSignals();

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
