// The request packet of the uwsgi protocol (what nginx's uwsgi_pass sends to uWSGI): a 4-byte
// header and the CGI/WSGI variables, built from the canonical HTTP head epserve made. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/Request.h"

namespace epserve::proxy {

// What the canonical head does not say.
struct UwsgiParams {
  std::string_view pathInfo;      // the decoded, normalised path epserve routed by
  std::string_view remoteAddr;    // the client's IP, no brackets
  std::string_view remotePort;
  std::string_view documentRoot;  // --root
  std::size_t bufferSize = 4096;  // the upstream's buffer-size: a larger block is refused
};

enum class UwsgiResult : std::uint8_t {
  Ok,
  TooLarge,    // the variables exceed 65,535 bytes: the protocol's u16 cannot say it (431)
  OverBuffer,  // they exceed bufferSize: uWSGI would drop the connection (431, not its 502)
};

// `canonical` is the head writeUpstreamRequestHead made, parsed: its fields are what the
// upstream may see (forwarded-field rules applied once, for both protocols). Appends to `out`:
//   modifier1 0, datasize (u16 little-endian), modifier2 0, then each variable as u16 LE key
//   length, key, u16 LE value length, value:
//   REQUEST_METHOD, REQUEST_URI (the canonical target), PATH_INFO, QUERY_STRING (after '?', as
//   sent), SERVER_PROTOCOL (HTTP/1.1), REQUEST_SCHEME (http), REMOTE_ADDR, REMOTE_PORT,
//   SERVER_NAME and SERVER_PORT (the Host's, port 80 when it names none: behind a port mapping
//   Django builds URLs with the port the client used), DOCUMENT_ROOT, CONTENT_TYPE and
//   CONTENT_LENGTH when present, then HTTP_<NAME> for every other field (upper-cased, '-' as
//   '_'), a repeated field as one variable joined with ", " (Cookie with "; ", RFC 9113 §8.2.3).
// The body follows the packet on the wire: exactly CONTENT_LENGTH bytes.
// On an error `out` is left as it was.
UwsgiResult writeUwsgiRequest(const http::Request& canonical, const UwsgiParams& p,
                              std::string& out);

}  // namespace epserve::proxy
