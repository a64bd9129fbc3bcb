// End-to-end tests for --workers: several single-threaded loops sharing one port through
// SO_REUSEPORT, each serving correctly, and all of them draining on SIGTERM.
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <dirent.h>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "Client.h"
#include "ServedRoot.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;

std::size_t threadCount(pid_t pid) {
  std::size_t n = 0;
  if (DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/task").c_str())) {
    while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
    ::closedir(d);
  }
  return n;
}

}  // namespace

TEST_CASE("workers: --workers 2 runs two loops on one port and every one serves") {
  ServedRoot served({"--workers", "2"});
  // The main thread waits for signals; each worker is one more thread. The startup line comes
  // once the sockets listen, which may be just before the worker threads exist: poll, bounded.
  std::size_t threads = 0;
  for (int i = 0; i < 200 && threads != 3; ++i) {
    threads = threadCount(served.server.pid());
    if (threads != 3) std::this_thread::sleep_for(10ms);
  }
  CHECK(threads == 3);
  const std::string index = served.files.readFile("index.html");
  // Many fresh connections: the kernel spreads them over both listeners.
  for (int i = 0; i < 40; ++i) {
    Client c = served.connect();
    HttpResponse r = c.request(requestHead("GET", "/index.html"));
    REQUIRE(r.status == 200);
    CHECK(sameBytes(r.body, index));
  }
  Client missing = served.connect();
  CHECK(missing.request(requestHead("GET", "/nope")).status == 404);
}

TEST_CASE("workers: SIGTERM stops every worker and the process exits 0") {
  ServedRoot served({"--workers", "3"});
  Client idle = served.connect();
  CHECK(idle.request(requestHead("GET", "/")).status == 200);
  served.server.signal(SIGTERM);
  auto status = served.server.waitExit(5s);
  REQUIRE(status.has_value());
  CHECK(*status == 0);
  CHECK(served.server.err().find("shut down cleanly") != std::string::npos);
}

TEST_CASE("workers: --workers 0 and 65 are refused with exit code 2") {
  for (const char* n : {"0", "65", "two"}) {
    CAPTURE(n);
    ExitResult r = ServerProcess::run({"--workers", n}, 5s);
    REQUIRE(r.status.has_value());
    CHECK(*r.status == 2);
  }
}

}  // namespace epserve::e2e
