// Unit tests for server/Connection over a real loopback TCP connection, without the binary:
// a LoopContext on a temporary root, the loop run step by step while the test plays client.
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "LoopbackPair.h"
#include "fs/Resolver.h"
#include "reactor/EventLoop.h"
#include "server/Config.h"
#include "server/Connection.h"
#include "server/LoopContext.h"

namespace fsys = std::filesystem;
using epserve::server::Config;
using epserve::server::Connection;
using epserve::server::ConnectionOwner;
using epserve::server::LoopContext;
using epserve::testing::LoopbackPair;

namespace {

constexpr std::size_t kBigFile = 1 << 20;

std::string bigContent() {
  std::string s(kBigFile, '\0');
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>('A' + i % 23);
  return s;
}

struct TempDir {
  fsys::path path;
  TempDir() {
    char tmpl[] = "/tmp/epserve-conn-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
    std::ofstream(path / "index.html") << "<p>hello</p>\n";
    std::ofstream(path / "noIndex.html") << "<p>not here</p>\n";
    std::ofstream(path / "big.bin", std::ios::binary) << bigContent();
  }
  ~TempDir() { fsys::remove_all(path); }
};

struct Owner final : ConnectionOwner {
  int closed = 0;
  void connectionClosed(Connection*) override { ++closed; }
};

struct Harness {
  TempDir dir;
  Config config;
  epserve::reactor::EventLoop loop;
  std::unique_ptr<LoopContext> ctx;
  Owner owner;
  std::unique_ptr<Connection> conn;
  LoopbackPair pair;

