// Unit tests for proxy/UwsgiRequest: golden packets byte for byte, and an independent decoder
// (written from the uWSGI docs, not from the encoder) reading back what was encoded.
#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "http/RequestParser.h"
#include "proxy/UwsgiRequest.h"

using epserve::proxy::UwsgiParams;
using epserve::proxy::UwsgiResult;
using epserve::proxy::writeUwsgiRequest;

namespace {

struct Decoded {
  bool ok = false;
  std::size_t datasize = 0;
  std::vector<std::pair<std::string, std::string>> vars;  // in order
  std::string body;                                        // what follows the block
  std::string get(const std::string& key) const {
    for (const auto& [k, v] : vars) {
      if (k == key) return v;
    }
    return "<absent>";
  }
  std::size_t count(const std::string& key) const {
    std::size_t n = 0;
    for (const auto& [k, v] : vars) n += k == key;
    return n;
  }
};

// As uwsgi_parse_vars: modifier1 0, u16 LE datasize, modifier2 0, then {u16 LE klen, key,
// u16 LE vlen, value} filling exactly datasize bytes; a zero-length key is an error.
Decoded decode(const std::string& p) {
  Decoded d;
  auto u16 = [&](std::size_t at) {
    return static_cast<std::size_t>(static_cast<unsigned char>(p[at])) |
           static_cast<std::size_t>(static_cast<unsigned char>(p[at + 1])) << 8;
  };
  if (p.size() < 4 || p[0] != 0 || p[3] != 0) return d;
  d.datasize = u16(1);
  if (p.size() < 4 + d.datasize) return d;
  std::size_t at = 4, end = 4 + d.datasize;
  while (at < end) {
    if (at + 2 > end) return d;
    std::size_t kl = u16(at);
    at += 2;
    if (kl == 0 || at + kl + 2 > end) return d;
    std::string key = p.substr(at, kl);
    at += kl;
    std::size_t vl = u16(at);
    at += 2;
    if (at + vl > end) return d;
    d.vars.emplace_back(key, p.substr(at, vl));
    at += vl;
  }
  d.body = p.substr(end);
  d.ok = true;
  return d;
}

UwsgiResult encode(const std::string& head, std::string& out, std::size_t bufferSize = 4096) {
  epserve::http::Request req;
  REQUIRE(epserve::http::parseRequest(head, req).status == epserve::http::ParseStatus::Complete);
  UwsgiParams p;
  p.pathInfo = "/polls/";
  p.remoteAddr = "127.0.0.1";
  p.remotePort = "40000";
  p.documentRoot = "/srv/www";
  p.bufferSize = bufferSize;
  return writeUwsgiRequest(req, p, out);
}

std::string var(const std::string& k, const std::string& v) {
  std::string s;
  s.push_back(static_cast<char>(k.size() & 0xff));
  s.push_back(static_cast<char>(k.size() >> 8));
  s += k;
  s.push_back(static_cast<char>(v.size() & 0xff));
  s.push_back(static_cast<char>(v.size() >> 8));
  s += v;
  return s;
}

}  // namespace

TEST_CASE("uwsgi packet: a GET, byte for byte") {
  std::string out;
  REQUIRE(encode("GET /polls/?page=2 HTTP/1.1\r\nHost: localhost:1234\r\nAccept: */*\r\n\r\n", out) ==
          UwsgiResult::Ok);
  std::string vars = var("REQUEST_METHOD", "GET") + var("REQUEST_URI", "/polls/?page=2") +
                     var("PATH_INFO", "/polls/") + var("QUERY_STRING", "page=2") +
                     var("SERVER_PROTOCOL", "HTTP/1.1") + var("REQUEST_SCHEME", "http") +
                     var("REMOTE_ADDR", "127.0.0.1") + var("REMOTE_PORT", "40000") +
                     var("SERVER_NAME", "localhost") + var("SERVER_PORT", "1234") +
                     var("DOCUMENT_ROOT", "/srv/www") + var("HTTP_HOST", "localhost:1234") +
                     var("HTTP_ACCEPT", "*/*");
  std::string expect;
  expect.push_back(0);
  expect.push_back(static_cast<char>(vars.size() & 0xff));
  expect.push_back(static_cast<char>(vars.size() >> 8));
  expect.push_back(0);
  expect += vars;
  CHECK(out == expect);
}

