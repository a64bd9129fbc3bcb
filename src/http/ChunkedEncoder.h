// Writes the framing of the chunked transfer coding (RFC 9112 §7.1) into caller memory: chunk
// headers, the CRLF after chunk data and the last-chunk. Pure functions, no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace epserve::http {

// The longest chunk header: 16 hex digits of a 64-bit size, then CRLF.
inline constexpr std::size_t kMaxChunkHeader = 16 + 2;
inline constexpr std::string_view kChunkDataEnd = "\r\n";
// last-chunk with an empty trailer section, which ends the body.
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

// Writes "<size in lowercase hex>\r\n" to the front of `out`; returns the bytes written, or 0 when
// `out` is too small or `size` is 0 (a zero-size chunk would be read as the last-chunk).
std::size_t writeChunkHeader(std::uint64_t size, std::span<char> out);
// Writes the CRLF that follows chunk data; returns 2, or 0 when `out` is too small.
std::size_t writeChunkDataEnd(std::span<char> out);
// Writes kLastChunk; returns its size, or 0 when `out` is too small.
std::size_t writeLastChunk(std::span<char> out);

}  // namespace epserve::http
