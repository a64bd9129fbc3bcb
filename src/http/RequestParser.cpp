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

// Why a request is refused, one sentence each: what was wrong and, since a person typing
// into telnet is a likely sender of these, how to write it instead. No request bytes.
constexpr std::string_view kNoRequestLine =
    "The request must start with a request line such as GET /index.html HTTP/1.1.";
constexpr std::string_view kBadRequestLine =
    "The request line must be a method, one space, the target, one space and the version, "
    "as in GET /index.html HTTP/1.1 (a space inside the target is written %20).";
constexpr std::string_view kBadTarget =
    "The request target must be a path starting with / (or an http:// URL), with spaces and "
    "other unsafe characters percent-encoded.";
constexpr std::string_view kAsteriskTarget = "The target * is only valid with OPTIONS.";
constexpr std::string_view kBadVersion =
    "The request line must end with the version in capitals, HTTP/1.1 (or HTTP/1.0).";
constexpr std::string_view kBadLineEnd =
    "Each line must end with CR LF (or LF alone); a CR must be followed by LF.";
constexpr std::string_view kLineTooLong =
    "The request line is longer than this server accepts; shorten the target.";
constexpr std::string_view kVersionUnsupported =
    "This server speaks HTTP/1.1 and HTTP/1.0: end the request line with HTTP/1.1.";
constexpr std::string_view kFolded =
    "A header line must not start with a space or tab (folded header lines are not accepted).";
constexpr std::string_view kBadField =
    "Each header line must be Name: value, with no space before the colon.";
constexpr std::string_view kControlInValue = "A header value contains a control character.";
constexpr std::string_view kHeadersTooLarge =
    "The header fields are larger than this server accepts; send fewer or shorter ones.";
constexpr std::string_view kTooManyFields =
    "The request has more header fields than this server accepts; send fewer.";

