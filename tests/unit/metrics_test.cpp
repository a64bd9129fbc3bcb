// Unit tests for the metrics: the text exposition format (escaping, numbers, histograms), the
// histogram's buckets, the page Metrics renders from loops' figures, its answers, --metrics-listen.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "http/RequestParser.h"
#include "proxy/UpstreamUrl.h"
#include "reactor/Histogram.h"
#include "server/Config.h"
#include "server/Metrics.h"
#include "server/MetricsExposition.h"

using epserve::server::MetricsExposition;
namespace http = epserve::http;
namespace proxy = epserve::proxy;
namespace fs = epserve::fs;
namespace reactor = epserve::reactor;
namespace server = epserve::server;

namespace {

std::string labelValue(std::string_view v) {
  std::string out;
  server::appendLabelValue(out, v);
  return out;
}

std::string number(double v) {
  std::string out;
  server::appendMetricValue(out, v);
  return out;
}

server::CommandLine parse(std::vector<std::string> args) {
  args.insert(args.begin(), "epserve");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return server::parseCommandLine(static_cast<int>(args.size()), argv.data());
}

// The page for `req` (a whole request head), with `reply` receiving the answer.
server::Reply answer(const server::Metrics& m, const std::string& head) {
  static http::Request req;  // ~3 KiB of views
  REQUIRE(http::parseRequest(head, req, http::ParseLimits()).status == http::ParseStatus::Complete);
  server::Reply reply;
  m.respond(req, reply);
  return reply;
}

}  // namespace

TEST_CASE("metrics exposition: label values escape backslash, quote and line feed only") {
  CHECK(labelValue("plain") == "plain");
  CHECK(labelValue(R"(a\b)") == R"(a\\b)");
  CHECK(labelValue(R"(say "hi")") == R"(say \"hi\")");
  CHECK(labelValue("two\nlines") == R"(two\nlines)");
  CHECK(labelValue("tab\tand\rcr") == "tab\tand\rcr");  // the format leaves these as they are
  CHECK(labelValue("http://unix:/run/a b.sock") == "http://unix:/run/a b.sock");
}

TEST_CASE("metrics exposition: HELP and TYPE lines, HELP escaped") {
  std::string out;
  MetricsExposition m(out);
  m.family("x_total", MetricsExposition::Type::Counter, "back\\slash\nand \"quotes\"");
  CHECK(out == "# HELP x_total back\\\\slash\\nand \"quotes\"\n# TYPE x_total counter\n");
  out.clear();
  m.family("g", MetricsExposition::Type::Gauge, "h");
  m.family("h", MetricsExposition::Type::Histogram, "h");
  CHECK(out == "# HELP g h\n# TYPE g gauge\n# HELP h h\n# TYPE h histogram\n");
}

TEST_CASE("metrics exposition: samples with and without labels, integers and floats") {
  std::string out;
  MetricsExposition m(out);
  m.sample("a_total", {}, std::uint64_t{18446744073709551615ULL});
  m.sample("b", {{"method", "GET"}, {"code", "200"}}, std::uint64_t{7});
  m.sample("c", {{"upstream", "http://h/\"x\""}}, std::int64_t{-3});
  m.sample("d", {}, 0.25);
  CHECK(out ==
        "a_total 18446744073709551615\n"
        "b{method=\"GET\",code=\"200\"} 7\n"
        "c{upstream=\"http://h/\\\"x\\\"\"} -3\n"
        "d 0.25\n");
}

TEST_CASE("metrics exposition: numbers Go's ParseFloat reads back") {
  CHECK(number(0) == "0");
  CHECK(number(1) == "1");
  CHECK(number(0.005) == "0.005");
  CHECK(number(2.5) == "2.5");
  CHECK(number(1e-05) == "1e-05");
  CHECK(number(1234567.125) == "1234567.125");
  CHECK(number(1.0 / 0.0) == "+Inf");
  CHECK(number(-1.0 / 0.0) == "-Inf");
  CHECK(number(0.0 / 0.0) == "NaN");
}

TEST_CASE("metrics exposition: a histogram is cumulative buckets, +Inf, _sum and _count") {
  std::string out;
  MetricsExposition m(out);
  const double bounds[] = {0.005, 0.1, 1};
  const std::uint64_t counts[] = {3, 0, 2, 1};  // per bucket; the last is above 1 s
  m.histogram("rt_seconds", {{"upstream", "u"}}, bounds, counts, 4.75);
  CHECK(out ==
        "rt_seconds_bucket{upstream=\"u\",le=\"0.005\"} 3\n"
        "rt_seconds_bucket{upstream=\"u\",le=\"0.1\"} 3\n"
        "rt_seconds_bucket{upstream=\"u\",le=\"1\"} 5\n"
        "rt_seconds_bucket{upstream=\"u\",le=\"+Inf\"} 6\n"
        "rt_seconds_sum{upstream=\"u\"} 4.75\n"
        "rt_seconds_count{upstream=\"u\"} 6\n");
  out.clear();
  const std::uint64_t none[] = {0, 0, 0, 0};
  m.histogram("empty_seconds", {}, bounds, none, 0);
  CHECK(out ==
        "empty_seconds_bucket{le=\"0.005\"} 0\n"
        "empty_seconds_bucket{le=\"0.1\"} 0\n"
        "empty_seconds_bucket{le=\"1\"} 0\n"
        "empty_seconds_bucket{le=\"+Inf\"} 0\n"
        "empty_seconds_sum 0\n"
        "empty_seconds_count 0\n");
}

