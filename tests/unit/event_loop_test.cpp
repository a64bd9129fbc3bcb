// Unit tests for reactor/EventLoop's phases: priority handlers first, then the rest, timers,
// posted handlers, deferred work, before-sleep hooks, each any number of times over.
#include <doctest/doctest.h>

#include <sys/eventfd.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "reactor/EventLoop.h"
#include "reactor/Fd.h"

using epserve::reactor::EventLoop;
using epserve::reactor::Fd;
using epserve::reactor::IoHandler;

namespace {

struct Ready final : IoHandler {
  Fd fd{::eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC)};  // readable from the start
  std::vector<std::string>* log;
  std::string name;
  Ready(std::vector<std::string>& l, std::string n) : log(&l), name(std::move(n)) {}
  void onEvents(std::uint32_t events) override { log->push_back(events ? name : name + "(posted)"); }
};

}  // namespace

TEST_CASE("event loop: priority handlers run before the others, whatever the epoll order") {
  std::vector<std::string> log;
  EventLoop loop;
  Ready a(log, "a"), b(log, "b"), watcher(log, "watcher"), second(log, "second");
  loop.add(a.fd.get(), EPOLLIN, &a);
  loop.add(b.fd.get(), EPOLLIN, &b);
  loop.add(watcher.fd.get(), EPOLLIN, &watcher);
  loop.add(second.fd.get(), EPOLLIN, &second);
  loop.addPriorityHandler(&watcher);
  loop.addPriorityHandler(&second);
  loop.runOnce(100);
  REQUIRE(log.size() == 4);
  CHECK(log[0] == "watcher");
  CHECK(log[1] == "second");
  loop.removePriorityHandler(&watcher);
  log.clear();
  loop.runOnce(100);  // level-triggered and still readable: all four again
  REQUIRE(log.size() == 4);
  CHECK(log[0] == "second");
}

TEST_CASE("event loop: posted, then deferred work, then every before-sleep hook, in order") {
  std::vector<std::string> log;
  EventLoop loop;
  Ready p(log, "p");
  auto h1 = loop.addBeforeSleep([&] { log.push_back("hook1"); });
  loop.addBeforeSleep([&] { log.push_back("hook2"); });
  loop.post(&p);
  loop.defer([&] {
    log.push_back("deferred");
    loop.defer([&] { log.push_back("deferred by deferred"); });
  });
  loop.runOnce(0);
  CHECK(log == std::vector<std::string>{"p(posted)", "deferred", "deferred by deferred", "hook1",
                                        "hook2"});
  log.clear();
  loop.removeBeforeSleep(h1);
  loop.runOnce(0);
  CHECK(log == std::vector<std::string>{"hook2"});  // deferred work ran once only
}

TEST_CASE("event loop: deferred work that keeps deferring cannot starve the poll") {
  EventLoop loop;
  int runs = 0;
  std::function<void()> again = [&] {
    ++runs;
    loop.defer(again);
  };
  loop.defer(again);
  loop.runOnce(0);
  CHECK(runs >= 1);
  CHECK(runs <= 4);
  int first = runs;
  loop.runOnce(0);  // pending deferred work means no sleep, and it goes on next iteration
  CHECK(runs > first);
}

TEST_CASE("event loop: a handler unposted before its turn is not called") {
  std::vector<std::string> log;
  EventLoop loop;
  Ready p(log, "p"), q(log, "q");
  loop.post(&p);
  loop.post(&q);
  loop.unpost(&p);
  loop.runOnce(0);
  CHECK(log == std::vector<std::string>{"q(posted)"});
}
