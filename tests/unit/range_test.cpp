// Unit tests for Range evaluation and If-Range: every spec form, whitespace and case, invalid
// and overflowing input, satisfiability, the too-many/overlapping rules and validator matching.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "http/Range.h"

using epserve::http::evaluateRange;
using epserve::http::ifRangeAllows;
using epserve::http::kMaxRanges;
using epserve::http::RangeOutcome;
using epserve::http::RangeSet;

namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

// "Full", "Unsatisfiable" or "Partial a-b c-d ...", so a failing CHECK shows the whole result.
std::string show(const RangeSet& set) {
  switch (set.outcome) {
    case RangeOutcome::Full: return set.count == 0 ? "Full" : "Full with ranges?";
    case RangeOutcome::Unsatisfiable: return set.count == 0 ? "Unsatisfiable" : "Unsat ranges?";
    case RangeOutcome::Partial: break;
  }
  std::string s = "Partial";
  for (std::size_t i = 0; i < set.count; ++i) {
    s += ' ' + std::to_string(set.ranges[i].first) + '-' + std::to_string(set.ranges[i].last);
  }
  return s;
}

std::string eval(std::string_view header, std::uint64_t size) {
  return show(evaluateRange(header, size));
}

// "bytes=0-0,2-2,4-4,..." with `n` one-byte ranges separated by one-byte gaps.
std::string spacedRanges(std::size_t n) {
  std::string h = "bytes=";
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) h += ',';
    h += std::to_string(2 * i) + '-' + std::to_string(2 * i);
  }
  return h;
}

}  // namespace

TEST_CASE("range: no header or an empty one means the full representation") {
  CHECK(eval(std::string_view{}, 10) == "Full");
  CHECK(eval("", 10) == "Full");
}

TEST_CASE("range: the three spec forms and clamping") {
  CHECK(eval("bytes=0-4", 10) == "Partial 0-4");
  CHECK(eval("bytes=9-9", 10) == "Partial 9-9");
  CHECK(eval("bytes=5-", 10) == "Partial 5-9");
  CHECK(eval("bytes=0-", 10) == "Partial 0-9");
  CHECK(eval("bytes=-3", 10) == "Partial 7-9");
  CHECK(eval("bytes=-10", 10) == "Partial 0-9");
  CHECK(eval("bytes=-20", 10) == "Partial 0-9");  // suffix larger than the file: all of it
  CHECK(eval("bytes=0-100", 10) == "Partial 0-9");
  CHECK(eval("bytes=3-9999999999999999999", 10) == "Partial 3-9");
}

TEST_CASE("range: unit case, whitespace around commas and empty list elements") {
  CHECK(eval("BYTES=0-1", 10) == "Partial 0-1");
  CHECK(eval("Bytes=0-1", 10) == "Partial 0-1");
  CHECK(eval("bytes=0-1 , 4-5", 10) == "Partial 0-1 4-5");
  CHECK(eval("bytes=0-1\t,\t4-5", 10) == "Partial 0-1 4-5");
  CHECK(eval("bytes=0-1,,4-5", 10) == "Partial 0-1 4-5");
  CHECK(eval("bytes=0-1,", 10) == "Partial 0-1");
  CHECK(eval("bytes=,0-1", 10) == "Partial 0-1");
  CHECK(eval("  bytes=0-1  ", 10) == "Partial 0-1");
  CHECK(eval("bytes= 0-1", 10) == "Partial 0-1");
}

TEST_CASE("range: syntax errors and unknown units are ignored (Full)") {
  for (std::string_view h :
       {"items=0-1", "bytes", "bytes 0-1", "bytes =0-1", "bytes:0-1", "bytesx=0-1", "byte=0-1",
        "bytes=", "bytes=,", "bytes= , ,", "bytes=-", "bytes=--1", "bytes=1", "bytes=a-b",
        "bytes=0 -1", "bytes=0- 1", "bytes=- 1", "bytes=0-1;x", "bytes=+1-2", "bytes=0-1 2-3",
        "bytes=0x10-20", "bytes=0-1-2", "bytes=1.5-2", "bytes=0-1,x", "bytes=0-1,-"}) {
    CAPTURE(h);
    CHECK(eval(h, 10) == "Full");
  }
}

