// End-to-end tests for epserve-get: against a real epserve (bodies, exit codes, connection reuse)
// and against scripted loopback peers for what epserve never sends (chunked, close, 1xx, stalls).
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ChildProcess.h"
#include "ServedRoot.h"
#include "reactor/Fd.h"
#include "reactor/SocketAddress.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using reactor::Fd;

struct GetResult {
  std::optional<int> status;  // exit code, minus a signal, or nullopt if it outlived the bound
  std::string out;
  std::string err;
  std::chrono::milliseconds elapsed{};
};

// Runs epserve-get with `args` and waits up to `bound` for it to exit.
GetResult runGet(const std::vector<std::string>& args, std::chrono::milliseconds bound = 20s) {
  const std::string binary = EPSERVE_GET_BINARY;
  REQUIRE_MESSAGE(!binary.empty(), "epserve-get was not built");
  std::vector<std::string> argv{binary};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto start = Clock::now();
  ChildProcess child(argv);
  GetResult r;
  r.status = child.wait(bound);
  r.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  if (!r.status) child.stop();
  r.out = child.out();
  r.err = child.err();
  return r;
}

std::string portArg(std::uint16_t port) { return std::to_string(port); }

struct AccessEntry {
  unsigned clientPort;
  std::string requestLine;
  int status;
};

// The server's combined-format access log lines: `127.0.0.1:PORT - - [...] "REQ" STATUS ...`.
std::vector<AccessEntry> accessLog(const std::string& out) {
  static const std::regex line(R"re(127\.0\.0\.1:(\d+) - - \[[^\]]+\] "([^"]*)" (\d{3}) )re");
  std::vector<AccessEntry> entries;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), line); it != std::sregex_iterator();
       ++it) {
    entries.push_back({static_cast<unsigned>(std::stoul((*it)[1])), (*it)[2],
                       std::stoi((*it)[3])});
  }
  return entries;
}

// A loopback listener bound to an ephemeral port; `backlog` as given to listen(2).
Fd listenLoopback(int backlog, std::uint16_t& port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(fd.valid());
  reactor::SocketAddress address;
  REQUIRE(reactor::SocketAddress::parse("127.0.0.1", 0, address));
  REQUIRE(::bind(fd.get(), &address.addr.any, address.length) == 0);
  REQUIRE(::listen(fd.get(), backlog) == 0);
  port = reactor::SocketAddress::local(fd.get()).port();
  return fd;
}

// A fake server on one thread: it reads request heads and answers the i-th with replies[i]
// verbatim, closing the connection after a reply marked so. Bounded by a 15 s deadline.
class ScriptedServer {
 public:
  struct Reply {
    std::string bytes;
    bool closeAfter = false;
  };

  explicit ScriptedServer(std::vector<Reply> replies)
      : listener_(listenLoopback(16, port_)), replies_(std::move(replies)),
        thread_([this] { run(); }) {}
  ~ScriptedServer() {
    stop_ = true;
    thread_.join();
  }
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::vector<std::string> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  int connections() const { return connections_; }

 private:
  void run() {
    const auto deadline = Clock::now() + 15s;
    Fd connection;
    std::string buffer;
    std::size_t next = 0;
    while (next < replies_.size() && !stop_ && Clock::now() < deadline) {
      pollfd p{connection ? connection.get() : listener_.get(), POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      if (!connection) {
        connection.reset(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (connection) ++connections_;
        buffer.clear();
        continue;
      }
      char chunk[4096];
      const ssize_t n = ::recv(connection.get(), chunk, sizeof(chunk), 0);
      if (n <= 0) {
        connection.reset();  // the client gave up on this connection
        continue;
      }
      buffer.append(chunk, static_cast<std::size_t>(n));
      for (std::size_t end; next < replies_.size() &&
                            (end = buffer.find("\r\n\r\n")) != std::string::npos;) {
        {
          std::lock_guard lock(mutex_);
          requests_.push_back(buffer.substr(0, end + 4));
        }
        buffer.erase(0, end + 4);
        const Reply& reply = replies_[next++];
        const ssize_t sent =
            ::send(connection.get(), reply.bytes.data(), reply.bytes.size(), MSG_NOSIGNAL);
        if (sent != static_cast<ssize_t>(reply.bytes.size()) || reply.closeAfter) {
          connection.reset();
          break;
        }
      }
    }
  }

  std::uint16_t port_ = 0;
  Fd listener_;
  std::vector<Reply> replies_;
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  std::atomic<int> connections_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: starts once everything it uses exists
};

std::string okReply(std::string_view body) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         std::string(body);
}

}  // namespace

