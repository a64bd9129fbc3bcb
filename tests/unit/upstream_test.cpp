// Upstream server lists: fixed addresses, round-robin and fail-over, and host names followed
// through the test DNS server: the first answer, waits for it, the re-resolve interval, the
// immediate lookup after a failed connect, changed and failed answers.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <sys/socket.h>

#include "DnsTestServer.h"
#include "proxy/UpstreamConnection.h"
#include "reactor/Buffer.h"
#include "proxy/Upstream.h"
#include "proxy/UpstreamUrl.h"
#include "reactor/DnsResolver.h"
#include "reactor/EventLoop.h"

namespace epserve::proxy {
namespace {

using namespace std::chrono_literals;
using reactor::Millis;
using testing::DnsTestServer;

template <typename Pred>
void runUntil(reactor::EventLoop& loop, Pred done, std::chrono::milliseconds bound = 3000ms) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  while (!done() && std::chrono::steady_clock::now() < deadline) loop.runOnce(10);
}

std::uint64_t noneTried = 0;  // a request that has tried no server yet

struct Waiter final : ResolveWaiter {
  int over = 0;
  int timedOut = 0;
  void resolveWaitOver(bool t) override {
    ++over;
    timedOut += t ? 1 : 0;
  }
};

std::vector<std::string> labels(const Upstream& u) {
  std::vector<std::string> out;
  for (const auto& s : u.servers()) out.push_back(s->label);
  return out;
}

// A loop, an idle list, a resolver pointed at a test DNS server, and upstreams built on them.
struct Fixture {
  DnsTestServer dns;
  reactor::BufferPool buffers;  // outlives the loop's deferred deletes
  reactor::EventLoop loop;
  reactor::TimeoutList idle{2000};
  reactor::TimeoutList deadlines{5000};
  std::unique_ptr<reactor::DnsResolver> resolver;

  Fixture() {
    loop.addTimeoutList(&idle);
    loop.addTimeoutList(&deadlines);
    reactor::SocketAddress server;
    REQUIRE(reactor::parseNameServer(dns.address(), server));
    resolver = std::make_unique<reactor::DnsResolver>(loop, std::vector{server});
  }
  ~Fixture() {
    loop.removeTimeoutList(&idle);
    loop.removeTimeoutList(&deadlines);
  }

  // A pooled connection over a socketpair; returns our end's peer, to watch for the close.
  int pool(UpstreamServer& s) {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
    auto c = std::make_unique<UpstreamConnection>(buffers);
    c->open(reactor::Fd(fds[0]), loop, nullptr);
    s.pool.put(std::move(c));
    return fds[1];
  }