TEST_CASE("range: last before first makes the header invalid") {
  CHECK(eval("bytes=5-2", 10) == "Full");
  CHECK(eval("bytes=0-1,5-2", 10) == "Full");
  CHECK(eval("bytes=50-20", 10) == "Full");  // invalid even though unsatisfiable
  CHECK(eval("bytes=5-5", 10) == "Partial 5-5");
}

TEST_CASE("range: numbers longer than 19 digits are treated as overflow") {
  CHECK(eval("bytes=0-99999999999999999999", 10) == "Full");
  CHECK(eval("bytes=99999999999999999999-", 10) == "Full");
  CHECK(eval("bytes=-99999999999999999999", 10) == "Full");
  CHECK(eval("bytes=18446744073709551616-", 10) == "Full");
  CHECK(eval("bytes=18446744073709551615-", 10) == "Full");  // fits 64 bits, but 20 digits
  CHECK(eval("bytes=0000000000000000001-", 10) == "Partial 1-9");  // 19 digits
  CHECK(eval("bytes=00000000000000000001-", 10) == "Full");        // 20 digits
  CHECK(eval("bytes=-9999999999999999999", 10) == "Partial 0-9");
}

TEST_CASE("range: unsatisfiable specs") {
  CHECK(eval("bytes=10-", 10) == "Unsatisfiable");
  CHECK(eval("bytes=10-20", 10) == "Unsatisfiable");
  CHECK(eval("bytes=-0", 10) == "Unsatisfiable");
  CHECK(eval("bytes=-0,10-", 10) == "Unsatisfiable");
  CHECK(eval("bytes=9999999999999999999-", 10) == "Unsatisfiable");
  // Unsatisfiable specs are dropped when another one is satisfiable.
  CHECK(eval("bytes=20-30,0-1", 10) == "Partial 0-1");
  CHECK(eval("bytes=-0,2-3", 10) == "Partial 2-3");
}

TEST_CASE("range: a zero-length representation satisfies no valid range") {
  for (std::string_view h : {"bytes=0-", "bytes=0-0", "bytes=-5", "bytes=-0", "bytes=0-9,-1"}) {
    CAPTURE(h);
    CHECK(eval(h, 0) == "Unsatisfiable");
  }
  CHECK(eval("bytes=5-2", 0) == "Full");
  CHECK(eval("items=0-1", 0) == "Full");
  CHECK(eval("bytes=", 0) == "Full");
}

TEST_CASE("range: the largest sizes do not overflow") {
  CHECK(eval("bytes=-1", kMax) == "Partial 18446744073709551614-18446744073709551614");
  CHECK(eval("bytes=9999999999999999999-", kMax) ==
        "Partial 9999999999999999999-18446744073709551614");
  CHECK(eval("bytes=0-9999999999999999999", kMax) == "Partial 0-9999999999999999999");
  CHECK(eval("bytes=-9999999999999999999", kMax) ==
        "Partial 8446744073709551616-18446744073709551614");
}

TEST_CASE("range: several ranges come back in ascending order") {
  CHECK(eval("bytes=6-7,0-1,3-4", 10) == "Partial 0-1 3-4 6-7");
  CHECK(eval("bytes=-2,0-1", 10) == "Partial 0-1 8-9");
  CHECK(eval("bytes=0-4,6-", 10) == "Partial 0-4 6-9");
}

