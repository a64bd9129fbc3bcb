// Self-tests of the scripted upstream the proxy tests stand on: if it mis-frames a request or
// mis-times a reply, every proxy test built on it says the wrong thing. No epserve runs here.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>

#include "AbuseSupport.h"
#include "Client.h"
#include "ScriptedUpstream.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;
using abuse::Clock;
using abuse::millisSince;
using abuse::Socket;
using Reply = ScriptedUpstream::Reply;

// A connected unix-socket client with 5 s send/receive timeouts; invalid if connect fails.
Socket connectUnix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Socket();
  Socket connection(fd);
  const timeval five{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five, sizeof five);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &five, sizeof five);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) return Socket();
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return Socket();
  return connection;
}

// Reads from `client` until `size` bytes have come or the connection ends (5 s per recv).
std::string readBytes(Client& client, std::size_t size) {
  std::string got;
  for (int round = 0; round < 1000 && got.size() < size; ++round) {
    const std::string some = client.recvSome(size - got.size());
    if (some.empty()) break;
    got += some;
  }
  return got;
}

TEST_CASE("upstream fixture: a Content-Length body is recorded and the default reply answers") {
  ScriptedUpstream upstream;
  Client client(upstream.port());
  const std::string request =
      "POST /submit?x=1 HTTP/1.1\r\nHost: upstream\r\ncontent-length: 5\r\n"
      "X-Pad:   spaced value \t\r\nX-Twice: a\r\nx-twice: b\r\n\r\nhello";
  const HttpResponse response = client.request(request);
  CHECK(response.status == 200);
  CHECK(response.body == "ok");
  REQUIRE(upstream.waitForRequests(1, 2s));
  const auto received = upstream.received();
  REQUIRE(received.size() == 1);
  const ScriptedUpstream::Received& got = received[0];
  CHECK(got.error == "");
  CHECK(got.requestLine() == "POST /submit?x=1 HTTP/1.1");
  CHECK(got.method() == "POST");
  CHECK(got.target() == "/submit?x=1");
  CHECK(got.head == request.substr(0, request.size() - 5));
  CHECK(got.body == "hello");
  CHECK_FALSE(got.chunked);
  CHECK(got.raw == request);
  CHECK(got.connectionIndex == 0);
  CHECK(got.header("Content-Length") == "5");
  CHECK(got.header("x-pad") == "spaced value");
  CHECK(got.header("X-Twice") == "a");
  CHECK(got.headerCount("X-TWICE") == 2);
  CHECK(got.headerCount("Transfer-Encoding") == 0);
  CHECK(got.header("Absent") == "");
  CHECK(upstream.allBytes(0) == request);
  CHECK(upstream.connectionsAccepted() == 1);
}

TEST_CASE("upstream fixture: a chunked body is de-chunked, across writes, trailers apart") {
  ScriptedUpstream upstream;
  upstream.push(ScriptedUpstream::ok("done"));
  Client client(upstream.port());
  const std::string head =
      "POST /up HTTP/1.1\r\nHost: upstream\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n";
  const std::string body = "5\r\nhello\r\nA ; name=value\r\n, world!!!\r\n0\r\nX-Sum: 7\r\n\r\n";
  client.send(head + body.substr(0, 9));  // the first chunk cut in two
  REQUIRE(abuse::eventually([&] { return upstream.allBytes(0).size() == head.size() + 9; }, 2s));
  CHECK(upstream.received().empty());
  client.send(body.substr(9));
  const HttpResponse response = client.readResponse();
  CHECK(response.body == "done");
  const auto received = upstream.received();
  REQUIRE(received.size() == 1);
  CHECK(received[0].error == "");
  CHECK(received[0].chunked);
  CHECK(received[0].body == "hello, world!!!");
  CHECK(received[0].trailers == "X-Sum: 7\r\n");
  CHECK(received[0].head == head);
  CHECK(received[0].raw == head + body);
  CHECK(upstream.scriptLeft() == 0);
}

