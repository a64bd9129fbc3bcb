// Unit tests for the HTTP/1.x response-head parser: valid heads and their framing, interim 1xx,
// malformed status lines and fields, limits; each case also fed byte by byte from exact buffers.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/ResponseParser.h"

using namespace std::literals;
using epserve::http::ParsedResponse;
using epserve::http::ParseStatus;
using epserve::http::ResponseFraming;
using epserve::http::ResponseLimits;
using epserve::http::ResponseParseResult;
using epserve::http::parseResponse;

namespace {

// What a caller can observe: consumed only matters for Complete, error only for Error.
struct Outcome {
  ParseStatus status = ParseStatus::Incomplete;
  std::size_t consumed = 0;
  std::string error;
  bool operator==(const Outcome&) const = default;
};

std::string describe(const Outcome& o) {
  switch (o.status) {
    case ParseStatus::Complete: return "Complete(" + std::to_string(o.consumed) + ")";
    case ParseStatus::Incomplete: return "Incomplete";
    case ParseStatus::Error: return "Error(" + o.error + ")";
  }
  return "?";
}

Outcome complete(std::size_t consumed) { return {ParseStatus::Complete, consumed, ""}; }
Outcome error(std::string why) { return {ParseStatus::Error, 0, std::move(why)}; }

Outcome toOutcome(const ResponseParseResult& r) {
  Outcome o{r.status, 0, ""};
  if (r.status == ParseStatus::Complete) o.consumed = r.consumed;
  if (r.status == ParseStatus::Error) o.error = std::string(r.error);
  return o;
}

// A parse of a copy of the bytes in a buffer of exactly their size, so ASan sees any overread.
// The buffer lives as long as the result, since the parsed views point into it.
struct Parsed {
  std::vector<char> bytes;
  ParsedResponse response;
  Outcome outcome;
};

Parsed parse(std::string_view text, bool head = false, const ResponseLimits& limits = {}) {
  Parsed p;
  p.bytes.assign(text.begin(), text.end());
  p.outcome = toOutcome(parseResponse(std::string_view(p.bytes.data(), p.bytes.size()), head,
                                      p.response, limits));
  return p;
}

// Feeds `text` one byte at a time, as a client appending each read to its buffer would, and
// checks the parser's contract: Incomplete until the first byte that decides, then that same
// answer for every longer prefix. Returns how many bytes it took to decide.
std::size_t checkByteByByte(std::string_view text, const Outcome& whole, bool head = false,
                            const ResponseLimits& limits = {}) {
  std::size_t decidedAt = 0;
  for (std::size_t len = 0; len <= text.size(); ++len) {
    const Outcome o = parse(text.substr(0, len), head, limits).outcome;
    if (o.status == ParseStatus::Incomplete && decidedAt == 0) continue;
    INFO("prefix of ", len, " bytes gave ", describe(o), ", the whole gave ", describe(whole));
    REQUIRE(o == whole);
    if (decidedAt == 0) decidedAt = len;
  }
  return decidedAt;
}

using Fields = std::vector<std::pair<std::string_view, std::string_view>>;

void checkFields(const ParsedResponse& r, const Fields& expected) {
  REQUIRE(r.headerCount == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("field ", i);
    CHECK(r.headers[i].name == expected[i].first);
    CHECK(r.headers[i].value == expected[i].second);
  }
}

void checkError(std::string_view text, const std::string& why, bool head = false,
                const ResponseLimits& limits = {}) {
  INFO("input: ", std::string(text));
  const Outcome whole = parse(text, head, limits).outcome;
  REQUIRE(describe(whole) == describe(error(why)));
  checkByteByByte(text, whole, head, limits);
}

}  // namespace

TEST_CASE("response parser: 200 with Content-Length, fields as views, body left unread") {
  const std::string_view head =
      "HTTP/1.1 200 OK\r\nServer: epserve/0.1.0\r\nContent-Length: 5\r\n"
      "Content-Type:text/plain \t\r\nX-Empty:\r\n\r\n";
  const std::string text = std::string(head) + "hello";
  const Parsed p = parse(text);
  REQUIRE(describe(p.outcome) == describe(complete(head.size())));
  const ParsedResponse& r = p.response;
  CHECK(r.versionMinor == 1);
  CHECK(r.status == 200);
  CHECK(r.reason == "OK");
  CHECK(r.statusLine == "HTTP/1.1 200 OK");
  CHECK_FALSE(r.interim());
  CHECK(r.framing == ResponseFraming::ContentLength);
  CHECK(r.contentLength == 5);
  CHECK(r.keepAlive);
  checkFields(r, {{"Server", "epserve/0.1.0"},
                  {"Content-Length", "5"},
                  {"Content-Type", "text/plain"},
                  {"X-Empty", ""}});
  CHECK(r.find("content-type") == "text/plain");
  CHECK(r.find("Missing").data() == nullptr);
  // The views point into the caller's bytes, not into copies.
  CHECK(r.reason.data() == p.bytes.data() + 13);
  CHECK(checkByteByByte(text, p.outcome) == head.size());
}

