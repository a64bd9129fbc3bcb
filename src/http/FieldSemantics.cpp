// Header-field semantics of a complete request head: see FieldSemantics.h.
#include "http/FieldSemantics.h"

#include <cstdint>

#include "http/MessageFraming.h"
#include "http/Syntax.h"

namespace epserve::http {

bool validHostPort(std::string_view v, bool& hostEmpty) {
  std::size_t i = 0;
  const std::size_t n = v.size();
  if (n > 0 && v[0] == '[') {
    // IP-literal: IPv6address (hex, ':' and '.' for an embedded IPv4) or IPvFuture
    // ("v" HEXDIG+ "." (unreserved / sub-delims / ":")+), checked by character set only.
    const std::size_t close = v.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    const std::string_view lit = v.substr(1, close - 1);
    const bool future = lit[0] == 'v' || lit[0] == 'V';
    for (char ch : lit) {
      const auto c = static_cast<unsigned char>(ch);
      const bool ok = future ? (has(c, kRegName) || c == ':') : (has(c, kHexDigit) || c == ':' ||
                                                                 c == '.');
      if (!ok) return false;
    }
    i = close + 1;
    hostEmpty = false;
  } else {
    // reg-name (an IPv4address is one too): unreserved / pct-encoded / sub-delims.
    while (i < n && v[i] != ':') {
      const auto c = static_cast<unsigned char>(v[i]);
      if (c == '%') {
        if (i + 2 >= n || !has(static_cast<unsigned char>(v[i + 1]), kHexDigit) ||
            !has(static_cast<unsigned char>(v[i + 2]), kHexDigit)) {
          return false;
        }
        i += 3;
      } else if (has(c, kRegName)) {
        ++i;
      } else {
        return false;
      }
    }
    hostEmpty = i == 0;
  }
  if (i == n) return true;
  if (v[i] != ':') return false;
  for (++i; i < n; ++i) {  // port = *DIGIT
    if (!isDigitChar(static_cast<unsigned char>(v[i]))) return false;
  }
  return true;
}

// Semantics of the fields, once the head is complete (RFC 9112 §3.2, §6, §9.3; RFC 9110 §10.1.1).
// All 400s are decided before the 501, so a 501 means the request was otherwise well-formed.
Status applyFieldSemantics(Request& r, bool absoluteForm, std::string_view& reason) {
  std::size_t hostCount = 0;
  std::string_view hostValue;
  FramingFields framing;  // Connection, Content-Length, Transfer-Encoding: MessageFraming.h
  bool expectContinue = false;
  bool unsupportedExpect = false;

  for (std::size_t h = 0; h < r.headerCount; ++h) {
    const std::string_view name = r.headers[h].name;
    const std::string_view value = r.headers[h].value;
    // Cheap markers so the handler can skip header scans that would find nothing.
    if (name.size() > 3 && (name[0] | 0x20) == 'i' && (name[1] | 0x20) == 'f' && name[2] == '-') {
      r.hasConditionals = true;
    }
    switch (name.size()) {
      case 5:
        if (equalsIgnoreCase(name, "range")) r.hasRange = true;
        break;
      case 4:
        if (equalsIgnoreCase(name, "host")) {
          ++hostCount;
          hostValue = value;
        }
        break;
      case 6:
        if (equalsIgnoreCase(name, "expect")) {
          if (equalsIgnoreCase(value, "100-continue")) {
            expectContinue = true;
          } else {
            unsupportedExpect = true;
          }
        }
        break;
      case 10:
        if (equalsIgnoreCase(name, "connection")) readConnection(value, framing);
        break;
      case 14:
        if (equalsIgnoreCase(name, "content-length")) readContentLength(value, framing);
        break;
      case 17:
        if (equalsIgnoreCase(name, "transfer-encoding")) readTransferEncoding(value, framing);
        break;
      default:
        break;
    }
  }

  const bool http11 = r.versionMinor == 1;
  auto reject = [&reason](Status s, std::string_view why) {
    reason = why;
    return s;
  };
  // RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host; more than one is always an error.
  if (hostCount > 1) {
    return reject(Status::BadRequest, "The request has more than one Host header; send exactly one.");
  }
  if (http11 && hostCount == 0) {
    // The line a person typing into telnet most often leaves out.
    return reject(Status::BadRequest,
                  "An HTTP/1.1 request needs a Host header (type Host: localhost on the line "
                  "after the request line, then an empty line).");
  }
  if (absoluteForm) {
    // The target's authority wins and the field value is ignored (RFC 9112 §3.2.2).
  } else if (hostCount == 1) {
    bool hostEmpty = true;
    if (!validHostPort(hostValue, hostEmpty)) {
      return reject(Status::BadRequest,
                    "The Host header must be a host name or address, optionally with :port.");
    }
    r.host = hostValue;
  }

  switch (framing.lengthError) {
    case FramingFields::LengthError::Invalid:
      return reject(Status::BadRequest, "The Content-Length header must be a decimal number.");
    case FramingFields::LengthError::Conflicting:
      return reject(Status::BadRequest, "The request has conflicting Content-Length values.");
    case FramingFields::LengthError::None:
      break;
  }
  if (framing.hasCoding) {
    // Both framings at once is the request-smuggling vector RFC 9112 §6.3 rejects; HTTP/1.0 has
    // no chunked coding, so its framing would be ambiguous (§6.1).
    if (framing.hasLength) {
      return reject(Status::BadRequest,
                    "The request has both Content-Length and Transfer-Encoding; send only one.");
    }
    if (!http11) {
      return reject(Status::BadRequest, "An HTTP/1.0 request cannot use Transfer-Encoding.");
    }
    if (framing.badCoding || framing.codings == 0 || framing.chunkedCount > 1) {
      return reject(Status::BadRequest, "The Transfer-Encoding header is not a valid list of "
                                        "codings with chunked applied once.");
    }
    if (framing.otherCoding || !framing.lastIsChunked) {
      return reject(Status::NotImplemented,
                    "The request body uses a transfer coding other than chunked, which this "
                    "server does not implement.");
    }
    r.framing = BodyFraming::Chunked;
  } else if (framing.hasLength) {
    r.framing = BodyFraming::ContentLength;
    r.contentLength = framing.length;
  }

  r.keepAlive = http11 ? !framing.close : (framing.keepAlive && !framing.close);
  // An HTTP/1.0 client cannot understand 100 (Continue), so its Expect is ignored (§10.1.1).
  if (http11) {
    r.expectContinue = expectContinue;
    r.unsupportedExpect = unsupportedExpect;
  }
  return Status::Ok;
}

}  // namespace epserve::http
