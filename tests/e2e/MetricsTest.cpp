// End-to-end tests for --metrics-listen: exact figures after known traffic (static, refused at
// the limit, shed out of descriptors, several workers, proxied to a scripted upstream), the
// listener's own answers, and `promtool check metrics` (Debian's prometheus) on a real scrape.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "AbuseSupport.h"
#include "ChildProcess.h"
#include "Client.h"
#include "ProxySupport.h"
#include "ServedRoot.h"
#include "TempRoot.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;
using Reply = ScriptedUpstream::Reply;

const std::vector<std::string> kMetricsFlag = {"--metrics-listen", "127.0.0.1:0"};

std::vector<std::string> withMetrics(std::vector<std::string> args) {
  args.insert(args.end(), kMetricsFlag.begin(), kMetricsFlag.end());
  return args;
}

// The port of the `metrics at http://127.0.0.1:PORT/metrics` startup line (printed before the
// `listening on` line the server's fixture waited for), from the server's stderr.
std::uint16_t metricsPort(const std::string& err) {
  constexpr std::string_view kMarker = "metrics at http://127.0.0.1:";
  const std::size_t at = err.find(kMarker);
  REQUIRE(at != std::string::npos);
  unsigned port = 0;
  const char* first = err.data() + at + kMarker.size();
  std::from_chars(first, err.data() + err.size(), port);
  REQUIRE(port > 0);
  return static_cast<std::uint16_t>(port);
}

std::uint16_t metricsPort(const ServerProcess& server) { return metricsPort(server.err()); }

HttpResponse scrape(std::uint16_t port) {
  Client c(port);
  HttpResponse r = c.request(requestHead("GET", "/metrics"));
  REQUIRE(r.status == 200);
  return r;
}

HttpResponse scrape(const ServerProcess& server) { return scrape(metricsPort(server)); }

// The value of the series `series` (its name and labels exactly as printed), or nullopt when
// the page has no such line.
std::optional<double> valueOf(const std::string& page, const std::string& series) {
  const std::string needle = "\n" + series + " ";
  const std::size_t at = page.find(needle);
  if (at == std::string::npos) return std::nullopt;
  const std::size_t start = at + needle.size();
  return std::stod(page.substr(start, page.find('\n', start) - start));
}

// Lines of the page that start with `prefix`.
std::size_t linesStartingWith(const std::string& page, const std::string& prefix) {
  std::size_t n = 0;
  for (std::size_t at = page.find("\n" + prefix); at != std::string::npos;
       at = page.find("\n" + prefix, at + 1)) {
    ++n;
  }
  return n;
}

// A socket bound but never listening: connects to its port are refused, and no test running in
// parallel can take the port meanwhile.
struct RefusingPort {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  std::uint16_t port = 0;
  RefusingPort() {
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
  }
  ~RefusingPort() { ::close(fd); }
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
};

}  // namespace

