// Serializes a response head (status line + header fields + empty line) into caller memory.
// Pure and allocation-free; the caller sizes the space with maxHeadSize().
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string_view>

#include "http/Status.h"

namespace epserve::http {

enum class ConnectionHeader : std::uint8_t { None, KeepAlive, Close };

struct ResponseHead {
  Status status = Status::Ok;
  std::string_view date;         // Date value, from DateCache
  std::string_view contentType;  // omitted when empty
  std::uint64_t contentLength = 0;  // omitted for 1xx/204/304 (RFC 9110 §8.6)
  std::string_view etag;            // with quotes; omitted when empty
  std::time_t lastModified = -1;    // omitted when < 0 (and lastModifiedText is empty)
  std::string_view lastModifiedText;  // a preformatted HTTP-date, used instead when set
  std::string_view location;        // omitted when empty
  std::string_view allow;           // omitted when empty
  std::string_view contentRange;    // "bytes a-b/size" or "bytes */size"; omitted when empty
  std::string_view contentEncoding;  // "br", "gzip"; omitted when empty
  std::string_view vary;             // omitted when empty
  std::string_view cacheControl;     // omitted when empty
  bool acceptRanges = false;
  ConnectionHeader connection = ConnectionHeader::None;
  std::string_view extraHeaders;    // preformatted "Name: value\r\n" lines, appended verbatim
};

// The Server header value.
inline constexpr std::string_view kServerName = "epserve/" EPSERVE_VERSION;

// An upper bound on writeResponseHead's output for `h`.
std::size_t maxHeadSize(const ResponseHead& h);

// Writes the head into `out` (at least maxHeadSize(h) bytes); returns the bytes written.
std::size_t writeResponseHead(const ResponseHead& h, char* out);

// The full interim response "HTTP/1.1 100 Continue\r\n\r\n".
inline constexpr std::string_view kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace epserve::http
