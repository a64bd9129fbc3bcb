// End-to-end tests of what a proxied request looks like upstream: routing, the target, the
// forwarded fields, hop-by-hop removal, re-framed bodies, and the classic smuggling vectors.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "ProxySupport.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;

TEST_CASE("proxy: a request under the prefix goes upstream, the rest is served from the root") {
  ProxiedRoot p;
  p.upstream.push(ScriptedUpstream::ok("from upstream", "X-App: yes\r\n"));
  Client c = p.connect();
  HttpResponse r = c.request(requestHead("GET", "/app/items?id=7"));
  CHECK(r.status == 200);
  CHECK(r.body == "from upstream");
  CHECK(r.header("X-App") == "yes");
  CHECK(r.header("Server").rfind("epserve/", 0) == 0);
  CHECK(r.headerCount("Date") == 1);
  REQUIRE(p.upstream.waitForRequests(1, 2s));
  ScriptedUpstream::Received got = p.upstream.received().at(0);
  CHECK(got.requestLine() == "GET /app/items?id=7 HTTP/1.1");  // raw target, query kept

  // Same connection, not proxied: the root's files, and /application is not under /app/.
  CHECK(c.request(requestHead("GET", "/index.html")).status == 200);
  CHECK(c.request(requestHead("GET", "/application")).status == 404);
  CHECK(p.upstream.received().size() == 1);
}

TEST_CASE("proxy: a URL with a path replaces the prefix, as nginx's proxy_pass with a URI") {
  ProxiedRoot p({}, "/api/", "/v1/");
  Client c = p.connect();
  CHECK(c.request(requestHead("GET", "/api/users/42?full=1")).status == 200);
  CHECK(c.request(requestHead("GET", "/api/")).status == 200);
  REQUIRE(p.upstream.waitForRequests(2, 2s));
  CHECK(p.upstream.received()[0].target() == "/v1/users/42?full=1");
  CHECK(p.upstream.received()[1].target() == "/v1/");
}

TEST_CASE("proxy: matching is on the normalised path, so dot segments cannot reach a route") {
  ProxiedRoot p;
  Client c = p.connect();
  // /app/../index.html is /index.html: the root answers, the upstream sees nothing.
  CHECK(c.request(requestHead("GET", "/app/../index.html")).status == 200);
  CHECK(c.request(requestHead("GET", "/static/../app/x")).status == 200);
  CHECK(c.request(requestHead("GET", "/public/..%2Fapp//y")).status == 200);
  REQUIRE(p.upstream.waitForRequests(2, 2s));
  REQUIRE(p.upstream.received().size() == 2);
  // The upstream gets the path epserve routed by, not one it could resolve elsewhere.
  CHECK(p.upstream.received()[0].target() == "/app/x");
  CHECK(p.upstream.received()[1].target() == "/app/y");
  // Climbing above the root is a 400, whatever the prefix.
  Client d = p.connect();
  CHECK(d.request(requestHead("GET", "/app/../../etc/passwd")).status == 400);
}

TEST_CASE("proxy: HTTP/1.5 goes upstream as HTTP/1.1, and an HTTP/1.5 answer is read as 1.1") {
  ProxiedRoot p;
  // RFC 9110 §2.5, both ways: the client's later minor version and the upstream's.
  ScriptedUpstream::Reply later;
  later.bytes = "HTTP/1.5 200 OK\r\nContent-Length: 5\r\n\r\nlater";
  p.upstream.push(later);
  Client c = p.connect();
  const HttpResponse r = c.request("GET /app/v HTTP/1.5\r\nHost: x\r\n\r\n");
  CHECK(r.status == 200);
  CHECK(r.version == "HTTP/1.1");
  CHECK(r.body == "later");
  CHECK_FALSE(r.connectionHas("close"));  // kept alive, as 1.1 is
  REQUIRE(p.upstream.waitForRequests(1, 2s));
  const ScriptedUpstream::Received got = p.upstream.received().at(0);
  CHECK(got.requestLine() == "GET /app/v HTTP/1.1");
  CHECK(got.header("Via").find("1.1 epserve") != std::string::npos);
}