TEST_CASE("metrics: exact figures after 7 GETs, 3 404s and 1 connection refused at the limit") {
  ServedRoot served(withMetrics({"--max-connections", "1"}));
  std::uint64_t bodyBytes = 0;
  {
    Client c = served.connect();
    for (int i = 0; i < 7; ++i) {
      HttpResponse r = c.request(requestHead("GET", "/index.html"));
      REQUIRE(r.status == 200);
      bodyBytes += r.body.size();
    }
    for (int i = 0; i < 3; ++i) {
      HttpResponse r = c.request(requestHead("GET", "/nope-" + std::to_string(i)));
      REQUIRE(r.status == 404);
      bodyBytes += r.body.size();
    }
    Client refused = served.connect();  // over --max-connections while `c` is open
    refused.send(requestHead("GET", "/index.html"));
    CHECK(refused.readResponse().status == 503);
    CHECK(refused.waitForClose(2s));

    const HttpResponse r = scrape(served.server);
    CHECK(r.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
    const std::string& page = r.body;
    CHECK(valueOf(page, R"(epserve_requests_total{method="GET",code="200"})") == 7);
    CHECK(valueOf(page, R"(epserve_requests_total{method="GET",code="404"})") == 3);
    CHECK(linesStartingWith(page, "epserve_requests_total{") == 2);  // the 503 is no request
    CHECK(valueOf(page, "epserve_request_duration_seconds_count") == 10);
    CHECK(valueOf(page, R"(epserve_request_duration_seconds_bucket{le="+Inf"})") == 10);
    CHECK(valueOf(page, "epserve_response_bytes_total") == static_cast<double>(bodyBytes));
    CHECK(valueOf(page, "epserve_connections_accepted_total") == 1);
    CHECK(valueOf(page, "epserve_connections_open") == 1);
    CHECK(valueOf(page, R"(epserve_connections_refused_total{reason="limit"})") == 1);
    CHECK(valueOf(page, R"(epserve_connections_refused_total{reason="descriptors"})") == 0);
    // index.html is read once and then served from the cache.
    CHECK(valueOf(page, "epserve_file_cache_hits_total").value_or(0) >= 6);
    CHECK(valueOf(page, "epserve_file_cache_misses_total").value_or(0) >= 1);
    CHECK(valueOf(page, R"(epserve_build_info{version=")" EPSERVE_VERSION R"("})") == 1);
    CHECK(valueOf(page, "process_resident_memory_bytes").value_or(0) > 1e6);
    CHECK(valueOf(page, "process_open_fds").value_or(0) >= 4);  // listeners, connection, cache
    CHECK(valueOf(page, "process_max_fds").value_or(0) >= 256);
    const double start = valueOf(page, "process_start_time_seconds").value_or(0);
    const double now = std::chrono::duration<double>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
    CHECK(start > now - 120);
    CHECK(start <= now + 1);
    CHECK(page.find("epserve_upstream") == std::string::npos);  // nothing is proxied
  }
  // Scrapes count nothing, and a closed client leaves the open gauge.
  std::string page;
  for (int i = 0; i < 100; ++i) {
    page = scrape(served.server).body;
    if (valueOf(page, "epserve_connections_open") == 0) break;
    std::this_thread::sleep_for(20ms);
  }
  CHECK(valueOf(page, "epserve_connections_open") == 0);
  CHECK(valueOf(page, "epserve_connections_accepted_total") == 1);
  CHECK(valueOf(page, "epserve_request_duration_seconds_count") == 10);
  // Scrapes are not access-logged either: 10 lines, all for the site.
  CHECK(served.server.waitForOut("/nope-2", 2s));
  CHECK(served.server.out().find("/metrics") == std::string::npos);
}

TEST_CASE("metrics: connections shed for want of descriptors are counted, exactly") {
  constexpr std::size_t kClients = 80;
  TempRoot files;
  // 40 descriptors hold a few dozen connections; the rest are accepted and closed at once.
  abuse::LimitedServer server(files.root().string(), 40,
                              withMetrics({"--header-timeout", "60", "--access-log", "off"}));
  {
    // One request first, as in the abuse test: UBSan's first check of a type's vptr reads the
    // object through a pipe(), which fails once descriptors run out, and then it aborts the
    // server with a false "invalid vptr". Warm, later checks hit its cache.
    Client warm(server.port());
    REQUIRE(warm.request(requestHead("GET", "/index.html")).status == 200);
  }
  const std::size_t baseFds = abuse::settledDescriptors(server.pid(), 3s);
  std::vector<abuse::Socket> clients;
  for (std::size_t i = 0; i < kClients; ++i) {
    clients.push_back(abuse::Socket::connect(server.port()));
    REQUIRE(clients.back().valid());
    // Half a head: the listener hands the connection over (TCP_DEFER_ACCEPT waits for data),
    // and a held connection then waits for the rest, silent.
    REQUIRE(clients.back().sendAll("GET /index.html HTTP/1.1\r\n"));
  }
  // A shed connection is closed without a byte: readable (EOF or reset). A held one stays
  // silent. Counted once two readings 300 ms apart agree.
  auto closedByServer = [&clients] {
    std::size_t n = 0;
    for (const abuse::Socket& c : clients) {
      pollfd p{c.fd(), POLLIN, 0};
      n += ::poll(&p, 1, 0) == 1;
    }
    return n;
  };
  std::size_t shed = closedByServer();
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(300ms);
    const std::size_t now = closedByServer();
    if (now == shed) break;
    shed = now;
  }
  REQUIRE(shed > 0);
  REQUIRE(shed < kClients);
  clients.clear();  // frees the descriptors the scrape needs, once the server sees the closes
  REQUIRE(abuse::eventually(
      [&] { return abuse::openDescriptors(server.pid()) <= baseFds; }, 10s, 20ms));
  std::string page;
  for (int i = 0; i < 100; ++i) {  // until the server has seen every close
    page = scrape(metricsPort(server.err())).body;
    if (valueOf(page, "epserve_connections_open") == 0) break;
    std::this_thread::sleep_for(20ms);
  }
  CHECK(valueOf(page, "epserve_connections_open") == 0);
  CHECK(valueOf(page, R"(epserve_connections_refused_total{reason="descriptors"})") == shed);
  CHECK(valueOf(page, "epserve_connections_accepted_total") == kClients - shed + 1);  // + warm
  CHECK(valueOf(page, R"(epserve_connections_refused_total{reason="limit"})") == 0);
  CHECK_FALSE(abuse::sanitizerReported(server.err()));
}

