// Unit tests for the HTTP/1.x request-head parser: tables of valid and invalid heads, each fed
// whole, as every prefix and in random splits, always from exact-size buffers for ASan.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/Request.h"
#include "http/RequestParser.h"

using namespace std::literals;
using epserve::http::BodyFraming;
using epserve::http::Method;
using epserve::http::ParseLimits;
using epserve::http::ParseResult;
using epserve::http::ParseStatus;
using epserve::http::Request;
using epserve::http::Status;
using epserve::http::parseRequest;

namespace {

// The observable result; consumed only matters for Complete and error only for Error.
struct Outcome {
  ParseStatus status = ParseStatus::Incomplete;
  std::size_t consumed = 0;
  Status error = Status::BadRequest;
  std::string_view reason;  // Error: why; the feedings below check it never changes either
  bool operator==(const Outcome& o) const {
    return status == o.status && consumed == o.consumed && error == o.error;
  }
};

std::string describe(const Outcome& o) {
  switch (o.status) {
    case ParseStatus::Complete: return "Complete(" + std::to_string(o.consumed) + ")";
    case ParseStatus::Incomplete: return "Incomplete";
    case ParseStatus::Error: return "Error(" + std::to_string(code(o.error)) + ")";
  }
  return "?";
}

Outcome toOutcome(const ParseResult& r) {
  Outcome o;
  o.status = r.status;
  if (r.status == ParseStatus::Complete) o.consumed = r.consumed;
  if (r.status == ParseStatus::Error) {
    o.error = r.error;
    o.reason = r.reason;
  }
  return o;
}

// Parses a copy of `bytes` in a buffer of exactly its size, so a read past the end is caught.
Outcome parseCopy(std::string_view bytes, const ParseLimits& limits = {}) {
  std::vector<char> buf(bytes.begin(), bytes.end());
  Request req;
  return toOutcome(parseRequest(std::string_view(buf.data(), buf.size()), req, limits));
}

Outcome errorOutcome(Status s) { return {ParseStatus::Error, 0, s, {}}; }
Outcome complete(std::size_t consumed) {
  return {ParseStatus::Complete, consumed, Status::BadRequest, {}};
}

// The contract of a stateless parser fed a growing buffer: every prefix gives Incomplete until
// the first prefix that gives the final answer, and every longer prefix gives that same answer.
// `whole` is the answer for all of `text`; a Complete may only appear once the head is there.
void checkPrefixes(std::string_view text, const Outcome& whole, const ParseLimits& limits) {
  bool decided = false;
  for (std::size_t len = 0; len <= text.size(); ++len) {
    const Outcome o = parseCopy(text.substr(0, len), limits);
    if (o.status == ParseStatus::Incomplete && !decided) continue;
    INFO("prefix length ", len, " gave ", describe(o), ", whole gave ", describe(whole));
    REQUIRE(o == whole);
    REQUIRE(o.reason == whole.reason);
    decided = true;
  }
}

// Feeds `text` as a connection would receive it: reads of random size, a parse after each.
void checkRandomSplits(std::string_view text, const Outcome& whole, const ParseLimits& limits,
                       std::uint32_t seed) {
  std::mt19937 rng(seed);
  for (int round = 0; round < 8; ++round) {
    std::size_t have = 0;
    Outcome o;
    while (have < text.size()) {
      const std::size_t maxStep = std::min<std::size_t>(text.size() - have, 24);
      have += std::uniform_int_distribution<std::size_t>(1, maxStep)(rng);
      o = parseCopy(text.substr(0, have), limits);
      if (o.status != ParseStatus::Incomplete) break;
    }
    INFO("random split round ", round, " stopped at ", have, " with ", describe(o));
    REQUIRE(o == whole);
    REQUIRE(o.reason == whole.reason);
  }
}

void checkAllFeedings(std::string_view text, const Outcome& whole, const ParseLimits& limits = {}) {
  checkPrefixes(text, whole, limits);
  checkRandomSplits(text, whole, limits, static_cast<std::uint32_t>(text.size()) * 2654435761u);
}

using Fields = std::vector<std::pair<std::string_view, std::string_view>>;

struct ValidCase {
  const char* name;
  std::string_view text;
  Method method = Method::Get;
  std::string_view methodText = "GET";
  std::string_view target = "/";
  std::string_view path = "/";
  std::string_view host = "h";
  int versionMinor = 1;
  bool keepAlive = true;
  BodyFraming framing = BodyFraming::None;
  std::uint64_t contentLength = 0;
  bool expectContinue = false;
  bool unsupportedExpect = false;
  Fields headers = {{"Host", "h"}};
  ParseLimits limits = {};
};

void checkValid(const ValidCase& c) {
  INFO("case: ", c.name);
  std::vector<char> buf(c.text.begin(), c.text.end());
  Request req;
  const ParseResult r = parseRequest(std::string_view(buf.data(), buf.size()), req, c.limits);
  REQUIRE(describe(toOutcome(r)) == describe(complete(c.text.size())));
  CHECK(req.method == c.method);
  CHECK(req.methodText == c.methodText);
  CHECK(req.target == c.target);
  CHECK(req.path == c.path);
  CHECK(req.host == c.host);
  CHECK(req.versionMinor == c.versionMinor);
  CHECK(req.keepAlive == c.keepAlive);
  CHECK(req.framing == c.framing);
  CHECK(req.contentLength == c.contentLength);
  CHECK(req.expectContinue == c.expectContinue);
  CHECK(req.unsupportedExpect == c.unsupportedExpect);
  REQUIRE(req.headerCount == c.headers.size());
  for (std::size_t i = 0; i < c.headers.size(); ++i) {
    INFO("header ", i);
    CHECK(req.headers[i].name == c.headers[i].first);
    CHECK(req.headers[i].value == c.headers[i].second);
  }
  checkAllFeedings(c.text, toOutcome(r), c.limits);
}

struct InvalidCase {
  const char* name;
  std::string_view text;
  Status expected;
  ParseLimits limits = {};
};

void checkInvalid(const InvalidCase& c) {
  INFO("case: ", c.name);
  const Outcome whole = parseCopy(c.text, c.limits);
  REQUIRE(describe(whole) == describe(errorOutcome(c.expected)));
  checkAllFeedings(c.text, whole, c.limits);
}

std::string repeat(char c, std::size_t n) { return std::string(n, c); }

}  // namespace