ParseResult incomplete() { return {ParseStatus::Incomplete, 0, Status::BadRequest, {}}; }
ParseResult failure(Status s, std::string_view reason) {
  return {ParseStatus::Error, 0, s, reason};
}

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
      if (s[i + 1] != '\n') return failure(Status::BadRequest, kNoRequestLine);
      eol = 2;
    } else {
      break;
    }
    if (empty == kMaxLeadingEmptyLines) return failure(Status::BadRequest, kNoRequestLine);
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
      r = failure(Status::UriTooLong, kLineTooLong);
      return true;
    }
    return false;
  };
  ParseResult stop;

  // method = token, then exactly one SP.
  std::size_t j = scanClass(s, lineStart, lim, kTchar);
  if (lineStop(j, stop)) return stop;
  if (s[j] != ' ' || j == lineStart) return failure(Status::BadRequest, kBadRequestLine);
  const std::string_view method(input.data() + lineStart, j - lineStart);

  // request-target: origin-form "/...", absolute-form "scheme://...", or "*" (RFC 9112 §3.2).
  const std::size_t targetStart = ++j;
  if (j < lim && s[j] != '/' && s[j] != '*' && !isAlpha(s[j])) {
    return failure(Status::BadRequest, s[j] == ' ' ? kBadRequestLine : kBadTarget);
  }
  j = scanClass(s, j, lim, kTarget);
  if (lineStop(j, stop)) return stop;
  if (j == targetStart) return failure(Status::BadRequest, kBadRequestLine);
  if (s[j] != ' ') {
    return failure(Status::BadRequest,
                   s[j] == '\r' || s[j] == '\n' ? kBadRequestLine : kBadTarget);
  }
  const std::string_view target(input.data() + targetStart, j - targetStart);

  out.method = methodFromToken(method);
  out.methodText = method;
  out.target = target;
  bool absoluteForm = false;
  if (target[0] == '/') {
    out.path = target;
  } else if (target == "*") {
    if (out.method != Method::Options) {
      return failure(Status::BadRequest, kAsteriskTarget);  // RFC 9112 §3.2.4
    }
    out.path = target;
  } else {
    // Anything else that starts with a letter must be an http(s) absolute-form; authority-form
    // belongs to CONNECT, which a static server does not do.
    std::string_view authority;
    std::string_view path;
    if (!splitAbsoluteForm(target, authority, path)) {
      return failure(Status::BadRequest, kBadTarget);
    }
    out.host = authority;
    out.path = path;
    absoluteForm = true;
  }

  // HTTP-version (Syntax.h, shared with the status line), then the line end.
  const std::size_t versionStart = ++j;
  for (; j < versionStart + kHttpVersionLength; ++j) {
    if (lineStop(j, stop)) return stop;
    if (!isHttpVersionByte(j - versionStart, s[j])) {
      // Not even the start of a version: more words on the line, most likely.
      const bool word = j == versionStart && s[j] != 'h';
      return failure(Status::BadRequest, word ? kBadRequestLine : kBadVersion);
    }
  }
  if (lineStop(j, stop)) return stop;
  if (s[j] == '\r') {
    if (j + 1 >= n) return incomplete();
    if (s[j + 1] != '\n') return failure(Status::BadRequest, kBadLineEnd);
    j += 2;
  } else if (s[j] == '\n') {
    j += 1;
  } else {
    return failure(Status::BadRequest, s[j] == ' ' ? kBadRequestLine : kBadVersion);
  }
  // HTTP/1.2..1.9 are served as 1.1; HTTP/0.x and 2.0 and later are not HTTP/1 at all.
  const int minor = http1Minor(input.substr(versionStart, kHttpVersionLength));
  if (minor < 0) return failure(Status::VersionNotSupported, kVersionUnsupported);
  out.versionMinor = minor;

  // Header section (RFC 9112 §5): every byte of it, the final empty line included, counts
  // against maxHeaderBytes, so any byte needed at or past `hlim` with input left is a 431.
  const std::size_t headerStart = j;
  const std::size_t hlim =
      limits.maxHeaderBytes < n - headerStart ? headerStart + limits.maxHeaderBytes : n;
  auto headerStop = [&](std::size_t k) {
    return k >= n ? incomplete() : failure(Status::HeaderFieldsTooLarge, kHeadersTooLarge);
  };
  const std::size_t maxCount =
      limits.maxHeaderCount < kMaxHeaders ? limits.maxHeaderCount : kMaxHeaders;
  std::size_t count = 0;
  i = headerStart;
  for (;;) {
    if (i >= hlim) return headerStop(i);
    if (s[i] == '\r') {
      if (i + 1 >= hlim) return headerStop(i + 1);
      if (s[i + 1] != '\n') return failure(Status::BadRequest, kBadLineEnd);
      i += 2;
      break;
    }
    if (s[i] == '\n') {
      i += 1;
      break;
    }
    // A line starting with whitespace is obs-fold, or whitespace before the first field; both
    // are rejected (RFC 9112 §5.2, §2.2).
    if (isOws(static_cast<char>(s[i]))) return failure(Status::BadRequest, kFolded);
    if (count == maxCount) return failure(Status::HeaderFieldsTooLarge, kTooManyFields);

    // field-name = token, directly followed by ':' (no whitespace: RFC 9112 §5.1).
    const std::size_t nameStart = i;
    i = scanClass(s, i, hlim, kTchar);
    if (i >= hlim) return headerStop(i);
    if (s[i] != ':' || i == nameStart) return failure(Status::BadRequest, kBadField);
    const std::size_t nameEnd = i++;

    while (i < hlim && isOws(static_cast<char>(s[i]))) ++i;
    const std::size_t valueStart = i;
    i = scanFieldValue(s, i, hlim);
    if (i >= hlim) return headerStop(i);
    std::size_t valueEnd = i;
    if (s[i] == '\r') {
      if (i + 1 >= hlim) return headerStop(i + 1);
      if (s[i + 1] != '\n') return failure(Status::BadRequest, kControlInValue);
      i += 2;
    } else if (s[i] == '\n') {
      i += 1;
    } else {
      return failure(Status::BadRequest, kControlInValue);  // a CTL (NUL, DEL, ...) in the value
    }
    while (valueEnd > valueStart && isOws(static_cast<char>(s[valueEnd - 1]))) --valueEnd;

    Header& h = out.headers[count++];
    h.name = std::string_view(input.data() + nameStart, nameEnd - nameStart);
    h.value = std::string_view(input.data() + valueStart, valueEnd - valueStart);
  }
  out.headerCount = count;

  std::string_view why;
  const Status semantic = applyFieldSemantics(out, absoluteForm, why);
  if (semantic != Status::Ok) return failure(semantic, why);
  return {ParseStatus::Complete, i, Status::BadRequest, {}};
}

}  // namespace epserve::http
