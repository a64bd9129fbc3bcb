// multipart/byteranges framing: boundary generation and the per-part and closing delimiters.
// Lengths are computed by the same functions the writers use, so Content-Length can't drift.
#include "http/Multipart.h"

#include <cstring>

namespace epserve::http {

namespace {

constexpr std::string_view kDelimiterStart = "\r\n--";
constexpr std::string_view kContentTypeLine = "\r\nContent-Type: ";
constexpr std::string_view kContentRangeLine = "\r\nContent-Range: bytes ";
constexpr std::string_view kHeaderEnd = "\r\n\r\n";
constexpr std::string_view kCloseEnd = "--\r\n";
constexpr std::size_t kMaxDecimalDigits = 20;  // UINT64_MAX = 18446744073709551615

constexpr std::string_view kBoundaryAlphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
static_assert(kBoundaryAlphabet.size() == 62);

// splitmix64 (Steele, Lea, Flood): a bijective mixer, so distinct consecutive seeds such as a
// request counter give well-spread, different outputs.
std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::size_t decimalDigits(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

char* putText(char* out, std::string_view s) {
  std::memcpy(out, s.data(), s.size());
  return out + s.size();
}

char* putDecimal(char* out, std::uint64_t v) {
  const std::size_t n = decimalDigits(v);
  for (std::size_t i = n; i > 0; --i) {
    out[i - 1] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return out + n;
}

// Everything in a part header except the three numbers.
std::size_t fixedHeaderLength(std::string_view boundary, std::string_view contentType,
                              bool first) {
  std::size_t n = kDelimiterStart.size() + boundary.size();
  if (first) n -= 2;  // no leading CRLF
  if (!contentType.empty()) n += kContentTypeLine.size() + contentType.size();
  return n + kContentRangeLine.size() + 2 /* '-' and '/' */ + kHeaderEnd.size();
}

std::size_t partHeaderLength(std::string_view boundary, std::string_view contentType,
                             const ByteRange& r, std::uint64_t size, bool first) {
  return fixedHeaderLength(boundary, contentType, first) + decimalDigits(r.first) +
         decimalDigits(r.last) + decimalDigits(size);
}

std::size_t closingLength(std::string_view boundary) {
  return kDelimiterStart.size() + boundary.size() + kCloseEnd.size();
}

}  // namespace

void makeBoundary(std::uint64_t seed, char (&out)[kBoundaryLength]) {
  // Ten base-62 digits per 64-bit word (62^10 < 2^64); the slight modulo bias is harmless.
  constexpr int kDigitsPerWord = 10;
  std::uint64_t state = seed;
  std::uint64_t word = 0;
  int left = 0;
  for (char& c : out) {
    if (left == 0) {
      word = splitmix64(state);
      left = kDigitsPerWord;
    }
    c = kBoundaryAlphabet[word % kBoundaryAlphabet.size()];
    word /= kBoundaryAlphabet.size();
    --left;
  }
}

std::size_t partHeader(std::string_view boundary, std::string_view contentType,
                       const ByteRange& r, std::uint64_t size, bool first, char* out,
                       std::size_t cap) {
  const std::size_t len = partHeaderLength(boundary, contentType, r, size, first);
  if (len > cap) return 0;
  char* p = out;
  p = putText(p, first ? kDelimiterStart.substr(2) : kDelimiterStart);
  p = putText(p, boundary);
  if (!contentType.empty()) {
    p = putText(p, kContentTypeLine);
    p = putText(p, contentType);
  }
  p = putText(p, kContentRangeLine);
  p = putDecimal(p, r.first);
  *p++ = '-';
  p = putDecimal(p, r.last);
  *p++ = '/';
  p = putDecimal(p, size);
  p = putText(p, kHeaderEnd);
  return static_cast<std::size_t>(p - out);
}

std::size_t maxPartHeaderSize(std::string_view boundary, std::string_view contentType) {
  return fixedHeaderLength(boundary, contentType, /*first=*/false) + 3 * kMaxDecimalDigits;
}

std::size_t closingDelimiter(std::string_view boundary, char* out, std::size_t cap) {
  const std::size_t len = closingLength(boundary);
  if (len > cap) return 0;
  char* p = putText(out, kDelimiterStart);
  p = putText(p, boundary);
  p = putText(p, kCloseEnd);
  return static_cast<std::size_t>(p - out);
}

std::uint64_t multipartLength(std::string_view boundary, std::string_view contentType,
                              const RangeSet& set, std::uint64_t size) {
  if (set.count == 0) return 0;
  std::uint64_t total = closingLength(boundary);
  for (std::size_t i = 0; i < set.count; ++i) {
    const ByteRange& r = set.ranges[i];
    total += partHeaderLength(boundary, contentType, r, size, i == 0);
    total += r.last - r.first + 1;
  }
  return total;
}

}  // namespace epserve::http
