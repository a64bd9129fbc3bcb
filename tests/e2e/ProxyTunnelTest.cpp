// End-to-end tests of Upgrade tunnels through the proxy: the handshake on both hops, bytes both
// ways (those coalesced with either head included), 16 MiB each way past a slow reader with
// epserve's memory flat, half-close each way, the idle timeout, refused and unasked-for
// switches, and SIGTERM with a tunnel open.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include "AbuseSupport.h"
#include "ProxySupport.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Reply = ScriptedUpstream::Reply;

const std::string kUpgrade = "Connection: Upgrade\r\nUpgrade: echo\r\n";
const std::string kSwitch =
    "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

// An upstream whose one connection is scripted by the test: it reads the request head,
// answers `answer` and hands the socket (and any bytes read past the head) to `then`, on its
// own thread. Blocking sockets with 10 s timeouts, so a broken proxy fails the test instead of
// hanging it; whatever `then` throws is kept for error().
class TunnelUpstream {
 public:
  using Script = std::function<void(int fd, const std::string& early)>;

  TunnelUpstream(std::string answer, Script then)
      : answer_(std::move(answer)), then_(std::move(then)) {
    listen_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (listen_ < 0 || ::bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listen_, 4) != 0 ||
        ::getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      throw std::system_error(errno, std::generic_category(), "tunnel upstream listen");
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~TunnelUpstream() {
    thread_.join();  // bounded: accept waits 10 s at most, every socket call times out
    ::close(listen_);
  }
  TunnelUpstream(const TunnelUpstream&) = delete;
  TunnelUpstream& operator=(const TunnelUpstream&) = delete;

  std::uint16_t port() const { return port_; }
  std::string head() const {
    std::lock_guard lock(mutex_);
    return head_;
  }
  std::string error() const {
    std::lock_guard lock(mutex_);
    return error_;
  }
  bool waitDone(std::chrono::milliseconds bound) const {
    const auto until = Clock::now() + bound;
    while (!done_ && Clock::now() < until) std::this_thread::sleep_for(5ms);
    return done_;
  }

 private:
  void run() {
    int fd = -1;
    try {
      pollfd p{listen_, POLLIN, 0};
      if (::poll(&p, 1, 10'000) != 1) throw std::runtime_error("no connection from the proxy");
      fd = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) throw std::system_error(errno, std::generic_category(), "accept");
      const timeval t{10, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof t);
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &t, sizeof t);
      std::string in;
      std::size_t end;
      while ((end = in.find("\r\n\r\n")) == std::string::npos) {
        std::string more = recvSome(fd, 4096);
        if (more.empty()) throw std::runtime_error("EOF inside the request head");
        in += more;
      }
      {
        std::lock_guard lock(mutex_);
        head_ = in.substr(0, end + 4);
      }
      sendAll(fd, answer_);
      then_(fd, in.substr(end + 4));
    } catch (const std::exception& e) {
      std::lock_guard lock(mutex_);
      error_ = e.what();
    }
    if (fd >= 0) ::close(fd);
    done_ = true;
  }

  std::string answer_;
  Script then_;
  int listen_ = -1;
  std::uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::string head_;
  std::string error_;
  std::atomic<bool> done_{false};
  std::thread thread_;

 public:
  // Socket helpers for scripts; each throws on a timeout or an error.
  static std::string recvSome(int fd, std::size_t max) {
    std::string b(max, '\0');
    for (;;) {
      const ssize_t n = ::recv(fd, b.data(), max, 0);
      if (n >= 0) {
        b.resize(static_cast<std::size_t>(n));
        return b;
      }
      if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "recv");
    }
  }
  static void sendAll(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw std::system_error(errno, std::generic_category(), "send");
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  // Everything until EOF, at most `limit` bytes.
  static std::string recvUntilEof(int fd, std::size_t limit) {
    std::string all;
    for (;;) {
      std::string more = recvSome(fd, 65536);
      if (more.empty()) return all;
      all += more;
      if (all.size() > limit) throw std::runtime_error("more bytes than expected before EOF");
    }
  }
};

// The byte at offset `i` of the large transfers: a pattern that shows a lost, doubled or
// reordered block (period 251, prime, so no power-of-two block lines up with it).
char patternAt(std::uint64_t i) { return static_cast<char>('a' + (i % 251) % 26); }
std::string pattern(std::uint64_t from, std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t k = 0; k < n; ++k) s[k] = patternAt(from + k);
  return s;
}

// Reads from the client until `want` bytes arrived (or EOF, or the bound).
std::string readExactly(Client& c, std::size_t want, std::chrono::milliseconds bound = 5s) {
  std::string got;
  const auto until = Clock::now() + bound;
  while (got.size() < want && Clock::now() < until) {
    std::string more = c.recvSome(want - got.size());
    if (more.empty()) break;
    got += more;
  }
  return got;
}

std::string upgradeRequest(const std::string& target = "/app/ws") {
  return requestHead("GET", target, kUpgrade);
}