  explicit Harness(std::uint32_t headerTimeoutSec = 10) {
    config.root = dir.path.string();
    config.accessLog = false;
    config.headerTimeoutSec = headerTimeoutSec;
    ctx = std::make_unique<LoopContext>(
        loop, config,
        epserve::fs::Resolver(epserve::fs::Resolver::openRoot(config.root), config.indexName));
    conn = std::make_unique<Connection>(*ctx, owner);
  }
  void open() { conn->open(std::move(pair.near), pair.farAddress); }
  // Runs iterations (each waiting at most 10 ms) while reading what the client receives, until
  // `received` satisfies `done`, bounded by `iterations`.
  template <typename Pred>
  bool exchange(std::string& received, Pred done, int iterations = 500) {
    for (int i = 0; i < iterations && !done(received); ++i) {
      loop.runOnce(10);
      received += pair.receiveAvailable(0);
    }
    return done(received);
  }
  bool settle(int iterations = 20) {
    for (int i = 0; i < iterations; ++i) loop.runOnce(5);
    return true;
  }
};

std::size_t count(const std::string& s, std::string_view what) {
  std::size_t n = 0;
  for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

auto containsAll(std::string_view what, std::size_t times) {
  return [what, times](const std::string& s) { return count(s, what) >= times; };
}

}  // namespace

TEST_CASE("connection: answers a request and stays open for the next one") {
  Harness h;
  h.open();
  h.pair.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string got;
  REQUIRE(h.exchange(got, containsAll("<p>hello</p>", 1)));
  CHECK(got.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(h.conn->state() == Connection::State::ReadingHead);
  CHECK(h.owner.closed == 0);
}

TEST_CASE("connection: pipelined requests are answered in order") {
  Harness h;
  h.open();
  h.pair.send(
      "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /missing HTTP/1.1\r\nHost: x\r\n\r\n"
      "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string got;
  REQUIRE(h.exchange(got, containsAll("HTTP/1.1 ", 3)));
  h.settle();
  got += h.pair.receiveAvailable(0);
  std::size_t ok = got.find("200 OK"), missing = got.find("404 Not Found"),
              head = got.find("200 OK", ok + 1);
  CHECK(ok < missing);
  CHECK(missing < head);
  CHECK(head != std::string::npos);
  CHECK(count(got, "<p>hello</p>") == 1);  // HEAD has no body
}

TEST_CASE("connection: a body larger than the socket takes is sent across many EAGAINs") {
  Harness h;
  h.pair.shrinkBuffers(32768);
  h.open();
  h.pair.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
  // Read in small steps: the server's socket keeps filling up, so flushes end in EAGAIN.
  std::string got;
  int sawBlocked = 0;
  for (int i = 0; i < 5000 && got.size() < kBigFile; ++i) {
    h.loop.runOnce(5);
    if (!h.conn->stream().writable()) ++sawBlocked;
    char buf[32768];
    ssize_t n = ::recv(h.pair.far.get(), buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) got.append(buf, static_cast<std::size_t>(n));
  }
  std::size_t bodyAt = got.find("\r\n\r\n");
  REQUIRE(bodyAt != std::string::npos);
  got += h.pair.receiveAvailable(100);
  CHECK(got.substr(bodyAt + 4) == bigContent());
  CHECK(sawBlocked > 3);
  CHECK(h.conn->state() == Connection::State::ReadingHead);
}

TEST_CASE("connection: a client that half-closes after its request still gets the answer") {
  Harness h;
  h.open();
  h.pair.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  ::shutdown(h.pair.far.get(), SHUT_WR);
  std::string got;
  REQUIRE(h.exchange(got, containsAll("<p>hello</p>", 1)));
  h.settle();
  CHECK(h.owner.closed == 1);
  CHECK(h.conn->state() == Connection::State::Closed);
  CHECK(h.pair.farSeesEnd(1000));
}

TEST_CASE("connection: back-pressure stops parsing while the client does not read") {
  Harness h;
  h.pair.shrinkBuffers();
  h.open();
  std::string many;
  for (int i = 0; i < 40; ++i) many += "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n";
  h.pair.send(many);
  h.settle(50);
  // Parsing stopped with most requests still unparsed, and the queue bounded (the limit is
  // 256 KiB or 32 files; one 1 MiB response can overshoot it by itself).
  CHECK(h.conn->stream().input().size() > many.size() / 2);
  CHECK(h.conn->stream().output().pendingBytes() <= 2 * kBigFile);
  CHECK(h.conn->state() == Connection::State::ReadingHead);
  CHECK(h.owner.closed == 0);
}

TEST_CASE("connection: a request body split at every byte is discarded, then the next served") {
  for (std::string_view body : {std::string_view("Content-Length: 5\r\n\r\nhello"),
                                std::string_view("Transfer-Encoding: chunked\r\n\r\n"
                                                 "3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: v\r\n\r\n")}) {
    CAPTURE(body);
    Harness h;
    h.open();
    std::string request = "POST /index.html HTTP/1.1\r\nHost: x\r\n" + std::string(body) +
                          "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    std::string got;
    for (char c : request) {
      h.pair.send(std::string_view(&c, 1));
      h.loop.runOnce(1);
      got += h.pair.receiveAvailable(0);
    }
    REQUIRE(h.exchange(got, containsAll("HTTP/1.1 ", 2)));
    CHECK(got.find("405 Method Not Allowed") < got.find("200 OK"));
    CHECK(h.owner.closed == 0);
  }
}

TEST_CASE("connection: a malformed request gets 400, then a half-close and a linger") {
  Harness h;
  h.open();
  h.pair.send("GET / HTTP/1.1\r\nBad Header\r\n\r\nmore bytes the server will not read");
  std::string got;
  REQUIRE(h.exchange(got, containsAll("400 Bad Request", 1)));
  CHECK(h.pair.farSeesEnd(1000));  // the server's FIN after the response
  h.settle();
  CHECK(h.conn->state() == Connection::State::Lingering);
  h.pair.send("the client may still talk");  // discarded, no reset
  h.settle();
  CHECK(h.conn->state() == Connection::State::Lingering);
  h.pair.far.reset();
  for (int i = 0; i < 200 && h.owner.closed == 0; ++i) h.loop.runOnce(10);
  CHECK(h.owner.closed == 1);
}

TEST_CASE("connection: a request head that stalls gets 408 when its deadline passes") {
  Harness h(1);
  h.open();
  h.pair.send("GET / HTTP/1.1\r\nHost:");
  std::string got;
  // The header deadline is 1 s; allow up to 3 s of 10 ms iterations.
  REQUIRE(h.exchange(got, containsAll("408 Request Timeout", 1), 300));
  CHECK(h.conn->state() != Connection::State::ReadingHead);
}
