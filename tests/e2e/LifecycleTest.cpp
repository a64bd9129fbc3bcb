// End-to-end tests for the process itself: command line exit codes, version, IPv6 listening,
// graceful shutdown on SIGTERM/SIGINT with a response in flight, and the access log on stdout.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <sstream>
#include <thread>

#include "Client.h"
#include "ServedRoot.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::size_t nonEmptyLines(const std::string& text) {
  std::istringstream lines(text);
  std::size_t count = 0;
  for (std::string line; std::getline(lines, line);) count += line.empty() ? 0 : 1;
  return count;
}

std::vector<std::string> linesWith(const std::string& text, const std::string& needle) {
  std::istringstream lines(text);
  std::vector<std::string> found;
  for (std::string line; std::getline(lines, line);) {
    if (line.find(needle) != std::string::npos) found.push_back(line);
  }
  return found;
}

// A listening socket on 127.0.0.1 or ::1 with an ephemeral port, closed on destruction.
class BoundSocket {
 public:
  explicit BoundSocket(int family) : fd_(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) return;
    sockaddr_storage address{};
    socklen_t length = 0;
    if (family == AF_INET) {
      auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
      v4->sin_family = AF_INET;
      v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      length = sizeof *v4;
    } else {
      auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
      v6->sin6_family = AF_INET6;
      v6->sin6_addr = in6addr_loopback;
      length = sizeof *v6;
    }
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(fd_, 4) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      return;
    }
    port_ = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&address)->sin_port
                                    : reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
  }
  ~BoundSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  BoundSocket(const BoundSocket&) = delete;
  BoundSocket& operator=(const BoundSocket&) = delete;
  bool ok() const { return port_ != 0; }
  std::uint16_t port() const { return port_; }

 private:
  int fd_;
  std::uint16_t port_ = 0;
};

TEST_CASE("lifecycle: --version prints the version and exits 0") {
  const ExitResult result = ServerProcess::run({"--version"}, 5000ms);
  REQUIRE(result.status.has_value());
  CHECK(*result.status == 0);
  CHECK(result.out.find("epserve 0.1.0") != std::string::npos);
}

TEST_CASE("lifecycle: --help describes the options and exits 0") {
  const ExitResult result = ServerProcess::run({"--help"}, 5000ms);
  REQUIRE(result.status.has_value());
  CHECK(*result.status == 0);
  CHECK(result.out.find("--port") != std::string::npos);
  CHECK(result.out.find("--root") != std::string::npos);
}

TEST_CASE("lifecycle: a bad flag or value exits 2 with one line on stderr") {
  TempRoot files;
  const std::string root = files.root().string();
  const std::vector<std::string> cases[] = {
      {"-i", "127.0.0.1", "--port", "abc", "-r", root},
      {"-i", "127.0.0.1", "-p", "0", "-r", root, "--bogus"},
      {"-i", "127.0.0.1", "-p", "70000", "-r", root},
      {"-i", "127.0.0.1", "-p", "0", "-r", root, "--log-level", "loud"},
      {"-i", "127.0.0.1", "-p", "0", "-r", root, "--log-format", "xml"},
  };
  for (const auto& args : cases) {
    CAPTURE(args.at(3));
    CAPTURE(args.back());
    const ExitResult result = ServerProcess::run(args, 5000ms);
    REQUIRE(result.status.has_value());
    CHECK(*result.status == 2);
    CHECK(nonEmptyLines(result.err) == 1);
    CHECK(result.err.find("listening on") == std::string::npos);
  }
}

TEST_CASE("lifecycle: a missing root exits 1") {
  TempRoot files;
  const std::string missing = (files.base() / "does-not-exist").string();
  const ExitResult result =
      ServerProcess::run({"-i", "127.0.0.1", "-p", "0", "-r", missing}, 5000ms);
  REQUIRE(result.status.has_value());
  CHECK(*result.status == 1);
  CHECK(nonEmptyLines(result.err) >= 1);
  CHECK(result.err.find("listening on") == std::string::npos);
}

TEST_CASE("lifecycle: a port already in use exits 1") {
  TempRoot files;
  BoundSocket taken(AF_INET);
  REQUIRE(taken.ok());
  const ExitResult result = ServerProcess::run(
      {"-i", "127.0.0.1", "-p", std::to_string(taken.port()), "-r", files.root().string()}, 5000ms);
  REQUIRE(result.status.has_value());
  CHECK(*result.status == 1);
  CHECK(nonEmptyLines(result.err) >= 1);
  CHECK(result.err.find("listening on") == std::string::npos);
}

TEST_CASE("lifecycle: -i ::1 serves over IPv6 loopback") {
  {
    BoundSocket probe(AF_INET6);
    if (!probe.ok()) {
      MESSAGE("skipped: IPv6 loopback ::1 cannot be bound on this machine");
      return;
    }
  }
  TempRoot files;
  ServerProcess server(files.root(), {}, "::1");
  CHECK(server.err().find("listening on [::1]:" + std::to_string(server.port())) !=
        std::string::npos);
  Client client(server.port(), "::1");
  const HttpResponse response = client.request(requestHead("GET", "/"));
  CHECK(response.status == 200);
  CHECK(response.body == files.readFile("index.html"));
  CHECK_FALSE(canConnect(server.port(), "127.0.0.1"));  // bound to ::1 only
}

