// Fuzzes BodyDecoder differentially: every framing, fed whole, cut at every point, at random points
// and one byte at a time, must match an independent whole-input reference decoder.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "FuzzSupport.h"
#include "http/BodyDecoder.h"

// Input: byte 0 picks the framing ('l' Content-Length, 'u' until close, 'n' none, 'c' chunked: byte
// % 4); for Content-Length, bytes 1-2 are the length (little-endian). The rest is the body.

namespace {

using epserve::fuzz::cutPoints;
using epserve::fuzz::hashBytes;
using epserve::fuzz::SplitMix;
using epserve::http::BodyDecoder;
using epserve::http::ResponseFraming;
using Result = BodyDecoder::Result;

struct Framing {
  ResponseFraming framing = ResponseFraming::Chunked;
  std::uint64_t length = 0;  // Content-Length only
};

struct Outcome {
  Result result = Result::NeedMore;
  std::size_t consumed = 0;  // bytes of the input taken by the body, summed over the feeds
  std::uint64_t dataBytes = 0;
  std::string data;  // the content, concatenated
  bool operator==(const Outcome &) const = default;
};

// Feeds one piece from its own exact-size heap block (ASan catches reads past the piece), and
// checks the per-call contract: NeedMore takes everything, nothing is taken past the input, and
// each content span lies inside the piece.
Result feedPiece(BodyDecoder &d, std::string_view piece, std::size_t &consumed, std::string &data) {
  std::unique_ptr<char[]> copy(new char[piece.size() + (piece.empty() ? 1 : 0)]);
  if (!piece.empty()) std::memcpy(copy.get(), piece.data(), piece.size());
  const std::string_view view(copy.get(), piece.size());
  consumed = static_cast<std::size_t>(-1);
  const Result r = d.feed(view, consumed, [&](std::string_view span) {
    FUZZ_CHECK(!span.empty());
    FUZZ_CHECK(span.data() >= view.data() &&
               span.data() + span.size() <= view.data() + view.size());
    data.append(span);
  });
  FUZZ_CHECK(consumed <= piece.size());
  if (r == Result::NeedMore) FUZZ_CHECK(consumed == piece.size());
  return r;
}

bool isHex(unsigned char c, unsigned &v) {
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

// An independent whole-buffer reading of RFC 9112 §7.1 with the decoder's documented choices (bare
// LF for CRLF, at most 100 trailer fields), written as a recursive-descent walk rather than a byte
// state machine. Error reports the offset of the first byte that cannot belong to a chunked body.
// Line-length limits are left out: callers compare only inputs too short to reach them.
Outcome referenceChunked(std::string_view in) {
  const auto *s = reinterpret_cast<const unsigned char *>(in.data());
  const std::size_t n = in.size();
  std::size_t i = 0;
  std::string data;
  auto needMore = [&] { return Outcome{Result::NeedMore, n, data.size(), data}; };
  auto error = [&] { return Outcome{Result::Error, i, data.size(), data}; };
  // CRLF or a bare LF at i; false with i at the offending byte.
  auto lineEnd = [&](bool &ok) {
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
      data.append(in.substr(i));
      return needMore();
    }
    data.append(in.substr(i, static_cast<std::size_t>(size)));
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
      return Outcome{Result::Done, i, data.size(), data};
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

// The reference for the other framings, which need no grammar.
Outcome referenceDecode(const Framing &f, std::string_view in) {
  switch (f.framing) {
    case ResponseFraming::None:
      return Outcome{Result::Done, 0, 0, {}};
    case ResponseFraming::ContentLength: {
      if (in.size() < f.length)
        return Outcome{Result::NeedMore, in.size(), in.size(), std::string(in)};
      const auto n = static_cast<std::size_t>(f.length);
      return Outcome{Result::Done, n, n, std::string(in.substr(0, n))};
    }
    case ResponseFraming::UntilClose:
      return Outcome{Result::NeedMore, in.size(), in.size(), std::string(in)};
    case ResponseFraming::Chunked:
      break;
  }
  return referenceChunked(in);
}

// Feeds `in` cut at `cuts` (sorted positions), stopping at the first Done or Error.
Outcome feedInPieces(const Framing &f, std::string_view in, const std::vector<std::size_t> &cuts) {
  BodyDecoder d(f.framing, f.length);
  Outcome o;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= cuts.size(); ++i) {
    const std::size_t end = i < cuts.size() ? cuts[i] : in.size();
    if (end < start) continue;
    std::size_t consumed = 0;
    o.result = feedPiece(d, in.substr(start, end - start), consumed, o.data);
    o.consumed += consumed;
    if (o.result != Result::NeedMore) break;
    start = end;
  }
  o.dataBytes = d.dataBytes();
  FUZZ_CHECK(o.dataBytes == o.data.size());
  if (o.result != Result::NeedMore) {
    // Terminal states stick, take nothing more, and EOF does not change them.
    std::size_t consumed = 1;
    FUZZ_CHECK(d.feed(in, consumed, [](std::string_view) { FUZZ_CHECK(false); }) == o.result);
    FUZZ_CHECK(consumed == 0);
    FUZZ_CHECK(d.finish() == o.result);
    FUZZ_CHECK(d.error().empty() == (o.result == Result::Done));
  } else {
    // EOF ends only a close-delimited body.
    const Result end = d.finish();
    FUZZ_CHECK(end == (f.framing == ResponseFraming::UntilClose ? Result::Done : Result::Error));
    FUZZ_CHECK(d.error().empty() == (end == Result::Done));
  }
  FUZZ_CHECK(d.dataBytes() == o.dataBytes);
  return o;
}

Framing takeFraming(std::string_view &in) {
  Framing f;
  if (in.empty()) return f;
  const auto pick = static_cast<unsigned char>(in[0]) % 4;
  in.remove_prefix(1);
  constexpr ResponseFraming kByPick[] = {ResponseFraming::ContentLength,
                                         ResponseFraming::UntilClose, ResponseFraming::None,
                                         ResponseFraming::Chunked};
  f.framing = kByPick[pick];
  if (f.framing == ResponseFraming::ContentLength) {
    for (unsigned shift = 0; shift < 16 && !in.empty(); shift += 8) {
      f.length |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[0])) << shift;
      in.remove_prefix(1);
    }
  }
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char *>(data), size);
  SplitMix rng(hashBytes(in));
  const Framing f = takeFraming(in);
  const std::size_t n = in.size();

  const Outcome whole = feedInPieces(f, in, {});
  FUZZ_CHECK(whole.dataBytes <= whole.consumed);
  if (f.framing == ResponseFraming::Chunked && whole.result == Result::Done) {
    FUZZ_CHECK(whole.consumed >= 3);  // "0\n\n"
  }
  // No line of an input this short can reach kMaxLine.
  if (n < BodyDecoder::kMaxLine) FUZZ_CHECK(referenceDecode(f, in) == whole);

  // Cut in two at every point (bounded: that is O(n^2) bytes), a few random cuts, then many, then
  // every byte on its own.
  if (n <= 1024) {
    for (std::size_t cut = 0; cut <= n; ++cut) FUZZ_CHECK(feedInPieces(f, in, {cut}) == whole);
  }
  FUZZ_CHECK(feedInPieces(f, in, cutPoints(n, 3, rng)) == whole);
  FUZZ_CHECK(feedInPieces(f, in, cutPoints(n, 1 + n / 8, rng)) == whole);
  if (n <= 4096) {
    std::vector<std::size_t> every;
    every.reserve(n);
    for (std::size_t i = 1; i < n; ++i) every.push_back(i);
    FUZZ_CHECK(feedInPieces(f, in, every) == whole);
  }

  // Empty feeds between pieces must change nothing.
  std::vector<std::size_t> doubled;
  for (std::size_t c : cutPoints(n, 4, rng)) {
    doubled.push_back(c);
    doubled.push_back(c);
  }
  FUZZ_CHECK(feedInPieces(f, in, doubled) == whole);
  return 0;
}
