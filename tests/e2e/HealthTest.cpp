// End-to-end tests for --health-path and --shutdown-delay: the endpoint's answers and headers,
// its place before every route, the access log, and the drain a load balancer sees on SIGTERM
// (503 from the health path at once, everything else served until the delay is over).
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "Client.h"
#include "ServedRoot.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

HttpResponse getOnce(const ServedRoot& served, const std::string& target) {
  Client c = served.connect();
  return c.request(requestHead("GET", target));
}

// Polls the health path on fresh connections until it answers 503; returns how long after
// `since` that was first seen, or nullopt if it still answers 200 after `bound`.
std::optional<Clock::duration> waitForDraining(const ServedRoot& served, Clock::time_point since,
                                               std::chrono::milliseconds bound) {
  while (Clock::now() - since < bound) {
    const HttpResponse r = getOnce(served, "/healthz");
    if (r.status == 503) return Clock::now() - since;
    REQUIRE(r.status == 200);
    std::this_thread::sleep_for(10ms);
  }
  return std::nullopt;
}

// SIGTERM with --shutdown-delay 1.5: the health path turns 503 promptly, while files are still
// served on a connection that was open before and on new ones; the process exits 0 only after
// the delay, and then promptly.
void checkDelayedDrain(const std::vector<std::string>& extraArgs, int healthProbes) {
  std::vector<std::string> args = {"--health-path", "/healthz", "--shutdown-delay", "1.5"};
  args.insert(args.end(), extraArgs.begin(), extraArgs.end());
  ServedRoot served(args);
  const std::string index = served.files.readFile("index.html");
  Client before = served.connect();
  REQUIRE(before.request(requestHead("GET", "/index.html")).status == 200);
  REQUIRE(getOnce(served, "/healthz").status == 200);

  const auto signalled = Clock::now();
  served.server.signal(SIGTERM);
  const auto seen = waitForDraining(served, signalled, 1000ms);
  REQUIRE(seen.has_value());
  // Bounded loosely: the point is "at once, not after the delay" (1.5 s), on a loaded machine.
  CHECK(*seen < 700ms);

  // Still within the delay: every health probe says 503 (with several workers, the kernel
  // spreads these connections over all of them), every other request is served as before.
  for (int i = 0; i < healthProbes; ++i) {
    const HttpResponse r = getOnce(served, "/healthz");
    CHECK(r.status == 503);
    CHECK(r.body == "draining\n");
    CHECK(r.header("Cache-Control") == "no-store");
  }
  const HttpResponse fresh = getOnce(served, "/index.html");
  CHECK(fresh.status == 200);
  CHECK(sameBytes(fresh.body, index));
  const HttpResponse reused = before.request(requestHead("GET", "/index.html"));
  CHECK(reused.status == 200);
  CHECK_FALSE(reused.connectionHas("close"));
  const bool stillInDelay = Clock::now() - signalled < 1400ms;
  if (stillInDelay) CHECK_FALSE(served.server.waitExit(0ms).has_value());

  const auto status = served.server.waitExit(6000ms);
  const auto exited = Clock::now() - signalled;
  REQUIRE(status.has_value());
  CHECK(*status == 0);
  CHECK(exited >= 1500ms);  // not before the delay was over
  CHECK(served.server.err().find("draining") != std::string::npos);
}

}  // namespace

TEST_CASE("health: GET answers 200 ok as text/plain with no-store, and keeps the connection") {
  ServedRoot served({"--health-path", "/healthz"});
  Client c = served.connect();
  for (const std::string target : {"/healthz", "/healthz?probe=1"}) {
    CAPTURE(target);
    const HttpResponse r = c.request(requestHead("GET", target));
    CHECK(r.status == 200);
    CHECK(r.version == "HTTP/1.1");
    CHECK(r.body == "ok\n");
    CHECK(r.header("Content-Length") == "3");
    CHECK(r.header("Content-Type").rfind("text/plain", 0) == 0);
    CHECK(r.header("Cache-Control") == "no-store");
    CHECK_FALSE(r.connectionHas("close"));
  }
  // Only the path itself: a longer one, or one below it, is an ordinary file path.
  CHECK(c.request(requestHead("GET", "/healthzz")).status == 404);
  CHECK(c.request(requestHead("GET", "/healthz/x")).status == 404);
}

