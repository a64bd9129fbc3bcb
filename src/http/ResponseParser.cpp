// HTTP/1.x response-head parser (RFC 9112 §2-§7, RFC 9110 §5, §8.6, §15) for epserve-get and for
// upstream responses: one forward pass with a character-class table, then the §6.3 framing rules.
#include "http/ResponseParser.h"

#include "http/MessageFraming.h"

namespace epserve::http {

namespace {

// Like parseRequest, this is re-run over the whole head after every read, so each rule is
// decided by the first byte that breaks it: a prefix of any input gives either Incomplete or
// the answer the whole input gives.

constexpr std::string_view kBadStatusLine = "malformed status line";
constexpr std::string_view kBadField = "malformed header field";
constexpr std::string_view kHeaderTooLarge = "header section too large";

// First index in [i, end) whose byte is not in `cls`, or `end`.
inline std::size_t scan(const unsigned char* s, std::size_t i, std::size_t end, CharClass cls) {
  while (i < end && has(s[i], cls)) ++i;
  return i;
}

// The line end at s[i], within [0, end): 2 for CRLF, 1 for a bare LF (accepted as in RFC 9112
// §2.2), 0 if the bytes stop before it is decided, -1 if s[i] starts no line end.
inline int lineEndAt(const unsigned char* s, std::size_t i, std::size_t end) {
  if (i >= end) return 0;
  if (s[i] == '\n') return 1;
  if (s[i] != '\r') return -1;
  if (i + 1 >= end) return 0;
  return s[i + 1] == '\n' ? 2 : -1;
}

ResponseParseResult incomplete() { return {ParseStatus::Incomplete, 0, {}}; }
ResponseParseResult failure(std::string_view why) { return {ParseStatus::Error, 0, why}; }

// Connection, Content-Length and Transfer-Encoding, then the body length by RFC 9112 §6.3.
// Returns an empty view, or why the framing is unusable (the response must then be discarded
// and the connection closed, §6.3 rule 5).
std::string_view applyFraming(ParsedResponse& r, bool headRequest) {
  FramingFields f;  // read by the same grammar as a request's (MessageFraming.h)
  for (std::size_t h = 0; h < r.headerCount; ++h) {
    const std::string_view name = r.headers[h].name;
    const std::string_view value = r.headers[h].value;
    if (equalsIgnoreCase(name, "connection")) {
      readConnection(value, f);
    } else if (equalsIgnoreCase(name, "content-length")) {
      readContentLength(value, f);
    } else if (equalsIgnoreCase(name, "transfer-encoding")) {
      readTransferEncoding(value, f);
    }
  }

  switch (f.lengthError) {
    case FramingFields::LengthError::Invalid: return "invalid Content-Length";
    case FramingFields::LengthError::Conflicting: return "conflicting Content-Length values";
    case FramingFields::LengthError::None: break;
  }
  if (f.hasCoding) {
    if (f.badCoding || f.codings == 0) return "invalid Transfer-Encoding";
    // HTTP/1.0 has no transfer codings: its framing is faulty (RFC 9112 §6.1).
    if (r.versionMinor == 0) return "Transfer-Encoding in an HTTP/1.0 response";
    // Both at once is how responses are split or smuggled (§6.3 rule 3).
    if (f.hasLength) return "both Content-Length and Transfer-Encoding";
    // chunked is applied once, and last (§6.1, §7).
    if (f.chunkedCount > 1 || (f.chunkedCount == 1 && !f.lastIsChunked)) {
      return "chunked is not the final transfer coding";
    }
  }

  // Persistence (RFC 9112 §9.3): 1.1 unless "close"; 1.0 only with "keep-alive".
  r.keepAlive = r.versionMinor >= 1 ? !f.close : (f.keepAlive && !f.close);
  if (headRequest || r.status < 200 || r.status == 204 || r.status == 304) {
    r.framing = ResponseFraming::None;
  } else if (f.hasCoding) {
    r.framing = f.lastIsChunked ? ResponseFraming::Chunked : ResponseFraming::UntilClose;
  } else if (f.hasLength) {
    r.framing = ResponseFraming::ContentLength;
    r.contentLength = f.length;
  } else {
    r.framing = ResponseFraming::UntilClose;
  }
  if (r.framing == ResponseFraming::UntilClose) r.keepAlive = false;
  return {};
}

}  // namespace

std::string_view ParsedResponse::find(std::string_view name) const {
  for (std::size_t i = 0; i < headerCount; ++i) {
    if (equalsIgnoreCase(headers[i].name, name)) return headers[i].value;
  }
  return {};
}

ResponseParseResult parseResponse(std::string_view input, bool headRequest, ParsedResponse& out,
                                  const ResponseLimits& limits) {
  const auto* s = reinterpret_cast<const unsigned char*>(input.data());
  const std::size_t n = input.size();
  out.versionMinor = 1;
  out.status = 0;
  out.reason = {};
  out.statusLine = {};
  out.headerCount = 0;
  out.framing = ResponseFraming::None;
  out.contentLength = 0;
  out.keepAlive = false;

  // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4). The version
  // is read by the request line's grammar (Syntax.h): HTTP/1.2..1.9 are handled as 1.1. The 13
  // bytes up to the reason have a fixed shape ('#' is any digit).
  constexpr std::string_view kShape = "HTTP/#.# ### ";
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    if (i >= n) return incomplete();
    const bool ok = i < kHttpVersionLength ? isHttpVersionByte(i, s[i])
                    : kShape[i] == '#'     ? isDigitChar(s[i])
                                           : s[i] == static_cast<unsigned char>(kShape[i]);
    if (!ok) return failure(kBadStatusLine);
    if (i + 1 == kHttpVersionLength) {
      const int minor = http1Minor(input.substr(0, kHttpVersionLength));
      // "HTTP/2.0" is a well-formed version, just not one this parser speaks.
      if (minor < 0) return failure("unsupported HTTP version");
      out.versionMinor = minor;
    }
  }
  out.status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
  // Valid codes are 100..599 (RFC 9110 §15); anything else cannot be classified.
  if (out.status < 100 || out.status > 599) return failure("invalid status code");

  // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ): any CTL ends it, and only a line end
  // may. A line longer than maxStatusLine is an error as soon as its next byte is seen.
  const std::size_t lineMax = std::max(limits.maxStatusLine, kShape.size());
  const std::size_t lim = std::min(n, lineMax);
  const std::size_t lineEnd = scan(s, kShape.size(), lim, kFieldVchar);
  if (lineEnd >= n) return incomplete();
  if (lineEnd == lim && s[lineEnd] != '\r' && s[lineEnd] != '\n') {
    return failure("status line too long");
  }
  const int statusEol = lineEndAt(s, lineEnd, n);
  if (statusEol == 0) return incomplete();
  if (statusEol < 0) return failure(kBadStatusLine);
  out.reason = input.substr(kShape.size(), lineEnd - kShape.size());
  out.statusLine = input.substr(0, lineEnd);

  // Header section (RFC 9112 §5): all of it, the final empty line included, counts against
  // maxHeaderBytes, so a byte needed at or past `hlim` with input left over is an error.
  const std::size_t headerStart = lineEnd + static_cast<std::size_t>(statusEol);
  const std::size_t hlim =
      limits.maxHeaderBytes < n - headerStart ? headerStart + limits.maxHeaderBytes : n;
  auto stopAt = [&](std::size_t k) { return k >= n ? incomplete() : failure(kHeaderTooLarge); };
  const std::size_t maxCount = std::min(limits.maxHeaderCount, kMaxHeaders);
  std::size_t count = 0;
  std::size_t i = headerStart;
  for (;;) {
    if (i >= hlim) return stopAt(i);
    if (s[i] == '\r' || s[i] == '\n') {
      const int eol = lineEndAt(s, i, hlim);
      if (eol == 0) return stopAt(i + 1);
      if (eol < 0) return failure(kBadField);
      i += static_cast<std::size_t>(eol);
      break;
    }
    // Whitespace at the start of a line is obs-fold, or whitespace before the first field;
    // both are rejected rather than unfolded, since views cannot splice (RFC 9112 §5.2, §2.2).
    if (isOws(s[i])) {
      return failure(count == 0 ? "whitespace before the first header field"
                                : "obsolete line folding");
    }
    if (count == maxCount) return failure("too many header fields");

    // field-name = token, directly followed by ':' (RFC 9112 §5.1).
    const std::size_t nameStart = i;
    i = scan(s, i, hlim, kTchar);
    if (i >= hlim) return stopAt(i);
    if (s[i] != ':' || i == nameStart) return failure(kBadField);
    const std::size_t nameEnd = i++;

    while (i < hlim && isOws(s[i])) ++i;
    const std::size_t valueStart = i;
    i = scan(s, i, hlim, kFieldVchar);
    if (i >= hlim) return stopAt(i);
    std::size_t valueEnd = i;
    const int eol = lineEndAt(s, i, hlim);
    if (eol == 0) return stopAt(i + 1);
    if (eol < 0) return failure(kBadField);  // a CTL (NUL, DEL, lone CR) in the value
    i += static_cast<std::size_t>(eol);
    while (valueEnd > valueStart && isOws(s[valueEnd - 1])) --valueEnd;

    Header& h = out.headers[count++];
    h.name = input.substr(nameStart, nameEnd - nameStart);
    h.value = input.substr(valueStart, valueEnd - valueStart);
  }
  out.headerCount = count;

  const std::string_view framingError = applyFraming(out, headRequest);
  if (!framingError.empty()) return failure(framingError);
  return {ParseStatus::Complete, i, {}};
}

}  // namespace epserve::http
