// Unit tests for command-line parsing and validation (server/Config).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "server/Config.h"

using epserve::server::CommandLine;
using epserve::server::parseCommandLine;

namespace {

CommandLine parse(std::vector<std::string> args) {
  args.insert(args.begin(), "epserve");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return parseCommandLine(static_cast<int>(args.size()), argv.data());
}

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

TEST_CASE("config: bad flags and values exit with code 2") {
  for (auto args : std::vector<std::vector<std::string>>{
           {"--port", "abc"}, {"--port", "65536"}, {"--port", "-1"}, {"--port", "80x"},
           {"--bogus"}, {"-i", "not-an-ip"}, {"--log-level", "loud"}, {"--access-log", "yes"},
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