TEST_CASE("request parser: valid request lines and targets") {
  const ValidCase cases[] = {
      {.name = "minimal", .text = "GET / HTTP/1.1\r\nHost: h\r\n\r\n"},
      {.name = "bare LF line ends", .text = "GET / HTTP/1.1\nHost: h\n\n"},
      {.name = "mixed line ends", .text = "GET / HTTP/1.1\nHost: h\r\n\n"},
      {.name = "leading CRLFs ignored", .text = "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"},
      {.name = "four leading empty lines", .text = "\n\r\n\n\r\nGET / HTTP/1.1\nHost: h\n\n"},
      {.name = "HEAD", .text = "HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n", .method = Method::Head,
       .methodText = "HEAD", .target = "/x", .path = "/x"},
      {.name = "POST", .text = "POST / HTTP/1.1\r\nHost: h\r\n\r\n", .method = Method::Post,
       .methodText = "POST"},
      {.name = "PUT", .text = "PUT / HTTP/1.1\r\nHost: h\r\n\r\n", .method = Method::Put,
       .methodText = "PUT"},
      {.name = "DELETE", .text = "DELETE / HTTP/1.1\r\nHost: h\r\n\r\n", .method = Method::Delete,
       .methodText = "DELETE"},
      {.name = "PATCH", .text = "PATCH / HTTP/1.1\r\nHost: h\r\n\r\n", .method = Method::Patch,
       .methodText = "PATCH"},
      {.name = "OPTIONS origin", .text = "OPTIONS /a HTTP/1.1\r\nHost: h\r\n\r\n",
       .method = Method::Options, .methodText = "OPTIONS", .target = "/a", .path = "/a"},
      {.name = "OPTIONS asterisk", .text = "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
       .method = Method::Options, .methodText = "OPTIONS", .target = "*", .path = "*"},
      {.name = "method is case-sensitive", .text = "get / HTTP/1.1\r\nHost: h\r\n\r\n",
       .method = Method::Other, .methodText = "get"},
      {.name = "unknown token method", .text = "M-SEARCH! / HTTP/1.1\r\nHost: h\r\n\r\n",
       .method = Method::Other, .methodText = "M-SEARCH!"},
      {.name = "GETX is not GET", .text = "GETX / HTTP/1.1\r\nHost: h\r\n\r\n",
       .method = Method::Other, .methodText = "GETX"},
      {.name = "query and escapes kept", .text = "GET /a%20b/c?x=1&y=%zz HTTP/1.1\r\nHost: h\r\n\r\n",
       .target = "/a%20b/c?x=1&y=%zz", .path = "/a%20b/c?x=1&y=%zz"},
      {.name = "every allowed target byte",
       .text = "GET /azAZ09-._~!$&'()*+,;=:@/?%[] HTTP/1.1\r\nHost: h\r\n\r\n",
       .target = "/azAZ09-._~!$&'()*+,;=:@/?%[]", .path = "/azAZ09-._~!$&'()*+,;=:@/?%[]"},
      {.name = "absolute-form", .text = "GET http://example.com:8080/a?b HTTP/1.1\r\nHost: h\r\n\r\n",
       .target = "http://example.com:8080/a?b", .path = "/a?b", .host = "example.com:8080"},
      {.name = "absolute-form https, scheme case, empty path",
       .text = "GET HTTPS://Example.COM HTTP/1.1\r\nHost: other\r\n\r\n",
       .target = "HTTPS://Example.COM", .host = "Example.COM", .headers = {{"Host", "other"}}},
      {.name = "absolute-form query only", .text = "GET http://e.x?q=1 HTTP/1.1\r\nHost: h\r\n\r\n",
       .target = "http://e.x?q=1", .host = "e.x"},
      {.name = "absolute-form IPv6", .text = "GET http://[::1]:80/x HTTP/1.1\r\nHost: h\r\n\r\n",
       .target = "http://[::1]:80/x", .path = "/x", .host = "[::1]:80"},
      {.name = "absolute-form ignores a bad Host value",
       .text = "GET http://a.b/ HTTP/1.1\r\nHost: not valid\r\n\r\n", .target = "http://a.b/",
       .host = "a.b", .headers = {{"Host", "not valid"}}},
      {.name = "absolute-form HTTP/1.0 without Host",
       .text = "GET http://a.b/c HTTP/1.0\r\n\r\n", .target = "http://a.b/c", .path = "/c",
       .host = "a.b", .versionMinor = 0, .keepAlive = false, .headers = {}},
      {.name = "HTTP/1.0", .text = "GET / HTTP/1.0\r\nHost: h\r\n\r\n", .versionMinor = 0,
       .keepAlive = false},
      {.name = "HTTP/1.0 without Host", .text = "GET / HTTP/1.0\r\n\r\n", .host = "",
       .versionMinor = 0, .keepAlive = false, .headers = {}},
      // RFC 9110 §2.5: a later minor version of HTTP/1 is handled as the highest one served.
      {.name = "HTTP/1.2 as 1.1", .text = "GET / HTTP/1.2\r\nHost: h\r\n\r\n"},
      {.name = "HTTP/1.5 as 1.1, bare LF", .text = "GET / HTTP/1.5\nHost: h\n\n"},
      {.name = "HTTP/1.9 as 1.1, chunked allowed",
       .text = "POST / HTTP/1.9\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
       .method = Method::Post, .methodText = "POST", .framing = BodyFraming::Chunked,
       .headers = {{"Host", "h"}, {"Transfer-Encoding", "chunked"}}},
      {.name = "request line exactly at the limit", .text = "GET /abcdef HTTP/1.1\r\nHost: h\r\n\r\n",
       .target = "/abcdef", .path = "/abcdef", .limits = {.maxRequestLine = 20}},
      {.name = "request line at the limit, bare LF",
       .text = "GET /abcdef HTTP/1.1\nHost: h\n\n", .target = "/abcdef", .path = "/abcdef",
       .limits = {.maxRequestLine = 20}},
  };
  for (const ValidCase& c : cases) checkValid(c);
}

