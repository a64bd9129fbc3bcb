// Unit tests for the body decoder: the four framings, chunked bodies valid (extensions, trailers,
// bare LF) and malformed, each fed whole, at every split point, bytewise and in random splits.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "http/BodyDecoder.h"

using namespace std::literals;
using epserve::http::BodyDecoder;
using epserve::http::ResponseFraming;
using Result = BodyDecoder::Result;

namespace {

struct Decoded {
  Result result = Result::NeedMore;
  std::size_t consumed = 0;  // over all feed() calls
  std::uint64_t dataBytes = 0;
  std::string data;  // the content spans, concatenated
  bool operator==(const Decoded &) const = default;
};

const char *name(Result r) {
  switch (r) {
    case Result::NeedMore:
      return "NeedMore";
    case Result::Done:
      return "Done";
    case Result::Error:
      return "Error";
  }
  return "?";
}

// Feeds `text` in pieces ending at the given offsets (the last is text.size()), each piece in a
// buffer of exactly its size, and stops at the first answer other than NeedMore.
Decoded feedPieces(std::string_view text, const std::vector<std::size_t> &ends,
                   ResponseFraming framing = ResponseFraming::Chunked, std::uint64_t length = 0) {
  BodyDecoder d(framing, length);
  Decoded out;
  std::size_t from = 0;
  for (std::size_t end : ends) {
    std::vector<char> piece(text.begin() + static_cast<std::ptrdiff_t>(from),
                            text.begin() + static_cast<std::ptrdiff_t>(end));
    std::size_t consumed = 12345;
    const std::string_view view(piece.data(), piece.size());
    out.result = d.feed(view, consumed, [&](std::string_view span) {
      // Every span is a non-empty view into this very piece.
      REQUIRE(!span.empty());
      REQUIRE(span.data() >= view.data());
      REQUIRE(span.data() + span.size() <= view.data() + view.size());
      out.data += span;
    });
    REQUIRE(consumed <= piece.size());
    if (out.result == Result::NeedMore) REQUIRE(consumed == piece.size());
    out.consumed += consumed;
    from = end;
    if (out.result != Result::NeedMore) break;
  }
  out.dataBytes = d.dataBytes();
  return out;
}

Decoded feedWhole(std::string_view text, ResponseFraming framing = ResponseFraming::Chunked,
                  std::uint64_t length = 0) {
  return feedPieces(text, {text.size()}, framing, length);
}

// Whole, cut in two at every point, byte by byte and in random splits must agree exactly, Error
// position and content included.
Decoded checkAllFeedings(std::string_view text, ResponseFraming framing = ResponseFraming::Chunked,
                         std::uint64_t length = 0) {
  const Decoded whole = feedWhole(text, framing, length);
  for (std::size_t cut = 0; cut < text.size(); ++cut) {
    INFO("cut at ", cut);
    CHECK(feedPieces(text, {cut, text.size()}, framing, length) == whole);
  }
  std::vector<std::size_t> ends;
  for (std::size_t i = 1; i <= text.size(); ++i) ends.push_back(i);
  const Decoded bytewise = feedPieces(text, ends, framing, length);
  INFO("whole: ", name(whole.result), " ", whole.consumed, ", bytewise: ", name(bytewise.result),
       " ", bytewise.consumed);
  CHECK(bytewise == whole);

  std::mt19937 rng(static_cast<std::uint32_t>(text.size()));
  for (int round = 0; round < 8; ++round) {
    ends.clear();
    for (std::size_t at = 0; at < text.size();) {
      at += std::uniform_int_distribution<std::size_t>(1, 9)(rng);
      ends.push_back(std::min(at, text.size()));
    }
    CHECK(feedPieces(text, ends, framing, length) == whole);
  }
  return whole;
}

struct ValidBody {
  const char *name;
  std::string_view body;
  std::string_view data;
};

}  // namespace

