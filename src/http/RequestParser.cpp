// HTTP/1.x request-head parser (RFC 9112 §2-§6, RFC 9110 §5, §7.2, §8.6, §10.1.1): one forward
// pass over the bytes with character-class tables, then the header semantics once the head ends.
#include "http/RequestParser.h"

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

#include "http/Syntax.h"
#include "http/FieldSemantics.h"

namespace epserve::http {

namespace {

// The parser is stateless and re-run over the whole head after every read, so each rule is
// decided by the first byte that breaks it and by nothing after that byte. That makes the result
// for a prefix either Incomplete or the final answer, whichever way the bytes arrive.

// RFC 9112 §2.2 allows ignoring "at least one" empty line before the request line (clients that
// add CRLF after a POST body); a few more are tolerated, an endless stream is not.
constexpr unsigned kMaxLeadingEmptyLines = 4;


// Scans [i, end) while bytes are in `cls`; returns the first index that is not (or `end`).
// Four table lookups per bound check: most tokens and targets are a few dozen bytes.
inline std::size_t scanClass(const unsigned char* s, std::size_t i, std::size_t end,
                             CharClass cls) {
  while (i + 4 <= end && has(s[i], cls) && has(s[i + 1], cls) && has(s[i + 2], cls) &&
         has(s[i + 3], cls)) {
    i += 4;
  }
  while (i < end && has(s[i], cls)) ++i;
  return i;
}

// Scans a field value from i up to `end`: returns the index of the first byte that is not
// SP, HTAB, VCHAR or obs-text. Values are the bulk of a head, so this goes eight bytes at a
// time: a word's bytes below 0x20 or equal to DEL are flagged with the usual SWAR tricks, and
// the lowest flag is exact (a borrow only runs upward), so its position is the stop byte unless
// that byte is HTAB, which is allowed and skipped.
inline std::size_t scanFieldValue(const unsigned char* s, std::size_t i, std::size_t end) {
  if constexpr (std::endian::native == std::endian::little) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
    while (i + 8 <= end) {
      std::uint64_t x;
      std::memcpy(&x, s + i, sizeof x);
      const std::uint64_t del = x ^ (kOnes * 0x7F);
      const std::uint64_t flags =
          (((x - kOnes * 0x20) & ~x) | ((del - kOnes) & ~del)) & kHigh;
      if (flags == 0) {
        i += 8;
        continue;
      }
      i += static_cast<std::size_t>(std::countr_zero(flags)) / 8;
      if (s[i] != '\t') return i;
      ++i;
    }
  }
  return scanClass(s, i, end, kFieldVchar);
}

Method methodFromToken(std::string_view m) {
  // Methods are case-sensitive (RFC 9110 §9.1): "get" is some other method.
  switch (m.size()) {
    case 3:
      if (m == "GET") return Method::Get;
      if (m == "PUT") return Method::Put;
      break;
    case 4:
      if (m == "HEAD") return Method::Head;
      if (m == "POST") return Method::Post;
      break;
    case 5:
      if (m == "PATCH") return Method::Patch;
      break;
    case 6:
      if (m == "DELETE") return Method::Delete;
      break;
    case 7:
      if (m == "OPTIONS") return Method::Options;
      break;
    default:
      break;
  }
  return Method::Other;
}

bool schemeIs(std::string_view target, std::string_view scheme) {
  return target.size() >= scheme.size() && equalsIgnoreCase(target.substr(0, scheme.size()),
                                                            scheme);
}

// Splits an absolute-form target (RFC 9112 §3.2.2) into authority and path. Only http and
// https are ours to serve; userinfo is an error (RFC 9110 §4.2.4), an empty host too (§4.2.1).
bool splitAbsoluteForm(std::string_view target, std::string_view& authority,
                       std::string_view& path) {
  std::size_t start;
  if (schemeIs(target, "http://")) {
    start = 7;
  } else if (schemeIs(target, "https://")) {
    start = 8;
  } else {
    return false;
  }
  std::size_t end = start;
  while (end < target.size() && target[end] != '/' && target[end] != '?') ++end;
  authority = target.substr(start, end - start);
  bool hostEmpty = true;
  if (!validHostPort(authority, hostEmpty) || hostEmpty) return false;
  // "http://h" and "http://h?q" both mean the root; the query alone cannot be expressed as a view
  // starting with '/', and a static server has no use for it, so it is dropped.
  path = (end < target.size() && target[end] == '/') ? target.substr(end) : std::string_view("/");
  return true;
}

ParseResult incomplete() { return {ParseStatus::Incomplete, 0, Status::BadRequest}; }
ParseResult failure(Status s) { return {ParseStatus::Error, 0, s}; }

}  // namespace