TEST_CASE("response parser: status line variants that are valid") {
  struct Case {
    std::string_view text;
    int status;
    std::string_view reason;
    int minor;
  };
  const Case cases[] = {
      {"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 404, "Not Found", 1},
      {"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 200, "OK", 0},
      {"HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", 200, "", 1},  // empty reason, SP kept
      {"HTTP/1.1 599 Odd\tbut \xE9valid\r\nContent-Length: 0\r\n\r\n", 599, "Odd\tbut \xE9valid",
       1},
      {"HTTP/1.1 200 OK\nContent-Length: 0\n\n", 200, "OK", 1},  // bare LF (RFC 9112 §2.2)
      // A later 1.x minor is read as 1.1 (RFC 9110 §2.5), by the grammar requests use.
      {"HTTP/1.9 200 OK\r\nContent-Length: 0\r\n\r\n", 200, "OK", 1},
  };
  for (const Case& c : cases) {
    INFO("input: ", std::string(c.text));
    const Parsed p = parse(c.text);
    REQUIRE(describe(p.outcome) == describe(complete(c.text.size())));
    CHECK(p.response.status == c.status);
    CHECK(p.response.reason == c.reason);
    CHECK(p.response.versionMinor == c.minor);
    checkByteByByte(c.text, p.outcome);
  }
}

TEST_CASE("response parser: framing of the body (RFC 9112 §6.3)") {
  struct Case {
    const char* name;
    std::string_view text;
    bool head;
    ResponseFraming framing;
    bool keepAlive;
    std::uint64_t length = 0;
  };
  const Case cases[] = {
      {"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false,
       ResponseFraming::Chunked, true},
      {"chunked last after gzip, any case",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, CHUNKED\r\n\r\n",
       false, ResponseFraming::Chunked, true},
      {"chunked over two fields",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
       false, ResponseFraming::Chunked, true},
      {"coding without chunked reads until close",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
       false, ResponseFraming::UntilClose, false},
      {"no length: close-delimited", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", false,
       ResponseFraming::UntilClose, false},
      {"Content-Length 0", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false,
       ResponseFraming::ContentLength, true, 0},
      {"repeated equal lengths",
       "HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\nContent-Length: 7\r\n\r\n",
       false, ResponseFraming::ContentLength, true, 7},
      {"largest length", "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n", false,
       ResponseFraming::ContentLength, true, UINT64_MAX},
      {"204 has no body", "HTTP/1.1 204 No Content\r\nAllow: GET\r\n\r\n", false,
       ResponseFraming::None, true},
      {"304 has no body despite its length",
       "HTTP/1.1 304 Not Modified\r\nContent-Length: 612\r\n\r\n",
       false, ResponseFraming::None, true},
      {"HEAD response has no body", "HTTP/1.1 200 OK\r\nContent-Length: 612\r\n\r\n", true,
       ResponseFraming::None, true},
      {"HEAD response without length keeps the connection", "HTTP/1.1 200 OK\r\n\r\n", true,
       ResponseFraming::None, true},
      {"HEAD response to chunked GET",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true,
       ResponseFraming::None, true},
      {"1.1 with close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n", false,
       ResponseFraming::ContentLength, false, 1},
      {"close among other options",
       "HTTP/1.1 200 OK\r\nConnection: upgrade , CLOSE\r\nContent-Length: 1\r\n\r\n",
       false, ResponseFraming::ContentLength, false, 1},
      {"1.0 closes by default", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", false,
       ResponseFraming::ContentLength, false, 1},
      {"1.0 with keep-alive",
       "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\n",
       false, ResponseFraming::ContentLength, true, 1},
      {"1.0 without length", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n", false,
       ResponseFraming::UntilClose, false},
  };
  for (const Case& c : cases) {
    INFO("case: ", c.name);
    const Parsed p = parse(c.text, c.head);
    REQUIRE(describe(p.outcome) == describe(complete(c.text.size())));
    CHECK(p.response.framing == c.framing);
    CHECK(p.response.keepAlive == c.keepAlive);
    if (c.framing == ResponseFraming::ContentLength) CHECK(p.response.contentLength == c.length);
    checkByteByByte(c.text, p.outcome, c.head);
  }
}

TEST_CASE("response parser: 1xx heads are complete on their own, the final one follows") {
  const std::string_view text =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  std::size_t offset = 0;
  const int expected[] = {100, 103, 200};
  for (const int status : expected) {
    CAPTURE(status);
    const Parsed p = parse(text.substr(offset));
    REQUIRE(p.outcome.status == ParseStatus::Complete);
    CHECK(p.response.status == status);
    CHECK(p.response.interim() == (status < 200));
    CHECK(p.response.framing ==
          (status < 200 ? ResponseFraming::None : ResponseFraming::ContentLength));
    checkByteByByte(text.substr(offset), p.outcome);
    offset += p.outcome.consumed;
  }
  CHECK(text.substr(offset) == "ok");
  // Even a 1xx that (wrongly) carries a length has no body.
  const Parsed odd = parse("HTTP/1.1 101 Switching Protocols\r\nContent-Length: 9\r\n\r\n");
  REQUIRE(odd.outcome.status == ParseStatus::Complete);
  CHECK(odd.response.framing == ResponseFraming::None);
}

TEST_CASE("response parser: malformed status lines") {
  const std::pair<std::string_view, std::string> cases[] = {
      {"HTTP/1.1 200\r\n\r\n", "malformed status line"},  // the SP before the reason is required
      {"HTTP/1.1 200OK\r\n\r\n", "malformed status line"},
      {"http/1.1 200 OK\r\n\r\n", "malformed status line"},  // the version is case-sensitive
      {"HTTP/1.1  200 OK\r\n\r\n", "malformed status line"},
      {"HTTP/1.1 20 OK\r\n\r\n", "malformed status line"},
      {"HTTP/1.1 2000 OK\r\n\r\n", "malformed status line"},
      {"HTTP/1.1 2x0 OK\r\n\r\n", "malformed status line"},
      {"HTTP/1 200 OK\r\n\r\n", "malformed status line"},
      {"HTTP/1.10 200 OK\r\n\r\n", "malformed status line"},
      {"ICY 200 OK\r\n\r\n", "malformed status line"},
      {" HTTP/1.1 200 OK\r\n\r\n", "malformed status line"},
      {"\r\nHTTP/1.1 200 OK\r\n\r\n", "malformed status line"},  // no leading empty lines
      {"HTTP/1.1 200 OK\rX\r\n\r\n", "malformed status line"},
      {"HTTP/1.1 200 O\x01K\r\n\r\n", "malformed status line"},
      {"HTTP/1.1 200 O\x7FK\r\n\r\n", "malformed status line"},
      {"HTTP/1.1 200 OK\0\r\n\r\n"sv, "malformed status line"},
      {"HTTP/2.0 200 OK\r\n\r\n", "unsupported HTTP version"},
      {"HTTP/0.9 200 OK\r\n\r\n", "unsupported HTTP version"},
      {"HTTP/1.1 099 Low\r\n\r\n", "invalid status code"},
      {"HTTP/1.1 600 High\r\n\r\n", "invalid status code"},
      {"HTTP/1.1 000 Zero\r\n\r\n", "invalid status code"},
  };
  for (const auto& [text, why] : cases) checkError(text, why);
}

TEST_CASE("response parser: malformed header fields") {
  const std::pair<std::string_view, std::string> cases[] = {
      {"HTTP/1.1 200 OK\r\nName : v\r\n\r\n", "malformed header field"},
      {"HTTP/1.1 200 OK\r\n: v\r\n\r\n", "malformed header field"},
      {"HTTP/1.1 200 OK\r\nNa(me: v\r\n\r\n", "malformed header field"},
      {"HTTP/1.1 200 OK\r\nName v\r\n\r\n", "malformed header field"},
      {"HTTP/1.1 200 OK\r\nName: a\0b\r\n\r\n"sv, "malformed header field"},
      {"HTTP/1.1 200 OK\r\nName: a\x7F\r\n\r\n", "malformed header field"},
      {"HTTP/1.1 200 OK\r\nName: a\rb\r\n\r\n", "malformed header field"},
      {"HTTP/1.1 200 OK\r\nName: v\r\n\rX", "malformed header field"},
      {"HTTP/1.1 200 OK\r\nA: 1\r\n continued\r\n\r\n", "obsolete line folding"},
      {"HTTP/1.1 200 OK\r\nA: 1\r\n\tcontinued\r\n\r\n", "obsolete line folding"},
      {"HTTP/1.1 200 OK\r\n A: 1\r\n\r\n", "whitespace before the first header field"},
  };
  for (const auto& [text, why] : cases) checkError(text, why);
}

TEST_CASE("response parser: unusable framing fields are errors") {
  const std::pair<std::string_view, std::string> cases[] = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n", "invalid Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", "invalid Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n", "invalid Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n", "conflicting Content-Length values"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
       "conflicting Content-Length values"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
       "both Content-Length and Transfer-Encoding"},
      {"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
       "Transfer-Encoding in an HTTP/1.0 response"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
       "chunked is not the final transfer coding"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
       "chunked is not the final transfer coding"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", "invalid Transfer-Encoding"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chu nked\r\n\r\n", "invalid Transfer-Encoding"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: ,\r\n\r\n", "invalid Transfer-Encoding"},
      // A bad length is an error even where no body follows.
      {"HTTP/1.1 304 Not Modified\r\nContent-Length: x\r\n\r\n", "invalid Content-Length"},
  };
  for (const auto& [text, why] : cases) checkError(text, why);
  checkError("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "invalid Content-Length", true);
}

TEST_CASE("response parser: limits on the status line and the header section") {
  ResponseLimits limits;
  limits.maxStatusLine = 20;
  limits.maxHeaderBytes = 40;
  limits.maxHeaderCount = 3;

  // Exactly at the limit is fine, one byte more is an error as soon as that byte arrives.
  const std::string atLimit = "HTTP/1.1 200 " + std::string(7, 'r') + "\r\nA: 1\r\n\r\n";
  const Parsed ok = parse(atLimit, false, limits);
  REQUIRE(describe(ok.outcome) == describe(complete(atLimit.size())));
  checkByteByByte(atLimit, ok.outcome, false, limits);
  const std::string longLine = "HTTP/1.1 200 " + std::string(8, 'r') + "\r\n\r\n";
  checkError(longLine, "status line too long", false, limits);
  CHECK(checkByteByByte(longLine, error("status line too long"), false, limits) == 21);
  // An endless reason phrase is cut off too, without ever seeing a line end.
  checkError("HTTP/1.1 200 " + std::string(100, 'r'), "status line too long", false, limits);

  // Header section: 40 bytes including the final empty line.
  const std::string fields = "A: " + std::string(33, 'v') + "\r\n";  // 38 bytes
  const Parsed fits = parse("HTTP/1.1 200 OK\r\n" + fields + "\r\n", false, limits);
  CHECK(fits.outcome.status == ParseStatus::Complete);
  checkError("HTTP/1.1 200 OK\r\nA: " + std::string(34, 'v') + "\r\n\r\n",
             "header section too large", false, limits);
  checkError("HTTP/1.1 200 OK\r\nA: " + std::string(200, 'v'), "header section too large", false,
             limits);

  checkError("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", "too many header fields",
             false, limits);
  const Parsed three = parse("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", false, limits);
  CHECK(three.outcome.status == ParseStatus::Complete);
  CHECK(three.response.headerCount == 3);
}

TEST_CASE("response parser: a reused ParsedResponse is fully reset by each parse") {
  std::vector<char> first{'H', 'T', 'T', 'P', '/', '1', '.', '0', ' ', '2', '0', '0', ' ',
                          'O', 'K', '\n', 'A', ':', ' ', '1', '\n', '\n'};
  ParsedResponse r;
  REQUIRE(parseResponse(std::string_view(first.data(), first.size()), false, r).status ==
          ParseStatus::Complete);
  CHECK(r.headerCount == 1);
  CHECK(r.framing == ResponseFraming::UntilClose);
  const std::string second = "HTTP/1.1 204 No Content\r\n\r\n";
  REQUIRE(parseResponse(second, false, r).status == ParseStatus::Complete);
  CHECK(r.versionMinor == 1);
  CHECK(r.status == 204);
  CHECK(r.headerCount == 0);
  CHECK(r.framing == ResponseFraming::None);
  CHECK(r.keepAlive);
  CHECK(parseResponse("HTTP/1.1 2", false, r).status == ParseStatus::Incomplete);
  CHECK(r.headerCount == 0);
}
