// Byte range requests (RFC 9110 §14): evaluating a Range header against a representation's
// size and the If-Range validator check. Pure functions over header values; nothing allocates.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace epserve::http {

// One satisfiable byte range, both ends inclusive, already clamped so that last < size.
struct ByteRange {
  std::uint64_t first;
  std::uint64_t last;
};

// The most range-specs one request may carry; beyond this the Range header is ignored (RFC 9110
// §14.2 lets a server ignore a Range it considers abusive).
inline constexpr std::size_t kMaxRanges = 16;

// Full: send 200 with the whole representation (no Range, or one we ignore).
// Partial: send 206 with `ranges` (one range: a single part; several: multipart/byteranges).
// Unsatisfiable: send 416 with "Content-Range: bytes */size".
enum class RangeOutcome : std::uint8_t { Full, Partial, Unsatisfiable };

struct RangeSet {
  RangeOutcome outcome = RangeOutcome::Full;
  std::array<ByteRange, kMaxRanges> ranges{};
  std::size_t count = 0;  // ranges in use; 0 unless outcome is Partial
};

// Evaluates a Range header value against a representation of `size` bytes.
//
// Accepts `bytes=` (unit case-insensitive, no whitespace around '=') followed by a comma list of
// `first-last`, `first-` and `-suffix` specs, with OWS around the commas; empty list elements
// are skipped (RFC 9110 §5.6.1.2). The result is:
//  - Full when the header is invalid and must be ignored (RFC 9110 §14.2): an unknown unit, a
//    syntax error anywhere, no spec at all, `last < first`, or a number longer than 19 digits
//    (leading zeros count; 19 digits always fit in 64 bits, so this is our overflow rule).
//  - Full as well when we choose not to honour a valid header: more than kMaxRanges specs
//    (checked before satisfiability, so it wins even for a zero-length file), or two
//    satisfiable ranges that overlap or touch once clamped. We refuse rather than coalesce so
//    the response is never larger than the file plus framing and never repeats bytes; since
//    the accepted ranges are disjoint, their total can never exceed `size`.
//  - Unsatisfiable when no spec is satisfiable: every `first` is >= size or the suffix is
//    `-0`. A zero-length representation makes every valid range set unsatisfiable.
//  - Partial otherwise, with `last` clamped to size - 1, a suffix longer than the file meaning
//    the whole file, and the unsatisfiable specs dropped. Several ranges are returned in
//    ascending order of `first` (RFC 9110 §14.6 allows any order): clients reading a
//    multipart/byteranges body can then consume the parts like a forward scan of the file.
RangeSet evaluateRange(std::string_view header, std::uint64_t size);

// If-Range (RFC 9110 §13.1.5): true when the Range header may be honoured. An entity-tag must
// equal `etag` by strong comparison (a weak tag on either side never matches, §8.8.3.2); an
// HTTP-date (any of the three formats) must equal `mtimeSec` exactly. Anything else, including
// a malformed value, is false, so the caller sends the full representation.
bool ifRangeAllows(std::string_view ifRange, std::string_view etag, std::int64_t mtimeSec);

}  // namespace epserve::http
