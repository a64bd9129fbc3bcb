// Timers for one fixed duration, kept in an intrusive list sorted by deadline for free:
// every timer armed on the list expires `duration` after it was armed, so appending keeps order.
// Arm, re-arm and cancel are O(1); expiry touches only the timers that are due.
#pragma once

#include <cstdint>

namespace epserve::reactor {

using Millis = std::int64_t;

class TimeoutHandler {
 public:
  virtual void onTimeout() = 0;

 protected:
  ~TimeoutHandler() = default;
};

class TimeoutList;

// An intrusive list node, embedded in the object that owns the timer. It is on at most one
// list at a time; destroying an armed Timer unlinks it.
class Timer {
 public:
  explicit Timer(TimeoutHandler* handler) : handler_(handler) {}
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer();

  bool armed() const { return list_ != nullptr; }
  TimeoutList* list() const { return list_; }
  Millis deadline() const { return deadline_; }
  void cancel();

 private:
  friend class TimeoutList;
  TimeoutHandler* handler_;
  TimeoutList* list_ = nullptr;
  Timer* prev_ = nullptr;
  Timer* next_ = nullptr;
  Millis deadline_ = 0;
};

class TimeoutList {
 public:
  explicit TimeoutList(Millis duration) : duration_(duration) {}
  TimeoutList(const TimeoutList&) = delete;
  TimeoutList& operator=(const TimeoutList&) = delete;
  ~TimeoutList();

  // (Re)arms `t` to fire at now + duration, moving it from whatever list it was on.
  void arm(Timer& t, Millis now);
  void remove(Timer& t);

  // A reload's new duration, for timers armed from now on. Those already armed keep their
  // deadlines; with a shorter duration a few of them may fire late (at their deadline's turn
  // in the list), never early.
  void setDuration(Millis duration) { duration_ = duration; }

  // Deadline of the earliest timer, or -1 when the list is empty.
  Millis nextDeadline() const { return head_ ? head_->deadline_ : -1; }

  // Fires (and unlinks) every timer whose deadline is <= now. A handler may re-arm its timer
  // on any list, including this one (it then lands behind `now` and waits a full duration).
  void expire(Millis now);

 private:
  Millis duration_;
  Timer* head_ = nullptr;
  Timer* tail_ = nullptr;
};

}  // namespace epserve::reactor