TEST_CASE("request parser: valid header fields and their semantics") {
  const ValidCase cases[] = {
      {.name = "value OWS trimmed, inner kept",
       .text = "GET / HTTP/1.1\r\nHost: h\r\nX-A: \t a \t b \t\r\nY:v\r\n\r\n",
       .headers = {{"Host", "h"}, {"X-A", "a \t b"}, {"Y", "v"}}},
      {.name = "empty value", .text = "GET / HTTP/1.1\r\nHost: h\r\nX:\r\nY: \t \r\n\r\n",
       .headers = {{"Host", "h"}, {"X", ""}, {"Y", ""}}},
      {.name = "obs-text in value", .text = "GET / HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9 \xff\r\n\r\n",
       .headers = {{"Host", "h"}, {"X", "caf\xc3\xa9 \xff"}}},
      {.name = "token chars in name",
       .text = "GET / HTTP/1.1\r\nHost: h\r\n!#$%&'*+-.^_`|~09aZ: v\r\n\r\n",
       .headers = {{"Host", "h"}, {"!#$%&'*+-.^_`|~09aZ", "v"}}},
      {.name = "long value (word-at-a-time path)",
       .text = "GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\tGecko\r\n\r\n",
       .headers = {{"Host", "h"}, {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64)\tGecko"}}},
      {.name = "host case-insensitive name", .text = "GET / HTTP/1.1\r\nhOST: Example.com:80\r\n\r\n",
       .host = "Example.com:80", .headers = {{"hOST", "Example.com:80"}}},
      {.name = "empty Host", .text = "GET / HTTP/1.1\r\nHost:\r\n\r\n", .host = "",
       .headers = {{"Host", ""}}},
      {.name = "Host IPv4 and port", .text = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
       .host = "127.0.0.1:8080", .headers = {{"Host", "127.0.0.1:8080"}}},
      {.name = "Host IPv6", .text = "GET / HTTP/1.1\r\nHost: [fe80::1:2.3.4.5]\r\n\r\n",
       .host = "[fe80::1:2.3.4.5]", .headers = {{"Host", "[fe80::1:2.3.4.5]"}}},
      {.name = "Host reg-name chars and escape", .text = "GET / HTTP/1.1\r\nHost: a_b-c~%41!$:\r\n\r\n",
       .host = "a_b-c~%41!$:", .headers = {{"Host", "a_b-c~%41!$:"}}},
      {.name = "Connection close", .text = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
       .keepAlive = false, .headers = {{"Host", "h"}, {"Connection", "close"}}},
      {.name = "Connection list, case-insensitive",
       .text = "GET / HTTP/1.1\r\nHost: h\r\nConnection: Keep-Alive ,CLOSE\r\n\r\n", .keepAlive = false,
       .headers = {{"Host", "h"}, {"Connection", "Keep-Alive ,CLOSE"}}},
      {.name = "Connection close in a second field",
       .text = "GET / HTTP/1.1\r\nHost: h\r\nconnection: upgrade\r\nConnection: x, close\r\n\r\n",
       .keepAlive = false,
       .headers = {{"Host", "h"}, {"connection", "upgrade"}, {"Connection", "x, close"}}},
      {.name = "Connection closed is not close",
       .text = "GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n",
       .headers = {{"Host", "h"}, {"Connection", "closed"}}},
      {.name = "HTTP/1.0 keep-alive", .text = "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
       .host = "", .versionMinor = 0, .headers = {{"Connection", "keep-alive"}}},
      {.name = "HTTP/1.0 keep-alive and close",
       .text = "GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", .host = "",
       .versionMinor = 0, .keepAlive = false,
       .headers = {{"Connection", "keep-alive"}, {"Connection", "close"}}},
      {.name = "Content-Length", .text = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 42\r\n\r\n",
       .method = Method::Post, .methodText = "POST", .framing = BodyFraming::ContentLength,
       .contentLength = 42, .headers = {{"Host", "h"}, {"Content-Length", "42"}}},
      {.name = "Content-Length zero", .text = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
       .method = Method::Post, .methodText = "POST", .framing = BodyFraming::ContentLength,
       .headers = {{"Host", "h"}, {"Content-Length", "0"}}},
      {.name = "Content-Length max uint64",
       .text = "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551615\r\n\r\n",
       .method = Method::Put, .methodText = "PUT", .framing = BodyFraming::ContentLength,
       .contentLength = UINT64_MAX,
       .headers = {{"Host", "h"}, {"Content-Length", "18446744073709551615"}}},
      {.name = "Content-Length list of one value, leading zeros",
       .text = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 7, 007\r\ncontent-length: 7\r\n\r\n",
       .method = Method::Post, .methodText = "POST", .framing = BodyFraming::ContentLength,
       .contentLength = 7,
       .headers = {{"Host", "h"}, {"Content-Length", "7, 007"}, {"content-length", "7"}}},
      {.name = "chunked", .text = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
       .method = Method::Post, .methodText = "POST", .framing = BodyFraming::Chunked,
       .headers = {{"Host", "h"}, {"Transfer-Encoding", "chunked"}}},
      {.name = "Chunked, empty list elements",
       .text = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , CHUNKED ,\r\n\r\n",
       .method = Method::Post, .methodText = "POST", .framing = BodyFraming::Chunked,
       .headers = {{"Host", "h"}, {"Transfer-Encoding", ", CHUNKED ,"}}},
      {.name = "Expect 100-continue",
       .text = "PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n",
       .method = Method::Put, .methodText = "PUT", .framing = BodyFraming::ContentLength,
       .contentLength = 1, .expectContinue = true,
       .headers = {{"Host", "h"}, {"Expect", "100-Continue"}, {"Content-Length", "1"}}},
      {.name = "Expect other", .text = "GET / HTTP/1.1\r\nHost: h\r\nExpect: foo\r\n\r\n",
       .unsupportedExpect = true, .headers = {{"Host", "h"}, {"Expect", "foo"}}},
      {.name = "Expect ignored in HTTP/1.0",
       .text = "GET / HTTP/1.0\r\nExpect: 100-continue\r\nExpect: foo\r\n\r\n", .host = "",
       .versionMinor = 0, .keepAlive = false,
       .headers = {{"Expect", "100-continue"}, {"Expect", "foo"}}},
      {.name = "header section exactly at the limit",
       .text = "GET / HTTP/1.1\r\nHost: h\r\nX: 0123456789abcd\r\n\r\n",
       .headers = {{"Host", "h"}, {"X", "0123456789abcd"}}, .limits = {.maxHeaderBytes = 30}},
      {.name = "header count exactly at the limit",
       .text = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n",
       .headers = {{"Host", "h"}, {"A", "1"}, {"B", "2"}}, .limits = {.maxHeaderCount = 3}},
  };
  for (const ValidCase& c : cases) checkValid(c);
}

TEST_CASE("request parser: malformed request lines") {
  const InvalidCase cases[] = {
      {"five leading empty lines", "\r\n\n\r\n\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
       Status::BadRequest},
      {"bare CR before request line", "\rGET / HTTP/1.1\r\nHost: h\r\n\r\n", Status::BadRequest},
      {"leading space", " GET / HTTP/1.1\r\nHost: h\r\n\r\n", Status::BadRequest},
      {"TLS bytes", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"sv, Status::BadRequest},
      {"method with '@'", "G@T / HTTP/1.1\r\nHost: h\r\n\r\n", Status::BadRequest},
      {"tab after method", "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", Status::BadRequest},
      {"two spaces after method", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", Status::BadRequest},
      {"two spaces before version", "GET /  HTTP/1.1\r\nHost: h\r\n\r\n", Status::BadRequest},
      {"space after version", "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", Status::BadRequest},
      {"method only", "GET\r\nHost: h\r\n\r\n", Status::BadRequest},
      {"missing version", "GET /\r\nHost: h\r\n\r\n", Status::BadRequest},
      {"empty version", "GET / \r\nHost: h\r\n\r\n", Status::BadRequest},
      {"bare CR after version", "GET / HTTP/1.1\rHost: h\r\n\r\n", Status::BadRequest},
      {"bare CR in target", "GET /a\rb HTTP/1.1\r\nHost: h\r\n\r\n", Status::BadRequest},
      {"lowercase version", "GET / http/1.1\r\nHost: h\r\n\r\n", Status::BadRequest},
      {"version 1.10", "GET / HTTP/1.10\r\nHost: h\r\n\r\n", Status::BadRequest},
      {"version 11", "GET / HTTP/11\r\nHost: h\r\n\r\n", Status::BadRequest},
      {"version 2", "GET / HTTP/2\r\nHost: h\r\n\r\n", Status::BadRequest},
      {"version 2.0 plus junk", "GET / HTTP/2.0x\r\nHost: h\r\n\r\n", Status::BadRequest},
      {"version letters", "GET / HTTP/a.b\r\nHost: h\r\n\r\n", Status::BadRequest},
      {"HTTPS version", "GET / HTTPS/1.1\r\nHost: h\r\n\r\n", Status::BadRequest},
      {"HTTP/2.0", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", Status::VersionNotSupported},
      {"HTTP/1.5 without Host, as 1.1", "GET / HTTP/1.5\r\n\r\n", Status::BadRequest},
      {"HTTP/0.9", "GET / HTTP/0.9\r\nHost: h\r\n\r\n", Status::VersionNotSupported},
      {"HTTP/3.0 bare LF", "GET / HTTP/3.0\nHost: h\n\n", Status::VersionNotSupported},
      {"505 before the headers arrive", "GET / HTTP/2.0\r\n", Status::VersionNotSupported},
      {"asterisk with GET", "GET * HTTP/1.1\r\nHost: h\r\n\r\n", Status::BadRequest},
      {"asterisk plus more", "OPTIONS *a HTTP/1.1\r\nHost: h\r\n\r\n", Status::BadRequest},
      {"authority-form", "CONNECT example.com:443 HTTP/1.1\r\nHost: h\r\n\r\n",
       Status::BadRequest},
      {"relative path", "GET a/b HTTP/1.1\r\nHost: h\r\n\r\n", Status::BadRequest},
      {"dot path", "GET ./a HTTP/1.1\r\nHost: h\r\n\r\n", Status::BadRequest},
      {"ftp scheme", "GET ftp://a/b HTTP/1.1\r\nHost: h\r\n\r\n", Status::BadRequest},
      {"http: without //", "GET http:/a HTTP/1.1\r\nHost: h\r\n\r\n", Status::BadRequest},
      {"absolute-form empty host", "GET http:///a HTTP/1.1\r\nHost: h\r\n\r\n",
       Status::BadRequest},
      {"absolute-form port only", "GET http://:80/a HTTP/1.1\r\nHost: h\r\n\r\n",
       Status::BadRequest},
      {"absolute-form userinfo", "GET http://u@a/ HTTP/1.1\r\nHost: h\r\n\r\n",
       Status::BadRequest},
      {"absolute-form bad port", "GET http://a:8x/ HTTP/1.1\r\nHost: h\r\n\r\n",
       Status::BadRequest},
      {"absolute-form unclosed IPv6", "GET http://[::1/ HTTP/1.1\r\nHost: h\r\n\r\n",
       Status::BadRequest},
      {"absolute-form without Host in 1.1", "GET http://a/ HTTP/1.1\r\n\r\n", Status::BadRequest},
      {"request line over the limit", "GET /abcdefg HTTP/1.1\r\nHost: h\r\n\r\n",
       Status::UriTooLong, {.maxRequestLine = 20}},
      {"request line over the limit by its version",
       "GET /abcdef HTTP/1.11\r\nHost: h\r\n\r\n", Status::UriTooLong, {.maxRequestLine = 20}},
      {"long target, no line end yet", "GET /abcdefghijklmnopqrstuvwxyz", Status::UriTooLong,
       {.maxRequestLine = 20}},
      {"long method, no line end yet", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", Status::UriTooLong,
       {.maxRequestLine = 20}},
      {"bare CR right at the limit", "GET /abcdef HTTP/1.1\rX", Status::BadRequest,
       {.maxRequestLine = 20}},
  };
  for (const InvalidCase& c : cases) checkInvalid(c);
}

TEST_CASE("request parser: malformed header sections") {
  const InvalidCase cases[] = {
      {"space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", Status::BadRequest},
      {"tab before colon", "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", Status::BadRequest},
      {"empty name", "GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", Status::BadRequest},
      {"non-token name", "GET / HTTP/1.1\r\nHost: h\r\nX(y): v\r\n\r\n", Status::BadRequest},
      {"no colon", "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", Status::BadRequest},
      {"obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", Status::BadRequest},
      {"obs-fold with tab", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", Status::BadRequest},
      {"whitespace before the first field", "GET / HTTP/1.1\r\n Host: h\r\n\r\n",
       Status::BadRequest},
      {"NUL in value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n"sv, Status::BadRequest},
      {"DEL in value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n", Status::BadRequest},
      {"bare CR in value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", Status::BadRequest},
      {"bare CR ending the head", "GET / HTTP/1.1\r\nHost: h\r\n\rX", Status::BadRequest},
      {"bad later line in an incomplete head", "GET / HTTP/1.1\r\nHost: h\r\nBad Name: v\r\n",
       Status::BadRequest},
      {"header section over the limit", "GET / HTTP/1.1\r\nHost: h\r\nX: 0123456789abcde\r\n\r\n",
       Status::HeaderFieldsTooLarge, {.maxHeaderBytes = 30}},
      {"header section over the limit by its final CR",
       "GET / HTTP/1.1\r\nHost: h\r\nX: 0123456789abcdef\r\n\r\n", Status::HeaderFieldsTooLarge,
       {.maxHeaderBytes = 30}},
      {"incomplete header section over the limit",
       "GET / HTTP/1.1\r\nHost: h\r\nX: 0123456789abcdefghijklmnopqrstuvwxyz",
       Status::HeaderFieldsTooLarge, {.maxHeaderBytes = 30}},
      {"too many fields", "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
       Status::HeaderFieldsTooLarge, {.maxHeaderCount = 3}},
  };
  for (const InvalidCase& c : cases) checkInvalid(c);
}

TEST_CASE("request parser: header semantics errors") {
  const InvalidCase cases[] = {
      {"HTTP/1.1 without Host", "GET / HTTP/1.1\r\nX: h\r\n\r\n", Status::BadRequest},
      {"two Hosts", "GET / HTTP/1.1\r\nHost: h\r\nhost: h\r\n\r\n", Status::BadRequest},
      {"two Hosts in HTTP/1.0", "GET / HTTP/1.0\r\nHost: h\r\nHost: i\r\n\r\n",
       Status::BadRequest},
      {"Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", Status::BadRequest},
      {"Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", Status::BadRequest},
      {"Host with path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", Status::BadRequest},
      {"Host bad port", "GET / HTTP/1.1\r\nHost: a:8o\r\n\r\n", Status::BadRequest},
      {"Host two ports", "GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", Status::BadRequest},
      {"Host bad escape", "GET / HTTP/1.1\r\nHost: a%4\r\n\r\n", Status::BadRequest},
      {"Host unclosed IPv6", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", Status::BadRequest},
      {"Host empty IPv6", "GET / HTTP/1.1\r\nHost: []\r\n\r\n", Status::BadRequest},
      {"Host IPv6 junk", "GET / HTTP/1.1\r\nHost: [::g]\r\n\r\n", Status::BadRequest},
      {"Host junk after IPv6", "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", Status::BadRequest},
      {"HTTP/1.0 bad Host", "GET / HTTP/1.0\r\nHost: a\"b\r\n\r\n", Status::BadRequest},
      {"Content-Length sign", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n",
       Status::BadRequest},
      {"Content-Length negative", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
       Status::BadRequest},
      {"Content-Length hex", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n",
       Status::BadRequest},
      {"Content-Length inner space", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\n",
       Status::BadRequest},
      {"Content-Length empty", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n",
       Status::BadRequest},
      {"Content-Length empty element", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5,\r\n\r\n",
       Status::BadRequest},
      {"Content-Length overflow",
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551616\r\n\r\n",
       Status::BadRequest},
      {"Content-Length huge",
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n",
       Status::BadRequest},
      {"Content-Length list mismatch", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\n",
       Status::BadRequest},
      {"Content-Length fields mismatch",
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 50\r\n\r\n",
       Status::BadRequest},
      {"Transfer-Encoding with Content-Length",
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
       Status::BadRequest},
      {"Transfer-Encoding in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
       Status::BadRequest},
      {"chunked twice", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
       Status::BadRequest},
      {"chunked twice across fields",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked"
       "\r\n\r\n",
       Status::BadRequest},
      {"empty Transfer-Encoding", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \r\n\r\n",
       Status::BadRequest},
      {"Transfer-Encoding non-token", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chu nked"
       "\r\n\r\n", Status::BadRequest},
      {"chunked with a parameter",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked;a=b\r\n\r\n", Status::BadRequest},
      {"gzip then chunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
       Status::NotImplemented},
      {"chunked not last", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
       Status::NotImplemented},
      {"identity", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n",
       Status::NotImplemented},
      {"gzip alone", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n",
       Status::NotImplemented},
      {"400 wins over 501", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
       Status::BadRequest},
  };
  for (const InvalidCase& c : cases) checkInvalid(c);
}

TEST_CASE("request parser: every byte in the method, target, name and value") {
  for (unsigned b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    INFO("byte ", b);
    const bool tchar = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
                       std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    const bool targetOk = b > 0x20 && b < 0x7F &&
                          std::string_view("\"#<>\\^`{|}").find(c) == std::string_view::npos;
    const bool valueOk = b == '\t' || (b >= 0x20 && b != 0x7F);

    const std::string method = "G"s + c + "T / HTTP/1.1\r\nHost: h\r\n\r\n";
    const std::string target = "GET /a"s + c + "b HTTP/1.1\r\nHost: h\r\n\r\n";
    const std::string name = "GET / HTTP/1.1\r\nHost: h\r\nX"s + c + "Y: v\r\n\r\n";
    const std::string value = "GET / HTTP/1.1\r\nHost: h\r\nX: a"s + c + "b\r\n\r\n";
    // Long enough that the byte falls in the second 8-byte word of the value.
    const std::string longValue =
        "GET / HTTP/1.1\r\nHost: h\r\nX: abcdefghijklm"s + c + "nopqrstuvwxyz\r\n\r\n";
    const Outcome bad = errorOutcome(Status::BadRequest);
    const Outcome methodOutcome = parseCopy(method);
    const Outcome targetOutcome = parseCopy(target);
    const Outcome nameOutcome = parseCopy(name);
    const Outcome valueOutcome = parseCopy(value);
    CHECK(methodOutcome == (tchar ? complete(method.size()) : bad));
    CHECK(targetOutcome == (targetOk ? complete(target.size()) : bad));
    // "X:Y: v" is the field X with value "Y: v".
    CHECK(nameOutcome ==
          (tchar || c == ':' ? complete(name.size()) : bad));
    CHECK(valueOutcome == (valueOk ? complete(value.size()) : bad));
    CHECK(parseCopy(longValue) ==
          (valueOk ? complete(longValue.size()) : bad));
    checkPrefixes(target, targetOutcome, {});
    checkPrefixes(value, valueOutcome, {});
  }
}

TEST_CASE("request parser: default limits") {
  const std::string head = " HTTP/1.1\r\nHost: h\r\n\r\n";
  // "GET " + target + " HTTP/1.1" is 13 bytes plus the target.
  const std::string atLimit = "GET /" + repeat('a', 8192 - 14) + head;
  const std::string overLimit = "GET /" + repeat('a', 8192 - 13) + head;
  CHECK(parseCopy(atLimit).status == ParseStatus::Complete);
  CHECK(parseCopy(overLimit) == errorOutcome(Status::UriTooLong));
  CHECK(parseCopy(overLimit.substr(0, 8200)) == errorOutcome(Status::UriTooLong));

  // "Host: h\r\n" (9) + "X: " + value + "\r\n" (5) + "\r\n" (2).
  const std::string line = "GET / HTTP/1.1\r\n";
  const std::string fits = line + "Host: h\r\nX: " + repeat('v', 16384 - 16) + "\r\n\r\n";
  const std::string tooBig = line + "Host: h\r\nX: " + repeat('v', 16384 - 15) + "\r\n\r\n";
  CHECK(parseCopy(fits).status == ParseStatus::Complete);
  CHECK(parseCopy(tooBig) == errorOutcome(Status::HeaderFieldsTooLarge));

  std::string hundred = line + "Host: h\r\n";
  for (int i = 1; i < 100; ++i) hundred += "X" + std::to_string(i) + ": v\r\n";
  Request req;
  std::vector<char> buf(hundred.begin(), hundred.end());
  buf.insert(buf.end(), {'\r', '\n'});
  const ParseResult ok = parseRequest(std::string_view(buf.data(), buf.size()), req);
  CHECK(ok.status == ParseStatus::Complete);
  CHECK(req.headerCount == 100);
  CHECK(req.headers[99].name == "X99");
  CHECK(parseCopy(hundred + "X100: v\r\n\r\n") == errorOutcome(Status::HeaderFieldsTooLarge));
  // A caller asking for more than the array holds still gets the array's bound.
  CHECK(parseCopy(hundred + "X100: v\r\n\r\n", {.maxHeaderCount = 1000}) ==
        errorOutcome(Status::HeaderFieldsTooLarge));
}

TEST_CASE("request parser: pipelined requests and bodies") {
  const std::string first = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string second = "\r\nHEAD /b HTTP/1.1\nHost: h\nConnection: close\n\n";
  const std::string both = first + second;
  std::vector<char> buf(both.begin(), both.end());
  const std::string_view all(buf.data(), buf.size());
  Request req;
  ParseResult r = parseRequest(all, req);
  REQUIRE(r.status == ParseStatus::Complete);
  CHECK(r.consumed == first.size());
  CHECK(req.path == "/a");
  CHECK(req.keepAlive);
  // Every prefix that holds the first head gives the same answer: the second is never looked at.
  checkAllFeedings(both, toOutcome(r));
  checkAllFeedings(first + "\x01\x02 garbage", toOutcome(r));

  // The same Request reused: derived fields must not leak from the previous parse.
  r = parseRequest(all.substr(first.size()), req);
  REQUIRE(r.status == ParseStatus::Complete);
  CHECK(r.consumed == second.size());
  CHECK(req.method == Method::Head);
  CHECK(req.path == "/b");
  CHECK_FALSE(req.keepAlive);
  r = parseRequest(all, req);
  REQUIRE(r.status == ParseStatus::Complete);
  CHECK(req.keepAlive);
  CHECK(req.headerCount == 1);

  const std::string post = "POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n";
  const std::string withBody = post + "hello" + first;
  std::vector<char> buf2(withBody.begin(), withBody.end());
  r = parseRequest(std::string_view(buf2.data(), buf2.size()), req);
  REQUIRE(r.status == ParseStatus::Complete);
  CHECK(r.consumed == post.size());
  CHECK(req.contentLength == 5);
}

TEST_CASE("request parser: find and equalsIgnoreCase") {
  using epserve::http::equalsIgnoreCase;
  CHECK(equalsIgnoreCase("Content-Length", "content-LENGTH"));
  CHECK(equalsIgnoreCase("", ""));
  CHECK_FALSE(equalsIgnoreCase("Host", "Hos"));
  CHECK_FALSE(equalsIgnoreCase("Host", "Hosu"));
  // Only ASCII letters fold: '@' (0x40) and '`' (0x60) differ by the case bit but are not letters.
  CHECK_FALSE(equalsIgnoreCase("@", "`"));
  CHECK_FALSE(equalsIgnoreCase("[", "{"));
  CHECK_FALSE(equalsIgnoreCase("\xc9", "\xe9"));

  const std::string text = "GET / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nAccept: a\r\naccept: b\r\n\r\n";
  std::vector<char> buf(text.begin(), text.end());
  Request req;
  REQUIRE(parseRequest(std::string_view(buf.data(), buf.size()), req).status ==
          ParseStatus::Complete);
  CHECK(req.find("ACCEPT") == "a");
  CHECK(req.find("host") == "h");
  const std::string_view empty = req.find("x-empty");
  CHECK(empty.empty());
  CHECK(empty.data() != nullptr);
  const std::string_view missing = req.find("Range");
  CHECK(missing.empty());
  CHECK(missing.data() == nullptr);
}

TEST_CASE("request parser: mutated requests keep the prefix contract") {
  // Random edits of real heads reach paths no table lists; whatever the answer, it must be the
  // same however the bytes arrive, and a Complete never claims bytes that are not there.
  const std::string seeds[] = {
      "GET /index.html?a=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n",
      "POST http://h:8/x HTTP/1.1\nHost: h\nContent-Length: 12\nConnection: close\n\n",
      "\r\nOPTIONS * HTTP/1.0\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n",
  };
  const std::string_view alphabet = "\r\n \t:/*?%GHPT01.,;\"\x7f\x80\xff\0"sv;
  std::mt19937 rng(12345);
  const ParseLimits small{.maxRequestLine = 40, .maxHeaderBytes = 60, .maxHeaderCount = 3};
  for (int iteration = 0; iteration < 600; ++iteration) {
    std::string text = seeds[static_cast<std::size_t>(iteration) % std::size(seeds)];
    const int edits = std::uniform_int_distribution<int>(1, 3)(rng);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = std::uniform_int_distribution<std::size_t>(0, text.size() - 1)(rng);
      const char c = alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(rng)];
      switch (std::uniform_int_distribution<int>(0, 2)(rng)) {
        case 0: text[at] = c; break;
        case 1: text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c); break;
        default: text.erase(at, 1); break;
      }
    }
    INFO("iteration ", iteration, ": ", text);
    const ParseLimits& limits = iteration % 2 == 0 ? ParseLimits{} : small;
    const Outcome whole = parseCopy(text, limits);
    if (whole.status == ParseStatus::Complete) CHECK(whole.consumed <= text.size());
    checkPrefixes(text, whole, limits);
  }
}

TEST_CASE("request parser: every error says why in one sentence") {
  struct Why {
    std::string_view text;
    Status status;
    std::string_view says;  // a phrase the sentence must contain
    ParseLimits limits = {};
  };
  const ParseLimits small{.maxRequestLine = 20, .maxHeaderCount = 2};
  const Why cases[] = {
      {"GET /index.html HTTP/1.1\r\n\r\n", Status::BadRequest, "type Host: localhost"},
      {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", Status::BadRequest, "more than one Host"},
      {"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", Status::BadRequest, "Host header must be"},
      {"GET / http/1.1\r\nHost: h\r\n\r\n", Status::BadRequest, "in capitals, HTTP/1.1"},
      {"GET /my file HTTP/1.1\r\nHost: h\r\n\r\n", Status::BadRequest, "written %20"},
      {"GET / HTTP/1.1 extra\r\nHost: h\r\n\r\n", Status::BadRequest, "one space, the target"},
      {"GET a/b HTTP/1.1\r\nHost: h\r\n\r\n", Status::BadRequest, "path starting with /"},
      {"GET * HTTP/1.1\r\nHost: h\r\n\r\n", Status::BadRequest, "only valid with OPTIONS"},
      {"GET / HTTP/1.1\r\nHost : h\r\n\r\n", Status::BadRequest, "no space before the colon"},
      {"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", Status::BadRequest, "folded"},
      {"GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n", Status::BadRequest, "control character"},
      {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n", Status::BadRequest,
       "Content-Length header must be a decimal number"},
      {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
       Status::BadRequest, "both Content-Length and Transfer-Encoding"},
      {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", Status::NotImplemented,
       "other than chunked"},
      {"GET / HTTP/2.0\r\nHost: h\r\n\r\n", Status::VersionNotSupported, "end the request line"},
      {"GET / HTTP/0.9\r\n\r\n", Status::VersionNotSupported, "HTTP/1.1 and HTTP/1.0"},
      {"GET /abcdefghijklmnopqrstuvwxyz HTTP/1.1\r\n", Status::UriTooLong, "request line is longer",
       small},
      {"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", Status::HeaderFieldsTooLarge,
       "more header fields", small},
  };
  for (const Why& c : cases) {
    INFO("case: ", c.text);
    Request req;
    const ParseResult r = parseRequest(c.text, req, c.limits);
    REQUIRE(r.status == ParseStatus::Error);
    CHECK(r.error == c.status);
    CHECK(r.reason.find(c.says) != std::string_view::npos);
    CHECK(r.reason.back() == '.');
    // One sentence, and none of the request's own bytes (the target, the field names).
    CHECK(std::count(r.reason.begin(), r.reason.end(), '\n') == 0);
    CHECK(r.reason.find("my file") == std::string_view::npos);
  }
}
