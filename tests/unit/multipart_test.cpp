// Unit tests for multipart/byteranges framing: boundary charset and determinism, exact part
// headers and closing delimiter, buffer limits, and Content-Length against a built body.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "http/Multipart.h"
#include "http/Range.h"

using epserve::http::ByteRange;
using epserve::http::closingDelimiter;
using epserve::http::evaluateRange;
using epserve::http::kBoundaryLength;
using epserve::http::makeBoundary;
using epserve::http::maxPartHeaderSize;
using epserve::http::multipartLength;
using epserve::http::partHeader;
using epserve::http::RangeOutcome;
using epserve::http::RangeSet;

namespace {

std::string boundaryOf(std::uint64_t seed) {
  char b[kBoundaryLength];
  makeBoundary(seed, b);
  return std::string(b, sizeof b);
}

std::string header(std::string_view boundary, std::string_view type, ByteRange r,
                   std::uint64_t size, bool first) {
  std::string out(maxPartHeaderSize(boundary, type), '\0');
  std::size_t n = partHeader(boundary, type, r, size, first, out.data(), out.size());
  REQUIRE(n > 0);
  out.resize(n);
  return out;
}

std::string closing(std::string_view boundary) {
  std::string out(boundary.size() + 64, '\0');
  std::size_t n = closingDelimiter(boundary, out.data(), out.size());
  REQUIRE(n > 0);
  out.resize(n);
  return out;
}

}  // namespace