ParseResult parseRequest(std::string_view input, Request& out, const ParseLimits& limits) {
  const auto* s = reinterpret_cast<const unsigned char*>(input.data());
  const std::size_t n = input.size();
  std::size_t i = 0;

  out.headerCount = 0;
  out.host = {};
  out.keepAlive = true;
  out.expectContinue = false;
  out.unsupportedExpect = false;
  out.framing = BodyFraming::None;
  out.contentLength = 0;
  out.hasConditionals = false;
  out.hasRange = false;

  // Empty lines before the request line (RFC 9112 §2.2).
  for (unsigned empty = 0;; ++empty) {
    if (i >= n) return incomplete();
    std::size_t eol;
    if (s[i] == '\n') {
      eol = 1;
    } else if (s[i] == '\r') {
      if (i + 1 >= n) return incomplete();
      if (s[i + 1] != '\n') return failure(Status::BadRequest);
      eol = 2;
    } else {
      break;
    }
    if (empty == kMaxLeadingEmptyLines) return failure(Status::BadRequest);
    i += eol;
  }

  // Request line (RFC 9112 §3). Bytes of the line before its CR/LF may occupy [lineStart, lim);
  // a scan that reaches `lim` with input left over found a line that is too long, unless the byte
  // there ends the line, which the grammar below then judges.
  const std::size_t lineStart = i;
  const std::size_t lim =
      limits.maxRequestLine < n - lineStart ? lineStart + limits.maxRequestLine : n;
  auto lineStop = [&](std::size_t j, ParseResult& r) {
    if (j < lim) return false;
    if (j >= n) {
      r = incomplete();
      return true;
    }
    if (s[j] != '\r' && s[j] != '\n') {
      r = failure(Status::UriTooLong);
      return true;
    }
    return false;
  };
  ParseResult stop;

  // method = token, then exactly one SP.
  std::size_t j = scanClass(s, lineStart, lim, kTchar);
  if (lineStop(j, stop)) return stop;
  if (s[j] != ' ' || j == lineStart) return failure(Status::BadRequest);
  const std::string_view method(input.data() + lineStart, j - lineStart);

  // request-target: origin-form "/...", absolute-form "scheme://...", or "*" (RFC 9112 §3.2).
  const std::size_t targetStart = ++j;
  if (j < lim && s[j] != '/' && s[j] != '*' && !isAlpha(s[j])) {
    return failure(Status::BadRequest);
  }
  j = scanClass(s, j, lim, kTarget);
  if (lineStop(j, stop)) return stop;
  if (s[j] != ' ' || j == targetStart) return failure(Status::BadRequest);
  const std::string_view target(input.data() + targetStart, j - targetStart);

  out.method = methodFromToken(method);
  out.methodText = method;
  out.target = target;
  bool absoluteForm = false;
  if (target[0] == '/') {
    out.path = target;
  } else if (target == "*") {
    if (out.method != Method::Options) return failure(Status::BadRequest);  // RFC 9112 §3.2.4
    out.path = target;
  } else {
    // Anything else that starts with a letter must be an http(s) absolute-form; authority-form
    // belongs to CONNECT, which a static server does not do.
    std::string_view authority;
    std::string_view path;
    if (!splitAbsoluteForm(target, authority, path)) return failure(Status::BadRequest);
    out.host = authority;
    out.path = path;
    absoluteForm = true;
  }

  // HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 §2.3), then the line end.
  const std::size_t versionStart = ++j;
  static constexpr char kVersionShape[] = "HTTP/0.0";
  for (; j < versionStart + 8; ++j) {
    if (lineStop(j, stop)) return stop;
    const char want = kVersionShape[j - versionStart];
    const bool ok = want == '0' ? isDigitChar(s[j]) : s[j] == static_cast<unsigned char>(want);
    if (!ok) return failure(Status::BadRequest);
  }
  if (lineStop(j, stop)) return stop;
  if (s[j] == '\r') {
    if (j + 1 >= n) return incomplete();
    if (s[j + 1] != '\n') return failure(Status::BadRequest);
    j += 2;
  } else if (s[j] == '\n') {
    j += 1;
  } else {
    return failure(Status::BadRequest);
  }
  const unsigned char major = s[versionStart + 5];
  const unsigned char minor = s[versionStart + 7];
  if (major != '1' || (minor != '0' && minor != '1')) return failure(Status::VersionNotSupported);
  out.versionMinor = minor - '0';

  // Header section (RFC 9112 §5): every byte of it, the final empty line included, counts
  // against maxHeaderBytes, so any byte needed at or past `hlim` with input left is a 431.
  const std::size_t headerStart = j;
  const std::size_t hlim =
      limits.maxHeaderBytes < n - headerStart ? headerStart + limits.maxHeaderBytes : n;
  auto headerStop = [&](std::size_t k) {
    return k >= n ? incomplete() : failure(Status::HeaderFieldsTooLarge);
  };
  const std::size_t maxCount =
      limits.maxHeaderCount < kMaxHeaders ? limits.maxHeaderCount : kMaxHeaders;
  std::size_t count = 0;
  i = headerStart;
  for (;;) {
    if (i >= hlim) return headerStop(i);
    if (s[i] == '\r') {
      if (i + 1 >= hlim) return headerStop(i + 1);
      if (s[i + 1] != '\n') return failure(Status::BadRequest);
      i += 2;
      break;
    }
    if (s[i] == '\n') {
      i += 1;
      break;
    }
    // A line starting with whitespace is obs-fold, or whitespace before the first field; both
    // are rejected (RFC 9112 §5.2, §2.2).
    if (isOws(static_cast<char>(s[i]))) return failure(Status::BadRequest);
    if (count == maxCount) return failure(Status::HeaderFieldsTooLarge);

    // field-name = token, directly followed by ':' (no whitespace: RFC 9112 §5.1).
    const std::size_t nameStart = i;
    i = scanClass(s, i, hlim, kTchar);
    if (i >= hlim) return headerStop(i);
    if (s[i] != ':' || i == nameStart) return failure(Status::BadRequest);
    const std::size_t nameEnd = i++;

    while (i < hlim && isOws(static_cast<char>(s[i]))) ++i;
    const std::size_t valueStart = i;
    i = scanFieldValue(s, i, hlim);
    if (i >= hlim) return headerStop(i);
    std::size_t valueEnd = i;
    if (s[i] == '\r') {
      if (i + 1 >= hlim) return headerStop(i + 1);
      if (s[i + 1] != '\n') return failure(Status::BadRequest);
      i += 2;
    } else if (s[i] == '\n') {
      i += 1;
    } else {
      return failure(Status::BadRequest);  // a CTL (NUL, DEL, ...) in the value
    }
    while (valueEnd > valueStart && isOws(static_cast<char>(s[valueEnd - 1]))) --valueEnd;

    Header& h = out.headers[count++];
    h.name = std::string_view(input.data() + nameStart, nameEnd - nameStart);
    h.value = std::string_view(input.data() + valueStart, valueEnd - valueStart);
  }
  out.headerCount = count;

  const Status semantic = applyFieldSemantics(out, absoluteForm);
  if (semantic != Status::Ok) return failure(semantic);
  return {ParseStatus::Complete, i, Status::BadRequest};
}

}  // namespace epserve::http