TEST_CASE("proxy: forwarded fields are set by epserve, not taken from the client") {
  ProxiedRoot p;
  Client c = p.connect();
  std::string head = requestHead(
      "GET", "/app/who",
      "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil\r\n"
      "Forwarded: for=6.6.6.6\r\nVia: 1.0 corp-proxy\r\nUser-Agent: t/1\r\n");
  CHECK(c.request(head).status == 200);
  REQUIRE(p.upstream.waitForRequests(1, 2s));
  ScriptedUpstream::Received got = p.upstream.received()[0];
  CHECK(got.header("Host") == "127.0.0.1");  // as the client sent it
  CHECK(got.header("X-Forwarded-For") == "127.0.0.1");
  CHECK(got.headerCount("X-Forwarded-For") == 1);
  CHECK(got.header("X-Forwarded-Proto") == "http");
  CHECK(got.header("X-Forwarded-Host") == "127.0.0.1");
  CHECK(got.headerCount("Forwarded") == 0);
  CHECK(got.header("Via").find("1.1 epserve") != std::string::npos);
  CHECK(got.header("User-Agent") == "t/1");
}

TEST_CASE("proxy: a trusted peer's X-Forwarded-For is appended to") {
  ProxiedRoot p({"--trusted-proxies", "127.0.0.0/8"});
  Client c = p.connect();
  CHECK(c.request(requestHead("GET", "/app/", "X-Forwarded-For: 203.0.113.9\r\n")).status == 200);
  REQUIRE(p.upstream.waitForRequests(1, 2s));
  CHECK(p.upstream.received()[0].header("X-Forwarded-For") == "203.0.113.9, 127.0.0.1");
}

TEST_CASE("proxy: hop-by-hop fields and underscore names never reach the upstream") {
  ProxiedRoot p;
  Client c = p.connect();
  std::string head = requestHead(
      "GET", "/app/",
      "Connection: keep-alive, X-Private\r\nX-Private: secret\r\nKeep-Alive: timeout=5\r\n"
      "TE: trailers\r\nUpgrade: h2c\r\nProxy-Connection: keep-alive\r\nX_Forwarded_Proto: https\r\n"
      "X-Kept: 1\r\n");
  CHECK(c.request(head).status == 200);
  REQUIRE(p.upstream.waitForRequests(1, 2s));
  ScriptedUpstream::Received got = p.upstream.received()[0];
  for (const char* name : {"X-Private", "Keep-Alive", "TE", "Upgrade", "Proxy-Connection",
                           "X_Forwarded_Proto", "Transfer-Encoding", "Expect"}) {
    CAPTURE(name);
    CHECK(got.headerCount(name) == 0);
  }
  CHECK(got.header("X-Kept") == "1");
  CHECK(got.header("Connection").find("X-Private") == std::string::npos);
}

