// End-to-end tests of what comes back through the proxy: statuses and fields passed through,
// re-framing for the client, strict parsing of upstream heads (502), timeouts (504), truncation.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "ProxySupport.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;
using Reply = ScriptedUpstream::Reply;

Reply raw(std::string bytes, bool closeAfter = false) {
  Reply r;
  r.bytes = std::move(bytes);
  r.closeAfter = closeAfter;
  return r;
}

TEST_CASE("proxy: any status, its reason and every end-to-end field pass through") {
  ProxiedRoot p;
  p.upstream.push(raw(
      "HTTP/1.1 299 Custom Thing\r\nContent-Length: 3\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
      "Date: Mon, 01 Jan 2001 00:00:00 GMT\r\nServer: gunicorn\r\nX-App: 1\r\n\r\nabc"));
  Client c = p.connect();
  HttpResponse r = c.request(requestHead("GET", "/app/"));
  CHECK(r.status == 299);
  CHECK(r.reason == "Custom Thing");
  CHECK(r.body == "abc");
  CHECK(r.headerCount("Set-Cookie") == 2);
  CHECK(r.header("X-App") == "1");
  CHECK(r.headerCount("Server") == 1);
  CHECK(r.header("Server").rfind("epserve/", 0) == 0);  // epserve's own, as for files
  CHECK(r.headerCount("Date") == 1);
  CHECK(r.header("Date") != "Mon, 01 Jan 2001 00:00:00 GMT");
}

TEST_CASE("proxy: a chunked or close-delimited upstream body goes chunked to HTTP/1.1 clients") {
  ProxiedRoot p;
  p.upstream.push(ScriptedUpstream::chunked({"hello ", "chunked ", "world"}));
  p.upstream.push(ScriptedUpstream::closeDelimited("until close"));
  Client c = p.connect();
  HttpResponse a = c.request(requestHead("GET", "/app/a"));
  CHECK(a.body == "hello chunked world");
  CHECK(a.header("Transfer-Encoding") == "chunked");
  HttpResponse b = c.request(requestHead("GET", "/app/b"));
  CHECK(b.body == "until close");
  CHECK(b.header("Transfer-Encoding") == "chunked");
  CHECK_FALSE(b.connectionHas("close"));  // the client's connection is not the upstream's
  CHECK(c.request(requestHead("GET", "/index.html")).status == 200);
}

