// Unit tests for server/Generation: what a reload keeps from the settings before it (sites with
// their caches, the gateway with its pools and DNS state) and what it builds anew.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "reactor/EventLoop.h"
#include "server/Config.h"
#include "server/Generation.h"

using epserve::server::Config;
using epserve::server::Generation;

namespace {

struct Dirs {
  std::filesystem::path base;
  Dirs() {
    char tmpl[] = "/tmp/epserve-generation-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    base = tmpl;
    for (const char* d : {"root", "other", "a", "b"}) std::filesystem::create_directory(base / d);
  }
  ~Dirs() { std::filesystem::remove_all(base); }
  std::string operator[](const char* d) const { return (base / d).string(); }
};

std::shared_ptr<const Config> settings(std::vector<std::string> args) {
  args.insert(args.begin(), "epserve");
  epserve::server::CommandLine cl = epserve::server::readCommandLine(args);
  REQUIRE_MESSAGE(cl.config, cl.error);
  return std::make_shared<const Config>(*cl.config);
}

}  // namespace

TEST_CASE("generation: a reload keeps what did not change and rebuilds the rest") {
  Dirs d;
  epserve::reactor::EventLoop loop;
  const std::string api = "/api=http://127.0.0.1:9";
  Generation first(loop, settings({"-r", d["root"], "--static", "/a=" + d["a"], "--proxy", api}),
                   std::nullopt, nullptr);
  REQUIRE(first.gateway);
  CHECK(first.router.routes().size() == 2);

  // Another header and another static route: the gateway stays, the router is new.
  Generation second(loop,
                    settings({"-r", d["root"], "--header", "X-A: 1", "--static", "/b=" + d["b"],
                              "--static", "/a=" + d["a"], "--proxy", api}),
                    std::nullopt, &first);
  CHECK(second.gateway == first.gateway);
  CHECK(second.router.routes().size() == 3);
  CHECK(second.config.extraHeaders == "X-A: 1\r\n");
  CHECK(first.config.extraHeaders.empty());  // the old settings are untouched

  // A changed upstream or proxy timeout: a new gateway; no proxy route: none.
  Generation third(loop, settings({"-r", d["other"], "--proxy", "/api=http://127.0.0.1:10"}),
                   std::nullopt, &second);
  CHECK(third.gateway);
  CHECK(third.gateway != second.gateway);
  Generation fourth(loop,
                    settings({"-r", d["other"], "--proxy", "/api=http://127.0.0.1:10",
                              "--proxy-read-timeout", "7"}),
                    std::nullopt, &third);
  CHECK(fourth.gateway != third.gateway);
  Generation fifth(loop, settings({"-r", d["other"]}), std::nullopt, &fourth);
  CHECK_FALSE(fifth.gateway);
  CHECK(fifth.router.routes().empty());
}

TEST_CASE("generation: a directory that vanished before the reload is an error") {
  Dirs d;
  epserve::reactor::EventLoop loop;
  Generation first(loop, settings({"-r", d["root"]}), std::nullopt, nullptr);
  auto next = settings({"-r", d["other"]});
  std::filesystem::remove(d["other"]);
  CHECK_THROWS(Generation(loop, next, std::nullopt, &first));
}
