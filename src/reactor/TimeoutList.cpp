// Fixed-duration timer lists: see TimeoutList.h.
#include "reactor/TimeoutList.h"

namespace epserve::reactor {

Timer::~Timer() { cancel(); }

void Timer::cancel() {
  if (list_) list_->remove(*this);
}

TimeoutList::~TimeoutList() {
  while (head_) remove(*head_);
}

void TimeoutList::arm(Timer& t, Millis now) {
  if (t.list_) t.list_->remove(t);
  t.deadline_ = now + (duration_ > 0 ? duration_ : 1);  // > now, so expire() cannot spin
  t.list_ = this;
  t.prev_ = tail_;
  t.next_ = nullptr;
  if (tail_) {
    tail_->next_ = &t;
  } else {
    head_ = &t;
  }
  tail_ = &t;
}

void TimeoutList::remove(Timer& t) {
  if (t.list_ != this) return;
  if (t.prev_) {
    t.prev_->next_ = t.next_;
  } else {
    head_ = t.next_;
  }
  if (t.next_) {
    t.next_->prev_ = t.prev_;
  } else {
    tail_ = t.prev_;
  }
  t.prev_ = t.next_ = nullptr;
  t.list_ = nullptr;
}

void TimeoutList::expire(Millis now) {
  // Bounded by the number of timers due now: a handler that re-arms here gets now + duration,
  // which is > now, so the loop cannot spin on it.
  while (head_ && head_->deadline_ <= now) {
    Timer& t = *head_;
    remove(t);
    t.handler_->onTimeout();
  }
}

}  // namespace epserve::reactor