TEST_CASE("body decoder: valid chunked bodies") {
  const std::string thirtyOne(31, 'x');
  const std::string hexSizes = "A\r\n0123456789\r\n1f\r\n" + thirtyOne + "\r\n0\r\n\r\n";
  const std::string hexData = "0123456789" + thirtyOne;
  const ValidBody cases[] = {
      {"one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello"},
      {"empty body", "0\r\n\r\n", ""},
      {"two chunks", "5\r\nhello\r\n1\r\n!\r\n0\r\n\r\n", "hello!"},
      {"hex sizes, both cases", hexSizes, hexData},
      {"leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello"},
      {"data that looks like framing", "4\r\n\r\n\r\n\r\n0\r\n\r\n", "\r\n\r\n"},
      {"extensions", "5;a=b;c\r\nhello\r\n0;last\r\n\r\n", "hello"},
      {"extensions with BWS and quotes", "5 ; a = \"q; \\\" x\"\t;b\r\nhello\r\n0\r\n\r\n",
       "hello"},
      {"bare LF everywhere", "5\nhello\n0\n\n", "hello"},
      {"trailers", "3\r\nabc\r\n0\r\nX-T: v\r\nY:\r\nZ: \xff\t w\r\n\r\n", "abc"},
      {"trailers, bare LF", "3\nabc\n0\nX-T: v\nY:z\n\n", "abc"},
  };
  for (const ValidBody &c : cases) {
    INFO("case: ", c.name);
    const Decoded d = checkAllFeedings(c.body);
    CHECK(d == Decoded{Result::Done, c.body.size(), c.data.size(), std::string(c.data)});

    // What follows the body (the next pipelined request) is not consumed.
    const std::string more = std::string(c.body) + "GET / HTTP/1.1\r\n\r\n";
    CHECK(checkAllFeedings(more) ==
          Decoded{Result::Done, c.body.size(), c.data.size(), std::string(c.data)});
  }
}

TEST_CASE("body decoder: partial chunked input, dataBytes and the end state") {
  BodyDecoder d(ResponseFraming::Chunked);
  std::string data;
  const auto sink = [&](std::string_view span) { data += span; };
  std::size_t consumed = 0;
  CHECK(d.feed("5\r\nhel", consumed, sink) == Result::NeedMore);
  CHECK(consumed == 6);
  CHECK(d.dataBytes() == 3);
  CHECK(d.feed("lo\r\n1", consumed, sink) == Result::NeedMore);
  CHECK(consumed == 5);
  CHECK(d.dataBytes() == 5);
  CHECK(d.feed("0\r\n", consumed, sink) == Result::NeedMore);  // a 0x10-byte chunk, not the last
  CHECK(d.feed(std::string(16, 'z') + "\r\n0\r\n\r\nXYZ", consumed, sink) == Result::Done);
  CHECK(consumed == 16 + 7);
  CHECK(d.dataBytes() == 21);
  CHECK(data == "hello" + std::string(16, 'z'));
  CHECK(d.feed("0\r\n\r\n", consumed, sink) == Result::Done);
  CHECK(consumed == 0);
  CHECK(d.finish() == Result::Done);
  CHECK(d.error().empty());

  // The largest size that fits in 64 bits is accepted; its data only counts as it arrives.
  BodyDecoder big(ResponseFraming::Chunked);
  CHECK(big.feed("FFFFFFFFFFFFFFFF\r\n", consumed, sink) == Result::NeedMore);
  CHECK(big.feed(std::string(1000, 'd'), consumed, sink) == Result::NeedMore);
  CHECK(consumed == 1000);
  CHECK(big.dataBytes() == 1000);
}

TEST_CASE("body decoder: next() yields one span at a time") {
  BodyDecoder d(ResponseFraming::Chunked);
  const std::string_view in = "3\r\nabc\r\n2;x\r\nde\r\n0\r\n\r\nrest";
  BodyDecoder::Step s = d.next(in);
  CHECK(s.result == Result::NeedMore);
  CHECK(s.consumed == 6);
  CHECK(s.data == "abc");
  CHECK(s.data.data() == in.data() + 3);  // a view into the input, not a copy
  s = d.next(in.substr(6));
  CHECK(s.result == Result::NeedMore);
  CHECK(s.consumed == 9);
  CHECK(s.data == "de");
  s = d.next(in.substr(15));
  CHECK(s.result == Result::Done);
  CHECK(s.consumed == 7);
  CHECK(s.data.empty());
  CHECK(in.substr(22) == "rest");
}

