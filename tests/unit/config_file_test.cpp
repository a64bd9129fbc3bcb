// Unit tests for the --config TOML file (server/ConfigFile) and how its values meet the command
// line in server/Config: types, positions in errors, route tables, overrides.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "server/Config.h"

using epserve::server::CommandLine;
using epserve::server::readCommandLine;

namespace {

// A scratch directory holding config.toml and a subdirectory for routes; removed afterwards.
struct ConfigDir {
  std::filesystem::path dir;
  std::string file;
  ConfigDir() {
    char tmpl[] = "/tmp/epserve-config-file-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    std::filesystem::create_directory(dir / "site");
    std::filesystem::create_directory(dir / "assets");
    file = (dir / "config.toml").string();
  }
  ~ConfigDir() { std::filesystem::remove_all(dir); }
  CommandLine load(const std::string& toml, std::vector<std::string> flags = {}) const {
    std::ofstream(file) << toml;
    std::vector<std::string> args{"epserve", "--config", file};
    args.insert(args.end(), flags.begin(), flags.end());
    return readCommandLine(args);
  }
  std::string site() const { return (dir / "site").string(); }
  std::string assets() const { return (dir / "assets").string(); }
  // The error for `toml`, with the file name left off ("LINE:COLUMN: KEY: message").
  std::string error(const std::string& toml) const {
    const CommandLine cl = load("root = \"" + site() + "\"\n" + toml);
    CHECK_FALSE(cl.config);
    CHECK(cl.exitCode == 2);
    REQUIRE(cl.error.rfind(file + ":", 0) == 0);
    return cl.error.substr(file.size() + 1);
  }
};

}  // namespace

TEST_CASE("config file: every kind of value becomes the flag's") {
  ConfigDir d;
  const CommandLine cl = d.load("root = \"" + d.site() +
                                "\"\n"
                                "port = 8099\n"
                                "ipaddress = \"127.0.0.1\"\n"
                                "autoindex = true\n"
                                "access-log = false\n"
                                "proxy-buffering = \"off\"\n"
                                "proxy-connect-timeout = 0.25\n"
                                "header = [\"X-A: 1\", \"X-B:  2 \"]\n"
                                "cache-control = \"max-age=60\"\n"
                                "trusted-proxies = [\"10.0.0.0/8\", \"::1\"]\n");
  REQUIRE(cl.config);
  const auto& c = *cl.config;
  CHECK(c.port == 8099);
  CHECK(c.address == "127.0.0.1");
  CHECK(c.autoindex);
  CHECK_FALSE(c.accessLog);
  CHECK_FALSE(c.proxyBuffering);
  CHECK(c.proxyConnectTimeoutMs == 250);
  CHECK(c.extraHeaders == "X-A: 1\r\nX-B: 2\r\n");
  CHECK(c.cacheControl == "max-age=60");
  CHECK_FALSE(c.trustedProxies.empty());
  CHECK(c.configFile == d.file);
  CHECK(c.keepAliveTimeoutSec == 5);  // not in the file: the flag's default
}

TEST_CASE("config file: [[static]] and [[proxy]] tables are routes, in file order") {
  ConfigDir d;
  const CommandLine cl = d.load("root = \"" + d.site() + "\"\n[[proxy]]\nprefix = \"/api\"\n" +
                                "urls = [\"http://127.0.0.1:9001\", \"http://127.0.0.1:9002\"]\n" +
                                "[[static]]\nprefix = \"/assets\"\ndir = \"" + d.assets() + "\"\n" +
                                "[[proxy]]\nprefix = \"/one\"\nurl = \"uwsgi://127.0.0.1:3031\"\n");
  REQUIRE(cl.config);
  const auto& c = *cl.config;
  REQUIRE(c.proxyRoutes.size() == 2);
  CHECK(c.proxyRoutes[0].prefix == "/api");
  CHECK(c.proxyRoutes[0].upstreams.size() == 2);
  CHECK(c.proxyRoutes[1].prefix == "/one");
  CHECK(c.proxyRoutes[1].uwsgi());
  REQUIRE(c.staticRoutes.size() == 1);
  CHECK(c.staticRoutes[0].dir == d.assets());
}

TEST_CASE("config file: command-line flags override the file, key by key") {
  ConfigDir d;
  const CommandLine cl = d.load("root = \"" + d.site() +
                                    "\"\nport = 70000\nheader = [\"X-File: 1\"]\n"
                                    "keepalive-timeout = 9\n",
                                {"-p", "81", "--header", "X-Cli: 2"});
  REQUIRE(cl.config);  // the file's bad port is never read
  CHECK(cl.config->port == 81);
  CHECK(cl.config->extraHeaders == "X-Cli: 2\r\n");
  CHECK(cl.config->keepAliveTimeoutSec == 9);
}

TEST_CASE("config file: errors name the file, line, column and key") {
  ConfigDir d;
  CHECK(d.error("port = 70000\n") ==
        "2:8: port: invalid value '70000' for --port (expected 0..65535)");
  CHECK(d.error("\nnosuch = 1\n") == "3:1: nosuch: unknown key");
  CHECK(d.error("autoindex = \"yes\"\n") == "2:13: autoindex: expected true or false");
  CHECK(d.error("port = [1, 2]\n") == "2:8: port: expected one value, not an array");
  CHECK(d.error("log-format = \"xml\"\n").rfind("2:14: log-format: invalid value 'xml'", 0) == 0);
  CHECK(d.error("header = [\"X-A: 1\", \"Bad Name: 2\"]\n") ==
        "2:21: header: invalid header name 'Bad Name'");
  CHECK(d.error("workers = 1.5\n").rfind("2:11: workers: invalid value '1.5'", 0) == 0);
  CHECK(d.error("[[static]]\nprefix = \"/x\"\ndir = \"/nonexistent-dir\"\n")
            .rfind("2:1: static: invalid value '/x=/nonexistent-dir'", 0) == 0);
  CHECK(d.error("[[static]]\nprefix = \"/x\"\n") == "2:1: static: missing 'dir'");
  CHECK(d.error("[[proxy]]\nprefix = \"/x\"\nhost = \"a\"\n")
            .rfind("4:8: proxy.host: unknown key", 0) == 0);
  CHECK(d.error("[[proxy]]\nprefix = \"/x\"\nurl = \"ftp://a\"\n").rfind("2:1: proxy: ", 0) == 0);
  CHECK(d.error("static = \"/x=y\"\n").rfind("2:10: static: expected an array of tables", 0) == 0);
  // A TOML syntax error has a position too.
  CHECK(d.error("port = \"80\n").rfind("2:", 0) == 0);
}

TEST_CASE("config file: a missing file and a missing root are errors") {
  ConfigDir d;
  const CommandLine missing = readCommandLine({"epserve", "--config", d.file + ".nope"});
  CHECK(missing.exitCode == 2);
  CHECK(missing.error.find("cannot read the --config file") != std::string::npos);
  const CommandLine noRoot = d.load("root = \"" + d.site() + "/nope\"\n");
  CHECK(noRoot.exitCode == 2);
  CHECK(noRoot.error == d.file + ":1:8: root: invalid value '" + d.site() +
                            "/nope' for --root: not a directory");
}

TEST_CASE("config file: --check-config says ok and runs nothing") {
  ConfigDir d;
  std::ofstream(d.file) << "root = \"" << d.site() << "\"\n";
  const CommandLine cl = readCommandLine({"epserve", "--config", d.file, "--check-config"});
  CHECK_FALSE(cl.config);
  CHECK(cl.exitCode == 0);
  CHECK(cl.output == "configuration ok\n");
}
