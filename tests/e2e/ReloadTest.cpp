// End-to-end tests of SIGHUP reloads of a --config file: new requests (on new and kept-alive
// connections) get the new routes and headers, a request in flight finishes under the old
// settings, an invalid file keeps the running ones, a new port opens before the old one closes,
// and nothing fails under wrk load across several reloads.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>

#include "ChildProcess.h"
#include "Client.h"
#include "ScriptedUpstream.h"
#include "ServerProcess.h"
#include "TempRoot.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// Polls `text()` until `needle` occurs `n` times; false after 10 s.
template <typename Text>
bool waitForCount(Text text, const std::string& needle, std::size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (count(text(), needle) < n) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// A port nothing listens on right now (bound once, then released).
std::uint16_t freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A document root, a --config file in its parent and an epserve reading both. The command line
// pins -i 127.0.0.1 -p 0 -r ROOT (ServerProcess), so the file carries everything else.
struct Reloadable {
  TempRoot files;
  fs::path file = files.base() / "epserve.toml";
  std::unique_ptr<ServerProcess> server;
  std::size_t reloads = 0;

  explicit Reloadable(const std::string& toml, std::vector<std::string> flags = {}) {
    writeWholeFile(file, toml);
    flags.insert(flags.begin(), {"--config", file.string()});
    server = std::make_unique<ServerProcess>(files.root(), flags);
  }
  std::string assets(const std::string& name, const std::string& content) const {
    const fs::path d = files.base() / name;
    fs::create_directories(d);
    writeWholeFile(d / "a.txt", content);
    return d.string();
  }
  // Rewrites the file, sends SIGHUP and waits for the reload's log line.
  void reload(const std::string& toml, const std::string& expect = "configuration ") {
    writeWholeFile(file, toml);
    const std::size_t before = count(server->err(), expect);
    server->signal(SIGHUP);
    REQUIRE_MESSAGE(waitForCount([this] { return server->err(); }, expect, before + 1),
                    server->err());
    ++reloads;
  }
};

std::string proxyRoute(const std::string& prefix, std::uint16_t port) {
  return "[[proxy]]\nprefix = \"" + prefix + "\"\nurl = \"http://127.0.0.1:" +
         std::to_string(port) + "\"\n";
}

TEST_CASE("reload: new requests get the new headers and routes, an invalid file keeps them") {
  ScriptedUpstream upstream;
  Reloadable r("header = [\"X-Gen: 1\"]\n");
  const std::string dirA = r.assets("assets-a", "A");
  r.reload("header = [\"X-Gen: 1\"]\n[[static]]\nprefix = \"/assets\"\ndir = \"" + dirA + "\"\n",
           "configuration reloaded");
  Client kept(r.server->port());
  HttpResponse first = kept.request(requestHead("GET", "/index.html"));
  CHECK(first.status == 200);
  CHECK(first.header("X-Gen") == "1");
  CHECK(kept.request(requestHead("GET", "/assets/a.txt")).body == "A");
  CHECK(kept.request(requestHead("GET", "/api/x")).status == 404);

  r.reload("header = [\"X-Gen: 2\", \"X-New: yes\"]\n" + proxyRoute("/api", upstream.port()),
           "configuration reloaded");
  // The kept-alive connection's next requests are new requests: the new settings.
  HttpResponse second = kept.request(requestHead("GET", "/index.html"));
  CHECK(second.header("X-Gen") == "2");
  CHECK(second.header("X-New") == "yes");
  CHECK(kept.request(requestHead("GET", "/assets/a.txt")).status == 404);
  HttpResponse proxied = kept.request(requestHead("GET", "/api/x"));
  CHECK(proxied.status == 200);
  CHECK(proxied.body == "ok");
  CHECK(proxied.header("X-Gen") == "2");
  Client fresh(r.server->port());
  CHECK(fresh.request(requestHead("GET", "/index.html")).header("X-Gen") == "2");

  // Invalid: one error line with the position, and the running settings stay.
  r.reload("header = [\"X-Gen: 3\"]\nmax-connections = 0\n", "reload: ");
  const std::string err = r.server->err();
  CHECK(err.find(r.file.string() +
                 ":2:19: max-connections: invalid value '0' for --max-connections (expected "
                 "1..10000000): keeping the running configuration") != std::string::npos);
  HttpResponse after = kept.request(requestHead("GET", "/api/x"));
  CHECK(after.status == 200);
  CHECK(after.header("X-Gen") == "2");
  // A setting that cannot change live is kept, with a warning; the rest applies.
  r.reload("header = [\"X-Gen: 4\"]\nworkers = 3\n", "configuration reloaded");
  CHECK(r.server->err().find("--workers cannot change live") != std::string::npos);
  CHECK(fresh.request(requestHead("GET", "/index.html")).header("X-Gen") == "4");
}

TEST_CASE("reload: the access log moves to a new file and format, the error log to a file") {
  TempRoot logs;
  const fs::path first = logs.base() / "first.log", second = logs.base() / "second.log";
  const fs::path errors = logs.base() / "error.log";
  Reloadable r("access-log = \"" + first.string() + "\"\n");
  Client c(r.server->port());
  CHECK(c.request(requestHead("GET", "/index.html")).status == 200);
  r.reload("access-log = \"" + second.string() + "\"\nlog-format = \"json\"\nerror-log = \"" +
               errors.string() + "\"\n",
           "reloading the configuration");  // the last line on stderr: the rest goes to the file
  // The kept-alive connection's next request is a new one: the new file, as JSON.
  CHECK(c.request(requestHead("GET", "/index.html?after")).status == 200);
  const auto logged = [](const fs::path& p, const std::string& needle) {
    return waitForCount([&p] { return fs::exists(p) ? readWholeFile(p) : std::string(); }, needle, 1);
  };
  CHECK(logged(first, "\"GET /index.html HTTP/1.1\" 200 "));
  CHECK(logged(second, "\"target\":\"/index.html?after\""));
  CHECK(count(readWholeFile(first), "after") == 0);
  CHECK(logged(errors, "configuration reloaded"));
  // A file that cannot be opened keeps everything as it runs (said in the error log, now the file).
  writeWholeFile(r.file, "access-log = \"" + (logs.base() / "no-such-dir" / "x.log").string() +
                             "\"\nlog-format = \"json\"\nerror-log = \"" + errors.string() + "\"\n");
  r.server->signal(SIGHUP);
  CHECK(logged(errors, "keeping the running configuration"));
  CHECK(c.request(requestHead("GET", "/index.html?kept")).status == 200);
  CHECK(logged(second, "\"target\":\"/index.html?kept\""));
}

TEST_CASE("reload: a proxied request in flight finishes under the settings it started with") {
  ScriptedUpstream upstream;
  ScriptedUpstream::Reply slow = ScriptedUpstream::ok("slow");
  slow.delayMillis = 1500;
  upstream.push(slow);
  Reloadable r("header = [\"X-Gen: 1\"]\n" + proxyRoute("/slow", upstream.port()));
  Client c(r.server->port());
  c.send(requestHead("GET", "/slow/x"));
  REQUIRE(upstream.waitForRequests(1, 5s));
  r.reload("header = [\"X-Gen: 2\"]\n", "configuration reloaded");
  HttpResponse inFlight = c.readResponse();
  CHECK(inFlight.status == 200);
  CHECK(inFlight.body == "slow");
  CHECK(inFlight.header("X-Gen") == "1");
  HttpResponse next = c.request(requestHead("GET", "/slow/x"));  // no proxy route any more
  CHECK(next.status == 404);
  CHECK(next.header("X-Gen") == "2");
}

TEST_CASE("reload: a new port listens before the old one closes, its connections carry on") {
  TempRoot t;
  const fs::path file = t.base() / "epserve.toml";
  const std::uint16_t p1 = freePort();
  std::uint16_t p2 = freePort();
  while (p2 == p1) p2 = freePort();
  const std::string common = "ipaddress = \"127.0.0.1\"\nroot = \"" + t.root().string() + "\"\n";
  writeWholeFile(file, common + "port = " + std::to_string(p1) + "\n");
  ChildProcess server({EPSERVE_BINARY, "--config", file.string()});
  REQUIRE(waitForCount([&server] { return server.err(); }, "listening on", 1));
  Client old(p1);
  CHECK(old.request(requestHead("GET", "/index.html")).status == 200);

  writeWholeFile(file, common + "port = " + std::to_string(p2) + "\n");
  server.signal(SIGHUP);
  REQUIRE(waitForCount([&server] { return server.err(); }, "configuration reloaded", 1));
  CHECK(server.err().find("reload: listening on 127.0.0.1:" + std::to_string(p2)) !=
        std::string::npos);
  CHECK(canConnect(p2));
  CHECK_FALSE(canConnect(p1));
  Client fresh(p2);
  CHECK(fresh.request(requestHead("GET", "/index.html")).status == 200);
  CHECK(old.request(requestHead("GET", "/index.html")).status == 200);  // accepted on p1

  // A port that cannot be bound: an error, and p2 keeps serving.
  const int blocker = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(blocker, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  ::getsockname(blocker, reinterpret_cast<sockaddr*>(&a), &len);
  ::listen(blocker, 1);
  writeWholeFile(file, common + "port = " + std::to_string(ntohs(a.sin_port)) + "\n");
  server.signal(SIGHUP);
  REQUIRE(waitForCount([&server] { return server.err(); }, "keeping the running", 1));
  ::close(blocker);
  CHECK(fresh.request(requestHead("GET", "/index.html")).status == 200);
  CHECK(server.stop() == 0);
}

// wrk's summary: requests done, and no "Socket errors" or "Non-2xx or 3xx responses" line.
void checkWrk(const ChildProcess& wrk, const std::string& what) {
  const std::string out = wrk.out();
  INFO(what << ": " << out << wrk.err());
  std::smatch m;
  REQUIRE(std::regex_search(out, m, std::regex(R"((\d+) requests in)")));
  MESSAGE(what << ": " << m[1] << " requests, all 2xx, no socket errors");
  CHECK(std::stoul(m[1]) > 100);
  CHECK(out.find("Socket errors") == std::string::npos);
  CHECK(out.find("Non-2xx") == std::string::npos);
}

TEST_CASE("reload: under wrk load, several reloads drop no connection and fail no request") {
  if (!fs::exists("/usr/bin/wrk")) {
    MESSAGE("wrk is not installed (TEST_DEPS): skipped");
    return;
  }
  // The upstream is a second epserve: a real HTTP/1.1 server with keep-alive.
  TempRoot upstreamFiles;
  fs::create_directories(upstreamFiles.root() / "api");
  writeWholeFile(upstreamFiles.root() / "api" / "index.html", "up");
  ServerProcess upstream(upstreamFiles.root(), {"--access-log", "off"});
  const std::string proxy = proxyRoute("/api", upstream.port());
  Reloadable r("access-log = \"off\"\n" + proxy, {"--workers", "2"});
  const std::string dir = r.assets("assets", "A");
  const std::string base = "http://127.0.0.1:" + std::to_string(r.server->port());
  ChildProcess files({"/usr/bin/wrk", "-t1", "-c8", "-d4s", base + "/index.html"});
  ChildProcess proxied({"/usr/bin/wrk", "-t1", "-c8", "-d4s", base + "/api/index.html"});
  std::this_thread::sleep_for(500ms);
  for (int i = 0; i < 5; ++i) {
    // Alternately add and drop a route and change the headers and a timeout.
    std::string toml = "access-log = \"off\"\nheader = [\"X-Gen: " + std::to_string(i) +
                       "\"]\nkeepalive-timeout = " + std::to_string(5 + i) + "\n" + proxy;
    if (i % 2 == 0) toml += "[[static]]\nprefix = \"/assets\"\ndir = \"" + dir + "\"\n";
    r.reload(toml, "configuration handed to the workers");
    std::this_thread::sleep_for(400ms);
  }
  REQUIRE(files.wait(15s) == 0);
  REQUIRE(proxied.wait(15s) == 0);
  checkWrk(files, "static");
  checkWrk(proxied, "proxied");
  Client c(r.server->port());
  CHECK(c.request(requestHead("GET", "/index.html")).header("X-Gen") == "4");
  CHECK(c.request(requestHead("GET", "/assets/a.txt")).body == "A");
  CHECK(r.server->err().find("[error]") == std::string::npos);
}

}  // namespace
}  // namespace epserve::e2e
