// A parsed HTTP/1.x request head: views into the connection's read buffer, valid only until
// that buffer is next modified. Filled by RequestParser; read by the request handler.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/Syntax.h"

namespace epserve::http {

enum class Method : std::uint8_t { Get, Head, Options, Post, Put, Delete, Patch, Other };

// How the request body is delimited (RFC 9112 §6.3).
enum class BodyFraming : std::uint8_t { None, ContentLength, Chunked };

struct Header {
  std::string_view name;   // as sent (case preserved); compare with equalsIgnoreCase
  std::string_view value;  // leading/trailing OWS trimmed
};

inline constexpr std::size_t kMaxHeaders = 100;

struct Request {
  Method method = Method::Other;
  std::string_view methodText;  // the method token as sent
  std::string_view target;      // request-target as sent (origin-, absolute- or asterisk-form)
  std::string_view path;        // the path[?query] part: for absolute-form, what follows the authority
  int versionMinor = 1;         // HTTP/1.<versionMinor>: 0 or 1 (1.2..1.9 are handled as 1.1)

  std::array<Header, kMaxHeaders> headers{};
  std::size_t headerCount = 0;

  // Semantics the parser derives while it validates the head.
  std::string_view host;           // Host field value (or the authority of an absolute-form target)
  bool keepAlive = true;           // after Connection tokens and version defaults
  bool expectContinue = false;     // Expect: 100-continue
  bool unsupportedExpect = false;  // Expect with any other value (answered 417)
  BodyFraming framing = BodyFraming::None;
  std::uint64_t contentLength = 0;  // valid when framing == ContentLength
  bool hasConditionals = false;     // some field name starts with "If-" (RFC 9110 §13.1)
  bool hasRange = false;            // a Range field is present

  // First header with this name (ASCII case-insensitive), or an empty view with data() == nullptr.
  std::string_view find(std::string_view name) const;
};

}  // namespace epserve::http