TEST_CASE("metrics: the listener answers /metrics only, keeps alive, and HEAD has no body") {
  ServedRoot served(kMetricsFlag);
  Client c(metricsPort(served.server));
  HttpResponse head = c.request(requestHead("HEAD", "/metrics"), true);
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  CHECK(std::stoul(head.header("Content-Length")) > 1000);
  CHECK(head.header("Cache-Control") == "no-store");
  CHECK(c.request(requestHead("GET", "/index.html")).status == 404);  // not the site
  HttpResponse post = c.request(requestHead("POST", "/metrics", "Content-Length: 2\r\n") + "{}");
  CHECK(post.status == 405);
  CHECK(post.header("Allow") == "GET, HEAD, OPTIONS");
  HttpResponse get = c.request(requestHead("GET", "/metrics"));  // the same connection
  CHECK(get.status == 200);
  CHECK(get.body.find("# TYPE epserve_requests_total counter\n") != std::string::npos);
  // And the site does not answer /metrics.
  CHECK(served.connect().request(requestHead("GET", "/metrics")).status == 404);
}

TEST_CASE("metrics: with --workers 3 the figures are the sum over the workers") {
  ServedRoot served(withMetrics({"--workers", "3"}));
  constexpr int kConnections = 30;  // fresh connections: the kernel spreads them over workers
  for (int i = 0; i < kConnections; ++i) {
    Client c = served.connect();
    REQUIRE(c.request(requestHead("GET", "/index.html")).status == 200);
    REQUIRE(c.request(requestHead("GET", "/missing")).status == 404);
  }
  const std::string page = scrape(served.server).body;
  CHECK(valueOf(page, "epserve_connections_accepted_total") == kConnections);
  CHECK(valueOf(page, R"(epserve_requests_total{method="GET",code="200"})") == kConnections);
  CHECK(valueOf(page, R"(epserve_requests_total{method="GET",code="404"})") == kConnections);
  CHECK(valueOf(page, "epserve_request_duration_seconds_count") == 2 * kConnections);
}

TEST_CASE("metrics: upstream figures after proxied requests: statuses, failures, pool") {
  RefusingPort dead;
  const std::string deadUrl = "http://127.0.0.1:" + std::to_string(dead.port);
  ProxiedRoot p(withMetrics({"--proxy-read-timeout", "0.3", "--proxy", "/dead/=" + deadUrl}));
  const std::string url = upstreamUrl(p.upstream);
  Reply garbage;
  garbage.bytes = "HTTP/1.1 2OO OK\r\n\r\n";
  garbage.closeAfter = true;
  Reply silent;
  silent.neverAnswer = true;
  p.upstream.script({garbage, silent, ScriptedUpstream::ok("a"), ScriptedUpstream::ok("b"),
                     ScriptedUpstream::ok("c"),
                     {"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"}});
  CHECK(p.connect().request(requestHead("GET", "/app/bad")).status == 502);
  CHECK(p.connect().request(requestHead("GET", "/app/slow")).status == 504);
  {
    Client c = p.connect();
    for (const char* path : {"/app/1", "/app/2", "/app/3"}) {
      CHECK(c.request(requestHead("GET", path)).status == 200);
    }
    CHECK(c.request(requestHead("GET", "/app/4")).status == 404);
  }
  CHECK(p.connect().request(requestHead("GET", "/dead/x")).status == 502);

  const std::string page = scrape(p.server).body;
  auto up = [&url](const std::string& rest) {
    return "{upstream=\"" + url + "\"" + rest + "}";
  };
  const std::string down = "{upstream=\"" + deadUrl + "\",";
  CHECK(valueOf(page, "epserve_upstream_requests_total" + up(",code=\"200\"")) == 3);
  CHECK(valueOf(page, "epserve_upstream_requests_total" + up(",code=\"404\"")) == 1);
  CHECK(linesStartingWith(page, "epserve_upstream_requests_total{") == 2);
  CHECK(valueOf(page, "epserve_upstream_failures_total" + up(",cause=\"invalid_response\"")) == 1);
  CHECK(valueOf(page, "epserve_upstream_failures_total" + up(",cause=\"timeout\"")) == 1);
  CHECK(valueOf(page, "epserve_upstream_failures_total" + up(",cause=\"refused\"")) == 0);
  CHECK(valueOf(page, "epserve_upstream_failures_total" + down + "cause=\"refused\"}") == 1);
  CHECK(valueOf(page, "epserve_upstream_failures_total" + down + "cause=\"timeout\"}") == 0);
  CHECK(valueOf(page, "epserve_upstream_response_duration_seconds_count" + up("")) == 4);
  CHECK(valueOf(page, "epserve_upstream_response_duration_seconds_count{upstream=\"" + deadUrl +
                          "\"}") == 0);
  // The keep-alive connection that answered the last four is pooled (for 2 s).
  CHECK(valueOf(page, "epserve_upstream_idle_connections" + up("")) == 1);
  // The client side: every proxied request is counted with the status the client got.
  CHECK(valueOf(page, R"(epserve_requests_total{method="GET",code="200"})") == 3);
  CHECK(valueOf(page, R"(epserve_requests_total{method="GET",code="404"})") == 1);
  CHECK(valueOf(page, R"(epserve_requests_total{method="GET",code="502"})") == 2);
  CHECK(valueOf(page, R"(epserve_requests_total{method="GET",code="504"})") == 1);
  // The 504 took the read timeout: it is above the 0.25 s bucket.
  CHECK(valueOf(page, R"(epserve_request_duration_seconds_bucket{le="0.25"})") == 6);
}

