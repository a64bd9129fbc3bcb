// Unit tests for the access log (server/AccessLog) writing to a file: the combined and JSON
// lines field by field, buffering until flush, reopen after a rename, and a failed reconfigure.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>

#include "reactor/SocketAddress.h"
#include "server/AccessLog.h"
#include "server/Config.h"

using epserve::reactor::SocketAddress;
using epserve::server::AccessEntry;
using epserve::server::AccessLog;
using epserve::server::Config;
using epserve::server::LogFormat;

namespace {

struct LogDir {
  std::filesystem::path path;
  LogDir() {
    char tmpl[] = "/tmp/epserve-access-log-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~LogDir() { std::filesystem::remove_all(path); }
  LogDir(const LogDir&) = delete;
  LogDir& operator=(const LogDir&) = delete;
};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

SocketAddress peer(const std::string& host, std::uint16_t port) {
  SocketAddress a;
  REQUIRE(SocketAddress::parse(host, port, a));
  return a;
}

Config fileConfig(const std::filesystem::path& file, LogFormat format) {
  Config c;
  c.accessLogPath = file.string();
  c.logFormat = format;
  return c;
}

AccessEntry getIndex() {
  AccessEntry e;
  e.method = "GET";
  e.target = "/index.html";
  e.status = 200;
  e.bytes = 612;
  e.referer = "http://example.test/";
  e.userAgent = "curl/7.88.1";
  e.durationMillis = 42;
  return e;
}

// 2026-12-03T05:35:04.007Z
constexpr std::int64_t kWhen = 1796276104007;

}  // namespace

TEST_CASE("access log: combined lines go to the file at flush, created 0640") {
  LogDir dir;
  const auto file = dir.path / "access.log";
  ::umask(022);
  AccessLog log(fileConfig(file, LogFormat::Combined));
  REQUIRE(std::filesystem::exists(file));
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  log.log(peer("127.0.0.1", 54321), getIndex(), kWhen);
  CHECK(slurp(file).empty());  // buffered until the loop's flush
  log.flush();
  CHECK(slurp(file) ==
        "127.0.0.1:54321 - - [03/Dec/2026:05:35:04 +0000] \"GET /index.html HTTP/1.1\" 200 612 "
        "\"http://example.test/\" \"curl/7.88.1\"\n");
}

TEST_CASE("access log: a JSON line has every field, the upstream ones null unless proxied") {
  LogDir dir;
  const auto file = dir.path / "access.json";
  AccessLog log(fileConfig(file, LogFormat::Json));
  log.log(peer("127.0.0.1", 54321), getIndex(), kWhen);
  AccessEntry proxied = getIndex();
  proxied.versionMinor = 0;
  proxied.referer = {};
  proxied.userAgent = "a \"quoted\"\n\xff agent";
  proxied.upstream = "127.0.0.1:9000";
  proxied.upstreamMillis = 1234;
  proxied.durationMillis = 1240;
  log.log(peer("::1", 8), proxied, kWhen + 993);
  AccessEntry unparsed;
  unparsed.status = 400;
  unparsed.bytes = 11;
  log.log(peer("10.0.0.1", 1), unparsed, kWhen + 1000);
  log.flush();
  CHECK(slurp(file) ==
        "{\"time\":\"2026-12-03T05:35:04.007Z\",\"client\":\"127.0.0.1\",\"port\":54321,"
        "\"method\":\"GET\",\"target\":\"/index.html\",\"protocol\":\"HTTP/1.1\",\"status\":200,"
        "\"bytes\":612,\"referer\":\"http://example.test/\",\"user_agent\":\"curl/7.88.1\","
        "\"duration\":0.042,\"upstream\":null,\"upstream_time\":null}\n"
        "{\"time\":\"2026-12-03T05:35:05.000Z\",\"client\":\"::1\",\"port\":8,"
        "\"method\":\"GET\",\"target\":\"/index.html\",\"protocol\":\"HTTP/1.0\",\"status\":200,"
        "\"bytes\":612,\"referer\":\"\",\"user_agent\":\"a \\\"quoted\\\"\\n\\u00FF agent\","
        "\"duration\":1.240,\"upstream\":\"127.0.0.1:9000\",\"upstream_time\":1.234}\n"
        "{\"time\":\"2026-12-03T05:35:05.007Z\",\"client\":\"10.0.0.1\",\"port\":1,"
        "\"method\":\"\",\"target\":\"\",\"protocol\":\"\",\"status\":400,"
        "\"bytes\":11,\"referer\":\"\",\"user_agent\":\"\","
        "\"duration\":0.000,\"upstream\":null,\"upstream_time\":null}\n");
}

TEST_CASE("access log: reopen after a rename sends buffered lines to the old file, later ones to a new one") {
  LogDir dir;
  const auto file = dir.path / "access.log";
  const auto rotated = dir.path / "access.log.1";
  AccessLog log(fileConfig(file, LogFormat::Combined));
  log.log(peer("127.0.0.1", 1), getIndex(), kWhen);
  log.flush();
  log.log(peer("127.0.0.1", 2), getIndex(), kWhen);  // buffered when logrotate renames
  std::filesystem::rename(file, rotated);
  log.log(peer("127.0.0.1", 3), getIndex(), kWhen);
  log.reopen();
  log.log(peer("127.0.0.1", 4), getIndex(), kWhen);
  log.flush();
  const std::string old = slurp(rotated);
  const std::string fresh = slurp(file);
  CHECK(old.find("127.0.0.1:1 ") == 0);
  CHECK(old.find("\n127.0.0.1:2 ") != std::string::npos);
  CHECK(old.find("\n127.0.0.1:3 ") != std::string::npos);
  CHECK(old.find(":4 ") == std::string::npos);
  CHECK(fresh.find("127.0.0.1:4 ") == 0);
  CHECK(fresh.find('\n') == fresh.size() - 1);
}

TEST_CASE("access log: configure() to a file that cannot be opened throws and keeps the old one") {
  LogDir dir;
  const auto file = dir.path / "access.log";
  AccessLog log(fileConfig(file, LogFormat::Combined));
  Config bad = fileConfig(dir.path / "missing-dir" / "access.log", LogFormat::Json);
  CHECK_THROWS_AS(log.configure(bad), std::system_error);
  log.log(peer("127.0.0.1", 1), getIndex(), kWhen);
  log.flush();
  CHECK(slurp(file).find("127.0.0.1:1 - - [") == 0);  // still the combined format, same file
  // A good reconfigure switches both file and format.
  const auto json = dir.path / "access.json";
  log.configure(fileConfig(json, LogFormat::Json));
  log.log(peer("127.0.0.1", 2), getIndex(), kWhen);
  log.flush();
  CHECK(slurp(json).find("{\"time\":\"2026-12-03T05:35:04.007Z\",") == 0);
  CHECK(slurp(file).find(":2 ") == std::string::npos);
}

TEST_CASE("access log: a file that cannot be opened at start-up is an error naming it") {
  Config c;
  c.accessLogPath = "/nonexistent-dir/access.log";
  try {
    AccessLog log(c);
    FAIL("no exception");
  } catch (const std::system_error& e) {
    CHECK(std::string(e.what()).find("cannot open access log /nonexistent-dir/access.log") == 0);
  }
}