struct TunnelledRoot {
  TempRoot files;
  TunnelUpstream upstream;
  ServerProcess server;
  TunnelledRoot(std::string answer, TunnelUpstream::Script then,
                std::vector<std::string> extraArgs = {})
      : upstream(std::move(answer), std::move(then)),
        server(files.root(), ProxiedRoot::withProxy(
                                 std::move(extraArgs), "/app/",
                                 "http://127.0.0.1:" + std::to_string(upstream.port()))) {}
};

ScriptedUpstream::Options echoing() {
  ScriptedUpstream::Options o;
  o.tunnelAfter101 = true;
  return o;
}

TEST_CASE("tunnel: the handshake goes upstream with Upgrade, bytes behind both heads pass") {
  ProxiedRoot p({}, "/app/", "", echoing());
  p.upstream.push(Reply{kSwitch + "hello from upstream|"});
  Client c = p.connect();
  c.send(upgradeRequest() + "early bytes|");  // frames right behind the head, in one packet
  HttpResponse r = c.readHead();
  CHECK(r.status == 101);
  CHECK(r.header("Upgrade") == "echo");
  CHECK(r.header("Connection") == "upgrade");
  CHECK(r.header("Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  CHECK(r.header("Server").rfind("epserve/", 0) == 0);
  CHECK(r.has("Date"));
  CHECK_FALSE(r.has("Content-Length"));
  CHECK_FALSE(r.has("Transfer-Encoding"));
  const std::string first = "hello from upstream|early bytes|";
  CHECK(readExactly(c, first.size()) == first);
  const std::string messages[] = {"ping", std::string(100'000, 'x'), "pong"};
  for (const std::string& msg : messages) {
    c.send(msg);
    CHECK(sameBytes(readExactly(c, msg.size()), msg));
  }
  REQUIRE(p.upstream.waitForRequests(1, 2s));
  const auto got = p.upstream.received().front();
  CHECK(got.header("Upgrade") == "echo");
  CHECK(got.header("Connection") == "upgrade");
  CHECK(got.headerCount("Connection") == 1);
}

TEST_CASE("tunnel: an HTTP/1.0 request's Upgrade is ignored, and never forwarded") {
  ProxiedRoot p;
  Client c = p.connect();
  HttpResponse r = c.request("GET /app/ws HTTP/1.0\r\n" + kUpgrade + "\r\n");
  CHECK(r.status == 200);
  REQUIRE(p.upstream.waitForRequests(1, 2s));
  CHECK(p.upstream.received().front().headerCount("Upgrade") == 0);
}

TEST_CASE("tunnel: a 101 nobody asked for, or to a protocol not offered, is a 502") {
  ProxiedRoot p;
  p.upstream.script({Reply{kSwitch}, Reply{kSwitch}});
  Client plain = p.connect();
  CHECK(plain.request(requestHead("GET", "/app/x")).status == 502);
  Client other = p.connect();
  CHECK(other.request(requestHead("GET", "/app/ws", "Connection: upgrade\r\nUpgrade: h2c\r\n"))
            .status == 502);
  CHECK(p.server.err().find("switched protocols, which was not asked for") != std::string::npos);
  CHECK(p.server.err().find("a protocol the client did not offer") != std::string::npos);
}

TEST_CASE("tunnel: an upgrade the upstream refuses is relayed as a normal response") {
  ProxiedRoot p({}, "/app/", "", echoing());
  p.upstream.script({ScriptedUpstream::ok("no tunnel here", "Upgrade: echo\r\n"),
                     ScriptedUpstream::ok("next")});
  Client c = p.connect();
  HttpResponse r = c.request(upgradeRequest());
  CHECK(r.status == 200);
  CHECK(r.body == "no tunnel here");
  CHECK_FALSE(r.has("Upgrade"));
  CHECK(c.request(requestHead("GET", "/app/again")).body == "next");  // kept alive
}

TEST_CASE("tunnel: 16 MiB each way past a slow reader, with epserve's memory flat") {
  constexpr std::size_t kTotal = 16 * 1024 * 1024;
  constexpr std::size_t kPiece = 64 * 1024;
  std::atomic<bool> readSlowly{true};
  std::string upstreamGot;  // what the upstream checked, as a verdict
  TunnelledRoot t(kSwitch, [&](int fd, const std::string& early) {
    // Down: 16 MiB to a client that reads slowly.
    for (std::size_t at = 0; at < kTotal; at += kPiece) {
      TunnelUpstream::sendAll(fd, pattern(at, kPiece));
    }
    // Up: 16 MiB from the client, read slowly here.
    std::size_t at = early.size();
    std::string mismatch = early == pattern(0, early.size()) ? "" : "early bytes differ";
    while (at < kTotal && mismatch.empty()) {
      std::string more = TunnelUpstream::recvSome(fd, 16 * 1024);
      if (more.empty()) throw std::runtime_error("EOF after " + std::to_string(at) + " bytes");
      if (more != pattern(at, more.size())) mismatch = "differs at " + std::to_string(at);
      at += more.size();
      if (readSlowly) std::this_thread::sleep_for(1ms);
    }
    upstreamGot = mismatch.empty() ? "ok " + std::to_string(at) : mismatch;
    TunnelUpstream::sendAll(fd, "done");
  });
  Client c(t.server.port(), "127.0.0.1", 16 * 1024);
  c.send(upgradeRequest());
  REQUIRE(c.readHead().status == 101);

  const pid_t pid = t.server.pid();
  const std::size_t baseline = abuse::residentKiB(pid);
  std::atomic<std::size_t> peak{baseline};
  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    while (sampling) {
      peak = std::max(peak.load(), abuse::residentKiB(pid));
      std::this_thread::sleep_for(10ms);
    }
  });

  std::size_t down = 0;
  bool intact = true;
  const auto until = Clock::now() + 60s;
  while (down < kTotal && Clock::now() < until) {
    std::string more = c.recvSome(16 * 1024);
    if (more.empty()) break;
    intact = intact && more == pattern(down, more.size());
    down += more.size();
    std::this_thread::sleep_for(1ms);
  }
  for (std::size_t at = 0; at < kTotal; at += kPiece) c.send(pattern(at, kPiece));
  const std::string done = readExactly(c, 4, 60s);
  sampling = false;
  sampler.join();

  CHECK(down == kTotal);
  CHECK(intact);
  CHECK(done == "done");
  REQUIRE(t.upstream.waitDone(10s));
  CHECK(t.upstream.error() == "");
  CHECK(upstreamGot == "ok " + std::to_string(kTotal));
  // A proxy that buffered either transfer would hold megabytes; epserve holds a block or two
  // per direction (the bound leaves room for the sanitizer's own bookkeeping).
  MESSAGE("VmRSS " << baseline << " KiB, peak " << peak.load() << " KiB");
  CHECK(peak.load() - baseline < 4 * 1024);
}

TEST_CASE("tunnel: the client's FIN reaches the upstream, which can still answer") {
  TunnelledRoot t(kSwitch, [](int fd, const std::string& early) {
    std::string got = early + TunnelUpstream::recvUntilEof(fd, 1 << 20);  // until the FIN
    TunnelUpstream::sendAll(fd, "after your FIN: " + got);
  });
  Client c(t.server.port());
  c.send(upgradeRequest() + "last words");
  REQUIRE(c.readHead().status == 101);
  c.shutdownWrite();
  CHECK(c.readUntilEof(5s) == "after your FIN: last words");
  REQUIRE(t.upstream.waitDone(5s));
  CHECK(t.upstream.error() == "");
}

TEST_CASE("tunnel: the upstream's FIN reaches the client, which can still send") {
  std::string upstreamGot;
  TunnelledRoot t(kSwitch + "bye", [&](int fd, const std::string& early) {
    ::shutdown(fd, SHUT_WR);
    upstreamGot = early + TunnelUpstream::recvUntilEof(fd, 1 << 20);
  });
  Client c(t.server.port());
  c.send(upgradeRequest());
  REQUIRE(c.readHead().status == 101);
  CHECK(c.readUntilEof(5s) == "bye");  // EOF: the upstream's FIN, passed on
  c.send("still talking");
  c.shutdownWrite();
  REQUIRE(t.upstream.waitDone(5s));
  CHECK(t.upstream.error() == "");
  CHECK(upstreamGot == "still talking");
  REQUIRE(t.server.waitForOut("\"GET /app/ws HTTP/1.1\" 101 3 ", 3s));  // logged at the end
}

TEST_CASE("tunnel: --tunnel-idle-timeout closes both sides, traffic either way resets it") {
  ProxiedRoot p({"--tunnel-idle-timeout", "0.6"}, "/app/", "", echoing());
  p.upstream.push(Reply{kSwitch});
  Client c = p.connect();
  c.send(upgradeRequest());
  REQUIRE(c.readHead().status == 101);
  // Busy for twice the timeout: it stays open.
  for (int i = 0; i < 6; ++i) {
    c.send("tick");
    CHECK(readExactly(c, 4) == "tick");
    std::this_thread::sleep_for(200ms);
  }
  CHECK(p.upstream.openConnections() == 1);
  const auto idleFrom = Clock::now();
  CHECK(c.waitForClose(3s));
  CHECK(Clock::now() - idleFrom >= 400ms);
  CHECK(p.upstream.waitForOpenConnections(0, 2s));
  CHECK(p.server.waitForOut("\"GET /app/ws HTTP/1.1\" 101 24 ", 2s));
}

TEST_CASE("tunnel: SIGTERM with a tunnel open: it works through the grace period, then closes") {
  ProxiedRoot p({}, "/app/", "", echoing());
  p.upstream.push(Reply{kSwitch});
  Client c = p.connect();
  c.send(upgradeRequest());
  REQUIRE(c.readHead().status == 101);
  const auto signalled = Clock::now();
  p.server.signal(SIGTERM);
  std::this_thread::sleep_for(200ms);
  c.send("during the grace period");
  CHECK(readExactly(c, 23) == "during the grace period");
  CHECK(p.server.waitExit(6s) == 0);
  CHECK(Clock::now() - signalled < 5s);
  CHECK(c.waitForClose(1s));
}

}  // namespace
}  // namespace epserve::e2e