TEST_CASE("body decoder: Content-Length") {
  const std::string_view body = "hello, world";
  for (std::uint64_t length : {std::uint64_t{1}, std::uint64_t{5}, std::uint64_t{12}}) {
    INFO("length ", length);
    const std::string more = std::string(body) + "NEXT";
    const auto expect = std::string(body.substr(0, length));
    CHECK(checkAllFeedings(more, ResponseFraming::ContentLength, length) ==
          Decoded{Result::Done, length, length, expect});
  }
  // Not all there yet: everything is taken, and EOF now is an error.
  BodyDecoder d(ResponseFraming::ContentLength, 10);
  std::size_t consumed = 0;
  std::string data;
  CHECK(d.feed("abc", consumed, [&](std::string_view s) { data += s; }) == Result::NeedMore);
  CHECK(consumed == 3);
  CHECK(data == "abc");
  CHECK(d.dataBytes() == 3);
  CHECK(d.finish() == Result::Error);
  CHECK(d.error() == "connection closed before the end of the body");
  CHECK(d.feed("defghijklm", consumed, [](std::string_view) {}) == Result::Error);
  CHECK(consumed == 0);

  // A zero length is a body that has already ended.
  BodyDecoder empty(ResponseFraming::ContentLength, 0);
  CHECK(empty.feed("GET", consumed, [](std::string_view) { FAIL("no data expected"); }) ==
        Result::Done);
  CHECK(consumed == 0);
  CHECK(empty.finish() == Result::Done);
}

TEST_CASE("body decoder: no body, and until close") {
  CHECK(checkAllFeedings("HTTP/1.1 200 OK\r\n\r\n", ResponseFraming::None) ==
        Decoded{Result::Done, 0, 0, ""});
  BodyDecoder none;
  CHECK(none.finish() == Result::Done);

  const std::string_view text = "any bytes\r\n0\r\n\r\nat all";
  CHECK(checkAllFeedings(text, ResponseFraming::UntilClose) ==
        Decoded{Result::NeedMore, text.size(), text.size(), std::string(text)});
  BodyDecoder d(ResponseFraming::UntilClose);
  std::size_t consumed = 0;
  CHECK(d.feed(text, consumed, [](std::string_view) {}) == Result::NeedMore);
  CHECK(consumed == text.size());
  CHECK(d.finish() == Result::Done);  // only this framing may end with the connection
  CHECK(d.dataBytes() == text.size());
  CHECK(d.feed("more", consumed, [](std::string_view) { FAIL("no data expected"); }) ==
        Result::Done);
  CHECK(consumed == 0);
}

TEST_CASE("body decoder: EOF inside a chunked body is an error") {
  BodyDecoder d(ResponseFraming::Chunked);
  std::size_t consumed = 0;
  CHECK(d.feed("3\r\nab", consumed, [](std::string_view) {}) == Result::NeedMore);
  CHECK(d.finish() == Result::Error);
  CHECK(d.error() == "connection closed inside the chunked body");
  CHECK(d.finish() == Result::Error);
}

