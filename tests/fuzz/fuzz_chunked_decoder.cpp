// Fuzzes ChunkedDecoder: the same bytes fed whole, in pieces cut at points drawn from the data,
// and one byte at a time must end the same way (Done/Error/NeedMore) at the same byte.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "FuzzSupport.h"
#include "http/ChunkedDecoder.h"

namespace {

using epserve::fuzz::cutPoints;
using epserve::fuzz::hashBytes;
using epserve::fuzz::SplitMix;
using epserve::http::ChunkedDecoder;
using Result = ChunkedDecoder::Result;

struct Outcome {
  Result result = Result::NeedMore;
  std::size_t consumed = 0;  // bytes of the input taken by the body, summed over the feeds
  std::uint64_t dataBytes = 0;
  bool operator==(const Outcome&) const = default;
};

// Feeds one piece from its own exact-size heap block (ASan catches reads past the piece), and
// checks the per-call contract: NeedMore takes everything, nothing is taken past the input.
Result feedPiece(ChunkedDecoder& d, std::string_view piece, std::size_t& consumed) {
  std::unique_ptr<char[]> copy(new char[piece.size() + (piece.empty() ? 1 : 0)]);
  if (!piece.empty()) std::memcpy(copy.get(), piece.data(), piece.size());
  consumed = static_cast<std::size_t>(-1);
  const Result r = d.feed(std::string_view(copy.get(), piece.size()), consumed);
  FUZZ_CHECK(consumed <= piece.size());
  if (r == Result::NeedMore) FUZZ_CHECK(consumed == piece.size());
  if (r == Result::Done) FUZZ_CHECK(consumed > 0);  // the final LF is always in this piece
  return r;
}

bool isHex(unsigned char c, unsigned& v) {
  if (c >= '0' && c <= '9') {
    v = c - '0';
  } else if (c >= 'a' && c <= 'f') {
    v = c - 'a' + 10u;
  } else if (c >= 'A' && c <= 'F') {
    v = c - 'A' + 10u;
  } else {
    return false;
  }
  return true;
}
bool isTchar(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
}
bool isFieldByte(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7F); }

// An independent whole-buffer reading of RFC 9112 §7.1 with the decoder's documented choices
// (bare LF for CRLF, at most 100 trailer fields), written as a recursive-descent walk rather
// than a byte state machine. Error reports the offset of the first byte that cannot belong to
// a chunked body. Line-length limits are left out: callers compare only inputs too short to
// reach them.
Outcome referenceDecode(std::string_view in) {
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t n = in.size();
  std::size_t i = 0;
  std::uint64_t data = 0;
  auto needMore = [&] { return Outcome{Result::NeedMore, n, data}; };
  auto error = [&] { return Outcome{Result::Error, i, data}; };
  // CRLF or a bare LF at i; false with i at the offending byte.
  auto lineEnd = [&](bool& ok) {
    if (i < n && s[i] == '\r') ++i;
    if (i >= n) return false;
    ok = s[i] == '\n';
    if (ok) ++i;
    return true;
  };
  for (;;) {
    std::uint64_t size = 0;
    std::size_t digits = 0;
    unsigned v = 0;
    for (; i < n && isHex(s[i], v); ++i, ++digits) {
      if ((size >> 60) != 0) return error();  // a 65th bit
      size = size << 4 | v;
    }
    if (i >= n) return needMore();
    if (digits == 0) return error();
    std::size_t ws = i;
    while (ws < n && (s[ws] == ' ' || s[ws] == '\t')) ++ws;
    if (ws > i) {  // BWS is only allowed before an extension
      i = ws;
      if (i >= n) return needMore();
      if (s[i] != ';') return error();
    }
    if (s[i] == ';') {
      while (i < n && s[i] != '\r' && s[i] != '\n') {
        if (!isFieldByte(s[i])) return error();
        ++i;
      }
    }
    bool ok = false;
    if (!lineEnd(ok)) return needMore();
    if (!ok) return error();
    if (size == 0) break;
    const std::uint64_t avail = n - i;
    if (avail < size) {
      data += avail;
      return needMore();
    }
    data += size;
    i += static_cast<std::size_t>(size);
    if (!lineEnd(ok)) return needMore();
    if (!ok) return error();
  }
  for (std::size_t trailers = 0;; ++trailers) {
    if (i >= n) return needMore();
    if (s[i] == '\r' || s[i] == '\n') {
      bool ok = false;
      if (!lineEnd(ok)) return needMore();
      if (!ok) return error();
      return Outcome{Result::Done, i, data};
    }
    if (trailers == 100 || !isTchar(s[i])) return error();
    while (i < n && isTchar(s[i])) ++i;
    if (i >= n) return needMore();
    if (s[i] != ':') return error();
    ++i;
    while (i < n && s[i] != '\r' && s[i] != '\n') {
      if (!isFieldByte(s[i])) return error();
      ++i;
    }
    bool ok = false;
    if (!lineEnd(ok)) return needMore();
    if (!ok) return error();
  }
}

// Feeds `in` cut at `cuts` (sorted positions), stopping at the first Done or Error.
Outcome feedInPieces(std::string_view in, const std::vector<std::size_t>& cuts) {
  ChunkedDecoder d;
  Outcome o;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= cuts.size(); ++i) {
    const std::size_t end = i < cuts.size() ? cuts[i] : in.size();
    if (end < start) continue;
    std::size_t consumed = 0;
    o.result = feedPiece(d, in.substr(start, end - start), consumed);
    o.consumed += consumed;
    if (o.result != Result::NeedMore) break;
    start = end;
  }
  o.dataBytes = d.dataBytes();
  if (o.result != Result::NeedMore) {
    // Terminal states stick and take nothing more.
    std::size_t consumed = 1;
    FUZZ_CHECK(d.feed(in, consumed) == o.result);
    FUZZ_CHECK(consumed == 0);
    FUZZ_CHECK(d.dataBytes() == o.dataBytes);
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  SplitMix rng(hashBytes(in));

  const Outcome whole = feedInPieces(in, {});
  FUZZ_CHECK(whole.dataBytes <= whole.consumed);
  if (whole.result == Result::Done) FUZZ_CHECK(whole.consumed >= 3);  // "0\n\n"
  // No line of an input this short can reach kMaxLine.
  if (size < ChunkedDecoder::kMaxLine) FUZZ_CHECK(referenceDecode(in) == whole);

  // A few random cuts, then many, then every byte on its own (bounded: that is O(n) feeds).
  FUZZ_CHECK(feedInPieces(in, cutPoints(size, 3, rng)) == whole);
  FUZZ_CHECK(feedInPieces(in, cutPoints(size, 1 + size / 8, rng)) == whole);
  if (size <= 4096) {
    std::vector<std::size_t> every;
    every.reserve(size);
    for (std::size_t i = 1; i < size; ++i) every.push_back(i);
    FUZZ_CHECK(feedInPieces(in, every) == whole);
  }

  // Empty feeds between pieces must change nothing.
  std::vector<std::size_t> doubled;
  for (std::size_t c : cutPoints(size, 4, rng)) {
    doubled.push_back(c);
    doubled.push_back(c);
  }
  FUZZ_CHECK(feedInPieces(in, doubled) == whole);
  return 0;
}
