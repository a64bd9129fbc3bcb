// End-to-end tests for the log files: --access-log FILE and --error-log FILE instead of stdout
// and stderr, SIGUSR1 reopening both after a rename (one worker and several), JSON lines, and
// a log file that cannot be opened at start-up.
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "ChildProcess.h"
#include "Client.h"
#include "ServedRoot.h"
#include "TempRoot.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string fileText(const fs::path& p) { return fs::exists(p) ? readWholeFile(p) : std::string(); }

// Polls `file` until it contains `needle`, at most `bound`.
bool waitForFile(const fs::path& file, std::string_view needle, std::chrono::milliseconds bound) {
  const auto end = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < end) {
    if (fileText(file).find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(20ms);
  }
  return fileText(file).find(needle) != std::string::npos;
}

std::size_t countOf(const std::string& text, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// GETs `target` on a fresh connection and returns its "127.0.0.1:PORT " log prefix.
std::string get(std::uint16_t port, const std::string& target) {
  Client client(port);
  CHECK(client.request(requestHead("GET", target)).status == 200);
  return "127.0.0.1:" + std::to_string(client.localPort()) + " ";
}

// Each worker's loop reopens its own access log and says so at debug level.
bool waitForReopens(const ServerProcess& server, std::size_t workers) {
  const auto end = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < end) {
    if (countOf(server.err(), "reopened access log") >= workers) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

void checkReopen(std::size_t workers) {
  TempRoot files;
  const fs::path log = files.base() / "access.log";
  const fs::path rotated = files.base() / "access.log.1";
  ServerProcess server(files.root(), {"--access-log", log.string(), "--log-level", "debug",
                                      "--workers", std::to_string(workers)});
  const std::string first = get(server.port(), "/index.html?before");
  REQUIRE(waitForFile(log, first, 3s));
  fs::rename(log, rotated);
  server.signal(SIGUSR1);
  REQUIRE(waitForReopens(server, workers));
  CHECK(countOf(server.err(), "reopened access log") == workers);
  REQUIRE(fs::exists(log));
  // With SO_REUSEPORT the kernel picks the worker: eight connections reach more than one.
  std::vector<std::string> after;
  for (int i = 0; i < 8; ++i) after.push_back(get(server.port(), "/index.html?after"));
  REQUIRE(waitForFile(log, after.back(), 3s));
  const std::string oldText = fileText(rotated);
  const std::string newText = fileText(log);
  CHECK(countOf(oldText, "?before") == 1);
  CHECK(countOf(oldText, "?after") == 0);
  CHECK(countOf(newText, "?after") == 8);
  CHECK(server.out().find("GET /") == std::string::npos);  // nothing on stdout
  CHECK(server.err().find("received SIGUSR1, reopening the log files") != std::string::npos);
}

TEST_CASE("log files: --access-log FILE appends there, and SIGUSR1 reopens it after a rename") {
  checkReopen(1);
}

TEST_CASE("log files: with --workers every worker reopens its access log on SIGUSR1") {
  checkReopen(3);
}

TEST_CASE("log files: --access-log FILE appends to what the file already holds") {
  TempRoot files;
  const fs::path log = files.base() / "access.log";
  writeWholeFile(log, "an earlier line\n");
  ServerProcess server(files.root(), {"--access-log", log.string()});
  const std::string peer = get(server.port(), "/index.html");
  REQUIRE(waitForFile(log, peer, 3s));
  CHECK(fileText(log).rfind("an earlier line\n" + peer, 0) == 0);
}

TEST_CASE("log files: --error-log FILE takes the error log, reopened by SIGUSR1") {
  TempRoot files;
  const fs::path log = files.base() / "error.log";
  const fs::path rotated = files.base() / "error.log.1";
  ChildProcess child({EPSERVE_BINARY, "-i", "127.0.0.1", "-p", "0", "-r", files.root().string(),
                      "--error-log", log.string(), "--access-log", "off"});
  REQUIRE(waitForFile(log, "listening on 127.0.0.1:", 10s));
  const std::string text = fileText(log);
  const std::size_t at = text.find("listening on 127.0.0.1:") + std::string_view("listening on 127.0.0.1:").size();
  const auto port = static_cast<std::uint16_t>(std::stoi(text.substr(at, 5)));
  Client client(port);
  CHECK(client.request(requestHead("GET", "/index.html")).status == 200);
  fs::rename(log, rotated);
  child.signal(SIGUSR1);
  REQUIRE(waitForFile(log, "received SIGUSR1, reopening the log files", 3s));
  child.signal(SIGTERM);
  REQUIRE(child.wait(5000ms) == 0);
  CHECK(waitForFile(log, "shut down cleanly", 1s));
  CHECK(fileText(rotated).find("listening on") != std::string::npos);
  CHECK(fileText(rotated).find("SIGUSR1") == std::string::npos);
  CHECK(child.err().empty());  // nothing on stderr
}

TEST_CASE("log files: --log-format json writes one JSON object per line, request bytes escaped") {
  TempRoot files;
  const fs::path log = files.base() / "access.json";
  ServerProcess server(files.root(), {"--access-log", log.string(), "--log-format", "json"});
  Client client(server.port());
  client.request("GET /index.html?q=%22 HTTP/1.1\r\nHost: x\r\nUser-Agent: a \"b\"\\ \xc3\xa9 \xff\t\r\n"
                 "Referer: http://example.test/\r\n\r\n");
  const std::string port = std::to_string(client.localPort());
  REQUIRE(waitForFile(log, "\"port\":" + port + ",", 3s));
  const std::string text = fileText(log);
  CAPTURE(text);
  CHECK(countOf(text, "\n") == 1);
  CHECK(text.rfind("{\"time\":\"20", 0) == 0);
  CHECK(text.find("\"client\":\"127.0.0.1\",\"port\":" + port + ",\"method\":\"GET\","
                  "\"target\":\"/index.html?q=%22\",\"protocol\":\"HTTP/1.1\",\"status\":200,")
        != std::string::npos);
  // The header value's trailing tab is not part of it (RFC 9110 §5.5).
  CHECK(text.find("\"referer\":\"http://example.test/\",\"user_agent\":\"a \\\"b\\\"\\\\ \xc3\xa9 \\u00FF\",") !=
        std::string::npos);
  CHECK(text.find("\"duration\":0.") != std::string::npos);
  CHECK(text.find("\"upstream\":null,\"upstream_time\":null}\n") != std::string::npos);
}

TEST_CASE("log files: a log file that cannot be opened stops start-up with one line, exit 1") {
  TempRoot files;
  for (const char* flag : {"--access-log", "--error-log"}) {
    CAPTURE(flag);
    const std::string path = (files.base() / "no-such-dir" / "x.log").string();
    const ExitResult result = ServerProcess::run(
        {"-i", "127.0.0.1", "-p", "0", "-r", files.root().string(), flag, path},
        5000ms);
    REQUIRE(result.status.has_value());
    CHECK(*result.status == 1);
    const std::string role = std::string(flag) == "--access-log" ? "access log " : "error log ";
    CHECK(result.err.find("epserve: cannot open " + role + path + ": No such file or directory\n") !=
          std::string::npos);
    CHECK(result.err.find("listening on") == std::string::npos);
  }
}

}  // namespace
}  // namespace epserve::e2e
