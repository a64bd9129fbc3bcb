// Parses an HTTP/1.x request head (request line + header fields) from bytes, per RFC 9112.
// A pure function: no I/O, no allocation; the Request it fills holds views into `input`.
#pragma once

#include <cstddef>
#include <string_view>

#include "http/Request.h"
#include "http/Status.h"

namespace epserve::http {

struct ParseLimits {
  std::size_t maxRequestLine = 8 * 1024;   // longer request line -> 414
  std::size_t maxHeaderBytes = 16 * 1024;  // header section (after the request line) -> 431
  std::size_t maxHeaderCount = kMaxHeaders;  // more fields -> 431 (at most kMaxHeaders)
};

enum class ParseStatus { Complete, Incomplete, Error };

struct ParseResult {
  ParseStatus status = ParseStatus::Incomplete;
  std::size_t consumed = 0;         // Complete: bytes of the head, including the final empty line
  Status error = Status::BadRequest;  // Error: 400, 414, 431, 501 or 505
  // Error: one sentence (static storage) saying what was wrong, for the error page and the
  // debug log; it quotes no request bytes.
  std::string_view reason;
};

// Parses the head at the start of `input` (which may hold more: a body or pipelined requests).
// Returns Incomplete when more bytes are needed and no rule is broken yet, Error as soon as the
// bytes seen break one (a limit exceeded by an incomplete head is an Error too), else Complete.
// Stateless: call again with the longer input after the next read; the caller need only call
// when a new line may have completed (the new bytes contain '\n'), so slow senders stay cheap.
ParseResult parseRequest(std::string_view input, Request& out, const ParseLimits& limits = {});

}  // namespace epserve::http