TEST_CASE("uwsgi packet: body fields, repeated fields, cookies, no query") {
  std::string out = "kept|";
  REQUIRE(encode("POST /vote HTTP/1.1\r\nHost: example.org\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                 "Content-Length: 7\r\nX-Forwarded-For: 10.0.0.1\r\nAccept: a\r\nCookie: a=1\r\n"
                 "accept: b\r\nCookie: b=2\r\nX-Long-Name-Here: v\r\n\r\n",
                 out) == UwsgiResult::Ok);
  REQUIRE(out.starts_with("kept|"));
  Decoded d = decode(out.substr(5));
  REQUIRE(d.ok);
  CHECK(d.body.empty());
  CHECK(d.get("QUERY_STRING") == "");
  CHECK(d.get("SERVER_NAME") == "example.org");
  CHECK(d.get("SERVER_PORT") == "80");
  CHECK(d.get("CONTENT_TYPE") == "application/x-www-form-urlencoded");
  CHECK(d.get("CONTENT_LENGTH") == "7");
  CHECK(d.count("HTTP_CONTENT_TYPE") == 0);  // RFC 3875 §4.1.18: not twice
  CHECK(d.count("HTTP_CONTENT_LENGTH") == 0);
  CHECK(d.get("HTTP_ACCEPT") == "a, b");
  CHECK(d.count("HTTP_ACCEPT") == 1);
  CHECK(d.get("HTTP_COOKIE") == "a=1; b=2");
  CHECK(d.get("HTTP_X_FORWARDED_FOR") == "10.0.0.1");
  CHECK(d.get("HTTP_X_LONG_NAME_HERE") == "v");
}

TEST_CASE("uwsgi packet: an IPv6 Host, non-ASCII path bytes and a 5 KiB cookie") {
  std::string cookie(5 * 1024, 'c');
  std::string out;
  REQUIRE(encode("GET /caf%C3%A9 HTTP/1.1\r\nHost: [::1]:8080\r\nCookie: s=" + cookie + "\r\n\r\n", out,
                 8192) == UwsgiResult::Ok);
  Decoded d = decode(out);
  REQUIRE(d.ok);
  CHECK(d.get("SERVER_NAME") == "[::1]");
  CHECK(d.get("SERVER_PORT") == "8080");
  CHECK(d.get("REQUEST_URI") == "/caf%C3%A9");
  CHECK(d.get("HTTP_COOKIE") == "s=" + cookie);
  // The same cookie over the default buffer-size of 4096 is refused, not sent to be dropped.
  std::string again = "x";
  CHECK(encode("GET / HTTP/1.1\r\nHost: h\r\nCookie: s=" + cookie + "\r\n\r\n", again) ==
        UwsgiResult::OverBuffer);
  CHECK(again == "x");  // left as it was
}

TEST_CASE("uwsgi packet: more than 65535 bytes of variables cannot be encoded") {
  std::string head = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 10; ++i) head += "X-F" + std::to_string(i) + ": " + std::string(7000, 'v') + "\r\n";
  head += "\r\n";
  epserve::http::Request req;
  epserve::http::ParseLimits limits;
  limits.maxHeaderBytes = 1 << 20;
  REQUIRE(epserve::http::parseRequest(head, req, limits).status == epserve::http::ParseStatus::Complete);
  UwsgiParams p;
  p.bufferSize = 65535;
  std::string out;
  CHECK(writeUwsgiRequest(req, p, out) == UwsgiResult::TooLarge);
  CHECK(out.empty());
}

TEST_CASE("uwsgi packet: an HTTP/1.5 request says SERVER_PROTOCOL HTTP/1.1") {
  // RFC 9110 §2.5: the parser handles a later 1.x minor version as 1.1, and so does uWSGI's side.
  std::string out;
  REQUIRE(encode("GET /polls/ HTTP/1.5\r\nHost: localhost\r\n\r\n", out) == UwsgiResult::Ok);
  Decoded d = decode(out);
  REQUIRE(d.ok);
  CHECK(d.get("SERVER_PROTOCOL") == "HTTP/1.1");
}