TEST_CASE("range: overlapping or adjacent ranges are refused (Full)") {
  CHECK(eval("bytes=0-5,3-8", 10) == "Full");
  CHECK(eval("bytes=0-4,5-9", 10) == "Full");   // adjacent
  CHECK(eval("bytes=5-9,0-4", 10) == "Full");   // adjacent, requested out of order
  CHECK(eval("bytes=-5,0-4", 10) == "Full");    // adjacent once the suffix is resolved
  CHECK(eval("bytes=0-9,2-3", 10) == "Full");   // contained
  CHECK(eval("bytes=1-1,1-1", 10) == "Full");   // duplicate
  CHECK(eval("bytes=0-100,5-6", 10) == "Full"); // overlap only after clamping
  CHECK(eval("bytes=0-,-1", 10) == "Full");
  CHECK(eval("bytes=0-3,5-9", 10) == "Partial 0-3 5-9");  // one byte apart is fine
}

TEST_CASE("range: at most kMaxRanges specs") {
  REQUIRE(kMaxRanges == 16);
  RangeSet set = evaluateRange(spacedRanges(16), 100);
  CHECK(set.outcome == RangeOutcome::Partial);
  REQUIRE(set.count == 16);
  for (std::size_t i = 0; i < set.count; ++i) {
    CHECK(set.ranges[i].first == 2 * i);
    CHECK(set.ranges[i].last == 2 * i);
  }
  CHECK(eval(spacedRanges(17), 100) == "Full");
  CHECK(eval(spacedRanges(17), 0) == "Full");  // the limit applies before satisfiability
  CHECK(eval(spacedRanges(17), 10) == "Full");  // even when most of them are unsatisfiable
  CHECK(eval(spacedRanges(16) + ",,,", 100).substr(0, 7) == "Partial");  // empties don't count
  CHECK(eval(spacedRanges(16) + ",200-300", 100) == "Full");
}

TEST_CASE("range: If-Range with entity-tags uses strong comparison") {
  constexpr std::string_view kTag = "\"5f5e1000.1a-1234\"";
  CHECK(ifRangeAllows(kTag, kTag, 0));
  CHECK(ifRangeAllows(" \"5f5e1000.1a-1234\" ", kTag, 0));
  CHECK_FALSE(ifRangeAllows("W/\"5f5e1000.1a-1234\"", kTag, 0));
  CHECK_FALSE(ifRangeAllows("\"5f5e1000.1a-1235\"", kTag, 0));
  CHECK_FALSE(ifRangeAllows("\"5f5e1000.1a-1234", kTag, 0));
  CHECK_FALSE(ifRangeAllows("5f5e1000.1a-1234", kTag, 0));
  CHECK_FALSE(ifRangeAllows("\"5f5e1000.1a-1234\", \"x\"", kTag, 0));  // one tag only
  CHECK_FALSE(ifRangeAllows("*", kTag, 0));
  CHECK_FALSE(ifRangeAllows("", kTag, 0));
  CHECK_FALSE(ifRangeAllows(std::string_view{}, kTag, 0));
  // A weak validator of ours never allows ranges either.
  CHECK_FALSE(ifRangeAllows("W/\"abc\"", "W/\"abc\"", 0));
  CHECK_FALSE(ifRangeAllows("\"abc\"", "W/\"abc\"", 0));
  // A value that is not a valid entity-tag is malformed even if it equals ours byte for byte.
  CHECK_FALSE(ifRangeAllows("\"a b\"", "\"a b\"", 0));
}

TEST_CASE("range: If-Range with an HTTP-date must equal the mtime exactly") {
  constexpr std::int64_t kMtime = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
  constexpr std::string_view kTag = "\"x\"";
  for (std::string_view date : {"Sun, 06 Nov 1994 08:49:37 GMT",
                                "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"}) {
    CAPTURE(date);
    CHECK(ifRangeAllows(date, kTag, kMtime));
    CHECK_FALSE(ifRangeAllows(date, kTag, kMtime + 1));  // modified since: full body
    CHECK_FALSE(ifRangeAllows(date, kTag, kMtime - 1));  // not exact: not a strong match
  }
  CHECK_FALSE(ifRangeAllows("Sun, 06 Nov 1994 08:49:37 XYZ", kTag, kMtime));
  CHECK_FALSE(ifRangeAllows("Sun, 06 Nov 1994 08:49:60 GMT", kTag, kMtime + 23));
}
