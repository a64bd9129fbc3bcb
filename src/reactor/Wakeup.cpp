// eventfd-based cross-thread wake-up: see Wakeup.h.
#include "reactor/Wakeup.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace epserve::reactor {

Wakeup::Wakeup(EventLoop& loop, std::function<void()> onWake)
    : loop_(loop), fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)), onWake_(std::move(onWake)) {
  if (!fd_) throw std::system_error(errno, std::generic_category(), "eventfd");
  loop_.add(fd_.get(), EPOLLIN, this);
}

Wakeup::~Wakeup() {
  if (fd_) loop_.remove(fd_.get());
}

void Wakeup::notify() {
  std::uint64_t one = 1;
  // A full counter (EAGAIN) still leaves the fd readable: the wake-up is not lost.
  [[maybe_unused]] ssize_t n = ::write(fd_.get(), &one, sizeof(one));
}

void Wakeup::onEvents(std::uint32_t) {
  std::uint64_t count = 0;
  [[maybe_unused]] ssize_t n = ::read(fd_.get(), &count, sizeof(count));
  onWake_();
}

}  // namespace epserve::reactor
