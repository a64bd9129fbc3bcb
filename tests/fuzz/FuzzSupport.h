// Helpers shared by the fuzz targets: a fatal check that names the broken invariant, and
// deterministic split points drawn from the input so a crash always reproduces from its bytes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace epserve::fuzz {

// assert() is compiled out in RelWithDebInfo; a fuzzer's checks must never be.
[[noreturn]] inline void fail(const char* file, int line, const char* what) {
  std::fprintf(stderr, "\n%s:%d: invariant broken: %s\n", file, line, what);
  std::abort();
}

#define FUZZ_CHECK(cond)                                               \
  do {                                                                 \
    if (!(cond)) ::epserve::fuzz::fail(__FILE__, __LINE__, #cond);    \
  } while (false)

// FNV-1a over the input: the seed for every choice a target makes, so that the choices mutate
// along with the bytes and the same bytes always make the same choices.
inline std::uint64_t hashBytes(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

// A small well-mixed sequence from one seed (splitmix64).
class SplitMix {
 public:
  explicit SplitMix(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform enough in [0, bound] for choosing split points.
  std::size_t upTo(std::size_t bound) {
    return static_cast<std::size_t>(next() % (static_cast<std::uint64_t>(bound) + 1));
  }

 private:
  std::uint64_t state_;
};

// `count` cut positions in [0, size], sorted and without duplicates.
inline std::vector<std::size_t> cutPoints(std::size_t size, std::size_t count, SplitMix& rng) {
  std::vector<std::size_t> cuts;
  cuts.reserve(count);
  for (std::size_t i = 0; i < count; ++i) cuts.push_back(rng.upTo(size));
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  return cuts;
}

// ASCII case-insensitive equality written here rather than taken from the code under test, so
// the oracles do not share its bugs.
inline bool asciiIEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]);
    unsigned char y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

inline bool isOws(char c) { return c == ' ' || c == '\t'; }

inline std::string_view trimOws(std::string_view v) {
  while (!v.empty() && isOws(v.front())) v.remove_prefix(1);
  while (!v.empty() && isOws(v.back())) v.remove_suffix(1);
  return v;
}

// Splits a comma list into OWS-trimmed elements, empty ones included (RFC 9110 §5.6.1). Only
// for lists whose elements cannot contain commas (tokens, numbers).
inline std::vector<std::string_view> listElements(std::string_view v) {
  std::vector<std::string_view> out;
  for (;;) {
    const std::size_t comma = v.find(',');
    out.push_back(trimOws(v.substr(0, comma)));
    if (comma == std::string_view::npos) return out;
    v.remove_prefix(comma + 1);
  }
}

}  // namespace epserve::fuzz