TEST_CASE("proxy: an HTTP/1.0 client gets an unknown-length body delimited by the close") {
  ProxiedRoot p;
  p.upstream.push(ScriptedUpstream::chunked({"old ", "client"}));
  Client c = p.connect();
  c.send("GET /app/ HTTP/1.0\r\nHost: x\r\n\r\n");
  std::string all = c.readUntilEof(3s);
  CHECK(all.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(all.find("Transfer-Encoding") == std::string::npos);
  CHECK(all.find("Content-Length") == std::string::npos);
  CHECK(all.substr(all.find("\r\n\r\n") + 4) == "old client");
}

TEST_CASE("proxy: HEAD, 204 and 304 carry no body, HEAD keeps the upstream's length") {
  ProxiedRoot p;
  p.upstream.push(raw("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"));
  p.upstream.push(raw("HTTP/1.1 204 No Content\r\n\r\n"));
  p.upstream.push(raw("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"));
  Client c = p.connect();
  HttpResponse h = c.request(requestHead("HEAD", "/app/h"), true);
  CHECK(h.status == 200);
  CHECK(h.header("Content-Length") == "1234");
  HttpResponse n = c.request(requestHead("GET", "/app/n"));
  CHECK(n.status == 204);
  CHECK_FALSE(n.has("Content-Length"));
  CHECK_FALSE(n.has("Transfer-Encoding"));
  HttpResponse m = c.request(requestHead("GET", "/app/m"));
  CHECK(m.status == 304);
  CHECK(m.header("ETag") == "\"x\"");
  CHECK(c.request(requestHead("GET", "/app/next")).status == 200);  // framing stayed right
}

TEST_CASE("proxy: hop-by-hop response fields are removed") {
  ProxiedRoot p;
  p.upstream.push(raw(
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: X-Up\r\nX-Up: 1\r\n"
      "Keep-Alive: timeout=9\r\nUpgrade: foo\r\nTrailer: X\r\nProxy-Connection: x\r\n\r\nok"));
  Client c = p.connect();
  HttpResponse r = c.request(requestHead("GET", "/app/"));
  CHECK(r.status == 200);
  for (const char* name : {"X-Up", "Keep-Alive", "Upgrade", "Trailer", "Proxy-Connection"}) {
    CAPTURE(name);
    CHECK_FALSE(r.has(name));
  }
}

TEST_CASE("proxy: an upstream head the strict rules reject is a 502, and that connection closes") {
  const char* bad[] = {
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX-Bare: a\rb\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
      "HTTQ/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
      "garbage\r\n\r\n",
  };
  for (const char* b : bad) {
    std::string bytes = b;
    CAPTURE(bytes);
    ProxiedRoot p;
    p.upstream.push(raw(b));
    Client c = p.connect();
    HttpResponse r = c.request(requestHead("GET", "/app/"));
    CHECK(r.status == 502);
    CHECK(c.waitForClose(2s));
    CHECK(p.server.err().find("upstream 127.0.0.1:") != std::string::npos);
  }
}

TEST_CASE("proxy: a response head over 16 KiB is a 502") {
  ProxiedRoot p;
  p.upstream.push(raw("HTTP/1.1 200 OK\r\nX-Big: " + std::string(17000, 'a') +
                      "\r\nContent-Length: 0\r\n\r\n"));
  Client c = p.connect();
  CHECK(c.request(requestHead("GET", "/app/")).status == 502);
}

TEST_CASE("proxy: connect refused is a 502 naming the upstream") {
  TempRoot files;
  // A socket bound but never listening: connects to its port are refused, and no other test
  // running in parallel can take the port meanwhile (a freed ephemeral port could be reused).
  int reserved = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(reserved >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  REQUIRE(::bind(reserved, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  REQUIRE(::getsockname(reserved, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  const std::uint16_t closedPort = ntohs(a.sin_port);
  ServerProcess server(files.root(),
                       {"--proxy", "/app/=http://127.0.0.1:" + std::to_string(closedPort)});
  Client c(server.port());
  HttpResponse r = c.request(requestHead("GET", "/app/"));
  CHECK(r.status == 502);
  CHECK(r.header("Content-Type") == "text/html; charset=utf-8");
  CHECK(server.err().find("127.0.0.1:" + std::to_string(closedPort)) != std::string::npos);
  ::close(reserved);
}

TEST_CASE("proxy: an upstream that does not answer in --proxy-read-timeout is a 504") {
  ProxiedRoot p({"--proxy-read-timeout", "0.5"});
  Reply silent;
  silent.neverAnswer = true;
  p.upstream.push(silent);
  Client c = p.connect();
  auto start = std::chrono::steady_clock::now();
  HttpResponse r = c.request(requestHead("GET", "/app/slow"));
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(r.status == 504);
  CHECK(took >= 400ms);
  CHECK(took < 3s);
}

TEST_CASE("proxy: an upstream that closes before answering is a 502") {
  ProxiedRoot p;
  Reply hangup;
  hangup.closeWithoutAnswer = true;
  p.upstream.push(hangup);
  Client c = p.connect();
  CHECK(c.request(requestHead("POST", "/app/x", "Content-Length: 1\r\n") + "x").status == 502);
}

TEST_CASE("proxy: a body cut short upstream is cut short for the client: no final chunk") {
  ProxiedRoot p;
  p.upstream.push(raw("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..", true));
  p.upstream.push(raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", true));
  {
    Client c = p.connect();
    c.send(requestHead("GET", "/app/a"));
    std::string all = c.readUntilEof(3s);
    CHECK(all.find("Content-Length: 100") != std::string::npos);
    CHECK(all.substr(all.find("\r\n\r\n") + 4) == "only ten..");
  }
  {
    Client c = p.connect();
    c.send(requestHead("GET", "/app/b"));
    std::string all = c.readUntilEof(3s);
    CHECK(all.find("hello") != std::string::npos);
    CHECK(all.find("\r\n0\r\n\r\n") == std::string::npos);
  }
}

TEST_CASE("proxy: bytes after the upstream's body are discarded and the connection not reused") {
  ProxiedRoot p;
  p.upstream.push(raw("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n"
                      "Content-Length: 8\r\n\r\nsmuggled"));
  Client c = p.connect();
  CHECK(c.request(requestHead("GET", "/app/1")).body == "ok");
  HttpResponse second = c.request(requestHead("GET", "/app/2"));
  CHECK(second.body == "ok");  // the default reply, on a new upstream connection
  CHECK(p.upstream.connectionsAccepted() == 2);
}

TEST_CASE("proxy: the access log line ends with the upstream address and its response time") {
  ProxiedRoot p;
  Client c = p.connect();
  CHECK(c.request(requestHead("GET", "/app/logged")).status == 200);
  REQUIRE(p.server.waitForOut("/app/logged", 2s));
  std::string out = p.server.out();
  std::string line = out.substr(out.find("\"GET /app/logged"));
  line = line.substr(0, line.find('\n'));
  CHECK(line.find("\" 200 2 ") != std::string::npos);
  std::string tail = " 127.0.0.1:" + std::to_string(p.upstream.port()) + " 0.";
  CHECK(line.find(tail) != std::string::npos);
}

}  // namespace
}  // namespace epserve::e2e
