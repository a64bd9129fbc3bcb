// The reactor loop: poll, dispatch, expire timers, run posted and deferred work, then the
// before-sleep hooks.
#include "reactor/EventLoop.h"

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace epserve::reactor {

namespace {

Millis monotonicMillis() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<Millis>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

std::int64_t wallClockMillis() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace

EventLoop::EventLoop() : epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (!epoll_) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  updateClock();
}

void EventLoop::add(int fd, std::uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    throw std::system_error(errno, std::generic_category(), "epoll_ctl(ADD)");
  }
}

void EventLoop::modify(int fd, std::uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) != 0) {
    throw std::system_error(errno, std::generic_category(), "epoll_ctl(MOD)");
  }
}

void EventLoop::remove(int fd) {
  // Failure here only means the fd is already gone; closing an fd removes it from epoll anyway.
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

void EventLoop::unpost(IoHandler* handler) {
  std::erase(posted_, handler);
  std::replace(runningPosted_.begin(), runningPosted_.end(), handler,
               static_cast<IoHandler*>(nullptr));
}

EventLoop::HookId EventLoop::addBeforeSleep(std::function<void()> fn) {
  beforeSleep_.emplace_back(++nextHook_, std::move(fn));
  return nextHook_;
}

void EventLoop::removeBeforeSleep(HookId id) {
  std::erase_if(beforeSleep_, [id](const auto& hook) { return hook.first == id; });
}

void EventLoop::updateClock() {
  now_ = monotonicMillis();
  wallMillis_ = wallClockMillis();
  wall_ = static_cast<std::time_t>(wallMillis_ / 1000);
}

int EventLoop::pollTimeout() const {
  if (!posted_.empty() || !deferred_.empty()) return 0;
  Millis earliest = -1;
  for (const TimeoutList* list : timeoutLists_) {
    Millis d = list->nextDeadline();
    if (d >= 0 && (earliest < 0 || d < earliest)) earliest = d;
  }
  if (earliest < 0) return -1;
  // The coarse clock ticks every few ms; +1 so we wake after, not just before, the deadline.
  Millis wait = earliest - now_ + 1;
  return static_cast<int>(std::clamp<Millis>(wait, 0, 60'000));
}

void EventLoop::runPosted() {
  runningPosted_.swap(posted_);
  for (std::size_t i = 0; i < runningPosted_.size(); ++i) {
    // unpost() may null out entries of this batch while it runs.
    if (IoHandler* h = runningPosted_[i]) h->onEvents(0);
  }
  runningPosted_.clear();
}

void EventLoop::runDeferred() {
  // Bounded: work deferred from here joins this phase, but a cycle that keeps deferring
  // itself runs in later iterations instead of starving the poll.
  for (int round = 0; round < 4 && !deferred_.empty(); ++round) {
    runningDeferred_.swap(deferred_);
    for (auto& fn : runningDeferred_) fn();
    runningDeferred_.clear();
  }
}

void EventLoop::run() {
  running_ = true;
  while (running_) runOnce(-1);
}

void EventLoop::runOnce(int maxWaitMillis) {
  int wait = pollTimeout();
  if (maxWaitMillis >= 0 && (wait < 0 || wait > maxWaitMillis)) wait = maxWaitMillis;
  int n = ::epoll_wait(epoll_.get(), ready_.data(), static_cast<int>(ready_.size()), wait);
  if (n < 0) {
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "epoll_wait");
    n = 0;
  }
  updateClock();
  for (IoHandler* first : priority_) {
    for (int i = 0; i < n; ++i) {
      if (ready_[i].data.ptr == first) {
        first->onEvents(ready_[i].events);
        ready_[i].data.ptr = nullptr;
      }
    }
  }
  for (int i = 0; i < n; ++i) {
    if (auto* h = static_cast<IoHandler*>(ready_[i].data.ptr)) h->onEvents(ready_[i].events);
  }
  for (TimeoutList* list : timeoutLists_) list->expire(now_);
  runPosted();
  runDeferred();
  for (auto& hook : beforeSleep_) hook.second();
}

}  // namespace epserve::reactor
