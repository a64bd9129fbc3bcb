// signalfd-based signal delivery: see SignalWatcher.h.
#include "reactor/SignalWatcher.h"

#include <pthread.h>
#include <sys/signalfd.h>

#include <cerrno>
#include <csignal>
#include <system_error>

namespace epserve::reactor {

namespace {
void noop(int) {}
}  // namespace

namespace {
constexpr int kControlSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1};
}  // namespace

sigset_t SignalWatcher::controlSignals() {
  sigset_t set;
  ::sigemptyset(&set);
  for (int sig : kControlSignals) ::sigaddset(&set, sig);
  return set;
}

void SignalWatcher::blockControlSignals() {
  const sigset_t set = controlSignals();
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

SignalWatcher::SignalWatcher(EventLoop& loop, std::function<void(int)> onSignal)
    : loop_(loop), onSignal_(std::move(onSignal)) {
  // MSG_NOSIGNAL does not cover sendfile(); ignoring SIGPIPE does.
  ::signal(SIGPIPE, SIG_IGN);
  // A real (no-op) handler as well as the block: the kernel drops signals that PID 1 leaves at
  // SIG_DFL, and this keeps them queued for the signalfd even if the mask is ever lifted.
  struct sigaction sa {};
  sa.sa_handler = noop;
  ::sigemptyset(&sa.sa_mask);
  for (int sig : kControlSignals) ::sigaction(sig, &sa, nullptr);

  const sigset_t set = controlSignals();
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) {
    throw std::system_error(errno, std::generic_category(), "sigprocmask");
  }
  fd_.reset(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!fd_) throw std::system_error(errno, std::generic_category(), "signalfd");
  loop_.add(fd_.get(), EPOLLIN, this);
}

SignalWatcher::~SignalWatcher() {
  if (fd_) loop_.remove(fd_.get());
}

void SignalWatcher::onEvents(std::uint32_t) {
  signalfd_siginfo info{};
  while (::read(fd_.get(), &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
    onSignal_(static_cast<int>(info.ssi_signo));
  }
}

}  // namespace epserve::reactor