TEST_CASE("upstream fixture: two pipelined requests on one connection are answered in order") {
  ScriptedUpstream upstream;
  upstream.script({ScriptedUpstream::ok("first"), ScriptedUpstream::chunked({"sec", "", "ond"})});
  Client client(upstream.port());
  const std::string first = requestHead("POST", "/a", "Content-Length: 3\r\n") + "abc";
  const std::string second = requestHead("GET", "/b");
  client.send(first + second);
  const HttpResponse one = client.readResponse();
  const HttpResponse two = client.readResponse();
  CHECK(one.body == "first");
  CHECK(two.body == "second");
  CHECK(two.header("Transfer-Encoding") == "chunked");
  const auto received = upstream.received();
  REQUIRE(received.size() == 2);
  CHECK(received[0].raw == first);
  CHECK(received[0].body == "abc");
  CHECK(received[1].raw == second);
  CHECK(received[1].body == "");
  CHECK(received[0].connectionIndex == 0);
  CHECK(received[1].connectionIndex == 0);
  CHECK(upstream.allBytes(0) == first + second);
  CHECK(upstream.connectionsAccepted() == 1);
  CHECK_FALSE(client.waitForClose(50ms));  // keep-alive: still open
}

TEST_CASE("upstream fixture: closeAfter and closeDelimited close after the reply") {
  ScriptedUpstream upstream;
  Reply closing = ScriptedUpstream::ok("bye");
  closing.closeAfter = true;
  upstream.script({closing, ScriptedUpstream::closeDelimited("until the end")});
  {
    Client client(upstream.port());
    CHECK(client.request(requestHead("GET", "/1")).body == "bye");
    CHECK(client.waitForClose(1s));
    CHECK(client.pending().empty());
  }
  Client client(upstream.port());
  const HttpResponse response = client.request(requestHead("GET", "/2"));  // read to EOF
  CHECK(response.body == "until the end");
  CHECK_FALSE(response.has("Content-Length"));
  CHECK(client.waitForClose(1s));
  CHECK(upstream.connectionsAccepted() == 2);
}

TEST_CASE("upstream fixture: a request queued behind a closing reply is recorded, not answered") {
  ScriptedUpstream upstream;
  Reply closing = ScriptedUpstream::ok("one");
  closing.closeAfter = true;
  upstream.script({closing, ScriptedUpstream::ok("kept for the next connection")});
  Client client(upstream.port());
  client.send(requestHead("GET", "/1") + requestHead("GET", "/smuggled"));
  CHECK(client.readResponse().body == "one");
  CHECK(client.waitForClose(1s));
  CHECK(client.pending().empty());
  const auto received = upstream.received();
  REQUIRE(received.size() == 2);
  CHECK(received[1].target() == "/smuggled");
  CHECK(upstream.scriptLeft() == 1);
}

TEST_CASE("upstream fixture: delayMillis holds the reply back, within bounds") {
  ScriptedUpstream upstream;
  Reply slow = ScriptedUpstream::ok("late");
  slow.delayMillis = 150;
  upstream.push(slow);
  Client client(upstream.port());
  const auto start = Clock::now();
  client.send(requestHead("GET", "/slow"));
  REQUIRE(upstream.waitForRequests(1, 2s));
  CHECK(client.readResponse().body == "late");
  const double took = millisSince(start);
  CHECK(took >= 140);
  CHECK(took < 2000);
  const auto received = upstream.received();
  REQUIRE(received.size() == 1);
  CHECK(received[0].receivedAt >= start);
}

TEST_CASE("upstream fixture: neverAnswer reads the request and keeps the socket open") {
  ScriptedUpstream upstream;
  Reply silent;
  silent.neverAnswer = true;
  upstream.push(silent);
  Client client(upstream.port());
  client.send(requestHead("GET", "/silence"));
  REQUIRE(upstream.waitForRequests(1, 2s));
  CHECK_FALSE(client.waitForClose(300ms));
  CHECK(client.pending().empty());
  client.send(requestHead("GET", "/still-recorded"));
  REQUIRE(upstream.waitForRequests(2, 2s));
  CHECK(upstream.received()[1].target() == "/still-recorded");
  CHECK(upstream.openConnections() == 1);
  const auto start = Clock::now();
  { ScriptedUpstream other; }  // the destructor is quick even with nothing to do
  CHECK(millisSince(start) < 500);
}

