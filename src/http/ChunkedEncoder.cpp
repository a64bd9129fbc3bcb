// Chunked transfer-coding framing for a body sent in pieces of known size: see ChunkedEncoder.h.
// Sizes are written without leading zeros, which every decoder handles, unlike padded forms.
#include "http/ChunkedEncoder.h"

#include <algorithm>

namespace epserve::http {

namespace {

std::size_t writeFixed(std::string_view text, std::span<char> out) {
  if (out.size() < text.size()) return 0;
  std::copy(text.begin(), text.end(), out.begin());
  return text.size();
}

}  // namespace

std::size_t writeChunkHeader(std::uint64_t size, std::span<char> out) {
  if (size == 0) return 0;
  constexpr std::string_view kDigits = "0123456789abcdef";
  std::size_t digits = 0;
  for (std::uint64_t v = size; v != 0; v >>= 4) ++digits;
  if (out.size() < digits + 2) return 0;
  std::uint64_t v = size;
  for (std::size_t i = digits; i-- > 0; v >>= 4) out[i] = kDigits[v & 0xF];
  out[digits] = '\r';
  out[digits + 1] = '\n';
  return digits + 2;
}

std::size_t writeChunkDataEnd(std::span<char> out) { return writeFixed(kChunkDataEnd, out); }

std::size_t writeLastChunk(std::span<char> out) { return writeFixed(kLastChunk, out); }

}  // namespace epserve::http
