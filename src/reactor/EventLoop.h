// The reactor: one epoll instance, fixed-duration timer lists and a queue of posted handlers,
// driven from one thread. It knows nothing about HTTP; see EventLoop::run for one iteration.
#pragma once

#include <sys/epoll.h>

#include <array>
#include <cstdint>
#include <ctime>
#include <functional>
#include <utility>
#include <vector>

#include "reactor/Fd.h"
#include "reactor/IoHandler.h"
#include "reactor/TimeoutList.h"

namespace epserve::reactor {

class EventLoop {
 public:
  EventLoop();  // throws std::system_error if epoll cannot be created
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Registers/changes/removes interest in `fd`; `handler` receives its events. A failing
  // add/modify throws std::system_error (it means a bug or exhausted kernel memory).
  void add(int fd, std::uint32_t events, IoHandler* handler);
  void modify(int fd, std::uint32_t events, IoHandler* handler);
  void remove(int fd);

  // The loop consults these lists for its poll timeout and fires their due timers. Not owned.
  void addTimeoutList(TimeoutList* list) { timeoutLists_.push_back(list); }
  void removeTimeoutList(TimeoutList* list) { std::erase(timeoutLists_, list); }

  // Calls handler->onEvents(0) in the next iteration without waiting for I/O: for handlers
  // that capped their work to stay fair. Each posted handler must call unpost() if it dies first.
  void post(IoHandler* handler) { posted_.push_back(handler); }
  void unpost(IoHandler* handler);

  // Handlers dispatched before all others whenever they are among the ready events (the file
  // cache's change watcher, so a request never sees a file older than its own arrival).
  void addPriorityHandler(IoHandler* handler) { priority_.push_back(handler); }
  void removePriorityHandler(IoHandler* handler) { std::erase(priority_, handler); }

  // Runs `fn` once, at the end of this iteration (after every event, timer and posted
  // handler): where a handler that closed is recycled, since events for it may still be
  // queued in this iteration. Work that deferred work defers runs in the same phase (a few
  // rounds at most, then in the next iteration).
  void defer(std::function<void()> fn) { deferred_.push_back(std::move(fn)); }

  // Hooks run at the end of every iteration, after deferred work, before the loop sleeps
  // (log flushes). Each user keeps its id to remove its hook when it goes away (not from
  // inside a hook).
  using HookId = std::uint64_t;
  HookId addBeforeSleep(std::function<void()> fn);
  void removeBeforeSleep(HookId id);

  // Runs iterations until stop(); returns normally. epoll_wait errors other than EINTR throw.
  void run();
  // One iteration, sleeping at most `maxWaitMillis` (0: poll) for events or the next timer:
  // for callers that interleave the loop with their own work (tests, a bounded drain).
  void runOnce(int maxWaitMillis);
  void stop() { running_ = false; }

  // Monotonic milliseconds and the wall clock, read once per iteration (cheap to ask).
  Millis now() const { return now_; }
  std::time_t wallSeconds() const { return wall_; }
  std::int64_t wallMillis() const { return wallMillis_; }  // since the epoch
  void updateClock();

 private:
  int pollTimeout() const;
  void runPosted();
  void runDeferred();

  Fd epoll_;
  bool running_ = false;
  Millis now_ = 0;
  std::time_t wall_ = 0;
  std::int64_t wallMillis_ = 0;
  std::array<epoll_event, 512> ready_{};
  std::vector<TimeoutList*> timeoutLists_;
  std::vector<IoHandler*> posted_;
  std::vector<IoHandler*> runningPosted_;
  std::vector<std::function<void()>> deferred_;
  std::vector<std::function<void()>> runningDeferred_;
  std::vector<std::pair<HookId, std::function<void()>>> beforeSleep_;
  HookId nextHook_ = 0;
  std::vector<IoHandler*> priority_;
};

}  // namespace epserve::reactor
