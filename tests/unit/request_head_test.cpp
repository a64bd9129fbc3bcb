// Unit tests for the upstream request head (proxy/RequestHead): which client fields pass, the
// forwarding identity for trusted and untrusted peers, Host, Via, framing, Upgrade; every head
// is parsed back with the request parser, and generated client heads keep the invariants.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/Request.h"
#include "http/RequestParser.h"
#include "proxy/RequestHead.h"
#include "reactor/SocketAddress.h"

using epserve::http::BodyFraming;
using epserve::http::Header;
using epserve::http::ParseStatus;
using epserve::http::parseRequest;
using epserve::http::Request;
using epserve::proxy::ForwardInfo;
using epserve::proxy::writeUpstreamRequestHead;
using epserve::reactor::SocketAddress;

namespace {

using Body = ForwardInfo::Body;

SocketAddress peerAt(const std::string& ip) {
  SocketAddress a;
  REQUIRE(SocketAddress::parse(ip, 51234, a));
  return a;
}

const SocketAddress kPeer = [] {
  SocketAddress a;
  SocketAddress::parse("192.0.2.7", 51234, a);
  return a;
}();

ForwardInfo info(std::string_view target, const SocketAddress* peer = &kPeer,
                 bool trusted = false) {
  ForwardInfo f;
  f.target = target;
  f.peer = peer;
  f.peerTrusted = trusted;
  f.fallbackHost = "upstream:8000";
  return f;
}

// The head written for `req`, after checking it parses back as one complete request whose
// framing is the one asked for and whose Host is the only one.
std::string writeChecked(const Request& req, const ForwardInfo& f) {
  std::string out;
  writeUpstreamRequestHead(req, f, out);
  Request back;
  const auto r = parseRequest(out, back);
  REQUIRE(r.status == ParseStatus::Complete);
  CHECK(r.consumed == out.size());
  CHECK(back.methodText == req.methodText);
  CHECK(back.target == f.target);
  CHECK(back.versionMinor == 1);
  switch (f.body) {
    case Body::None:
      CHECK(back.framing == BodyFraming::None);
      break;
    case Body::Length:
      CHECK(back.framing == BodyFraming::ContentLength);
      CHECK(back.contentLength == f.contentLength);
      break;
    case Body::Chunked:
      CHECK(back.framing == BodyFraming::Chunked);
      break;
  }
  return out;
}

// Parses a client head (which must stay alive: the Request views into it) and writes its
// upstream head.
std::string forward(std::string_view client, const ForwardInfo& f) {
  Request req;
  const auto r = parseRequest(client, req);
  REQUIRE(r.status == ParseStatus::Complete);
  return writeChecked(req, f);
}

Request handBuilt(std::string_view method, int minor, std::string_view host,
                  const std::vector<Header>& fields) {
  Request req;
  req.methodText = method;
  req.versionMinor = minor;
  req.host = host;
  for (const Header& h : fields) req.headers[req.headerCount++] = h;
  return req;
}

std::size_t count(std::string_view haystack, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = haystack.find(needle); at != std::string_view::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("upstream head: a plain GET") {
  CHECK(forward("GET /x?y=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t/1\r\nAccept: */*\r\n\r\n",
                info("/x?y=1")) ==
        "GET /x?y=1 HTTP/1.1\r\n"
        "Host: example.com\r\n"
        "User-Agent: t/1\r\n"
        "Accept: */*\r\n"
        "X-Forwarded-For: 192.0.2.7\r\n"
        "X-Forwarded-Proto: http\r\n"
        "X-Forwarded-Host: example.com\r\n"
        "Via: 1.1 epserve\r\n"
        "\r\n");
}

TEST_CASE("upstream head: the target and method are the ones given") {
  CHECK(forward("PROPFIND /app/a%20b HTTP/1.1\r\nHost: h\r\n\r\n", info("/v1/a%20b"))
            .starts_with("PROPFIND /v1/a%20b HTTP/1.1\r\nHost: h\r\n"));
  CHECK(forward("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", info("*")).starts_with("OPTIONS * HTTP/1.1\r\n"));
}

TEST_CASE("upstream head: fields keep their order, case and values") {
  CHECK(forward("GET / HTTP/1.1\r\nx-lower: a\r\nHost: h:81\r\nX-UPPER:  B c \r\nCookie: a=1\r\n"
                "Cookie: b=2\r\nX-Empty:\r\nAuthorization: Bearer t\r\nx-lower: again\r\n\r\n",
                info("/")) ==
        "GET / HTTP/1.1\r\n"
        "Host: h:81\r\n"
        "x-lower: a\r\n"
        "X-UPPER: B c\r\n"
        "Cookie: a=1\r\n"
        "Cookie: b=2\r\n"
        "X-Empty: \r\n"
        "Authorization: Bearer t\r\n"
        "x-lower: again\r\n"
        "X-Forwarded-For: 192.0.2.7\r\n"
        "X-Forwarded-Proto: http\r\n"
        "X-Forwarded-Host: h:81\r\n"
        "Via: 1.1 epserve\r\n"
        "\r\n");
}

TEST_CASE("upstream head: hop-by-hop fields and what Connection names never pass") {
  const std::string out = forward(
      "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, X-Foo\r\nKeep-Alive: timeout=5\r\n"
      "X-Foo: 1\r\nX-Bar: 2\r\nTE: trailers\r\nUpgrade: websocket\r\nProxy-Connection: x\r\n"
      "Trailer: X-T\r\nconnection: x-baz\r\nX-Baz: 3\r\n\r\n",
      info("/"));
  CHECK(out ==
        "GET / HTTP/1.1\r\n"
        "Host: h\r\n"
        "X-Bar: 2\r\n"
        "X-Forwarded-For: 192.0.2.7\r\n"
        "X-Forwarded-Proto: http\r\n"
        "X-Forwarded-Host: h\r\n"
        "Via: 1.1 epserve\r\n"
        "\r\n");
}

TEST_CASE("upstream head: Connection: close is the client's hop only") {
  const std::string out =
      forward("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\nAccept: */*\r\n\r\n", info("/"));
  CHECK(count(out, "onnection") == 0);
  CHECK(count(out, "close") == 0);
  CHECK(out.find("Accept: */*\r\n") != std::string::npos);
  const std::string ten = forward("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", info("/"));
  CHECK(count(ten, "onnection") == 0);
}

TEST_CASE("upstream head: names with '_' and Proxy are dropped") {
  CHECK(forward("GET / HTTP/1.1\r\nHost: h\r\nX_Forwarded_Proto: https\r\nscript_name: /admin\r\n"
                "_: x\r\nProxy: http://evil:3128\r\nproxy: x\r\nProxy-Authorization: Basic x\r\n"
                "X-Ok: 1\r\n\r\n",
                info("/")) ==
        "GET / HTTP/1.1\r\n"
        "Host: h\r\n"
        "Proxy-Authorization: Basic x\r\n"
        "X-Ok: 1\r\n"
        "X-Forwarded-For: 192.0.2.7\r\n"
        "X-Forwarded-Proto: http\r\n"
        "X-Forwarded-Host: h\r\n"
        "Via: 1.1 epserve\r\n"
        "\r\n");
}

TEST_CASE("upstream head: an untrusted peer's identity claims are replaced") {
  CHECK(forward("GET / HTTP/1.1\r\nHost: shop.example\r\nX-Forwarded-For: 1.2.3.4\r\n"
                "x-forwarded-for: 5.6.7.8\r\nX-Forwarded-Proto: https\r\n"
                "X-Forwarded-Host: evil.example\r\nForwarded: for=1.2.3.4;proto=https\r\n"
                "X-Real-IP: 1.2.3.4\r\nX-Forwarded-Ssl: on\r\nFront-End-Https: on\r\n"
                "X-Forwarded-Port: 443\r\nX-Forwarded-Scheme: https\r\n"
                "X-Forwarded-Protocol: https\r\nX-Url-Scheme: https\r\nAccept: */*\r\n\r\n",
                info("/")) ==
        "GET / HTTP/1.1\r\n"
        "Host: shop.example\r\n"
        "Accept: */*\r\n"
        "X-Forwarded-For: 192.0.2.7\r\n"
        "X-Forwarded-Proto: http\r\n"
        "X-Forwarded-Host: shop.example\r\n"
        "Via: 1.1 epserve\r\n"
        "\r\n");
}

TEST_CASE("upstream head: a trusted peer's X-Forwarded-For is extended, its other claims kept") {
  const SocketAddress lb = peerAt("10.0.0.2");
  CHECK(forward("GET / HTTP/1.1\r\nHost: shop.example\r\nX-Forwarded-For: 1.2.3.4\r\n"
                "Forwarded: for=1.2.3.4\r\nX-Forwarded-Proto: https\r\nAccept: */*\r\n"
                "X-Forwarded-Host: lb.example\r\nx-forwarded-for: 5.6.7.8, 9.9.9.9\r\n"
                "X-Forwarded-For:\r\nX-Forwarded-Ssl: on\r\nX-Real-IP: 1.2.3.4\r\n\r\n",
                info("/", &lb, true)) ==
        "GET / HTTP/1.1\r\n"
        "Host: shop.example\r\n"
        "Forwarded: for=1.2.3.4\r\n"
        "Accept: */*\r\n"
        "X-Forwarded-Ssl: on\r\n"
        "X-Real-IP: 1.2.3.4\r\n"
        "X-Forwarded-For: 1.2.3.4, 5.6.7.8, 9.9.9.9, 10.0.0.2\r\n"
        "X-Forwarded-Proto: http\r\n"
        "X-Forwarded-Host: shop.example\r\n"
        "Via: 1.1 epserve\r\n"
        "\r\n");
  // Without a list from the client, only the peer.
  CHECK(forward("GET / HTTP/1.1\r\nHost: h\r\n\r\n", info("/", &lb, true))
            .find("X-Forwarded-For: 10.0.0.2\r\n") != std::string::npos);
  // A field the trusted peer made hop-by-hop was for its hop only.
  const std::string hop = forward(
      "GET / HTTP/1.1\r\nHost: h\r\nConnection: X-Forwarded-For, Forwarded\r\n"
      "X-Forwarded-For: 1.1.1.1\r\nForwarded: for=1.1.1.1\r\n\r\n",
      info("/", &lb, true));
  CHECK(hop.find("X-Forwarded-For: 10.0.0.2\r\n") != std::string::npos);
  CHECK(count(hop, "1.1.1.1") == 0);
}

TEST_CASE("upstream head: the peer's address, IPv6 without brackets, mapped IPv4 as IPv4") {
  const SocketAddress v6 = peerAt("2001:db8::7");
  CHECK(forward("GET / HTTP/1.1\r\nHost: h\r\n\r\n", info("/", &v6))
            .find("\r\nX-Forwarded-For: 2001:db8::7\r\n") != std::string::npos);
  const SocketAddress loop6 = peerAt("::1");
  CHECK(forward("GET / HTTP/1.1\r\nHost: h\r\n\r\n", info("/", &loop6))
            .find("\r\nX-Forwarded-For: ::1\r\n") != std::string::npos);
  const SocketAddress mapped = peerAt("::ffff:192.0.2.9");
  CHECK(forward("GET / HTTP/1.1\r\nHost: h\r\n\r\n", info("/", &mapped))
            .find("\r\nX-Forwarded-For: 192.0.2.9\r\n") != std::string::npos);
  const SocketAddress full = peerAt("2001:db8:1111:2222:3333:4444:5555:6666");
  CHECK(forward("GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: a, b\r\n\r\n", info("/", &full, true))
            .find("\r\nX-Forwarded-For: a, b, 2001:db8:1111:2222:3333:4444:5555:6666\r\n") !=
        std::string::npos);
}

TEST_CASE("upstream head: without a peer address there is none to add") {
  const std::string none = forward("GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n",
                                   info("/", nullptr));
  CHECK(count(none, "X-Forwarded-For") == 0);
  const std::string trusted = forward(
      "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n", info("/", nullptr, true));
  CHECK(trusted.find("\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Proto: http\r\n") !=
        std::string::npos);
  const std::string empty = forward("GET / HTTP/1.1\r\nHost: h\r\n\r\n", info("/", nullptr, true));
  CHECK(count(empty, "X-Forwarded-For") == 0);
  SocketAddress unspecified;  // no IP family: nothing printable
  CHECK(count(forward("GET / HTTP/1.1\r\nHost: h\r\n\r\n", info("/", &unspecified)),
              "X-Forwarded-For") == 0);
}

TEST_CASE("upstream head: Via is appended to, with the protocol the client spoke") {
  CHECK(forward("GET / HTTP/1.1\r\nHost: h\r\nVia: 1.0 fred, 1.1 p.example\r\nvia: 1.1 x\r\n"
                "Via:\r\n\r\n",
                info("/"))
            .find("\r\nVia: 1.0 fred, 1.1 p.example, 1.1 x, 1.1 epserve\r\n") !=
        std::string::npos);
  const std::string ten = forward("GET / HTTP/1.0\r\nHost: h\r\nVia: 1.1 cdn\r\n\r\n", info("/"));
  CHECK(ten.find("\r\nVia: 1.1 cdn, 1.0 epserve\r\n") != std::string::npos);
  CHECK(ten.starts_with("GET / HTTP/1.1\r\n"));  // epserve itself speaks 1.1 upstream
  // A Via the client made hop-by-hop is not extended.
  CHECK(forward("GET / HTTP/1.1\r\nHost: h\r\nConnection: via\r\nVia: 1.1 secret\r\n\r\n", info("/"))
            .find("\r\nVia: 1.1 epserve\r\n") != std::string::npos);
}

TEST_CASE("upstream head: Host as the client sent it, else the upstream's") {
  // HTTP/1.0 without Host: the fallback, and no X-Forwarded-Host.
  const std::string noHost = forward("GET / HTTP/1.0\r\nUser-Agent: old\r\n\r\n", info("/"));
  CHECK(noHost ==
        "GET / HTTP/1.1\r\n"
        "Host: upstream:8000\r\n"
        "User-Agent: old\r\n"
        "X-Forwarded-For: 192.0.2.7\r\n"
        "X-Forwarded-Proto: http\r\n"
        "Via: 1.0 epserve\r\n"
        "\r\n");
  // An empty Host is no Host.
  const std::string emptyHost = forward("GET / HTTP/1.1\r\nHost:\r\n\r\n", info("/"));
  CHECK(emptyHost.find("\r\nHost: upstream:8000\r\n") != std::string::npos);
  CHECK(count(emptyHost, "X-Forwarded-Host") == 0);
  // The demo's port mapping: the client's Host, port and all, never the listener's.
  CHECK(forward("GET /polls/ HTTP/1.1\r\nHost: localhost:1234\r\n\r\n", info("/polls/"))
            .find("\r\nHost: localhost:1234\r\n") != std::string::npos);
  // Absolute-form: the target's authority wins over the Host field (RFC 9112 §3.2.2).
  const std::string absolute =
      forward("GET http://example.org:8080/p?q HTTP/1.1\r\nHost: other\r\n\r\n", info("/p?q"));
  CHECK(absolute.find("\r\nHost: example.org:8080\r\n") != std::string::npos);
  CHECK(absolute.find("\r\nX-Forwarded-Host: example.org:8080\r\n") != std::string::npos);
  CHECK(count(absolute, "other") == 0);
  CHECK(count(absolute, "Host:") == 2);  // Host and X-Forwarded-Host
}

TEST_CASE("upstream head: the framing is epserve's, never the client's") {
  CHECK(forward("POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\n",
                [] {
                  ForwardInfo f = info("/u");
                  f.body = Body::Length;
                  f.contentLength = 5;
                  return f;
                }()) ==
        "POST /u HTTP/1.1\r\n"
        "Host: h\r\n"
        "Content-Type: text/plain\r\n"
        "X-Forwarded-For: 192.0.2.7\r\n"
        "X-Forwarded-Proto: http\r\n"
        "X-Forwarded-Host: h\r\n"
        "Via: 1.1 epserve\r\n"
        "Content-Length: 5\r\n"
        "\r\n");

  // A chunked upload, buffered by epserve: sent with its decoded length.
  ForwardInfo buffered = info("/u");
  buffered.body = Body::Length;
  buffered.contentLength = 11;
  const std::string dechunked =
      forward("POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", buffered);
  CHECK(count(dechunked, "Transfer-Encoding") == 0);
  CHECK(dechunked.ends_with("Via: 1.1 epserve\r\nContent-Length: 11\r\n\r\n"));

  // Streamed: chunked again, by epserve.
  ForwardInfo streamed = info("/u");
  streamed.body = Body::Chunked;
  const std::string chunked =
      forward("POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", streamed);
  CHECK(count(chunked, "Transfer-Encoding: chunked\r\n") == 1);
  CHECK(chunked.ends_with("Via: 1.1 epserve\r\nTransfer-Encoding: chunked\r\n\r\n"));

  // Content-Length: 0 is written when asked for, and nothing when there is no body.
  ForwardInfo zero = info("/u");
  zero.body = Body::Length;
  const std::string zeroOut =
      forward("POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", zero);
  CHECK(zeroOut.ends_with("Via: 1.1 epserve\r\nContent-Length: 0\r\n\r\n"));
  CHECK(count(zeroOut, "Content-Length") == 1);
  const std::string noBody =
      forward("POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", info("/u"));
  CHECK(count(noBody, "Content-Length") == 0);

  ForwardInfo huge = info("/u");
  huge.body = Body::Length;
  huge.contentLength = UINT64_MAX;
  std::string out;
  writeUpstreamRequestHead(Request{}, huge, out);
  CHECK(out.find("\r\nContent-Length: 18446744073709551615\r\n") != std::string::npos);
}

TEST_CASE("upstream head: CL.TE and TE.CL client heads never leak their framing") {
  // The parser refuses these (400); a head built around it must still not pass them on.
  const std::vector<Header> clte = {{"Host", "h"}, {"Content-Length", "5"},
                                    {"Transfer-Encoding", "chunked"}, {"X-A", "1"}};
  const std::vector<Header> tecl = {{"Host", "h"}, {"transfer-encoding", "chunked"},
                                    {"CONTENT-LENGTH", "6"}, {"content-length", "7"},
                                    {"Transfer-Encoding", "gzip, chunked"}, {"X-A", "1"}};
  for (const auto* fields : {&clte, &tecl}) {
    for (Body body : {Body::None, Body::Length, Body::Chunked}) {
      CAPTURE(static_cast<int>(body));
      const Request req = handBuilt("POST", 1, "h", *fields);
      ForwardInfo f = info("/");
      f.body = body;
      f.contentLength = 42;
      const std::string out = writeChecked(req, f);
      CHECK(count(out, ": 5\r\n") == 0);
      CHECK(count(out, ": 6\r\n") == 0);
      CHECK(count(out, ": 7\r\n") == 0);
      CHECK(count(out, "gzip") == 0);
      if (body == Body::Length) CHECK(out.find("\r\nContent-Length: 42\r\n") != std::string::npos);
      CHECK(count(out, "Content-Length: ") == (body == Body::Length ? 1U : 0U));
      CHECK(count(out, "Transfer-Encoding: ") == (body == Body::Chunked ? 1U : 0U));
      CHECK(count(out, "ength") == (body == Body::Length ? 1U : 0U));
      CHECK(count(out, "ncoding") == (body == Body::Chunked ? 1U : 0U));
      CHECK(out.find("\r\nX-A: 1\r\n") != std::string::npos);
    }
  }
}

TEST_CASE("upstream head: Expect is answered by epserve, never forwarded") {
  ForwardInfo f = info("/u");
  f.body = Body::Length;
  f.contentLength = 3;
  const std::string out = forward(
      "PUT /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", f);
  CHECK(count(out, "xpect") == 0);
  CHECK(count(out, "100-continue") == 0);
}

TEST_CASE("upstream head: Upgrade passes only for a tunnel request") {
  const std::string_view ws =
      "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  ForwardInfo tunnel = info("/ws");
  tunnel.upgrade = true;
  CHECK(forward(ws, tunnel) ==
        "GET /ws HTTP/1.1\r\n"
        "Host: h\r\n"
        "Upgrade: websocket\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "X-Forwarded-For: 192.0.2.7\r\n"
        "X-Forwarded-Proto: http\r\n"
        "X-Forwarded-Host: h\r\n"
        "Via: 1.1 epserve\r\n"
        "Connection: upgrade\r\n"
        "\r\n");
  const std::string plain = forward(ws, info("/ws"));
  CHECK(count(plain, "pgrade") == 0);
  CHECK(count(plain, "onnection") == 0);
  CHECK(plain.find("Sec-WebSocket-Key") != std::string::npos);
  // Asked to tunnel, but the client sent no Upgrade: no Connection: upgrade either.
  ForwardInfo noField = info("/");
  noField.upgrade = true;
  CHECK(count(forward("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n", noField),
              "pgrade") == 0);
}

TEST_CASE("upstream head: Host, Content-Length and Via named by Connection are still written") {
  ForwardInfo f = info("/");
  f.body = Body::Length;
  f.contentLength = 2;
  const std::string out = forward(
      "POST / HTTP/1.1\r\nHost: h\r\nConnection: Host, Content-Length, Via, X-Forwarded-Proto\r\n"
      "Content-Length: 2\r\n\r\n",
      f);
  CHECK(out.find("\r\nHost: h\r\n") != std::string::npos);
  CHECK(out.find("\r\nContent-Length: 2\r\n") != std::string::npos);
  CHECK(out.find("\r\nVia: 1.1 epserve\r\n") != std::string::npos);
  CHECK(out.find("\r\nX-Forwarded-Proto: http\r\n") != std::string::npos);
}

TEST_CASE("upstream head: appends to what the buffer holds") {
  Request req;
  const std::string_view client = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  REQUIRE(parseRequest(client, req).status == ParseStatus::Complete);
  std::string out = "previous";
  writeUpstreamRequestHead(req, info("/"), out);
  CHECK(out.starts_with("previousGET / HTTP/1.1\r\nHost: h\r\n"));
  CHECK(out.ends_with("\r\n\r\n"));
}

TEST_CASE("upstream head: generated client heads keep every invariant") {
  const std::vector<Header> pool = {
      {"Accept", "*/*"},          {"Connection", "close"},          {"Connection", "X-A, te"},
      {"Keep-Alive", "5"},        {"TE", "trailers"},               {"Upgrade", "websocket"},
      {"X-A", "a"},               {"X-B", "b"},                     {"X_C", "c"},
      {"Content-Length", "12"},   {"Transfer-Encoding", "chunked"}, {"Expect", "100-continue"},
      {"X-Forwarded-For", "6.6.6.6"}, {"X-Forwarded-Proto", "https"}, {"X-Forwarded-Host", "evil"},
      {"Forwarded", "for=6.6.6.6"}, {"Via", "1.1 other"},           {"Proxy", "http://p"},
      {"Proxy-Connection", "keep-alive"}, {"Trailer", "X-T"},       {"Cookie", "s=1"},
      {"Host", "ignored"}};
  std::uint64_t state = 0x2545F4914F6CDD1DULL;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const SocketAddress v6 = peerAt("2001:db8::1");
  for (int i = 0; i < 5000; ++i) {
    std::vector<Header> fields;
    const std::size_t n = next() % 12;
    for (std::size_t k = 0; k < n; ++k) fields.push_back(pool[next() % pool.size()]);
    const Request req = handBuilt((next() & 1) ? "GET" : "POST", static_cast<int>(next() % 2),
                                  (next() % 4 == 0) ? "" : "client.example", fields);
    ForwardInfo f = info("/t", (next() & 1) ? &kPeer : &v6, (next() & 1) != 0);
    f.body = static_cast<Body>(next() % 3);
    f.contentLength = next() % 1000;
    f.upgrade = (next() % 4) == 0;
    const std::string out = writeChecked(req, f);
    CAPTURE(out);

    auto sent = [&fields](std::string_view name, std::string_view value = {}) {
      std::size_t k = 0;
      for (const Header& h : fields) {
        if (h.name == name && (value.empty() || h.value == value)) ++k;
      }
      return k;
    };
    const bool xaNamed = sent("Connection", "X-A, te") > 0;
    CHECK(count(out, "\r\nHost: ") == 1);
    CHECK(count(out, "ignored") == 0);
    CHECK(count(out, "X_C") == 0);
    CHECK(count(out, "Proxy") == 0);
    CHECK(count(out, "Keep-Alive") == 0);
    CHECK(count(out, "\r\nTE:") == 0);
    CHECK(count(out, "Trailer") == 0);
    CHECK(count(out, "Expect") == 0);
    CHECK(count(out, "evil") == 0);
    CHECK(count(out, "https") == 0);
    CHECK(count(out, "X-A: a") == (xaNamed ? 0 : sent("X-A")));
    CHECK(count(out, "X-B: b") == sent("X-B"));
    CHECK(count(out, "Accept: */*") == sent("Accept"));
    CHECK(count(out, "Cookie: s=1") == sent("Cookie"));
    CHECK(count(out, "X-Forwarded-Proto: http\r\n") == 1);
    CHECK(count(out, "X-Forwarded-Host: ") == (req.host.empty() ? 0U : 1U));
    CHECK(count(out, "X-Forwarded-For: ") == 1);
    CHECK(count(out, "6.6.6.6") ==
          (f.peerTrusted ? sent("X-Forwarded-For") + sent("Forwarded") : 0U));
    CHECK(count(out, "\r\nVia: ") == 1);
    CHECK(count(out, "1.1 other") == sent("Via"));
    CHECK(count(out, "Content-Length") == (f.body == Body::Length ? 1U : 0U));
    CHECK(count(out, "Transfer-Encoding") == (f.body == Body::Chunked ? 1U : 0U));
    const std::size_t upgrades = f.upgrade ? sent("Upgrade") : 0;
    CHECK(count(out, "Upgrade: websocket") == upgrades);
    CHECK(count(out, "onnection") == (upgrades > 0 ? 1U : 0U));
    CHECK(count(out, "Connection: upgrade\r\n") == (upgrades > 0 ? 1U : 0U));
    CHECK(out.ends_with("\r\n\r\n"));
    CHECK(count(out, "\r\n\r\n") == 1);
  }
}

TEST_CASE("upstream head: client addresses are formatted as inet_ntop would") {
  for (const char* ip : {"0.0.0.0", "1.2.3.4", "10.0.100.9", "99.100.101.255", "255.255.255.255",
                         "::ffff:192.0.2.9", "::1", "2001:db8::7"}) {
    CAPTURE(ip);
    const SocketAddress a = peerAt(ip);
    char buf[64];
    const std::size_t n = epserve::proxy::formatClientIp(a, buf, sizeof buf);
    std::string want = ip;
    if (want.starts_with("::ffff:")) want = want.substr(7);
    CHECK(std::string(buf, n) == want);
  }
}