TEST_CASE("histogram: a bound is inclusive, beyond the last is +Inf, the sum in milliseconds") {
  reactor::Histogram h;
  h.observe(0);
  h.observe(5);     // le 0.005
  h.observe(6);     // le 0.01
  h.observe(10000);  // le 10
  h.observe(10001);  // +Inf
  h.observe(-1);    // a clock step backwards counts as 0
  CHECK(h.count(0) == 3);
  CHECK(h.count(1) == 1);
  CHECK(h.count(reactor::Histogram::kBuckets - 2) == 1);
  CHECK(h.count(reactor::Histogram::kBuckets - 1) == 1);
  CHECK(h.sumMillis() == 5 + 6 + 10000 + 10001);
}

TEST_CASE("metrics: the page sums every loop's figures") {
  server::Metrics metrics;
  server::LoopStats a, b;
  fs::CacheStats cacheA, cacheB;
  reactor::Counter shed;
  a.accepted.add(3);
  a.open.add(2);
  b.accepted.add(4);
  b.open.add(1);
  a.refusedAtLimit.add();
  shed.add(2);
  a.requestDone(http::Method::Get, 200, 100, 0);
  b.requestDone(http::Method::Get, 200, 50, 7);
  b.requestDone(http::Method::Head, 404, 0, 20000);
  a.requestDone(http::Method::Other, 400, 10, 1);
  cacheA.hits.add(5);
  cacheB.misses.add(2);
  server::Metrics::Published pa, pb;
  pa.sources = {&a, &shed, {&cacheA}, {}};
  pb.sources = {&b, nullptr, {&cacheB}, {}};
  metrics.add(&pa);
  metrics.add(&pb);
  std::string page;
  metrics.render(page);
  auto has = [&page](std::string_view line) {
    INFO(line);
    CHECK(page.find("\n" + std::string(line) + "\n") != std::string::npos);
  };
  CHECK(page.rfind("# HELP epserve_build_info ", 0) == 0);
  has("epserve_build_info{version=\"" EPSERVE_VERSION "\"} 1");
  has("epserve_connections_accepted_total 7");
  has("epserve_connections_open 3");
  has("epserve_connections_refused_total{reason=\"limit\"} 1");
  has("epserve_connections_refused_total{reason=\"descriptors\"} 2");
  has("epserve_requests_total{method=\"GET\",code=\"200\"} 2");
  has("epserve_requests_total{method=\"HEAD\",code=\"404\"} 1");
  has("epserve_requests_total{method=\"other\",code=\"400\"} 1");
  CHECK(page.find("code=\"500\"") == std::string::npos);  // a series appears once counted
  has("epserve_request_duration_seconds_bucket{le=\"0.005\"} 2");
  has("epserve_request_duration_seconds_bucket{le=\"0.01\"} 3");
  has("epserve_request_duration_seconds_bucket{le=\"10\"} 3");
  has("epserve_request_duration_seconds_bucket{le=\"+Inf\"} 4");
  has("epserve_request_duration_seconds_sum 20.008");
  has("epserve_request_duration_seconds_count 4");
  has("epserve_response_bytes_total 160");
  has("epserve_file_cache_hits_total 5");
  has("epserve_file_cache_misses_total 2");
  has("# TYPE process_cpu_seconds_total counter");
  CHECK(page.find("epserve_upstream") == std::string::npos);  // nothing proxied
  CHECK(page.back() == '\n');
}