TEST_CASE("upstream fixture: closeWithoutAnswer sends EOF right after the request") {
  ScriptedUpstream upstream;
  Reply vanish;
  vanish.closeWithoutAnswer = true;
  upstream.push(vanish);
  Client client(upstream.port());
  client.send(requestHead("GET", "/eof"));
  CHECK(client.waitForClose(1s));
  CHECK(client.pending().empty());
  CHECK(upstream.received().size() == 1);
}

TEST_CASE("upstream fixture: resetAfter delivers the bytes, then an RST") {
  ScriptedUpstream upstream;
  Reply partial;
  partial.bytes = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part";
  partial.resetAfter = true;
  upstream.push(partial);
  Socket socket = Socket::connect(upstream.port());
  REQUIRE(socket.valid());
  REQUIRE(socket.sendAll(requestHead("GET", "/reset")));
  const Socket::Drained drained = socket.readToEnd(2s);
  CHECK(drained.bytes == partial.bytes);
  CHECK(drained.reset);
  CHECK_FALSE(drained.timedOut);
}

TEST_CASE("upstream fixture: writeInPieces splits the reply into timed pieces") {
  ScriptedUpstream upstream;
  Reply pieces = ScriptedUpstream::ok(std::string(30, 'p'));
  pieces.writeInPieces = 10;
  pieces.pieceDelayMillis = 40;
  upstream.push(pieces);
  Client client(upstream.port());
  const auto start = Clock::now();
  client.send(requestHead("GET", "/pieces"));
  const std::string first = client.recvSome(1000);  // waiting before the first piece arrives
  CHECK(first == pieces.bytes.substr(0, 10));
  const std::string rest = readBytes(client, pieces.bytes.size() - first.size());
  CHECK(first + rest == pieces.bytes);
  // 39 + 30 bytes in pieces of 10: 7 pieces, 6 pauses of 40 ms.
  CHECK(millisSince(start) >= 6 * 40 - 10);
  CHECK_FALSE(client.waitForClose(20ms));
}

TEST_CASE("upstream fixture: the unix socket serves too, and goes with the fixture") {
  std::string path;
  {
    ScriptedUpstream::Options options;
    options.unixSocket = true;
    ScriptedUpstream upstream(options);
    path = upstream.unixPath();
    REQUIRE(!path.empty());
    CHECK(std::filesystem::is_socket(path));
    const Reply reply = ScriptedUpstream::closeDelimited("over unix");
    upstream.push(reply);
    Socket socket = connectUnix(path);
    REQUIRE(socket.valid());
    const std::string request = requestHead("GET", "/unix");
    REQUIRE(socket.sendAll(request));
    const Socket::Drained drained = socket.readToEnd(2s);
    CHECK(drained.bytes == reply.bytes);
    CHECK_FALSE(drained.timedOut);
    REQUIRE(upstream.received().size() == 1);
    CHECK(upstream.received()[0].raw == request);
    CHECK(upstream.received()[0].connectionIndex == 0);
    CHECK(Client(upstream.port()).request(requestHead("GET", "/tcp")).body == "ok");
    CHECK(upstream.connectionsAccepted() == 2);
  }
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK_FALSE(std::filesystem::exists(std::filesystem::path(path).parent_path()));
  CHECK(ScriptedUpstream().unixPath() == "");
}

TEST_CASE("upstream fixture: connection indexes count accepted connections") {
  ScriptedUpstream upstream;
  for (int i = 0; i < 3; ++i) {
    Client client(upstream.port());
    CHECK(client.request(requestHead("GET", "/" + std::to_string(i))).body == "ok");
  }
  const auto received = upstream.received();
  REQUIRE(received.size() == 3);
  for (int i = 0; i < 3; ++i) {
    CAPTURE(i);
    CHECK(received[i].connectionIndex == i);
    CHECK(received[i].target() == "/" + std::to_string(i));
    CHECK(upstream.allBytes(i) == requestHead("GET", "/" + std::to_string(i)));
  }
  CHECK(upstream.connectionsAccepted() == 3);
  CHECK(upstream.allBytes(3) == "");
  CHECK(upstream.waitForOpenConnections(0, 2s));
}

