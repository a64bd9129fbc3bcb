// A CGI-style response head (RFC 3875 §6.3: a Status field, or only a Location, in place of a
// status line, as uWSGI writes in cgi-mode) rewritten as an HTTP/1.1 head for the strict
// response parser, which then checks every field as usual. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace epserve::http {

enum class CgiHead : std::uint8_t {
  NotCgi,      // the input starts with a status line (or could): parse it as it is
  Incomplete,  // no empty line yet
  Converted,   // `out` holds the HTTP/1.1 head; `headLength` input bytes were the CGI head
  Invalid,     // a Status that is not "NNN[ reason]", or two of them
};

// Status: NNN reason  -> "HTTP/1.1 NNN reason"; no Status but a Location -> 302 Found; neither
// -> 200 OK. The other lines are copied as they are, the Status line left out.
CgiHead cgiToHttpHead(std::string_view input, std::string& out, std::size_t& headLength);

}  // namespace epserve::http
