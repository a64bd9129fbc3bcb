// Where a proxied route sends its requests, parsed from the --proxy URL: a TCP host and port or a
// unix-domain socket, and an optional path that replaces the route prefix. Pure: no I/O, no DNS.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace epserve::proxy {

struct UpstreamUrl {
  enum class Kind : std::uint8_t { Tcp, Unix };
  enum class Protocol : std::uint8_t { Http, Uwsgi };
  Kind kind = Kind::Tcp;
  Protocol protocol = Protocol::Http;
  std::string host;         // Tcp: a name or an IP literal, without brackets
  std::uint16_t port = 80;  // Tcp
  std::string socketPath;   // Unix: an absolute path
  // "" = send the request target unchanged; else it replaces the route prefix (nginx proxy_pass
  // with a URI), so "http://h/" and "http://h" differ. Kept as written (percent-escapes intact).
  std::string path;
  std::string text;  // the URL as given, for logs and error messages
};

// Accepted forms (scheme and "unix:" in any case):
//   http://HOST[:PORT][/PATH]         HOST a name (letters, digits, '-', '_', '.') or IPv4
//   http://[IPv6]:PORT[/PATH]         the literal in brackets, no zone id
//   http://unix:/ABS/PATH.sock        a unix socket; the path ends at the next ':'
//   http://unix:/ABS/PATH.sock:/PATH  nginx's spelling of a unix socket with a path
//   uwsgi://HOST:PORT, uwsgi://[IPv6]:PORT, uwsgi://unix:/ABS/PATH.sock: the uwsgi protocol
//                                     (uWSGI's `socket`), no path, the port required
// PORT is 1..65535 (80 when absent); PATH is pchar, '/' and %HH escapes. Everything else is
// refused with std::invalid_argument whose what() is one line saying why: https and any other
// scheme, an empty host, userinfo, a query or fragment, whitespace, control or non-ASCII bytes,
// a relative or over-long (> 107 bytes) socket path.
UpstreamUrl parseUpstreamUrl(std::string_view text);

// A Tcp upstream whose host is an IPv4 or IPv6 literal: it needs no resolving.
bool isIpLiteral(const UpstreamUrl& url);

// The Host to send when the client sent none (HTTP/1.0): "host" or "host:port" when the port is
// not 80, brackets around IPv6; "localhost" for a unix socket (what nginx sends).
std::string authority(const UpstreamUrl& url);

}  // namespace epserve::proxy