TEST_CASE("body decoder: malformed chunked framing") {
  const std::string longExt = "5;" + std::string(BodyDecoder::kMaxLine - 1, 'a') + "\r\nhello";
  const std::string longZeros = std::string(BodyDecoder::kMaxLine, '0') + "5\r\n";
  const std::string longTrailer = "0\r\nX:" + std::string(BodyDecoder::kMaxLine, 'v') + "\r\n";
  std::string manyTrailers = "0\r\n";
  for (int i = 0; i < 101; ++i) manyTrailers += "T" + std::to_string(i) + ": v\r\n";
  const struct {
    const char *name;
    std::string_view body;
    std::size_t errorAt;  // offset of the byte that breaks the framing
    std::string_view why;
  } cases[] = {
      {"empty size line", "\r\n", 0, "malformed chunk size"},
      {"non-hex size", "g\r\n", 0, "malformed chunk size"},
      {"extension without size", ";a\r\n", 0, "malformed chunk size"},
      {"sign", "+5\r\nhello\r\n", 0, "malformed chunk size"},
      {"0x prefix", "0x5\r\nhello\r\n", 1, "malformed chunk size line"},
      {"junk after size", "5x\r\nhello\r\n", 1, "malformed chunk size line"},
      {"junk after BWS", "5 x\r\nhello\r\n", 2, "malformed chunk size line"},
      {"BWS without extension", "5 \r\nhello\r\n", 2, "malformed chunk size line"},
      {"bare CR after size", "5\rX", 2, "malformed chunk size line"},
      {"CTL in extension", "5;a\x01\r\nhello\r\n", 3, "malformed chunk extension"},
      {"data too long", "5\r\nhelloX\r\n", 8, "missing line end after chunk data"},
      {"CR then junk after data", "5\r\nhello\rX", 9, "missing line end after chunk data"},
      {"overflow", "10000000000000000\r\n", 16, "chunk size too large"},
      {"extension line too long", longExt, BodyDecoder::kMaxLine, "chunk size line too long"},
      {"size line too long", longZeros, BodyDecoder::kMaxLine, "chunk size line too long"},
      {"trailer without colon", "0\r\nbad\r\n\r\n", 6, "malformed trailer field"},
      {"trailer with empty name", "0\r\n: v\r\n\r\n", 3, "malformed trailer field"},
      {"trailer folded", "0\r\nX: v\r\n w\r\n\r\n", 9, "malformed trailer field"},
      {"space in trailer name", "0\r\nX y: v\r\n\r\n", 4, "malformed trailer field"},
      {"CTL in trailer value", "0\r\nX: \x01\r\n\r\n", 6, "malformed trailer field"},
      {"bare CR in trailer", "0\r\nX: v\rY", 8, "malformed trailer field"},
      {"bare CR at the end", "0\r\n\rX", 4, "missing line end after chunked body"},
      {"trailer line too long", longTrailer, 3 + BodyDecoder::kMaxLine, "trailer field too long"},
      {"too many trailers", manyTrailers, manyTrailers.size() - 9, "too many trailer fields"},
  };
  for (const auto &c : cases) {
    INFO("case: ", c.name);
    const Decoded d = checkAllFeedings(c.body);
    CHECK(d.result == Result::Error);
    CHECK(d.consumed == c.errorAt);
    BodyDecoder whole(ResponseFraming::Chunked);
    std::size_t consumed = 0;
    CHECK(whole.feed(c.body, consumed, [](std::string_view) {}) == Result::Error);
    CHECK(whole.error() == c.why);
  }

  // Content before the error has been delivered; an error is final: more bytes do not revive the
  // decoder, and EOF does not turn it into Done.
  BodyDecoder d(ResponseFraming::Chunked);
  std::string data;
  std::size_t consumed = 0;
  CHECK(d.feed("3\r\nabcX", consumed, [&](std::string_view s) { data += s; }) == Result::Error);
  CHECK(data == "abc");
  CHECK(consumed == 6);
  CHECK(d.feed("0\r\n\r\n", consumed, [](std::string_view) {}) == Result::Error);
  CHECK(consumed == 0);
  CHECK(d.finish() == Result::Error);
  CHECK(d.error() == "missing line end after chunk data");
}

TEST_CASE("body decoder: line limits are exact") {
  // kMaxLine bytes of size and extension are fine, one more is not.
  const std::string atLimit =
      "5;" + std::string(BodyDecoder::kMaxLine - 2, 'a') + "\r\nhello\r\n0\r\n\r\n";
  CHECK(feedWhole(atLimit) == Decoded{Result::Done, atLimit.size(), 5, "hello"});
  const std::string trailerAtLimit =
      "0\r\nX:" + std::string(BodyDecoder::kMaxLine - 2, 'v') + "\r\n\r\n";
  CHECK(feedWhole(trailerAtLimit) == Decoded{Result::Done, trailerAtLimit.size(), 0, ""});
  std::string hundred = "0\r\n";
  for (int i = 0; i < 100; ++i) hundred += "T: v\r\n";
  hundred += "\r\n";
  CHECK(feedWhole(hundred) == Decoded{Result::Done, hundred.size(), 0, ""});
}
