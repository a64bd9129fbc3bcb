// Range header evaluation (RFC 9110 §14.1-14.2) and If-Range (§13.1.5). One pass over the
// header value into a fixed array; invalid input means "ignore the Range", never an error.
#include "http/Range.h"

#include <algorithm>
#include <optional>

#include "http/HttpDate.h"
#include "http/Request.h"
#include "http/Syntax.h"

namespace epserve::http {

namespace {

// 19 decimal digits are at most 9999999999999999999 < 2^64, so no overflow check is needed
// inside the loop; a longer number makes the header invalid.
constexpr std::size_t kMaxDigits = 19;

// Reads 1*DIGIT at s[i], advancing i; nullopt when there is no digit or too many.
std::optional<std::uint64_t> readNumber(std::string_view s, std::size_t& i) {
  const std::size_t start = i;
  std::uint64_t v = 0;
  while (i < s.size() && isDigitChar(static_cast<unsigned char>(s[i]))) {
    if (i - start == kMaxDigits) return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(s[i] - '0');
    ++i;
  }
  if (i == start) return std::nullopt;
  return v;
}

// etagc = %x21 / %x23-7E / obs-text (RFC 9110 §8.8.3).
constexpr bool isEtagc(unsigned char c) { return c == 0x21 || (c >= 0x23 && c != 0x7F); }

// A strong entity-tag: DQUOTE *etagc DQUOTE.
bool isStrongTag(std::string_view s) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return false;
  for (std::size_t i = 1; i + 1 < s.size(); ++i) {
    if (!isEtagc(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

}  // namespace

RangeSet evaluateRange(std::string_view header, std::uint64_t size) {
  const RangeSet ignore;  // outcome Full, no ranges
  constexpr std::string_view kUnit = "bytes";
  std::string_view v = trimOws(header);
  if (v.size() <= kUnit.size() || !equalsIgnoreCase(v.substr(0, kUnit.size()), kUnit) ||
      v[kUnit.size()] != '=') {
    return ignore;
  }
  v.remove_prefix(kUnit.size() + 1);

  RangeSet set;
  set.outcome = RangeOutcome::Partial;
  std::size_t specs = 0;
  std::size_t i = 0;
  const std::size_t n = v.size();
  while (i < n) {
    while (i < n && isOws(v[i])) ++i;
    if (i == n) break;
    if (v[i] == ',') {  // empty list element
      ++i;
      continue;
    }

    // One range-spec: suffix-range "-" suffix-length, or int-range first "-" [last].
    bool satisfiable = false;
    ByteRange r{0, 0};
    if (v[i] == '-') {
      ++i;
      std::optional<std::uint64_t> suffix = readNumber(v, i);
      if (!suffix) return ignore;
      // §14.1.2: a suffix longer than the representation selects all of it; -0 selects nothing.
      if (*suffix > 0 && size > 0) {
        satisfiable = true;
        r = {size - std::min(*suffix, size), size - 1};
      }
    } else {
      std::optional<std::uint64_t> first = readNumber(v, i);
      if (!first || i == n || v[i] != '-') return ignore;
      ++i;
      std::uint64_t last = UINT64_MAX;  // "first-" runs to the end
      if (i < n && isDigitChar(static_cast<unsigned char>(v[i]))) {
        std::optional<std::uint64_t> lastPos = readNumber(v, i);
        if (!lastPos || *lastPos < *first) return ignore;  // §14.1.1: last < first is invalid
        last = *lastPos;
      }
      if (*first < size) {
        satisfiable = true;
        r = {*first, std::min(last, size - 1)};
      }
    }

    // After a spec: OWS, then a comma or the end of the value.
    while (i < n && isOws(v[i])) ++i;
    if (i < n) {
      if (v[i] != ',') return ignore;
      ++i;
    }
    if (++specs > kMaxRanges) return ignore;
    if (satisfiable) set.ranges[set.count++] = r;
  }

  if (specs == 0) return ignore;  // "bytes=" or only empty elements: 1#range-spec not met
  if (set.count == 0) {
    set.outcome = RangeOutcome::Unsatisfiable;
    return set;
  }
  std::sort(set.ranges.begin(), set.ranges.begin() + static_cast<std::ptrdiff_t>(set.count),
            [](const ByteRange& a, const ByteRange& b) { return a.first < b.first; });
  // Sorted by first, two ranges overlap or touch exactly when one starts at or before the byte
  // after the previous one ends. last < size <= UINT64_MAX, so last + 1 cannot wrap.
  for (std::size_t k = 1; k < set.count; ++k) {
    if (set.ranges[k].first <= set.ranges[k - 1].last + 1) return ignore;
  }
  return set;
}

bool ifRangeAllows(std::string_view ifRange, std::string_view etag, std::int64_t mtimeSec) {
  std::string_view v = trimOws(ifRange);
  if (v.empty()) return false;
  if (v.front() == '"') return isStrongTag(v) && v == etag;  // our weak etag can't equal it
  if (v.size() >= 2 && v[0] == 'W' && v[1] == '/') return false;  // weak: never for ranges
  std::optional<std::time_t> date = parseHttpDate(v);
  return date && static_cast<std::int64_t>(*date) == mtimeSec;
}

}  // namespace epserve::http