TEST_CASE("metrics: one series per upstream URL text, summed over routes and loops") {
  server::Metrics metrics;
  server::LoopStats loop1, loop2;
  proxy::UpstreamStats l1[3], l2[3];  // per loop: /a/'s two URLs, then /b/'s one
  l1[0].responses[proxy::statusSlot(200)].add(2);
  l1[0].responseTime.observe(3);
  l1[2].responses[proxy::statusSlot(200)].add();
  l2[0].responses[proxy::statusSlot(502)].add();
  l1[1].failed(proxy::UpstreamFailure::Refused);
  l2[2].failed(proxy::UpstreamFailure::Timeout);
  l2[2].failed(proxy::UpstreamFailure::InvalidResponse);
  l1[0].idle.add(2);
  l2[2].idle.add(1);
  // Per loop, as LoopContext publishes them: /a/'s two URLs, then /b/'s one.
  const std::string tcpUrl = "http://127.0.0.1:8000", unixUrl = "http://unix:/run/x.sock";
  server::Metrics::Published p1, p2;
  p1.sources = {&loop1, nullptr, {}, {{tcpUrl, &l1[0]}, {unixUrl, &l1[1]}, {tcpUrl, &l1[2]}}};
  p2.sources = {&loop2, nullptr, {}, {{tcpUrl, &l2[0]}, {unixUrl, &l2[1]}, {tcpUrl, &l2[2]}}};
  metrics.add(&p1);
  metrics.add(&p2);
  std::string page;
  metrics.render(page);
  auto has = [&page](std::string_view line) {
    INFO(line);
    CHECK(page.find("\n" + std::string(line) + "\n") != std::string::npos);
  };
  const std::string tcp = "{upstream=\"http://127.0.0.1:8000\"";
  const std::string unix = "{upstream=\"http://unix:/run/x.sock\"";
  has("epserve_upstream_requests_total" + tcp + ",code=\"200\"} 3");
  has("epserve_upstream_requests_total" + tcp + ",code=\"502\"} 1");
  has("epserve_upstream_failures_total" + tcp + ",cause=\"refused\"} 0");
  has("epserve_upstream_failures_total" + tcp + ",cause=\"timeout\"} 1");
  has("epserve_upstream_failures_total" + tcp + ",cause=\"invalid_response\"} 1");
  has("epserve_upstream_failures_total" + unix + ",cause=\"refused\"} 1");
  has("epserve_upstream_response_duration_seconds_bucket" + tcp + ",le=\"0.005\"} 1");
  has("epserve_upstream_response_duration_seconds_count" + tcp + "} 1");
  has("epserve_upstream_response_duration_seconds_sum" + tcp + "} 0.003");
  has("epserve_upstream_response_duration_seconds_count" + unix + "} 0");
  has("epserve_upstream_idle_connections" + tcp + "} 3");
  has("epserve_upstream_idle_connections" + unix + "} 0");
  // Each family's HELP once, each series once.
  auto count = [&page](std::string_view s) {
    std::size_t n = 0;
    for (std::size_t at = page.find(s); at != std::string::npos; at = page.find(s, at + 1)) ++n;
    return n;
  };
  CHECK(count("# TYPE epserve_upstream_idle_connections gauge") == 1);
  CHECK(count("epserve_upstream_idle_connections" + tcp) == 1);
}

TEST_CASE("metrics: GET and HEAD /metrics get the page, other paths 404, other methods 405") {
  server::Metrics metrics;
  server::LoopStats loop;
  server::Metrics::Published published;
  published.sources = {&loop, nullptr, {}, {}};
  metrics.add(&published);

  server::Reply ok = answer(metrics, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(ok.status == http::Status::Ok);
  CHECK(ok.contentType == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(ok.cacheControl == "no-store");
  CHECK(ok.body.find("epserve_connections_open 0\n") != std::string_view::npos);
  CHECK(ok.contentLength == ok.body.size());
  CHECK(answer(metrics, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n").status == http::Status::Ok);
  CHECK(answer(metrics, "GET /metrics?name[]=x HTTP/1.1\r\nHost: x\r\n\r\n").status ==
        http::Status::Ok);
  CHECK(answer(metrics, "GET / HTTP/1.1\r\nHost: x\r\n\r\n").status == http::Status::NotFound);
  CHECK(answer(metrics, "GET /metrics/ HTTP/1.1\r\nHost: x\r\n\r\n").status ==
        http::Status::NotFound);
  server::Reply post = answer(metrics, "POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(post.status == http::Status::MethodNotAllowed);
  CHECK(post.allow);
  CHECK(answer(metrics, "PROPFIND /metrics HTTP/1.1\r\nHost: x\r\n\r\n").status ==
        http::Status::MethodNotAllowed);
  server::Reply options = answer(metrics, "OPTIONS /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(options.status == http::Status::NoContent);
  CHECK(options.allow);
}

TEST_CASE("config: --metrics-listen takes ADDR:PORT, IPv6 in brackets, and is off by default") {
  CHECK_FALSE(parse({}).config->metricsListen);
  auto v4 = parse({"--metrics-listen", "127.0.0.1:9100"});
  REQUIRE(v4.config);
  REQUIRE(v4.config->metricsListen);
  CHECK(v4.config->metricsListen->toString() == "127.0.0.1:9100");
  auto v6 = parse({"--metrics-listen", "[::1]:0"});
  REQUIRE(v6.config);
  CHECK(v6.config->metricsListen->toString() == "[::1]:0");
  for (const char* bad : {"127.0.0.1", "9100", ":9100", "::1:9100", "[::1]", "127.0.0.1:",
                          "127.0.0.1:65536", "127.0.0.1:x", "example.com:9100", "[1.2.3.4]:80"}) {
    INFO(bad);
    auto r = parse({"--metrics-listen", bad});
    CHECK_FALSE(r.config);
    CHECK(r.exitCode == 2);
  }
}
