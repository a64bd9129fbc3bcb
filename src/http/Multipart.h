// multipart/byteranges framing (RFC 9110 §14.6, RFC 2046 §5.1.1): the boundary, the header in
// front of each part, the closing delimiter and the exact Content-Length of the whole body.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/Range.h"

namespace epserve::http {

inline constexpr std::size_t kBoundaryLength = 24;

// Writes a boundary of kBoundaryLength characters from [0-9a-zA-Z] derived from `seed` (the
// caller passes something like a counter mixed with the file's inode/mtime). Deterministic for
// a seed; neighbouring seeds give unrelated boundaries. The boundary must not occur in the
// file (RFC 2046 §5.1.1): 24 base-62 characters make an accidental match negligible.
void makeBoundary(std::uint64_t seed, char (&out)[kBoundaryLength]);

// Writes the header preceding the part for range `r` of a `size`-byte representation:
//   "\r\n--B\r\nContent-Type: T\r\nContent-Range: bytes a-b/size\r\n\r\n"
// For the first part (`first` true) the leading CRLF is omitted: the body starts directly with
// the dash-boundary, as in RFC 2046's grammar; every later part's CRLF ends the previous part's
// data. The Content-Type line is omitted when `contentType` is empty (§14.6 only repeats a type
// the whole representation would have had). Returns the bytes written, or 0 (writing nothing)
// when `cap` is too small.
std::size_t partHeader(std::string_view boundary, std::string_view contentType,
                       const ByteRange& r, std::uint64_t size, bool first, char* out,
                       std::size_t cap);

// An upper bound on partHeader's result for any range, size and `first` value: a buffer of
// this size never makes partHeader fail.
std::size_t maxPartHeaderSize(std::string_view boundary, std::string_view contentType);

// Writes the closing delimiter "\r\n--B--\r\n" that follows the last part's data. Returns the
// bytes written, or 0 (writing nothing) when `cap` is too small.
std::size_t closingDelimiter(std::string_view boundary, char* out, std::size_t cap);

// Exact Content-Length of the whole multipart body for the ranges of `set`: every partHeader
// (the first without its leading CRLF), every range's bytes and the closing delimiter.
// 0 when set.count is 0, since there is then no multipart body to send.
std::uint64_t multipartLength(std::string_view boundary, std::string_view contentType,
                              const RangeSet& set, std::uint64_t size);

}  // namespace epserve::http