TEST_CASE("upstream fixture: closeIdleAfterMillis and closeAfterEachResponse close connections") {
  SUBCASE("idle connections are closed after the delay") {
    ScriptedUpstream::Options options;
    options.closeIdleAfterMillis = 100;
    ScriptedUpstream upstream(options);
    Client client(upstream.port());
    CHECK(client.request(requestHead("GET", "/1")).body == "ok");
    CHECK(client.request(requestHead("GET", "/2")).body == "ok");  // not idle yet
    const auto start = Clock::now();
    CHECK(client.waitForClose(2s));
    CHECK(millisSince(start) >= 80);
    CHECK(client.pending().empty());
  }
  SUBCASE("every response closes its connection") {
    ScriptedUpstream::Options options;
    options.closeAfterEachResponse = true;
    ScriptedUpstream upstream(options);
    Client client(upstream.port());
    CHECK(client.request(requestHead("GET", "/1")).body == "ok");
    CHECK(client.waitForClose(1s));
  }
  SUBCASE("a changed default reply is used once the script is empty") {
    ScriptedUpstream upstream;
    upstream.setDefaultReply(ScriptedUpstream::ok("other", "X-Default: yes\r\n"));
    Client client(upstream.port());
    const HttpResponse response = client.request(requestHead("GET", "/"));
    CHECK(response.body == "other");
    CHECK(response.header("X-Default") == "yes");
  }
}

TEST_CASE("upstream fixture: after a 101 in tunnelAfter101 mode the connection echoes") {
  ScriptedUpstream::Options options;
  options.tunnelAfter101 = true;
  ScriptedUpstream upstream(options);
  Reply switching;
  switching.bytes =
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n";
  upstream.push(switching);
  Client client(upstream.port());
  // Tunnel bytes sent right behind the request are not framed as a request.
  client.send(requestHead("GET", "/ws", "Connection: Upgrade\r\nUpgrade: echo\r\n") + "early");
  const HttpResponse head = client.readHead();
  CHECK(head.status == 101);
  CHECK(readBytes(client, 5) == "early");
  client.send("ping\r\n\r\n");
  CHECK(readBytes(client, 8) == "ping\r\n\r\n");
  CHECK(upstream.received().size() == 1);
}

TEST_CASE("upstream fixture: continueOnExpect sends 100 Continue once the head is in") {
  ScriptedUpstream::Options options;
  options.continueOnExpect = true;
  ScriptedUpstream upstream(options);
  Client client(upstream.port());
  client.send(requestHead("PUT", "/x", "Expect: 100-continue\r\nContent-Length: 4\r\n"));
  const HttpResponse interim = client.readResponse(false, true);
  CHECK(interim.status == 100);
  CHECK(upstream.received().empty());
  client.send("data");
  const HttpResponse response = client.readResponse();
  CHECK(response.status == 200);
  CHECK(response.interimStatuses.empty());
  REQUIRE(upstream.waitForRequests(1, 2s));
  CHECK(upstream.received()[0].body == "data");
}

TEST_CASE("upstream fixture: broken framing is recorded with an error and not answered") {
  ScriptedUpstream upstream;
  Client client(upstream.port());
  const std::string request =
      "POST / HTTP/1.1\r\nHost: upstream\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nrest";
  client.send(request);
  REQUIRE(upstream.waitForRequests(1, 2s));
  const auto received = upstream.received();
  CHECK(received[0].error.find("chunk-size") != std::string::npos);
  CHECK(received[0].raw == request);
  CHECK_FALSE(client.waitForClose(100ms));
  CHECK(client.pending().empty());

  Client other(upstream.port());
  other.send("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc");
  REQUIRE(upstream.waitForRequests(2, 2s));
  CHECK(upstream.received()[1].error.find("Content-Length") != std::string::npos);
}

}  // namespace
}  // namespace epserve::e2e