TEST_CASE("metrics: promtool check metrics accepts a real scrape") {
  const std::filesystem::path promtool = "/usr/bin/promtool";
  if (!std::filesystem::exists(promtool)) {
    MESSAGE("SKIPPED: promtool is not installed (Debian package prometheus, in the Makefile's "
            "TEST_DEPS)");
    return;
  }
  RefusingPort dead;
  ProxiedRoot p(withMetrics({"--workers", "2", "--proxy",
                             "/dead/=http://127.0.0.1:" + std::to_string(dead.port)}));
  for (const char* path : {"/", "/app/x", "/nope", "/dead/"}) p.connect().request(requestHead("GET", path));
  p.connect().request(requestHead("OPTIONS", "*"));
  const std::string page = scrape(p.server).body;
  const std::filesystem::path file = p.files.base() / "scrape.txt";
  writeWholeFile(file, page);
  ChildProcess check({"/bin/sh", "-c", "exec " + promtool.string() + " check metrics < '" +
                                           file.string() + "'"});
  const auto status = check.wait(20s);
  REQUIRE(status.has_value());
  INFO("promtool stdout: " << check.out());
  INFO("promtool stderr: " << check.err());
  INFO("scrape:\n" << page);
  CHECK(*status == 0);
  CHECK(check.out().empty());  // no lint findings either
  CHECK(check.err().empty());
}

TEST_CASE("metrics: after a SIGHUP that moves a route, every worker's page follows the new upstream") {
  ScriptedUpstream before(ScriptedUpstream::Options{}), after(ScriptedUpstream::Options{});
  TempRoot files;
  const std::filesystem::path file = files.base() / "epserve.toml";
  auto routeTo = [](const ScriptedUpstream& u) {
    return "[[proxy]]\nprefix = \"/app/\"\nurl = \"" + upstreamUrl(u) + "\"\n";
  };
  auto series = [](const ScriptedUpstream& u) {
    return "epserve_upstream_requests_total{upstream=\"" + upstreamUrl(u) + "\",code=\"200\"}";
  };
  writeWholeFile(file, routeTo(before));
  ServerProcess server(files.root(), withMetrics({"--workers", "2", "--config", file.string()}));
  for (int i = 0; i < 4; ++i) {
    CHECK(Client(server.port()).request(requestHead("GET", "/app/x")).status == 200);
  }
  CHECK(valueOf(scrape(server).body, series(before)) == 4);

  writeWholeFile(file, routeTo(after));
  server.signal(SIGHUP);
  // Each worker applies the reload between its own events: once both have, the old upstream's
  // series is gone (its gateway with it) and the new one counts exactly what it answered.
  std::string page;
  CHECK(abuse::eventually(
      [&] {
        CHECK(Client(server.port()).request(requestHead("GET", "/app/y")).status == 200);
        page = scrape(server).body;
        return page.find(upstreamUrl(before)) == std::string::npos &&
               valueOf(page, series(after)) ==
                   static_cast<double>(after.received().size());
      },
      10s));
  INFO(page);
  CHECK(valueOf(page, series(after)) >= 1);
  CHECK(valueOf(page, "epserve_requests_total{method=\"GET\",code=\"200\"}") ==
        static_cast<double>(before.received().size() + after.received().size()));
}

}  // namespace epserve::e2e
