// Unit tests for command-line parsing and validation (server/Config).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "server/Config.h"

using epserve::server::CommandLine;
using epserve::server::LogFormat;
using epserve::server::parseCommandLine;
using epserve::server::parseMilliseconds;

namespace {

CommandLine parse(std::vector<std::string> args) {
  args.insert(args.begin(), "epserve");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return parseCommandLine(static_cast<int>(args.size()), argv.data());
}

// What parsing `args` prints on stderr (where a bad flag is reported), and the exit code.
std::string errorOf(std::vector<std::string> args) {
  char path[] = "/tmp/epserve-config-test-XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  std::fflush(stderr);
  const int saved = ::dup(2);
  ::dup2(fd, 2);
  const CommandLine cl = parse(std::move(args));
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  ::close(fd);
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ::unlink(path);
  CHECK_FALSE(cl.config);
  CHECK(cl.exitCode == 2);
  return text;
}

// A directory that exists for the test's lifetime, with a regular file in it.
struct TempDir {
  std::string path;
  std::string file;
  TempDir() {
    char tmpl[] = "/tmp/epserve-config-dir-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
    file = path + "/plain.txt";
    std::ofstream(file) << "x";
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace

TEST_CASE("config: defaults") {
  CommandLine cl = parse({});
  REQUIRE(cl.config);
  CHECK(cl.config->address == "0.0.0.0");
  CHECK(cl.config->port == 8080);
  CHECK(cl.config->root == "www");
  CHECK(cl.config->indexName == "index.html");
  CHECK(cl.config->notFoundPage == "noIndex.html");
  CHECK(cl.config->accessLog);
  CHECK(cl.config->maxConnections == 10000);
  CHECK(cl.config->headerTimeoutSec == 10);
  CHECK(cl.config->keepAliveTimeoutSec == 5);
  CHECK(cl.config->notSentLowat == 16384);
}

TEST_CASE("config: --tcp-notsent-lowat takes bytes, 0 leaves the system default") {
  CommandLine off = parse({"--tcp-notsent-lowat", "0"});
  REQUIRE(off.config);
  CHECK(off.config->notSentLowat == 0);
  CommandLine big = parse({"--tcp-notsent-lowat", "131072"});
  REQUIRE(big.config);
  CHECK(big.config->notSentLowat == 131072);
}

TEST_CASE("config: the assignment's short flags and the long ones") {
  CommandLine cl = parse({"-i", "::1", "-p", "0", "-r", "/srv", "--access-log", "off",
                          "--header-timeout", "3", "--keepalive-timeout", "2",
                          "--max-connections", "50", "--not-found", "/404.html",
                          "--log-level", "debug"});
  REQUIRE(cl.config);
  CHECK(cl.config->address == "::1");
  CHECK(cl.config->port == 0);
  CHECK(cl.config->root == "/srv");
  CHECK_FALSE(cl.config->accessLog);
  CHECK(cl.config->headerTimeoutSec == 3);
  CHECK(cl.config->keepAliveTimeoutSec == 2);
  CHECK(cl.config->maxConnections == 50);
  CHECK(cl.config->notFoundPage == "404.html");
}

TEST_CASE("config: --access-log on|off|FILE, --log-format, --error-log") {
  CommandLine defaults = parse({});
  REQUIRE(defaults.config);
  CHECK(defaults.config->accessLogPath.empty());  // stdout
  CHECK(defaults.config->errorLogPath.empty());   // stderr
  CHECK(defaults.config->logFormat == LogFormat::Combined);
  CommandLine files = parse({"--access-log", "/var/log/epserve/access.log", "--log-format", "json",
                             "--error-log", "/var/log/epserve/error.log"});
  REQUIRE(files.config);
  CHECK(files.config->accessLog);
  CHECK(files.config->accessLogPath == "/var/log/epserve/access.log");
  CHECK(files.config->logFormat == LogFormat::Json);
  CHECK(files.config->errorLogPath == "/var/log/epserve/error.log");
  CommandLine on = parse({"--access-log", "on"});
  REQUIRE(on.config);
  CHECK(on.config->accessLog);
  CHECK(on.config->accessLogPath.empty());
}

TEST_CASE("config: bad flags and values exit with code 2") {
  for (auto args : std::vector<std::vector<std::string>>{
           {"--port", "abc"}, {"--port", "65536"}, {"--port", "-1"}, {"--port", "80x"},
           {"--bogus"}, {"-i", "not-an-ip"}, {"--log-level", "loud"}, {"--log-format", "xml"},
           {"--access-log", ""}, {"--error-log", ""},
           {"--header-timeout", "0"}, {"--max-connections", "0"}, {"--index", "a/b"},
           {"stray-argument"}, {"--tcp-notsent-lowat", "16k"}, {"--tcp-notsent-lowat", "-1"}}) {
    CAPTURE(args.front());
    CommandLine cl = parse(args);
    CHECK_FALSE(cl.config);
    CHECK(cl.exitCode == 2);
  }
}

TEST_CASE("config: --version and --help exit 0 without a config") {
  CommandLine v = parse({"--version"});
  CHECK_FALSE(v.config);
  CHECK(v.exitCode == 0);
  CommandLine h = parse({"--help"});
  CHECK_FALSE(h.config);
  CHECK(h.exitCode == 0);
}

TEST_CASE("config: --header values keep their commas, and repeat in order") {
  CommandLine cl = parse({"--header", "Cache-Control: public, max-age=60", "--header",
                          "X-A: 1,2", "--header", "X-B: b"});
  REQUIRE(cl.config);
  CHECK(cl.config->extraHeaders ==
        "Cache-Control: public, max-age=60\r\nX-A: 1,2\r\nX-B: b\r\n");
}

TEST_CASE("config: proxy defaults") {
  CommandLine cl = parse({});
  REQUIRE(cl.config);
  const auto& c = *cl.config;
  CHECK(c.proxyRoutes.empty());
  CHECK(c.staticRoutes.empty());
  CHECK(c.proxyConnectTimeoutMs == 5'000);
  CHECK(c.proxyReadTimeoutMs == 60'000);
  CHECK(c.proxySendTimeoutMs == 60'000);
  CHECK(c.proxyFailTimeoutMs == 10'000);
  CHECK(c.proxyResolveIntervalMs == 30'000);
  CHECK(c.tunnelIdleTimeoutMs == 300'000);
  CHECK(c.trustedProxies.empty());
  CHECK(c.tempDir == "/tmp");
  CHECK(c.proxyRequestBuffering);
  CHECK(c.proxyBuffering);
  CHECK(c.proxyMaxTempFile == 1073741824ULL);
}

TEST_CASE("config: --proxy routes, several URLs, every URL form") {
  CommandLine cl = parse({"--proxy", "/app/=http://127.0.0.1:8000", "--proxy",
                          "/api=http://a:1/v1/, http://[::1]:2/v1/", "--proxy=/=http://unix:/run/app.sock:/x",
                          "--proxy", "/u=http://unix:/run/u.sock"});
  REQUIRE(cl.config);
  const auto& routes = cl.config->proxyRoutes;
  REQUIRE(routes.size() == 4);
  CHECK(routes[0].prefix == "/app/");
  REQUIRE(routes[0].upstreams.size() == 1);
  CHECK(routes[0].upstreams[0].host == "127.0.0.1");
  CHECK(routes[0].upstreams[0].port == 8000);
  CHECK(routes[0].upstreams[0].path.empty());
  CHECK(routes[1].prefix == "/api");
  REQUIRE(routes[1].upstreams.size() == 2);
  CHECK(routes[1].upstreams[0].host == "a");
  CHECK(routes[1].upstreams[0].port == 1);
  CHECK(routes[1].upstreams[1].host == "::1");
  CHECK(routes[1].upstreams[1].port == 2);
  CHECK(routes[1].upstreams[1].path == "/v1/");
  CHECK(routes[1].upstreams[1].text == "http://[::1]:2/v1/");
  CHECK(routes[2].prefix == "/");
  REQUIRE(routes[2].upstreams.size() == 1);
  CHECK(routes[2].upstreams[0].kind == epserve::proxy::UpstreamUrl::Kind::Unix);
  CHECK(routes[2].upstreams[0].socketPath == "/run/app.sock");
  CHECK(routes[2].upstreams[0].path == "/x");
  CHECK(routes[3].upstreams[0].socketPath == "/run/u.sock");
  CHECK(routes[3].upstreams[0].path.empty());
  // '=' may appear in a URL's path: the prefix ends at the first one.
  CommandLine eq = parse({"--proxy", "/q=http://h/a=b"});
  REQUIRE(eq.config);
  CHECK(eq.config->proxyRoutes[0].prefix == "/q");
  CHECK(eq.config->proxyRoutes[0].upstreams[0].path == "/a=b");
}

TEST_CASE("config: --static routes need a directory") {
  TempDir dir;
  CommandLine cl = parse({"--static", "/static/=" + dir.path, "--static", "/media=" + dir.path,
                          "--proxy", "/=http://app:8000"});
  REQUIRE(cl.config);
  const auto& routes = cl.config->staticRoutes;
  REQUIRE(routes.size() == 2);
  CHECK(routes[0].prefix == "/static/");
  CHECK(routes[0].dir == dir.path);
  CHECK(routes[1].prefix == "/media");
  CHECK(cl.config->proxyRoutes.size() == 1);
  // "/x" and "/x/" are different prefixes.
  CommandLine both = parse({"--static", "/x=" + dir.path, "--proxy", "/x/=http://h"});
  CHECK(both.config);
}

TEST_CASE("config: durations take seconds with up to three decimals") {
  CommandLine cl = parse({"--proxy-connect-timeout", "0.5", "--proxy-read-timeout", "1.25",
                          "--proxy-send-timeout", "2", "--proxy-fail-timeout", "0.001",
                          "--proxy-resolve-interval", "86400", "--tunnel-idle-timeout", "3600.5"});
  REQUIRE(cl.config);
  CHECK(cl.config->proxyConnectTimeoutMs == 500);
  CHECK(cl.config->proxyReadTimeoutMs == 1250);
  CHECK(cl.config->proxySendTimeoutMs == 2000);
  CHECK(cl.config->proxyFailTimeoutMs == 1);
  CHECK(cl.config->proxyResolveIntervalMs == 86'400'000);
  CHECK(cl.config->tunnelIdleTimeoutMs == 3'600'500);

  CHECK(parseMilliseconds("t", "007.100", 0, 10'000) == 7100);
  CHECK(parseMilliseconds("t", "0", 0, 10'000) == 0);
  CHECK(parseMilliseconds("t", "10", 0, 10'000) == 10'000);
  for (const char* bad : {"", ".", "1.", ".5", "1.2345", "-1", "+1", "1e3", "1,5", " 1", "1 ",
                          "abc", "10.001", "11", "99999999999999999999", "0x10", "1..2"}) {
    CAPTURE(bad);
    const std::string expected = "invalid value '" + std::string(bad) +
                                 "' for --t (expected seconds with up to 3 decimals, 0..10)";
    CHECK_THROWS_WITH_AS(parseMilliseconds("t", bad, 0, 10'000), expected.c_str(),
                         std::invalid_argument);
  }
  CHECK_THROWS_AS(parseMilliseconds("t", "0.0", 1, 10'000), std::invalid_argument);
}

TEST_CASE("config: --trusted-proxies, --temp-dir, the on|off switches, --proxy-max-temp-file") {
  TempDir dir;
  CommandLine cl = parse({"--trusted-proxies", "10.0.0.0/8, ::1", "--trusted-proxies",
                          "192.168.0.0/16", "--temp-dir", dir.path, "--proxy-request-buffering",
                          "off", "--proxy-buffering", "off", "--proxy-max-temp-file", "0"});
  REQUIRE(cl.config);
  const auto& c = *cl.config;
  CHECK(c.trustedProxies.size() == 3);
  CHECK(c.trustedProxies.toString() == "10.0.0.0/8, ::1/128, 192.168.0.0/16");
  CHECK(c.tempDir == dir.path);
  CHECK_FALSE(c.proxyRequestBuffering);
  CHECK_FALSE(c.proxyBuffering);
  CHECK(c.proxyMaxTempFile == 0);
  CommandLine on = parse({"--proxy-request-buffering", "on", "--proxy-buffering", "on",
                          "--proxy-max-temp-file", "1048576"});
  REQUIRE(on.config);
  CHECK(on.config->proxyRequestBuffering);
  CHECK(on.config->proxyBuffering);
  CHECK(on.config->proxyMaxTempFile == 1048576);
}

TEST_CASE("config: a bad proxy flag is one line naming the flag and the value, exit 2") {
  TempDir dir;
  const std::string d = dir.path;
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--proxy", "/app=ftp://h"},
       "invalid value '/app=ftp://h' for --proxy: unsupported scheme 'ftp' (http:// and uwsgi:// upstreams only)"},
      {{"--proxy", "/app=https://h"},
       "invalid value '/app=https://h' for --proxy: https upstreams are not supported (epserve "
       "speaks plain HTTP to upstreams)"},
      {{"--proxy", "/app=http://unix:run/app.sock"},
       "invalid value '/app=http://unix:run/app.sock' for --proxy: the unix socket path must be "
       "absolute (http://unix:/PATH.sock)"},
      {{"--proxy", "/app=http://h:0"},
       "invalid value '/app=http://h:0' for --proxy: invalid port '0' (expected 1..65535)"},
      {{"--proxy", "/app=http://a,ftp://b"},
       "invalid value '/app=http://a,ftp://b' for --proxy: 'ftp://b': unsupported scheme 'ftp' "
       "(http:// and uwsgi:// upstreams only)"},
      {{"--proxy", "/app="}, "invalid value '/app=' for --proxy: empty URL list"},
      {{"--proxy", "/app= "}, "invalid value '/app= ' for --proxy: empty URL list"},
      {{"--proxy", "/app=http://a,,http://b"},
       "invalid value '/app=http://a,,http://b' for --proxy: an empty URL in the list"},
      {{"--proxy", "/app=http://a,"},
       "invalid value '/app=http://a,' for --proxy: an empty URL in the list"},
      {{"--proxy", "/app"}, "invalid value '/app' for --proxy: expected PREFIX=URL[,URL...]"},
      {{"--proxy", "/app=http://a/v1/,http://b/v2/"},
       "invalid value '/app=http://a/v1/,http://b/v2/' for --proxy: every URL of one route needs "
       "the same path"},
      {{"--proxy", "app=http://h"},
       "invalid value 'app=http://h' for --proxy: the prefix must start with '/'"},
      {{"--proxy", "=http://h"},
       "invalid value '=http://h' for --proxy: the prefix must start with '/'"},
      {{"--proxy", "/a//b/=http://h"},
       "invalid value '/a//b/=http://h' for --proxy: the prefix is not a normalised path (write it "
       "as '/a/b/')"},
      {{"--proxy", "/a/./b=http://h"},
       "invalid value '/a/./b=http://h' for --proxy: the prefix is not a normalised path (write it "
       "as '/a/b')"},
      {{"--proxy", "/a%20b=http://h"},
       "invalid value '/a%20b=http://h' for --proxy: write the prefix decoded, without %-escapes"},
      {{"--proxy", "/../x=http://h"},
       "invalid value '/../x=http://h' for --proxy: the prefix is not a valid path"},
      {{"--proxy", "/x=http://a", "--proxy", "/x=http://b"},
       "invalid value '/x=http://b' for --proxy: the prefix '/x' is already routed"},
      {{"--proxy", "/x/=http://a", "--static", "/x/=" + d},
       "invalid value '/x/=" + d + "' for --static: the prefix '/x/' is already routed"},
      {{"--static", "/x/=" + d, "--proxy", "/x/=http://a"},
       "invalid value '/x/=http://a' for --proxy: the prefix '/x/' is already routed"},
      {{"--static", "/s=" + d, "--static", "/s=" + d},
       "invalid value '/s=" + d + "' for --static: the prefix '/s' is already routed"},
      {{"--static", "/s=/nonexistent-epserve-dir"},
       "invalid value '/s=/nonexistent-epserve-dir' for --static: '/nonexistent-epserve-dir' is "
       "not a directory"},
      {{"--static", "/s=" + dir.file},
       "invalid value '/s=" + dir.file + "' for --static: '" + dir.file + "' is not a directory"},
      {{"--static", "/s="}, "invalid value '/s=' for --static: empty directory"},
      {{"--static", "s=" + d}, "invalid value 's=" + d + "' for --static: the prefix must start "
                               "with '/'"},
      {{"--static", "/s"}, "invalid value '/s' for --static: expected PREFIX=DIR"},
      {{"--proxy-read-timeout", "0"},
       "invalid value '0' for --proxy-read-timeout (expected seconds with up to 3 decimals, "
       "0.001..86400)"},
      {{"--proxy-connect-timeout", "5s"},
       "invalid value '5s' for --proxy-connect-timeout (expected seconds with up to 3 decimals, "
       "0.001..86400)"},
      {{"--proxy-send-timeout", "0.0001"},
       "invalid value '0.0001' for --proxy-send-timeout (expected seconds with up to 3 decimals, "
       "0.001..86400)"},
      {{"--proxy-fail-timeout", "-1"},
       "invalid value '-1' for --proxy-fail-timeout (expected seconds with up to 3 decimals, "
       "0.001..86400)"},
      {{"--proxy-resolve-interval", "86401"},
       "invalid value '86401' for --proxy-resolve-interval (expected seconds with up to 3 "
       "decimals, 0.001..86400)"},
      {{"--tunnel-idle-timeout", "1.5.0"},
       "invalid value '1.5.0' for --tunnel-idle-timeout (expected seconds with up to 3 decimals, "
       "0.001..86400)"},
      {{"--trusted-proxies", "10.0.0.1/8"},
       "invalid value '10.0.0.1/8' for --trusted-proxies: '10.0.0.1/8' is not a CIDR block: "
       "address bits set beyond the /8 prefix (did you mean 10.0.0.0/8?)"},
      {{"--trusted-proxies", "10.0.0.0/8,localhost"},
       "invalid value '10.0.0.0/8,localhost' for --trusted-proxies: 'localhost' is not a CIDR "
       "block: expected an IPv4 or IPv6 address, optionally with /PREFIX"},
      {{"--trusted-proxies", ""},
       "invalid value '' for --trusted-proxies: '' is not a CIDR block: empty entry"},
      {{"--temp-dir", "/nonexistent-epserve-dir"},
       "invalid value '/nonexistent-epserve-dir' for --temp-dir: not a directory"},
      {{"--temp-dir", dir.file}, "invalid value '" + dir.file + "' for --temp-dir: not a directory"},
      {{"--proxy-request-buffering", "yes"},
       "invalid value 'yes' for --proxy-request-buffering (on|off)"},
      {{"--proxy-buffering", "maybe"}, "invalid value 'maybe' for --proxy-buffering (on|off)"},
      {{"--proxy-max-temp-file", "1g"},
       "invalid value '1g' for --proxy-max-temp-file (expected 0..1099511627776)"},
      {{"--proxy-max-temp-file", "-1"},
       "invalid value '-1' for --proxy-max-temp-file (expected 0..1099511627776)"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args.back());
    CHECK(errorOf(c.args) == "epserve: " + c.message + " (see --help)\n");
  }
}

TEST_CASE("config: --resolver lists name servers, none means the system's") {
  CommandLine none = parse({});
  REQUIRE(none.config);
  CHECK(none.config->resolvers.empty());
  CommandLine cl = parse({"--resolver", "10.0.0.2, [::1]:5353", "--resolver", "127.0.0.1:54"});
  REQUIRE(cl.config);
  REQUIRE(cl.config->resolvers.size() == 3);
  CHECK(cl.config->resolvers[0].toString() == "10.0.0.2:53");
  CHECK(cl.config->resolvers[1].toString() == "[::1]:5353");
  CHECK(cl.config->resolvers[2].toString() == "127.0.0.1:54");
  for (const char* bad : {"ns.example", "10.0.0.2,", "10.0.0.2:99999", ""}) {
    CAPTURE(bad);
    CommandLine r = parse({"--resolver", bad});
    CHECK_FALSE(r.config);
    CHECK(r.exitCode == 2);
  }
}

TEST_CASE("config: --health-path, --log-health and --shutdown-delay") {
  CommandLine off = parse({});
  REQUIRE(off.config);
  CHECK(off.config->healthPath.empty());
  CHECK_FALSE(off.config->logHealth);
  CHECK(off.config->shutdownDelayMs == 0);
  CommandLine on = parse({"--health-path", "/healthz", "--log-health", "on", "--shutdown-delay",
                          "2.5"});
  REQUIRE(on.config);
  CHECK(on.config->healthPath == "/healthz");
  CHECK(on.config->logHealth);
  CHECK(on.config->shutdownDelayMs == 2500);
  CommandLine nested = parse({"--health-path", "/-/ready", "--shutdown-delay", "0.001"});
  REQUIRE(nested.config);
  CHECK(nested.config->healthPath == "/-/ready");
  CHECK(nested.config->shutdownDelayMs == 1);

  // Matched byte for byte against the target: no other spelling may exist.
  for (const std::string bad : {"healthz", "/a/../b", "/h%20z", "/h z", "/h\"z", "//h", ""}) {
    CAPTURE(bad);
    CHECK(errorOf({"--health-path", bad}).find("for --health-path") != std::string::npos);
  }
  for (const std::string bad : {"-1", "1.2345", "x", "3601"}) {
    CAPTURE(bad);
    CHECK(errorOf({"--shutdown-delay", bad}).find("for --shutdown-delay") != std::string::npos);
  }
  CHECK(errorOf({"--log-health", "yes"}).find("for --log-health (on|off)") != std::string::npos);
}
