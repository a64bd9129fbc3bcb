// End-to-end tests of --config and --check-config against the real binary: the example file is
// valid and complete (every flag in --help is one of its keys), errors carry file:line:column.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <set>
#include <string>

#include "ChildProcess.h"
#include "ServerProcess.h"
#include "TempRoot.h"

namespace epserve::e2e {
namespace {

using std::chrono::seconds;

const std::string kExample = std::string(EPSERVE_SOURCE_DIR) + "/examples/epserve.toml";

TEST_CASE("config: examples/epserve.toml passes --check-config and nothing listens") {
  // Its relative paths (www) are the repository's, so it is checked from there.
  ChildProcess check({"/bin/sh", "-c",
                      std::string("cd '") + EPSERVE_SOURCE_DIR + "' && exec '" + EPSERVE_BINARY +
                          "' --config examples/epserve.toml --check-config"});
  CHECK(check.wait(seconds(10)) == 0);
  CHECK(check.out() == "configuration ok\n");
  CHECK(check.err().empty());
}

TEST_CASE("config: every flag in --help is a key of examples/epserve.toml") {
  ExitResult help = ServerProcess::run({"--help"}, seconds(10));
  REQUIRE(help.status == 0);
  const std::string example = readWholeFile(kExample);
  std::set<std::string> flags;
  const std::regex flag(R"(--([a-z][a-z0-9-]*))");
  for (auto it = std::sregex_iterator(help.out.begin(), help.out.end(), flag);
       it != std::sregex_iterator(); ++it) {
    flags.insert((*it)[1]);
  }
  REQUIRE(flags.size() > 20);
  for (const std::string& name : flags) {
    if (name == "config" || name == "check-config" || name == "help" || name == "version") {
      continue;
    }
    // A key line, possibly commented out: "name = ...", "# name = ..." or "[[name]]".
    const std::regex key("(^|\\n)(# ?)?(" + name + " *=|\\[\\[" + name + "\\]\\])");
    CHECK_MESSAGE(std::regex_search(example, key), "--" << name << " is not in " << kExample);
  }
}

TEST_CASE("config: --check-config reports a bad value as file:line:column, exit 2") {
  TempRoot t;
  const std::filesystem::path file = t.base() / "bad.toml";
  writeWholeFile(file, "root = \"" + t.root().string() + "\"\n\nheader = [\"X-Ok: 1\", \"X-Bad: a\\nb\"]\n");
  ExitResult r = ServerProcess::run({"--config", file.string(), "--check-config"}, seconds(10));
  CHECK(r.status == 2);
  CHECK(r.out.empty());
  CHECK(r.err == file.string() +
                     ":3:22: header: invalid value for header 'X-Bad' (control characters are "
                     "not allowed)\n");

  writeWholeFile(file, "root = \"" + t.root().string() + "\"\nport = 8080\nlisten = 1\n");
  r = ServerProcess::run({"--config", file.string(), "--check-config"}, seconds(10));
  CHECK(r.status == 2);
  CHECK(r.err == file.string() + ":3:1: listen: unknown key\n");

  // A valid file, and the command line still overrides it (and is checked too).
  writeWholeFile(file, "root = \"" + t.root().string() + "\"\nport = 8080\n");
  r = ServerProcess::run({"--config", file.string(), "--check-config"}, seconds(10));
  CHECK(r.status == 0);
  CHECK(r.out == "configuration ok\n");
  r = ServerProcess::run({"--config", file.string(), "--check-config", "-p", "x"}, seconds(10));
  CHECK(r.status == 2);
  CHECK(r.err.find("invalid value 'x' for --port") != std::string::npos);
}

}  // namespace
}  // namespace epserve::e2e