TEST_CASE("multipart: boundaries are 24 alphanumerics, deterministic per seed") {
  std::set<std::string> seen;
  std::set<char> chars;
  constexpr std::uint64_t kSeeds = 10000;
  for (std::uint64_t seed = 0; seed < kSeeds; ++seed) {
    std::string b = boundaryOf(seed);
    REQUIRE(b.size() == kBoundaryLength);
    for (char c : b) {
      REQUIRE(((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')));
      chars.insert(c);
    }
    CHECK(boundaryOf(seed) == b);
    seen.insert(b);
  }
  CHECK(seen.size() == kSeeds);  // consecutive seeds give distinct boundaries
  CHECK(chars.size() == 62);     // the whole alphabet is used
  CHECK(boundaryOf(std::numeric_limits<std::uint64_t>::max()) != boundaryOf(0));
}

TEST_CASE("multipart: part header text, with and without the leading CRLF") {
  CHECK(header("B", "text/plain", {0, 4}, 10, false) ==
        "\r\n--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-4/10\r\n\r\n");
  CHECK(header("B", "text/plain", {0, 4}, 10, true) ==
        "--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-4/10\r\n\r\n");
  CHECK(header("xyz", "", {7, 9}, 10, false) ==
        "\r\n--xyz\r\nContent-Range: bytes 7-9/10\r\n\r\n");
  CHECK(closing("B") == "\r\n--B--\r\n");
}

TEST_CASE("multipart: writers refuse a short buffer and write nothing") {
  const std::string full = header("B", "text/html", {100, 199}, 1000, false);
  std::string buf(full.size() - 1, 'x');
  CHECK(partHeader("B", "text/html", {100, 199}, 1000, false, buf.data(), buf.size()) == 0);
  CHECK(buf == std::string(full.size() - 1, 'x'));
  buf.assign(full.size(), 'x');
  CHECK(partHeader("B", "text/html", {100, 199}, 1000, false, buf.data(), buf.size()) ==
        full.size());
  CHECK(buf == full);

  char small[8] = {};
  CHECK(closingDelimiter("BB", small, sizeof small) == 0);  // needs 10
  char exact[10];
  CHECK(closingDelimiter("BB", exact, sizeof exact) == 10);
  CHECK(std::string(exact, 10) == "\r\n--BB--\r\n");
}

TEST_CASE("multipart: maxPartHeaderSize bounds the widest numbers exactly") {
  const std::string b = boundaryOf(7);
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  const ByteRange widest{10000000000000000000ULL, kMax - 1};  // three 20-digit numbers
  for (std::string_view type : {"", "application/octet-stream"}) {
    CAPTURE(type);
    std::string h = header(b, type, widest, kMax, false);
    CHECK(h.size() == maxPartHeaderSize(b, type));
    CHECK(header(b, type, {0, 0}, 1, true).size() < maxPartHeaderSize(b, type));
  }
}

TEST_CASE("multipart: multipartLength equals the concatenated body for random range sets") {
  std::mt19937_64 rng(20240601);
  auto uniform = [&rng](std::uint64_t lo, std::uint64_t hi) {
    return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng);
  };
  int multiPart = 0;
  for (int iter = 0; iter < 400; ++iter) {
    const std::uint64_t size = uniform(1, 3000);
    std::string file(size, '\0');
    for (std::uint64_t i = 0; i < size; ++i) file[i] = static_cast<char>('a' + (i * 7 + iter) % 26);

    // Disjoint, non-adjacent ranges in random order and spec forms.
    std::vector<ByteRange> want;
    std::uint64_t pos = 0;
    const std::uint64_t parts = uniform(1, 8);
    while (want.size() < parts) {
      const std::uint64_t first = pos + uniform(want.empty() ? 0 : 1, 40);
      const std::uint64_t last = first + uniform(0, 60);
      if (last >= size) break;
      want.push_back({first, last});
      pos = last + 2;
    }
    if (want.empty()) continue;
    std::vector<std::string> specs;
    for (const ByteRange& r : want) {
      std::string spec = std::to_string(r.first) + '-' + std::to_string(r.last);
      if (r.last == size - 1 && uniform(0, 1) == 0) spec = '-' + std::to_string(size - r.first);
      specs.push_back(spec);
    }
    std::shuffle(specs.begin(), specs.end(), rng);
    std::string rangeHeader = "bytes=";
    for (std::size_t i = 0; i < specs.size(); ++i) rangeHeader += (i ? ", " : "") + specs[i];
    CAPTURE(rangeHeader);
    CAPTURE(size);

    const RangeSet set = evaluateRange(rangeHeader, size);
    REQUIRE(set.outcome == RangeOutcome::Partial);
    REQUIRE(set.count == want.size());

    const std::string b = boundaryOf(static_cast<std::uint64_t>(iter));
    const std::string_view type = iter % 3 == 0 ? "" : "text/plain; charset=utf-8";
    std::string body;      // what the writers produce
    std::string expected;  // the same body spelled out independently
    for (std::size_t i = 0; i < set.count; ++i) {
      const ByteRange& r = set.ranges[i];
      CHECK(r.first == want[i].first);
      CHECK(r.last == want[i].last);
      body += header(b, type, r, size, i == 0);
      body.append(file, r.first, r.last - r.first + 1);
      expected += (i == 0 ? "--" : "\r\n--") + b + "\r\n";
      if (!type.empty()) expected += "Content-Type: " + std::string(type) + "\r\n";
      expected += "Content-Range: bytes " + std::to_string(r.first) + '-' +
                  std::to_string(r.last) + '/' + std::to_string(size) + "\r\n\r\n";
      expected += file.substr(r.first, r.last - r.first + 1);
    }
    body += closing(b);
    expected += "\r\n--" + b + "--\r\n";
    CHECK(body == expected);
    CHECK(multipartLength(b, type, set, size) == body.size());
    if (set.count > 1) ++multiPart;
  }
  CHECK(multiPart > 200);  // the loop really exercised multi-part bodies
}

TEST_CASE("multipart: no ranges, no body") {
  RangeSet empty;
  CHECK(multipartLength("B", "text/plain", empty, 100) == 0);
  RangeSet one;
  one.outcome = RangeOutcome::Partial;
  one.ranges[0] = {0, 0};
  one.count = 1;
  // "--B\r\n" + "Content-Range: bytes 0-0/1\r\n\r\n" + 1 byte + "\r\n--B--\r\n"
  CHECK(multipartLength("B", "", one, 1) == 5 + 30 + 1 + 9);
}