TEST_CASE("proxy: request bodies arrive whole, with a Content-Length, chunked ones de-chunked") {
  ProxiedRoot p;
  Client c = p.connect();
  CHECK(c.request(requestHead("POST", "/app/form", "Content-Length: 11\r\n") + "hello world")
            .status == 200);
  CHECK(c.request(requestHead("PUT", "/app/up", "Transfer-Encoding: chunked\r\n") +
                  "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
            .status == 200);
  CHECK(c.request(requestHead("POST", "/app/empty", "Content-Length: 0\r\n")).status == 200);
  REQUIRE(p.upstream.waitForRequests(3, 2s));
  auto got = p.upstream.received();
  CHECK(got[0].body == "hello world");
  CHECK(got[0].header("Content-Length") == "11");
  CHECK_FALSE(got[1].chunked);
  CHECK(got[1].body == "hello world");
  CHECK(got[1].header("Content-Length") == "11");
  CHECK(got[1].headerCount("Transfer-Encoding") == 0);
  CHECK(got[2].header("Content-Length") == "0");
}

TEST_CASE("proxy: a body larger than the memory buffer goes through a temporary file intact") {
  ProxiedRoot p({"--max-body-size", "16777216"});
  std::string body = patternBytes(3 * 1024 * 1024 + 17);
  Client c = p.connect();
  c.send(requestHead("POST", "/app/upload", "Content-Length: " + std::to_string(body.size()) +
                                                "\r\n"));
  c.send(body);
  CHECK(c.readResponse().status == 200);
  REQUIRE(p.upstream.waitForRequests(1, 5s));
  CHECK(sameBytes(p.upstream.received()[0].body, body));
}

TEST_CASE("proxy: Expect 100-continue is answered by epserve and not forwarded") {
  ProxiedRoot p;
  Client c = p.connect();
  c.send(requestHead("POST", "/app/e", "Content-Length: 4\r\nExpect: 100-continue\r\n"));
  HttpResponse interim = c.readResponse(false, true);
  CHECK(interim.status == 100);
  c.send("data");
  CHECK(c.readResponse().status == 200);
  REQUIRE(p.upstream.waitForRequests(1, 2s));
  CHECK(p.upstream.received()[0].headerCount("Expect") == 0);
  CHECK(p.upstream.received()[0].body == "data");
}

TEST_CASE("proxy: a body over --max-body-size is 413 before any 100, and never sent upstream") {
  ProxiedRoot p({"--max-body-size", "10"});
  Client c = p.connect();
  HttpResponse r = c.request(
      requestHead("POST", "/app/big", "Content-Length: 11\r\nExpect: 100-continue\r\n"));
  CHECK(r.status == 413);
  CHECK(r.interimStatuses.empty());
  Client d = p.connect();
  d.send(requestHead("POST", "/app/big", "Transfer-Encoding: chunked\r\n") +
         "b\r\nhello world\r\n0\r\n\r\n");
  CHECK(d.readResponse().status == 413);
  CHECK_FALSE(p.upstream.waitForRequests(1, 300ms));
}

// The classic request-smuggling vectors: whatever the client sends, the upstream sees exactly
// the requests epserve answered, each framed by epserve's own Content-Length.
TEST_CASE("proxy: CL.TE, TE.CL and TE.TE smuggling attempts are refused, never forwarded") {
  ProxiedRoot p;
  const char* vectors[] = {
      // CL.TE: a front that trusts Content-Length would forward "0\r\n\r\nG" as the body.
      "POST /app/ HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\nG",
      // TE.CL.
      "POST /app/ HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
      "8\r\nSMUGGLED\r\n0\r\n\r\n",
      // TE.TE: an obfuscated second coding.
      "POST /app/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n"
      "0\r\n\r\n",
      "POST /app/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
      "POST /app/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
      "POST /app/ HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
  };
  for (const char* v : vectors) {
    CAPTURE(v);
    Client c = p.connect();
    c.send(v);
    HttpResponse r = c.readResponse();
    CHECK(r.status >= 400);
    CHECK(c.waitForClose(2s));
  }
  CHECK_FALSE(p.upstream.waitForRequests(1, 300ms));
}

TEST_CASE("proxy: a request hidden in a body stays body: the upstream sees one request each") {
  ProxiedRoot p;
  std::string inner = "0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n";
  char size[16];
  std::snprintf(size, sizeof(size), "%zx", inner.size());
  Client c = p.connect();
  CHECK(c.request(requestHead("POST", "/app/a",
                              "Content-Length: " + std::to_string(inner.size()) + "\r\n") +
                  inner)
            .status == 200);
  CHECK(c.request(requestHead("POST", "/app/b", "Transfer-Encoding: chunked\r\n") + size +
                  "\r\n" + inner + "\r\n0\r\n\r\n")
            .status == 200);
  REQUIRE(p.upstream.waitForRequests(2, 2s));
  CHECK_FALSE(p.upstream.waitForRequests(3, 300ms));
  auto got = p.upstream.received();
  CHECK(got[0].body == inner);
  CHECK(got[1].body == inner);
  CHECK(got[1].header("Content-Length") == std::to_string(inner.size()));
}

TEST_CASE("proxy: a unix socket upstream") {
  ScriptedUpstream::Options o;
  o.unixSocket = true;
  TempRoot files;
  ScriptedUpstream upstream(o);
  ServerProcess server(files.root(), {"--proxy", "/app/=http://unix:" + upstream.unixPath()});
  Client c(server.port());
  upstream.push(ScriptedUpstream::ok("over unix"));
  HttpResponse r = c.request(requestHead("GET", "/app/u"));
  CHECK(r.status == 200);
  CHECK(r.body == "over unix");
}

TEST_CASE("proxy: bad --proxy values are one line and exit 2") {
  const char* bad[] = {"app/=http://127.0.0.1:1", "/app/=ftp://127.0.0.1:1",
                       "/app/=http://unix:relative.sock", "/app/=", "/app/"};
  for (const char* v : bad) {
    CAPTURE(v);
    ExitResult r = ServerProcess::run({"-p", "0", "--proxy", v}, 5s);
    CHECK(r.status == 2);
    CHECK(r.err.find('\n') == r.err.size() - 1);
  }
  ExitResult twice = ServerProcess::run(
      {"-p", "0", "--proxy", "/a/=http://127.0.0.1:1", "--proxy", "/a/=http://127.0.0.1:2"}, 5s);
  CHECK(twice.status == 2);
}

}  // namespace
}  // namespace epserve::e2e