  std::unique_ptr<Upstream> make(const std::vector<std::string>& urls, Millis interval = 30'000) {
    std::vector<UpstreamUrl> parsed;
    for (const std::string& u : urls) parsed.push_back(parseUpstreamUrl(u));
    return std::make_unique<Upstream>(parsed, loop, idle, resolver.get(), interval);
  }
};

TEST_CASE("upstream: addresses and unix sockets are fixed servers, taken in turn") {
  reactor::EventLoop loop;
  reactor::TimeoutList idle(2000);
  std::vector<UpstreamUrl> urls{parseUpstreamUrl("http://127.0.0.1:8001"),
                                parseUpstreamUrl("http://[::1]:8002"),
                                parseUpstreamUrl("http://unix:/run/app.sock")};
  Upstream u(urls, loop, idle, nullptr, 30'000);  // no resolver: none is needed
  CHECK(labels(u) == std::vector<std::string>{"127.0.0.1:8001", "[::1]:8002", "unix:/run/app.sock"});
  std::uint64_t tried = 0;
  CHECK(u.pick(0, tried)->label == "127.0.0.1:8001");
  CHECK(u.pick(0, tried)->label == "[::1]:8002");
  CHECK(u.pick(0, tried)->label == "unix:/run/app.sock");
  CHECK(u.pick(0, tried) == nullptr);  // each tried once
  tried = 0;
  u.markDown(*u.servers()[0], 0, 10'000);
  CHECK(u.pick(0, tried)->label == "[::1]:8002");
  CHECK(u.pick(0, tried)->label == "unix:/run/app.sock");
  CHECK(u.pick(0, tried)->label == "127.0.0.1:8001");  // down, but the last one left
}

TEST_CASE("upstream: a host name is looked up at once, a request meanwhile waits for it") {
  Fixture f;
  f.dns.set("app.test", {"127.0.0.7", "127.0.0.8"});
  f.dns.setDelay(100ms);
  auto u = f.make({"http://app.test:8000"});
  CHECK(u->servers().empty());
  Waiter w;
  ResolveWait wait(w);
  CHECK(u->mustWait(wait, f.deadlines, f.loop.now(), noneTried));
  CHECK(wait.parked());
  runUntil(f.loop, [&] { return w.over > 0; });
  CHECK(w.over == 1);
  CHECK(w.timedOut == 0);
  CHECK_FALSE(wait.parked());
  CHECK(labels(*u) == std::vector<std::string>{"127.0.0.7:8000", "127.0.0.8:8000"});
  CHECK_FALSE(u->mustWait(wait, f.deadlines, f.loop.now(), noneTried));
  std::uint64_t tried = 0;
  CHECK(u->pick(f.loop.now(), tried)->label == "127.0.0.7:8000");
  CHECK(f.dns.queries("app.test") == 2);  // one lookup: A and AAAA
}

TEST_CASE("upstream: the wait for a first answer is bounded by its deadline list") {
  Fixture f;
  f.dns.setSilent(true);
  reactor::TimeoutList shortDeadlines(50);
  f.loop.addTimeoutList(&shortDeadlines);
  auto u = f.make({"http://app.test:8000"});
  Waiter w;
  {
    ResolveWait wait(w);
    CHECK(u->mustWait(wait, shortDeadlines, f.loop.now(), noneTried));
    runUntil(f.loop, [&] { return w.over > 0; });
    CHECK(w.timedOut == 1);
    CHECK_FALSE(wait.parked());
  }
  f.loop.removeTimeoutList(&shortDeadlines);
}

TEST_CASE("upstream: a cancelled wait is never called back") {
  Fixture f;
  f.dns.set("app.test", {"127.0.0.7"});
  f.dns.setDelay(50ms);
  auto u = f.make({"http://app.test:8000"});
  Waiter w;
  ResolveWait wait(w);
  CHECK(u->mustWait(wait, f.deadlines, f.loop.now(), noneTried));
  wait.cancel();
  runUntil(f.loop, [&] { return !u->servers().empty(); });
  CHECK(u->servers().size() == 1);
  CHECK(w.over == 0);
}

TEST_CASE("upstream: names are looked up again at most every resolve interval, while used") {
  Fixture f;
  f.dns.set("app.test", {"127.0.0.7"});
  auto u = f.make({"http://app.test:8000"}, 1000);
  runUntil(f.loop, [&] { return !u->servers().empty(); });
  const Millis t0 = f.loop.now();
  Waiter w;
  ResolveWait wait(w);
  CHECK_FALSE(u->mustWait(wait, f.deadlines, t0 + 500, noneTried));
  CHECK(f.dns.queries("app.test") == 2);  // not due yet
  std::shared_ptr<UpstreamServer> kept = u->servers().front();
  u->markDown(*kept, t0 + 500, 10'000);
  f.dns.set("app.test", {"127.0.0.7", "127.0.0.9"});
  CHECK_FALSE(u->mustWait(wait, f.deadlines, t0 + 1000, noneTried));  // due: asks, and does not wait
  runUntil(f.loop, [&] { return u->servers().size() == 2; });
  CHECK(labels(*u) == std::vector<std::string>{"127.0.0.7:8000", "127.0.0.9:8000"});
  CHECK(u->servers().front() == kept);  // the same server: its pool and fail state stay
  CHECK(kept->downUntil == t0 + 500 + 10'000);
  CHECK(f.dns.queries("app.test") == 4);
}

TEST_CASE("upstream: a failed connect asks again at once, at most once a second") {
  Fixture f;
  f.dns.set("app.test", {"127.0.0.7"});
  auto u = f.make({"http://app.test:8000"}, 60'000);
  runUntil(f.loop, [&] { return !u->servers().empty(); });
  std::shared_ptr<UpstreamServer> old = u->servers().front();
  reactor::Fd idlePeer(f.pool(*old));
  CHECK(old->pool.idle() == 1);
  const Millis t0 = f.loop.now();
  f.dns.set("app.test", {"127.0.0.2"});
  u->markDown(*old, t0 + 1000, 10'000);
  runUntil(f.loop, [&] { return labels(*u) == std::vector<std::string>{"127.0.0.2:8000"}; });
  CHECK(labels(*u) == std::vector<std::string>{"127.0.0.2:8000"});
  CHECK(old->pool.closed());  // the address left: its idle connections go, none is pooled again
  CHECK(old->pool.idle() == 0);
  char byte;
  CHECK(::recv(idlePeer.get(), &byte, 1, 0) == 0);  // closed: EOF
  reactor::Fd latePeer(f.pool(*old));  // an exchange still on it hands its connection back
  CHECK(old->pool.idle() == 0);
  CHECK(::recv(latePeer.get(), &byte, 1, 0) == 0);
  CHECK(f.dns.queries("app.test") == 4);
  u->markDown(*u->servers().front(), t0 + 1500, 10'000);  // within the second: no new lookup
  f.loop.runOnce(20);
  CHECK(f.dns.queries("app.test") == 4);
}

TEST_CASE("upstream: a request whose servers all failed waits once for the lookup that asked") {
  Fixture f;
  f.dns.set("app.test", {"127.0.0.7"});
  auto u = f.make({"http://app.test:8000"}, 60'000);
  runUntil(f.loop, [&] { return !u->servers().empty(); });
  const Millis t0 = f.loop.now();
  Waiter w;
  ResolveWait wait(w);
  std::uint64_t tried = 0;
  CHECK_FALSE(u->mustWait(wait, f.deadlines, t0, tried));
  std::shared_ptr<UpstreamServer> first = u->pick(t0, tried);
  REQUIRE(first);
  f.dns.set("app.test", {"127.0.0.2"});  // the application moved
  f.dns.setDelay(50ms);
  u->markDown(*first, t0 + 1000, 10'000);  // its connect was refused: asks again
  CHECK(u->mustWait(wait, f.deadlines, t0 + 1000, tried));  // and this request waits for it
  runUntil(f.loop, [&] { return w.over > 0; });
  CHECK(w.over == 1);
  CHECK(w.timedOut == 0);
  CHECK_FALSE(u->mustWait(wait, f.deadlines, t0 + 1000, tried));
  CHECK(tried == 0);  // a new list: try it
  std::shared_ptr<UpstreamServer> second = u->pick(t0 + 1000, tried);
  REQUIRE(second);
  CHECK(second->label == "127.0.0.2:8000");
  // That one fails too, and a lookup is in flight again: no second wait for this request.
  u->markDown(*second, t0 + 2000, 10'000);
  CHECK(f.resolver->inFlight() == 1);
  CHECK_FALSE(u->mustWait(wait, f.deadlines, t0 + 2000, tried));
  CHECK(u->pick(t0 + 2000, tried) == nullptr);
  runUntil(f.loop, [&] { return f.resolver->inFlight() == 0; });
  CHECK(w.over == 1);
}

TEST_CASE("upstream: a wait after failures that runs out is not a timeout, and keeps `tried`") {
  Fixture f;
  f.dns.set("app.test", {"127.0.0.7"});
  reactor::TimeoutList shortDeadlines(50);
  f.loop.addTimeoutList(&shortDeadlines);
  auto u = f.make({"http://app.test:8000"}, 60'000);
  runUntil(f.loop, [&] { return !u->servers().empty(); });
  f.dns.setSilent(true);
  const Millis t0 = f.loop.now();
  Waiter w;
  {
    ResolveWait wait(w);
    std::uint64_t tried = 0;
    CHECK_FALSE(u->mustWait(wait, shortDeadlines, t0, tried));
    std::shared_ptr<UpstreamServer> first = u->pick(t0, tried);
    REQUIRE(first);
    u->markDown(*first, t0 + 1000, 10'000);
    CHECK(u->mustWait(wait, shortDeadlines, t0 + 1000, tried));
    runUntil(f.loop, [&] { return w.over > 0; });
    CHECK(w.over == 1);
    CHECK(w.timedOut == 0);  // the request answers what its connect gave (502), not 504
    CHECK_FALSE(u->mustWait(wait, shortDeadlines, t0 + 1000, tried));
    CHECK(tried == 1);
    CHECK(u->pick(t0 + 1000, tried) == nullptr);
  }
  f.loop.removeTimeoutList(&shortDeadlines);
}

TEST_CASE("upstream: a failed lookup keeps the last good addresses") {
  Fixture f;
  f.dns.set("app.test", {"127.0.0.7"});
  auto u = f.make({"http://app.test:8000"}, 1000);
  runUntil(f.loop, [&] { return !u->servers().empty(); });
  f.dns.remove("app.test");
  Waiter w;
  ResolveWait wait(w);
  CHECK_FALSE(u->mustWait(wait, f.deadlines, f.loop.now() + 1000, noneTried));
  runUntil(f.loop, [&] { return f.resolver->inFlight() == 0; });
  CHECK(f.resolver->inFlight() == 0);
  CHECK(labels(*u) == std::vector<std::string>{"127.0.0.7:8000"});
}

TEST_CASE("upstream: a name that does not resolve yet is retried on use, then appears") {
  Fixture f;
  auto u = f.make({"http://app.test:8000", "http://127.0.0.1:9000"});
  runUntil(f.loop, [&] { return f.resolver->inFlight() == 0; });
  CHECK(labels(*u) == std::vector<std::string>{"127.0.0.1:9000"});
  f.dns.set("app.test", {"127.0.0.7"});
  Waiter w;
  ResolveWait wait(w);
  const Millis now = f.loop.now();
  CHECK_FALSE(u->mustWait(wait, f.deadlines, now, noneTried));  // a fixed server is there: no waiting
  CHECK(f.resolver->inFlight() == 0);  // and the failed name waits kRetryMillis
  CHECK_FALSE(u->mustWait(wait, f.deadlines, now + Upstream::kRetryMillis, noneTried));
  runUntil(f.loop, [&] { return u->servers().size() == 2; });
  CHECK(labels(*u) == std::vector<std::string>{"127.0.0.7:8000", "127.0.0.1:9000"});
}

TEST_CASE("upstream: an unresolved name with no lookup in flight does not wait: pick is empty") {
  Fixture f;
  auto u = f.make({"http://app.test:8000"});
  runUntil(f.loop, [&] { return f.resolver->inFlight() == 0; });
  Waiter w;
  ResolveWait wait(w);
  CHECK_FALSE(u->mustWait(wait, f.deadlines, f.loop.now(), noneTried));  // the retry is not due yet
  std::uint64_t tried = 0;
  CHECK(u->pick(f.loop.now(), tried) == nullptr);
  CHECK(tried == 0);
}

}  // namespace
}  // namespace epserve::proxy
