// Unit tests for the chunked body decoder: valid bodies (extensions, trailers, bare LF) and
// malformed framing, each fed whole, one byte at a time and in random splits.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "http/ChunkedDecoder.h"

using namespace std::literals;
using epserve::http::ChunkedDecoder;
using Result = ChunkedDecoder::Result;

namespace {

struct Decoded {
  Result result = Result::NeedMore;
  std::size_t consumed = 0;  // over all feed() calls
  std::uint64_t dataBytes = 0;
  bool operator==(const Decoded&) const = default;
};

const char* name(Result r) {
  switch (r) {
    case Result::NeedMore: return "NeedMore";
    case Result::Done: return "Done";
    case Result::Error: return "Error";
  }
  return "?";
}

// Feeds `text` in pieces ending at the given offsets (the last is text.size()), each piece in a
// buffer of exactly its size, and stops at the first answer other than NeedMore.
Decoded feedPieces(std::string_view text, const std::vector<std::size_t>& ends) {
  ChunkedDecoder d;
  Decoded out;
  std::size_t from = 0;
  for (std::size_t end : ends) {
    std::vector<char> piece(text.begin() + static_cast<std::ptrdiff_t>(from),
                            text.begin() + static_cast<std::ptrdiff_t>(end));
    std::size_t consumed = 12345;
    out.result = d.feed(std::string_view(piece.data(), piece.size()), consumed);
    REQUIRE(consumed <= piece.size());
    if (out.result == Result::NeedMore) REQUIRE(consumed == piece.size());
    out.consumed += consumed;
    from = end;
    if (out.result != Result::NeedMore) break;
  }
  out.dataBytes = d.dataBytes();
  return out;
}

Decoded feedWhole(std::string_view text) { return feedPieces(text, {text.size()}); }

// Whole, byte by byte and in random splits must agree exactly, Error position included.
Decoded checkAllFeedings(std::string_view text) {
  const Decoded whole = feedWhole(text);
  std::vector<std::size_t> ends;
  for (std::size_t i = 1; i <= text.size(); ++i) ends.push_back(i);
  const Decoded bytewise = feedPieces(text, ends);
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
    CHECK(feedPieces(text, ends) == whole);
  }
  return whole;
}

struct ValidBody {
  const char* name;
  std::string_view body;
  std::uint64_t dataBytes;
};

}  // namespace

TEST_CASE("chunked decoder: valid bodies") {
  const std::string thirtyOne(31, 'x');
  const std::string hexSizes = "A\r\n0123456789\r\n1f\r\n" + thirtyOne + "\r\n0\r\n\r\n";
  const ValidBody cases[] = {
      {"one chunk", "5\r\nhello\r\n0\r\n\r\n", 5},
      {"empty body", "0\r\n\r\n", 0},
      {"two chunks", "5\r\nhello\r\n1\r\n!\r\n0\r\n\r\n", 6},
      {"hex sizes, both cases", hexSizes, 41},
      {"leading zeros", "0005\r\nhello\r\n000\r\n\r\n", 5},
      {"data that looks like framing", "4\r\n\r\n\r\n\r\n0\r\n\r\n", 4},
      {"extensions", "5;a=b;c\r\nhello\r\n0;last\r\n\r\n", 5},
      {"extensions with BWS and quotes", "5 ; a = \"q; \\\" x\"\t;b\r\nhello\r\n0\r\n\r\n", 5},
      {"bare LF everywhere", "5\nhello\n0\n\n", 5},
      {"trailers", "3\r\nabc\r\n0\r\nX-T: v\r\nY:\r\nZ: \xff\t w\r\n\r\n", 3},
      {"trailers, bare LF", "3\nabc\n0\nX-T: v\nY:z\n\n", 3},
  };
  for (const ValidBody& c : cases) {
    INFO("case: ", c.name);
    const Decoded d = checkAllFeedings(c.body);
    CHECK(d == Decoded{Result::Done, c.body.size(), c.dataBytes});

    // What follows the body (the next pipelined request) is not consumed.
    const std::string more = std::string(c.body) + "GET / HTTP/1.1\r\n\r\n";
    CHECK(checkAllFeedings(more) == Decoded{Result::Done, c.body.size(), c.dataBytes});
  }
}

