// The c-ares resolver on a real event loop, against the test DNS server on 127.0.0.1: answers,
// failures, a changed table, a slow answer while the loop keeps running, and destruction with
// a lookup in flight.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "DnsTestServer.h"
#include "reactor/DnsResolver.h"
#include "reactor/EventLoop.h"

namespace epserve::reactor {
namespace {

using namespace std::chrono_literals;
using testing::DnsTestServer;

SocketAddress serverOf(const DnsTestServer& dns) {
  SocketAddress a;
  REQUIRE(parseNameServer(dns.address(), a));
  return a;
}

// Runs the loop until `done` holds; at most `bound` (in 10 ms iterations). Returns iterations.
template <typename Pred>
int runUntil(EventLoop& loop, Pred done, std::chrono::milliseconds bound = 3000ms) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  int iterations = 0;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    loop.runOnce(10);
    ++iterations;
  }
  return iterations;
}

std::vector<std::string> hosts(const DnsAnswer& a) {
  std::vector<std::string> out;
  for (const SocketAddress& s : a.addresses) {
    std::string text = s.toString();
    out.push_back(text.substr(0, text.rfind(':')));  // drop the ":0"
  }
  return out;
}

TEST_CASE("dns: --resolver name servers parse with and without ports") {
  SocketAddress a;
  CHECK(parseNameServer("10.0.0.2", a));
  CHECK(a.toString() == "10.0.0.2:53");
  CHECK(parseNameServer("127.0.0.1:5353", a));
  CHECK(a.toString() == "127.0.0.1:5353");
  CHECK(parseNameServer("[::1]:54", a));
  CHECK(a.toString() == "[::1]:54");
  CHECK(parseNameServer("[::1]", a));
  CHECK(a.toString() == "[::1]:53");
  CHECK(parseNameServer("fd00::53", a));
  CHECK(a.toString() == "[fd00::53]:53");
  for (const char* bad : {"", "dns.example", "localhost", "10.0.0.2:", "10.0.0.2:0",
                          "10.0.0.2:65536", "10.0.0.2:5x", "[::1", "[::1]5353", "[10.0.0.2]:53",
                          "[::1]:", "1.2.3", " 10.0.0.2"}) {
    CAPTURE(bad);
    CHECK_FALSE(parseNameServer(bad, a));
  }
}

TEST_CASE("dns: A and AAAA records come back as one answer, from the loop") {
  DnsTestServer dns;
  dns.set("app.test", {"127.0.0.5", "::1", "127.0.0.6"});
  EventLoop loop;
  DnsResolver resolver(loop, {serverOf(dns)});
  std::optional<DnsAnswer> got;
  resolver.resolve("app.test", [&](DnsAnswer a) { got = std::move(a); });
  CHECK_FALSE(got);  // never inside resolve()
  CHECK(resolver.inFlight() == 1);
  runUntil(loop, [&] { return got.has_value(); });
  REQUIRE(got);
  CHECK(got->ok);
  std::vector<std::string> found = hosts(*got);
  std::sort(found.begin(), found.end());
  CHECK(found == std::vector<std::string>{"127.0.0.5", "127.0.0.6", "[::1]"});
  CHECK(resolver.inFlight() == 0);
  CHECK(dns.queries("app.test") == 2);  // one A, one AAAA
}

TEST_CASE("dns: an unknown name is a failed answer with c-ares's reason") {
  DnsTestServer dns;
  EventLoop loop;
  DnsResolver resolver(loop, {serverOf(dns)});
  std::optional<DnsAnswer> got;
  resolver.resolve("missing.test", [&](DnsAnswer a) { got = std::move(a); });
  runUntil(loop, [&] { return got.has_value(); });
  REQUIRE(got);
  CHECK_FALSE(got->ok);
  CHECK(got->addresses.empty());
  CHECK_FALSE(got->error.empty());
  CHECK(dns.queries("missing.test") >= 1);
}

