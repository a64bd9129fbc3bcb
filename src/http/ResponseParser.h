// Parses an HTTP/1.x response head (status line + header fields) from bytes, per RFC 9112.
// A pure function: no I/O, no allocation; the ParsedResponse it fills holds views into `input`.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/Request.h"
#include "http/RequestParser.h"

namespace epserve::http {

// How the body that follows a response head is delimited (RFC 9112 §6.3).
enum class ResponseFraming : std::uint8_t {
  None,           // no body: 1xx, 204, 304, or any response to HEAD (§6.3 rule 1)
  ContentLength,  // exactly `contentLength` bytes (rule 6)
  Chunked,        // the chunked transfer coding (rule 4, §7.1)
  UntilClose,     // every byte until the server closes the connection (rules 4 and 8)
};

struct ParsedResponse {
  int versionMinor = 1;         // HTTP/1.<versionMinor>: 0 or 1 (1.2..1.9 are read as 1.1)
  int status = 0;               // 100..599
  std::string_view reason;      // reason-phrase, possibly empty; clients ignore it (RFC 9112 §4)
  std::string_view statusLine;  // the whole status line, without its line end

  std::array<Header, kMaxHeaders> headers{};
  std::size_t headerCount = 0;

  ResponseFraming framing = ResponseFraming::None;
  std::uint64_t contentLength = 0;  // valid when framing == ContentLength
  bool keepAlive = false;           // the server keeps the connection open after the body

  // 1xx: another head follows on the same connection before the final response.
  bool interim() const { return status < 200; }
  // First header with this name (ASCII case-insensitive), or an empty view with data() == nullptr.
  std::string_view find(std::string_view name) const;
};

struct ResponseLimits {
  std::size_t maxStatusLine = 8192;        // bytes of the status line before its line end
  std::size_t maxHeaderBytes = 65536;      // header section, including the final empty line
  std::size_t maxHeaderCount = kMaxHeaders;
};

struct ResponseParseResult {
  ParseStatus status = ParseStatus::Incomplete;
  std::size_t consumed = 0;  // Complete: bytes of the head, including the final empty line
  std::string_view error;    // Error: a short fixed description, e.g. "malformed status line"
};

// Parses the head at the start of `input` (which may hold more: the body, or a later response).
// `headRequest` says the request was HEAD, whose response never has a body (RFC 9110 §9.3.2).
// Returns Incomplete while no rule is broken yet, Error as soon as the bytes seen break one, else
// Complete. A 1xx interim response is Complete too; the final response follows it. Stateless:
// call again with the longer input after each read, as with parseRequest.
ResponseParseResult parseResponse(std::string_view input, bool headRequest, ParsedResponse& out,
                                  const ResponseLimits& limits = {});

}  // namespace epserve::http