TEST_CASE("health: HEAD has the headers and no body") {
  ServedRoot served({"--health-path", "/healthz"});
  Client c = served.connect();
  const HttpResponse r = c.request(requestHead("HEAD", "/healthz"), true);
  CHECK(r.status == 200);
  CHECK(r.header("Content-Length") == "3");
  CHECK(r.header("Cache-Control") == "no-store");
  CHECK(r.body.empty());
  // Nothing stray follows the head: the next response parses on the same connection.
  CHECK(c.request(requestHead("GET", "/healthz")).body == "ok\n");
}

TEST_CASE("health: other methods get 405 with Allow: GET, HEAD, unknown ones 501") {
  ServedRoot served({"--health-path", "/healthz"});
  Client c = served.connect();
  for (const std::string method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    CAPTURE(method);
    const HttpResponse r =
        c.request(requestHead(method, "/healthz", "Content-Length: 2\r\n") + "hi");
    CHECK(r.status == 405);
    CHECK(r.header("Allow") == "GET, HEAD");
    CHECK(r.body.find("health check answers GET and HEAD") != std::string::npos);
    CHECK_FALSE(r.connectionHas("close"));
  }
  CHECK(c.request(requestHead("GET", "/healthz")).status == 200);
  Client other = served.connect();
  CHECK(other.request(requestHead("BREW", "/healthz")).status == 501);
}

TEST_CASE("health: the health path comes before every route") {
  // Nothing listens on port 1: a proxied request fails with 502, the health check does not.
  ServedRoot served({"--health-path", "/healthz", "--proxy", "/=http://127.0.0.1:1"});
  CHECK(getOnce(served, "/healthz").status == 200);
  CHECK(getOnce(served, "/healthz").body == "ok\n");
  CHECK(getOnce(served, "/other").status == 502);
}

TEST_CASE("health: off by default, so the path is an ordinary one") {
  ServedRoot served;
  CHECK(getOnce(served, "/healthz").status == 404);
}

TEST_CASE("health: health checks are not access-logged unless --log-health on") {
  {
    ServedRoot served({"--health-path", "/healthz"});
    REQUIRE(getOnce(served, "/healthz").status == 200);
    REQUIRE(getOnce(served, "/index.html").status == 200);
    // Lines are written in order, so once the second one is there the first would be too.
    REQUIRE(served.server.waitForOut("\"GET /index.html HTTP/1.1\" 200", 3000ms));
    CHECK(served.server.out().find("/healthz") == std::string::npos);
  }
  {
    ServedRoot served({"--health-path", "/healthz", "--log-health", "on"});
    REQUIRE(getOnce(served, "/healthz").status == 200);
    CHECK(served.server.waitForOut("\"GET /healthz HTTP/1.1\" 200 3", 3000ms));
  }
}

TEST_CASE("health: SIGTERM with --shutdown-delay: 503 from the health path, then exit 0") {
  checkDelayedDrain({}, 3);
}

TEST_CASE("health: --shutdown-delay with --workers 2 drains every worker") {
  checkDelayedDrain({"--workers", "2"}, 16);
}

TEST_CASE("health: a second SIGTERM ends the delay at once, SIGINT skips it") {
  for (const int second : {SIGTERM, SIGINT}) {
    for (const std::string workers : {"1", "2"}) {
      CAPTURE(second);
      CAPTURE(workers);
      ServedRoot served(
          {"--health-path", "/healthz", "--shutdown-delay", "30", "--workers", workers});
      // An answer means the signal watcher is installed (the startup line comes just before).
      REQUIRE(getOnce(served, "/healthz").status == 200);
      const auto signalled = Clock::now();
      served.server.signal(SIGTERM);
      REQUIRE(waitForDraining(served, signalled, 2000ms).has_value());
      served.server.signal(second);
      const auto status = served.server.waitExit(5000ms);
      REQUIRE(status.has_value());
      CHECK(*status == 0);
    }
  }
  ServedRoot served({"--health-path", "/healthz", "--shutdown-delay", "30"});
  REQUIRE(getOnce(served, "/healthz").status == 200);
  served.server.signal(SIGINT);  // Ctrl-C: no delay at all
  const auto status = served.server.waitExit(5000ms);
  REQUIRE(status.has_value());
  CHECK(*status == 0);
}

}  // namespace epserve::e2e