TEST_CASE("dns: a name with no address records is a failed answer") {
  DnsTestServer dns;
  dns.set("empty.test", {});
  EventLoop loop;
  DnsResolver resolver(loop, {serverOf(dns)});
  std::optional<DnsAnswer> got;
  resolver.resolve("empty.test", [&](DnsAnswer a) { got = std::move(a); });
  runUntil(loop, [&] { return got.has_value(); });
  REQUIRE(got);
  CHECK_FALSE(got->ok);
}

TEST_CASE("dns: each lookup asks again and sees the table as it is now") {
  DnsTestServer dns;
  dns.set("app.test", {"127.0.0.1"});
  EventLoop loop;
  DnsResolver resolver(loop, {serverOf(dns)});
  std::optional<DnsAnswer> got;
  resolver.resolve("app.test", [&](DnsAnswer a) { got = std::move(a); });
  runUntil(loop, [&] { return got.has_value(); });
  REQUIRE(got);
  CHECK(hosts(*got) == std::vector<std::string>{"127.0.0.1"});
  dns.set("app.test", {"127.0.0.2"});
  got.reset();
  resolver.resolve("app.test", [&](DnsAnswer a) { got = std::move(a); });
  runUntil(loop, [&] { return got.has_value(); });
  REQUIRE(got);
  CHECK(hosts(*got) == std::vector<std::string>{"127.0.0.2"});
  CHECK(dns.queries("app.test") == 4);
}

TEST_CASE("dns: a slow answer does not hold the loop: other work runs meanwhile") {
  DnsTestServer dns;
  dns.set("slow.test", {"127.0.0.9"});
  dns.setDelay(400ms);
  EventLoop loop;
  DnsResolver resolver(loop, {serverOf(dns)});
  std::optional<DnsAnswer> got;
  resolver.resolve("slow.test", [&](DnsAnswer a) { got = std::move(a); });
  int iterations = runUntil(loop, [&] { return got.has_value(); });
  REQUIRE(got);
  CHECK(got->ok);
  // Each iteration waits at most 10 ms: a blocking lookup would have been one long iteration.
  CHECK(iterations > 5);
}

TEST_CASE("dns: lookups started from a callback, and several at once, all complete") {
  DnsTestServer dns;
  dns.set("a.test", {"127.0.0.1"});
  dns.set("b.test", {"127.0.0.2"});
  EventLoop loop;
  DnsResolver resolver(loop, {serverOf(dns)});
  int done = 0;
  resolver.resolve("a.test", [&](DnsAnswer a) {
    CHECK(a.ok);
    ++done;
    resolver.resolve("b.test", [&](DnsAnswer b) {
      CHECK(hosts(b) == std::vector<std::string>{"127.0.0.2"});
      ++done;
    });
  });
  resolver.resolve("b.test", [&](DnsAnswer b) {
    CHECK(b.ok);
    ++done;
  });
  runUntil(loop, [&] { return done == 3; });
  CHECK(done == 3);
}

TEST_CASE("dns: /etc/hosts is read first: localhost needs no name server") {
  DnsTestServer dns;  // knows nothing
  EventLoop loop;
  DnsResolver resolver(loop, {serverOf(dns)});
  std::optional<DnsAnswer> got;
  resolver.resolve("localhost", [&](DnsAnswer a) { got = std::move(a); });
  CHECK_FALSE(got);
  runUntil(loop, [&] { return got.has_value(); });
  REQUIRE(got);
  CHECK(got->ok);
  CHECK(dns.queries("localhost") == 0);
}

TEST_CASE("dns: destroying the resolver with a lookup in flight drops its callback") {
  DnsTestServer dns;
  dns.setSilent(true);
  EventLoop loop;
  bool called = false;
  {
    DnsResolver resolver(loop, {serverOf(dns)});
    resolver.resolve("never.test", [&](DnsAnswer) { called = true; });
    runUntil(loop, [&] { return dns.queries("never.test") >= 1; });
    CHECK(dns.queries("never.test") >= 1);
  }
  loop.runOnce(0);
  CHECK_FALSE(called);
}

}  // namespace
}  // namespace epserve::reactor
