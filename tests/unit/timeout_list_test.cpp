// Unit tests for the fixed-duration timer lists (reactor/TimeoutList).
#include <doctest/doctest.h>

#include <vector>

#include "reactor/TimeoutList.h"

using epserve::reactor::Millis;
using epserve::reactor::TimeoutHandler;
using epserve::reactor::TimeoutList;
using epserve::reactor::Timer;

namespace {

struct Recorder : TimeoutHandler {
  explicit Recorder(std::vector<int>& log, int id) : log_(log), id_(id) {}
  void onTimeout() override { log_.push_back(id_); }
  std::vector<int>& log_;
  int id_;
};

}  // namespace

TEST_CASE("timeout list: timers fire in deadline order, only when due") {
  std::vector<int> fired;
  Recorder a(fired, 1), b(fired, 2), c(fired, 3);
  Timer ta(&a), tb(&b), tc(&c);
  TimeoutList list(100);
  list.arm(ta, 0);
  list.arm(tb, 10);
  list.arm(tc, 20);
  CHECK(list.nextDeadline() == 100);
  list.expire(99);
  CHECK(fired.empty());
  list.expire(110);
  CHECK(fired == std::vector<int>{1, 2});
  CHECK_FALSE(ta.armed());
  CHECK(tc.armed());
  CHECK(list.nextDeadline() == 120);
  list.expire(1000);
  CHECK(fired == std::vector<int>{1, 2, 3});
  CHECK(list.nextDeadline() == -1);
}

TEST_CASE("timeout list: re-arming moves a timer to the back, cancel removes it") {
  std::vector<int> fired;
  Recorder a(fired, 1), b(fired, 2);
  Timer ta(&a), tb(&b);
  TimeoutList list(50);
  list.arm(ta, 0);
  list.arm(tb, 10);
  list.arm(ta, 20);  // now due at 70, behind tb (60)
  CHECK(list.nextDeadline() == 60);
  list.expire(65);
  CHECK(fired == std::vector<int>{2});
  ta.cancel();
  CHECK(list.nextDeadline() == -1);
  list.expire(1000);
  CHECK(fired == std::vector<int>{2});
}

TEST_CASE("timeout list: a timer moves between lists and unlinks when destroyed") {
  std::vector<int> fired;
  Recorder a(fired, 1);
  TimeoutList shortList(10), longList(1000);
  {
    Timer t(&a);
    shortList.arm(t, 0);
    longList.arm(t, 0);
    CHECK(t.list() == &longList);
    CHECK(shortList.nextDeadline() == -1);
    CHECK(longList.nextDeadline() == 1000);
  }
  CHECK(longList.nextDeadline() == -1);
  longList.expire(5000);
  CHECK(fired.empty());
}

TEST_CASE("timeout list: a handler re-arming during expiry waits a full duration") {
  struct Rearmer : TimeoutHandler {
    TimeoutList* list = nullptr;
    Timer* timer = nullptr;
    Millis now = 0;
    int count = 0;
    void onTimeout() override {
      ++count;
      list->arm(*timer, now);
    }
  } h;
  Timer t(&h);
  TimeoutList list(0);  // a zero duration still lands after "now": no spin
  h.list = &list;
  h.timer = &t;
  list.arm(t, 0);
  h.now = 5;
  list.expire(5);
  CHECK(h.count == 1);
  CHECK(list.nextDeadline() == 6);
}