TEST_CASE("client: a 200 body on stdout equals the file byte for byte") {
  ServedRoot served;
  const GetResult r = runGet({"-p", portArg(served.server.port()), "/blob.bin"});
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  CHECK(sameBytes(r.out, served.files.readFile("blob.bin")));
  CHECK(served.server.waitForOut("\"GET /blob.bin HTTP/1.1\" 200 70000", 5s));
  const GetResult index = runGet({"-p", portArg(served.server.port()), "/"});
  CHECK(index.status == 0);
  CHECK(sameBytes(index.out, served.files.readFile("index.html")));
}

TEST_CASE("client: a 404 exits 1 with the noIndex page as the body") {
  ServedRoot served;
  const GetResult r = runGet({"-p", portArg(served.server.port()), "/nope"});
  CHECK(r.status == 1);
  CHECK(r.err.empty());
  CHECK(sameBytes(r.out, served.files.readFile("noIndex.html")));
}

TEST_CASE("client: several paths share one keep-alive connection, bodies in order") {
  ServedRoot served;
  const GetResult r = runGet({"-p", portArg(served.server.port()), "/", "/style.css", "/nope",
                              "/blob.bin"});
  CHECK(r.status == 1);  // the 404 among them
  CHECK(sameBytes(r.out, served.files.readFile("index.html") + served.files.readFile("style.css") +
                             served.files.readFile("noIndex.html") +
                             served.files.readFile("blob.bin")));
  REQUIRE(served.server.waitForOut("\"GET /blob.bin HTTP/1.1\"", 5s));
  const std::vector<AccessEntry> log = accessLog(served.server.out());
  REQUIRE(log.size() == 4);
  CHECK(log[0].requestLine == "GET / HTTP/1.1");
  CHECK(log[1].requestLine == "GET /style.css HTTP/1.1");
  CHECK(log[2].status == 404);
  CHECK(log[3].requestLine == "GET /blob.bin HTTP/1.1");
  for (const AccessEntry& e : log) CHECK(e.clientPort == log[0].clientPort);
}

TEST_CASE("client: -v prints request and response heads on stderr, not on stdout") {
  ServedRoot served;
  const std::string port = portArg(served.server.port());
  const GetResult r = runGet({"-v", "-p", port, "/readme.txt"});
  CHECK(r.status == 0);
  CHECK(r.out == "plain text\n");
  CHECK(r.err.find("> GET /readme.txt HTTP/1.1\n> Host: 127.0.0.1:" + port + "\n") !=
        std::string::npos);
  CHECK(r.err.find("> User-Agent: epserve-get/0.1.0\n> Accept: */*\n") != std::string::npos);
  CHECK(r.err.find("< HTTP/1.1 200 OK\n") != std::string::npos);
  CHECK(r.err.find("< Content-Length: 11\n") != std::string::npos);
}

TEST_CASE("client: --head prints nothing on stdout and still reports the status") {
  ServedRoot served;
  const std::string port = portArg(served.server.port());
  const GetResult r = runGet({"--head", "-v", "-p", port, "/blob.bin", "/"});
  CHECK(r.status == 0);
  CHECK(r.out.empty());
  CHECK(r.err.find("< Content-Length: 70000\n") != std::string::npos);
  REQUIRE(served.server.waitForOut("\"HEAD / HTTP/1.1\"", 5s));
  const std::vector<AccessEntry> log = accessLog(served.server.out());
  REQUIRE(log.size() == 2);
  CHECK(log[0].requestLine == "HEAD /blob.bin HTTP/1.1");
  CHECK(log[0].clientPort == log[1].clientPort);  // no body to read past: the connection lives on
  CHECK(runGet({"--head", "-p", port, "/missing"}).status == 1);
}

TEST_CASE("client: --http1.0 sends HTTP/1.0 and reconnects for each path") {
  ServedRoot served;
  const GetResult r =
      runGet({"--http1.0", "-p", portArg(served.server.port()), "/readme.txt", "/data.json"});
  CHECK(r.status == 0);
  CHECK(r.out == "plain text\n{\"ok\": true}\n");
  REQUIRE(served.server.waitForOut("\"GET /data.json HTTP/1.0\"", 5s));
  const std::vector<AccessEntry> log = accessLog(served.server.out());
  REQUIRE(log.size() == 2);
  CHECK(log[0].requestLine == "GET /readme.txt HTTP/1.0");
  CHECK(log[0].clientPort != log[1].clientPort);
}