TEST_CASE("lifecycle: SIGTERM on an idle server exits 0 promptly") {
  ServedRoot served;
  Client idle = served.connect();
  const HttpResponse response = idle.request(requestHead("GET", "/index.html"));
  CHECK(response.status == 200);
  const auto start = Clock::now();
  served.server.signal(SIGTERM);
  const auto status = served.server.waitExit(5000ms);
  REQUIRE(status.has_value());
  CHECK(*status == 0);
  CHECK(Clock::now() - start < 4s);
  CHECK(idle.waitForClose(1s));  // the idle keep-alive connection was closed, not abandoned
}

TEST_CASE("lifecycle: SIGINT exits 0 as well") {
  ServedRoot served;
  served.server.signal(SIGINT);
  const auto status = served.server.waitExit(5000ms);
  REQUIRE(status.has_value());
  CHECK(*status == 0);
}

TEST_CASE("lifecycle: SIGTERM lets a slow 32 MiB download finish byte for byte then exits 0") {
  TempRoot files;
  const std::string big = patternBytes(32u << 20);
  files.writeFile("big.bin", big);
  ServerProcess server(files.root());
  // A small receive window keeps most of the file inside the server while we read slowly.
  Client client(server.port(), "127.0.0.1", 64 * 1024);
  client.send(requestHead("GET", "/big.bin"));
  const HttpResponse head = client.readHead();
  REQUIRE(head.status == 200);
  REQUIRE(head.header("Content-Length") == std::to_string(big.size()));

  std::string body;
  body.reserve(big.size());
  auto readSlowly = [&](std::size_t until, std::chrono::milliseconds budget) {
    const auto stop = Clock::now() + budget;
    while (body.size() < until && Clock::now() < stop) {
      const std::string chunk = client.recvSome(16 * 1024);
      if (chunk.empty()) return;
      body += chunk;
      std::this_thread::sleep_for(2ms);
    }
  };
  readSlowly(1u << 20, 5000ms);
  REQUIRE(body.size() >= (1u << 20));

  server.signal(SIGTERM);
  const auto signalled = Clock::now();
  readSlowly(big.size(), 500ms);    // the server must keep sending while it drains
  CHECK(body.size() < big.size());  // otherwise the response was not really in flight
  // The listening socket is closed by now: new connections are refused.
  CHECK_FALSE(canConnect(server.port()));
  while (body.size() < big.size()) {
    const std::string chunk = client.recvSome(1u << 20);
    if (chunk.empty()) break;
    body += chunk;
  }
  CHECK(body.size() == big.size());
  CHECK(sameBytes(body, big));
  const auto status = server.waitExit(5000ms);
  REQUIRE(status.has_value());
  CHECK(*status == 0);
  CHECK(Clock::now() - signalled < 5s);
}

TEST_CASE("log: one access log line per response on stdout in combined format") {
  ServedRoot served;
  Client client = served.connect();
  const std::string index = served.files.readFile("index.html");
  const std::string notFound = served.files.readFile("noIndex.html");
  client.request(
      "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: e2e-agent/1.0\r\n"
      "Referer: http://example.test/start\r\n\r\n");
  client.request(requestHead("GET", "/absent.txt?q=1"));
  REQUIRE(served.server.waitForOut("\"GET /absent.txt?q=1 HTTP/1.1\"", 3s));

  const std::string peer = "127.0.0.1:" + std::to_string(client.localPort());
  const std::vector<std::string> lines = linesWith(served.server.out(), peer + " ");
  REQUIRE(lines.size() == 2);
  const std::string stamp = R"(\[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\])";
  const std::regex ok("^" + peer + " - - " + stamp + R"( "GET /index\.html HTTP/1\.1" 200 )" +
                      std::to_string(index.size()) +
                      R"( "http://example\.test/start" "e2e-agent/1\.0"$)");
  const std::regex missing("^" + peer + " - - " + stamp +
                           R"( "GET /absent\.txt\?q=1 HTTP/1\.1" 404 )" +
                           std::to_string(notFound.size()) + R"( "-" "-"$)");
  CAPTURE(lines[0]);
  CAPTURE(lines[1]);
  CHECK(std::regex_match(lines[0], ok));
  CHECK(std::regex_match(lines[1], missing));
  // The access log goes to stdout only.
  CHECK(served.server.err().find("GET /index.html") == std::string::npos);
}

TEST_CASE("log: errors that close the connection are logged too") {
  ServedRoot served;
  Client client = served.connect();
  const HttpResponse response = client.request(requestHead("BREW", "/pot"));
  CHECK(response.status == 501);
  const std::string peer = "127.0.0.1:" + std::to_string(client.localPort()) + " ";
  REQUIRE(served.server.waitForOut(peer, 3s));
  const std::vector<std::string> lines = linesWith(served.server.out(), peer);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("\"BREW /pot HTTP/1.1\" 501 ") != std::string::npos);
}

TEST_CASE("log: --access-log off prints no access lines") {
  ServedRoot served({"--access-log", "off"});
  Client client = served.connect();
  CHECK(client.request(requestHead("GET", "/index.html")).status == 200);
  CHECK(client.request(requestHead("GET", "/absent")).status == 404);
  // Give a (wrongly) enabled log time to appear before concluding it is absent.
  std::this_thread::sleep_for(500ms);
  CHECK(served.server.out().find("GET /") == std::string::npos);
  CHECK(served.server.err().find("\"GET /index.html") == std::string::npos);
}

}  // namespace
}  // namespace epserve::e2e