TEST_CASE("chunked decoder: partial input, dataBytes and the end state") {
  ChunkedDecoder d;
  std::size_t consumed = 0;
  CHECK(d.feed("5\r\nhel", consumed) == Result::NeedMore);
  CHECK(consumed == 6);
  CHECK(d.dataBytes() == 3);
  CHECK(d.feed("lo\r\n1", consumed) == Result::NeedMore);
  CHECK(consumed == 5);
  CHECK(d.dataBytes() == 5);
  CHECK(d.feed("0\r\n", consumed) == Result::NeedMore);  // a 0x10-byte chunk, not the last one
  CHECK(d.feed(std::string(16, 'z') + "\r\n0\r\n\r\nXYZ", consumed) == Result::Done);
  CHECK(consumed == 16 + 7);
  CHECK(d.dataBytes() == 21);
  CHECK(d.feed("0\r\n\r\n", consumed) == Result::Done);
  CHECK(consumed == 0);

  // The largest size that fits in 64 bits is accepted; its data only counts as it arrives.
  ChunkedDecoder big;
  CHECK(big.feed("FFFFFFFFFFFFFFFF\r\n", consumed) == Result::NeedMore);
  CHECK(big.feed(std::string(1000, 'd'), consumed) == Result::NeedMore);
  CHECK(consumed == 1000);
  CHECK(big.dataBytes() == 1000);
}

TEST_CASE("chunked decoder: malformed framing") {
  const std::string longExt = "5;" + std::string(ChunkedDecoder::kMaxLine - 1, 'a') + "\r\nhello";
  const std::string longZeros = std::string(ChunkedDecoder::kMaxLine, '0') + "5\r\n";
  const std::string longTrailer = "0\r\nX:" + std::string(ChunkedDecoder::kMaxLine, 'v') + "\r\n";
  std::string manyTrailers = "0\r\n";
  for (int i = 0; i < 101; ++i) manyTrailers += "T" + std::to_string(i) + ": v\r\n";
  const struct {
    const char* name;
    std::string_view body;
    std::size_t errorAt;  // offset of the byte that breaks the framing
  } cases[] = {
      {"empty size line", "\r\n", 0},
      {"non-hex size", "g\r\n", 0},
      {"extension without size", ";a\r\n", 0},
      {"sign", "+5\r\nhello\r\n", 0},
      {"0x prefix", "0x5\r\nhello\r\n", 1},
      {"junk after size", "5x\r\nhello\r\n", 1},
      {"junk after BWS", "5 x\r\nhello\r\n", 2},
      {"BWS without extension", "5 \r\nhello\r\n", 2},
      {"bare CR after size", "5\rX", 2},
      {"CTL in extension", "5;a\x01\r\nhello\r\n", 3},
      {"data too long", "5\r\nhelloX\r\n", 8},
      {"CR then junk after data", "5\r\nhello\rX", 9},
      {"overflow", "10000000000000000\r\n", 16},
      {"extension line too long", longExt, ChunkedDecoder::kMaxLine},
      {"size line too long", longZeros, ChunkedDecoder::kMaxLine},
      {"trailer without colon", "0\r\nbad\r\n\r\n", 6},
      {"trailer with empty name", "0\r\n: v\r\n\r\n", 3},
      {"trailer folded", "0\r\nX: v\r\n w\r\n\r\n", 9},
      {"space in trailer name", "0\r\nX y: v\r\n\r\n", 4},
      {"CTL in trailer value", "0\r\nX: \x01\r\n\r\n", 6},
      {"bare CR in trailer", "0\r\nX: v\rY", 8},
      {"bare CR at the end", "0\r\n\rX", 4},
      {"trailer line too long", longTrailer, 3 + ChunkedDecoder::kMaxLine},
      {"too many trailers", manyTrailers, manyTrailers.size() - 9},
  };
  for (const auto& c : cases) {
    INFO("case: ", c.name);
    const Decoded d = checkAllFeedings(c.body);
    CHECK(d.result == Result::Error);
    CHECK(d.consumed == c.errorAt);
  }

  // An error is final: more bytes do not revive the decoder.
  ChunkedDecoder d;
  std::size_t consumed = 0;
  CHECK(d.feed("z", consumed) == Result::Error);
  CHECK(d.feed("0\r\n\r\n", consumed) == Result::Error);
  CHECK(consumed == 0);
}

TEST_CASE("chunked decoder: line limits are exact") {
  // kMaxLine bytes of size and extension are fine, one more is not.
  const std::string atLimit =
      "5;" + std::string(ChunkedDecoder::kMaxLine - 2, 'a') + "\r\nhello\r\n0\r\n\r\n";
  CHECK(feedWhole(atLimit) == Decoded{Result::Done, atLimit.size(), 5});
  const std::string trailerAtLimit =
      "0\r\nX:" + std::string(ChunkedDecoder::kMaxLine - 2, 'v') + "\r\n\r\n";
  CHECK(feedWhole(trailerAtLimit) == Decoded{Result::Done, trailerAtLimit.size(), 0});
  std::string hundred = "0\r\n";
  for (int i = 0; i < 100; ++i) hundred += "T: v\r\n";
  hundred += "\r\n";
  CHECK(feedWhole(hundred) == Decoded{Result::Done, hundred.size(), 0});
}
