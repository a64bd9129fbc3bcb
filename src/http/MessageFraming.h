// The framing fields of a message head, read by one grammar for requests and responses alike:
// Connection options, Content-Length and Transfer-Encoding (RFC 9112 §6.1, §6.3, §9.3; RFC 9110 §8.6).
#pragma once

#include <cstdint>
#include <string_view>

namespace epserve::http {

// What the framing fields of one head said. Each side (FieldSemantics for requests,
// ResponseParser for responses) turns this into its §6.3 decision; the reading is shared so
// that a client and an upstream can never be framed by two different readings of the same bytes.
struct FramingFields {
  enum class LengthError : std::uint8_t { None, Invalid, Conflicting };

  bool close = false;      // a Connection option "close"
  bool keepAlive = false;  // a Connection option "keep-alive"

  bool hasLength = false;  // a Content-Length field (repeated or a list of one value: §8.6)
  std::uint64_t length = 0;
  LengthError lengthError = LengthError::None;

  bool hasCoding = false;     // a Transfer-Encoding field
  bool badCoding = false;     // a coding that is not a token, or chunked with parameters
  unsigned codings = 0;       // codings listed (empty list elements do not count, §5.6.1)
  unsigned chunkedCount = 0;  // how many of them are chunked
  bool lastIsChunked = false;
  bool otherCoding = false;   // a coding other than chunked
};

// Field values, each called once per field line with the OWS-trimmed value.
void readConnection(std::string_view value, FramingFields& f);
void readContentLength(std::string_view value, FramingFields& f);
void readTransferEncoding(std::string_view value, FramingFields& f);

}  // namespace epserve::http
