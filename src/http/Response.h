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

// How the body after the head is delimited, and so which framing field the head carries
// (RFC 9112 §6.3). Statuses that forbid content (1xx, 204, 304) get no framing field whatever
// is chosen: RFC 9110 §8.6 and RFC 9112 §6.1 forbid both fields there.
enum class ContentFraming : std::uint8_t {
  ContentLength,  // Content-Length: contentLength
  Chunked,        // Transfer-Encoding: chunked; the caller chunk-encodes (HTTP/1.1 peers only)
  UntilClose,     // no framing field: the body ends when the connection closes, so the head
                  // says Connection: close whatever `connection` is
  None,           // no framing field and no body (a relayed HEAD response without a length)
};

// The Server header value.
inline constexpr std::string_view kServerName = "epserve/" EPSERVE_VERSION;

struct ResponseHead {
  Status status = Status::Ok;       // any code 100..999
  std::string_view reason;          // the status line's phrase when set (a relayed one), else
                                    // defaultReasonPhrase(status); reason-phrase bytes only
  std::string_view server = kServerName;  // omitted when empty
  std::string_view date;         // Date value, from DateCache
  std::string_view contentType;  // omitted when empty
  ContentFraming framing = ContentFraming::ContentLength;
  std::uint64_t contentLength = 0;  // used by ContentLength; omitted for 1xx/204/304
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
  // Preformatted "Name: value\r\n" lines, appended verbatim in this order. `passThrough` holds
  // the end-to-end fields relayed from another message (see HopByHop.h), already rid of any
  // field this head writes itself; `extraHeaders` the server-wide ones from the configuration.
  std::string_view passThrough;
  std::string_view extraHeaders;
};

// An upper bound on writeResponseHead's output for `h`.
std::size_t maxHeadSize(const ResponseHead& h);

// Writes the head into `out` (at least maxHeadSize(h) bytes); returns the bytes written.
std::size_t writeResponseHead(const ResponseHead& h, char* out);

// The full interim response "HTTP/1.1 100 Continue\r\n\r\n".
inline constexpr std::string_view kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace epserve::http