TEST_CASE("client: IPv6 server address, with the Host header in brackets") {
  Fd probe(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  reactor::SocketAddress loopback6;
  REQUIRE(reactor::SocketAddress::parse("::1", 0, loopback6));
  if (!probe || ::bind(probe.get(), &loopback6.addr.any, loopback6.length) != 0) {
    MESSAGE("no IPv6 loopback here; skipped");
    return;
  }
  TempRoot files;
  ServerProcess server(files.root(), {}, "::1");
  const GetResult r = runGet({"-v", "-i", "::1", "-p", portArg(server.port()), "/readme.txt"});
  CHECK(r.status == 0);
  CHECK(r.out == "plain text\n");
  CHECK(r.err.find("> Host: [::1]:" + portArg(server.port()) + "\n") != std::string::npos);
}

TEST_CASE("client: connection refused exits 2 with one line naming the address") {
  std::uint16_t port = 0;
  listenLoopback(1, port);  // bound, then closed at once: nothing listens there now
  const GetResult r = runGet({"-p", portArg(port), "/"});
  CHECK(r.status == 2);
  CHECK(r.out.empty());
  CHECK(r.err == "epserve-get: connect 127.0.0.1:" + portArg(port) + ": Connection refused\n");
}

TEST_CASE("client: a server that never answers times out within the bound, exit 2") {
  std::uint16_t port = 0;
  const Fd listener = listenLoopback(16, port);  // accepts (in the kernel) but never replies
  const GetResult r = runGet({"--timeout", "1", "-p", portArg(port), "/"}, 10s);
  REQUIRE(r.status.has_value());
  CHECK(*r.status == 2);
  CHECK(r.elapsed >= 900ms);
  CHECK(r.elapsed < 5s);
  CHECK(r.err == "epserve-get: receive from 127.0.0.1:" + portArg(port) +
                     ": timed out after 1 s\n");
}

TEST_CASE("client: connect is bounded by --timeout when the server's backlog is full") {
  std::uint16_t port = 0;
  const Fd listener = listenLoopback(0, port);
  // One unaccepted connection fills a zero backlog; later SYNs are dropped, so the client's
  // connect would otherwise wait through the kernel's SYN retries.
  const Fd filler(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  reactor::SocketAddress target;
  REQUIRE(reactor::SocketAddress::parse("127.0.0.1", port, target));
  REQUIRE(::connect(filler.get(), &target.addr.any, target.length) == 0);
  const GetResult r = runGet({"--timeout", "0.5", "-p", portArg(port), "/"}, 10s);
  REQUIRE(r.status.has_value());
  CHECK(*r.status == 2);
  CHECK(r.elapsed < 4s);
  CHECK(r.err == "epserve-get: connect 127.0.0.1:" + portArg(port) + ": timed out after 0.5 s\n");
}

TEST_CASE("client: bad flags and paths exit 2 with one line before connecting") {
  const std::vector<std::vector<std::string>> cases = {
      {"-p", "abc", "/"},       {"-p", "0", "/"},       {"-p", "65536", "/"},
      {"-i", "example.com", "/"}, {"--timeout", "0", "/"}, {"--timeout", "x", "/"},
      {"--bogus", "/"},          {},                      {"index.html"},
      {"/a b"},
  };
  for (const auto& args : cases) {
    const GetResult r = runGet(args);
    CAPTURE(r.err);
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("epserve-get: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  const GetResult version = runGet({"--version"});
  CHECK(version.status == 0);
  CHECK(version.out == "epserve-get 0.1.0\n");
}

TEST_CASE("client: chunked bodies are decoded and end where the framing says") {
  ScriptedServer server({
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
       "5;name=\"v\"\r\nhello\r\nA \t;x\r\n, chunked!\r\n1\n\n\n0\r\nX-Trailer: t\r\n\r\n"},
      {okReply("next")},
  });
  const GetResult r = runGet({"-p", portArg(server.port()), "/a", "/b"});
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  CHECK(r.out == "hello, chunked!\nnext");
  CHECK(server.requests().size() == 2);
  CHECK(server.connections() == 1);
}

TEST_CASE("client: malformed chunked framing is a protocol error, exit 2") {
  ScriptedServer server({{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n"}});
  const GetResult r = runGet({"-p", portArg(server.port()), "/"});
  CHECK(r.status == 2);
  CHECK(r.out == "abc");
  CHECK(r.err == "epserve-get: bad response from 127.0.0.1:" + portArg(server.port()) +
                     ": missing line end after chunk data\n");
}

TEST_CASE("client: whitespace after a chunk size is allowed only before an extension") {
  // One chunked grammar serves the server and the client (http/BodyDecoder): RFC 9112 §7.1 has
  // BWS only before ';', and the server has always answered "A \r\n" with 400, so the client,
  // which used to accept it with a decoder of its own, now rejects it too.
  ScriptedServer server({{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "2\r\nab\r\n1 \r\nc\r\n0\r\n\r\n"}});
  const GetResult r = runGet({"-p", portArg(server.port()), "/"});
  CHECK(r.status == 2);
  CHECK(r.out == "ab");
  CHECK(r.err.rfind("epserve-get: bad response from 127.0.0.1:", 0) == 0);
}

TEST_CASE("client: a close-delimited body ends at EOF, then the client reconnects") {
  ScriptedServer server({
      {"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", true},
      {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\ntwo", true},
      {okReply("three")},
  });
  const GetResult r = runGet({"-p", portArg(server.port()), "/1", "/2", "/3"});
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  CHECK(r.out == "until the endtwothree");
  CHECK(server.requests().size() == 3);
  CHECK(server.connections() == 3);
}

TEST_CASE("client: a keep-alive connection the server dropped is retried once on a new one") {
  // The first reply promises keep-alive but the server closes anyway, as after a keep-alive
  // timeout; the second path must still be fetched.
  ScriptedServer server({{okReply("first"), true}, {okReply("second")}});
  const GetResult r = runGet({"-v", "-p", portArg(server.port()), "/1", "/2"});
  CHECK(r.status == 0);
  CHECK(r.out == "firstsecond");
  CHECK(server.connections() == 2);
  REQUIRE(server.requests().size() == 2);
  CHECK(server.requests()[1].rfind("GET /2 HTTP/1.1\r\n", 0) == 0);
  CHECK(r.err.find("* the server had closed the connection\n") != std::string::npos);
}

TEST_CASE("client: interim 1xx heads are skipped, the final status decides") {
  ScriptedServer server({{"HTTP/1.1 100 Continue\r\n\r\n"
                          "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
                          "HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy"}});
  const GetResult r = runGet({"-v", "-p", portArg(server.port()), "/"});
  CHECK(r.status == 1);
  CHECK(r.out == "busy");
  CHECK(r.err.find("< HTTP/1.1 103 Early Hints\n< Link: </s.css>\n") != std::string::npos);
}

TEST_CASE("client: responses cut short or malformed exit 2 with one line") {
  SUBCASE("body shorter than Content-Length") {
    ScriptedServer server({{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true}});
    const GetResult r = runGet({"-p", portArg(server.port()), "/"});
    CHECK(r.status == 2);
    CHECK(r.out == "abc");
    CHECK(r.err == "epserve-get: bad response from 127.0.0.1:" + portArg(server.port()) +
                       ": connection closed before the end of the body (3 of 10 bytes)\n");
  }
  SUBCASE("chunked body cut short") {
    ScriptedServer server(
        {{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", true}});
    const GetResult r = runGet({"-p", portArg(server.port()), "/"});
    CHECK(r.status == 2);
    CHECK(r.out == "hel");
    CHECK(r.err == "epserve-get: bad response from 127.0.0.1:" + portArg(server.port()) +
                       ": connection closed inside the chunked body (3 bytes decoded)\n");
  }
  SUBCASE("malformed status line") {
    ScriptedServer server({{"HTTP/1.1 2000 OK\r\n\r\n", true}});
    const GetResult r = runGet({"-p", portArg(server.port()), "/"});
    CHECK(r.status == 2);
    CHECK(r.err == "epserve-get: bad response from 127.0.0.1:" + portArg(server.port()) +
                       ": malformed status line\n");
  }
  SUBCASE("closed without a response") {
    ScriptedServer server({{"", true}});
    const GetResult r = runGet({"-p", portArg(server.port()), "/"});
    CHECK(r.status == 2);
    CHECK(r.err == "epserve-get: 127.0.0.1:" + portArg(server.port()) +
                       " closed the connection without a response\n");
  }
}

}  // namespace epserve::e2e
