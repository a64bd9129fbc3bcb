// Parsing of --proxy upstream URLs (RFC 3986 §3 syntax, restricted to what epserve can dial):
// see UpstreamUrl.h. Refusals name the rule broken, so a start-up error needs no second look.
#include "proxy/UpstreamUrl.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdexcept>
#include <string>

#include "http/Syntax.h"
#include "reactor/UnixAddress.h"

namespace epserve::proxy {

namespace {

using http::equalsIgnoreCase;

[[noreturn]] void refuse(const std::string& why) { throw std::invalid_argument(why); }

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

// Bytes no part of an upstream URL may hold, checked before anything else so later messages
// can quote pieces of the URL without quoting a control byte.
void checkBytes(std::string_view text) {
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == ' ' || c == '\t') refuse("whitespace is not allowed");
    if (c < 0x20 || c == 0x7F) refuse("control characters are not allowed");
    if (c >= 0x80) refuse("non-ASCII bytes are not allowed (percent-encode them)");
  }
}

// pchar (RFC 3986 §3.3) and '/', with '%' only as the start of a %HH escape.
void checkPath(std::string_view path) {
  for (std::size_t i = 0; i < path.size(); ++i) {
    const auto c = static_cast<unsigned char>(path[i]);
    if (c == '%') {
      if (i + 2 >= path.size() || http::hexValue(static_cast<unsigned char>(path[i + 1])) < 0 ||
          http::hexValue(static_cast<unsigned char>(path[i + 2])) < 0) {
        refuse("invalid percent-escape in the path (expected %HH)");
      }
      i += 2;
    } else if (!http::has(c, http::kRegName) && c != ':' && c != '@' && c != '/') {
      refuse("character '" + std::string(1, static_cast<char>(c)) +
             "' is not allowed in the path (percent-encode it)");
    }
  }
}

std::uint16_t parsePort(std::string_view digits) {
  if (digits.empty()) refuse("empty port (expected 1..65535)");
  std::uint64_t v = 0;
  if (digits.size() > 5 || !http::parseDecimal(digits, v) || v == 0 || v > 65535) {
    refuse("invalid port " + quoted(digits) + " (expected 1..65535)");
  }
  return static_cast<std::uint16_t>(v);
}

// A DNS name (letters, digits, '-', and '_' for container service names) or a dotted IPv4.
void checkHostName(std::string_view host) {
  bool allDigitsAndDots = true;
  for (char ch : host) {
    const auto c = static_cast<unsigned char>(ch);
    if (!http::isAlpha(c) && !http::isDigitChar(c) && c != '-' && c != '_' && c != '.') {
      refuse("character '" + std::string(1, ch) + "' is not allowed in the host " +
             quoted(host));
    }
    allDigitsAndDots = allDigitsAndDots && (http::isDigitChar(c) || c == '.');
  }
  if (allDigitsAndDots) {
    in_addr a{};
    if (::inet_pton(AF_INET, std::string(host).c_str(), &a) != 1) {
      refuse("invalid IPv4 address " + quoted(host));
    }
    return;
  }
  std::string_view name = host;
  if (name.back() == '.') name.remove_suffix(1);  // a fully qualified "example.com."
  if (name.size() > 253) refuse("host name longer than 253 characters");
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = name.find('.', start);
    const std::size_t end = dot == std::string_view::npos ? name.size() : dot;
    if (end == start) refuse("empty label in the host " + quoted(host));
    if (end - start > 63) refuse("a label of the host " + quoted(host) + " is over 63 characters");
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
}

void parseUnix(std::string_view rest, UpstreamUrl& out) {
  // nginx's form: the socket path runs to the next ':', and what follows that is the URI.
  if (rest.empty() || rest.front() != '/') {
    refuse("the unix socket path must be absolute (http://unix:/PATH.sock)");
  }
  const std::size_t colon = rest.find(':');
  const std::string_view socketPath = rest.substr(0, colon);
  if (colon != std::string_view::npos) {
    const std::string_view path = rest.substr(colon + 1);
    if (path.empty() || path.front() != '/') {
      refuse("expected ':/PATH' after the unix socket path");
    }
    checkPath(path);
    out.path = path;
  }
  reactor::UnixAddress probe;
  if (!reactor::UnixAddress::parse(socketPath, probe)) {
    refuse("the unix socket path is longer than 107 bytes");
  }
  out.kind = UpstreamUrl::Kind::Unix;
  out.socketPath = socketPath;
}

void parseTcp(std::string_view rest, UpstreamUrl& out) {
  const std::size_t slash = rest.find('/');
  const std::string_view auth = rest.substr(0, slash);
  if (auth.find('@') != std::string_view::npos) refuse("userinfo (user@) is not allowed");
  if (auth.empty()) refuse("empty host");

  std::string_view host;
  std::string_view afterHost;
  if (auth.front() == '[') {
    const std::size_t close = auth.find(']');
    if (close == std::string_view::npos) refuse("unterminated IPv6 literal (missing ']')");
    host = auth.substr(1, close - 1);
    if (host.empty()) refuse("empty host");
    in6_addr a{};
    if (::inet_pton(AF_INET6, std::string(host).c_str(), &a) != 1) {
      refuse("invalid IPv6 address " + quoted(host));
    }
    afterHost = auth.substr(close + 1);
    if (!afterHost.empty() && afterHost.front() != ':') {
      refuse("unexpected " + quoted(afterHost) + " after the IPv6 literal");
    }
  } else {
    const std::size_t colon = auth.find(':');
    if (colon != std::string_view::npos && auth.find(':', colon + 1) != std::string_view::npos) {
      refuse("more than one ':' after the host (an IPv6 address needs brackets: "
             "http://[::1]:PORT)");
    }
    host = auth.substr(0, colon);
    if (host.empty()) refuse("empty host");
    checkHostName(host);
    afterHost = colon == std::string_view::npos ? std::string_view() : auth.substr(colon);
  }
  if (!afterHost.empty()) out.port = parsePort(afterHost.substr(1));
  if (slash != std::string_view::npos) {
    const std::string_view path = rest.substr(slash);
    checkPath(path);
    out.path = path;
  }
  out.kind = UpstreamUrl::Kind::Tcp;
  out.host = host;
}

}  // namespace

UpstreamUrl parseUpstreamUrl(std::string_view text) {
  if (text.empty()) refuse("empty URL");
  checkBytes(text);
  const std::size_t sep = text.find("://");
  if (sep == std::string_view::npos) {
    refuse("expected http://HOST[:PORT][/PATH], http://unix:/PATH.sock[:/PATH], "
           "uwsgi://HOST:PORT or uwsgi://unix:/PATH.sock");
  }
  const std::string_view scheme = text.substr(0, sep);
  if (equalsIgnoreCase(scheme, "https")) {
    refuse("https upstreams are not supported (epserve speaks plain HTTP to upstreams)");
  }
  const bool uwsgi = equalsIgnoreCase(scheme, "uwsgi");
  if (!uwsgi && !equalsIgnoreCase(scheme, "http")) {
    refuse("unsupported scheme " + quoted(scheme) + " (http:// and uwsgi:// upstreams only)");
  }
  // A query or fragment has no meaning for a prefix replacement, and nginx refuses both too.
  if (text.find_first_of("?#") != std::string_view::npos) {
    refuse("a query or fragment is not allowed in an upstream URL");
  }

  UpstreamUrl out;
  out.text = text;
  const std::string_view rest = text.substr(sep + 3);
  if (rest.size() >= 5 && equalsIgnoreCase(rest.substr(0, 5), "unix:")) {
    parseUnix(rest.substr(5), out);
  } else {
    parseTcp(rest, out);
  }
  if (uwsgi) {
    out.protocol = UpstreamUrl::Protocol::Uwsgi;
    // uwsgi has no request-target of its own to rewrite, and no port anyone could assume.
    if (!out.path.empty()) refuse("a uwsgi:// URL takes no path (REQUEST_URI is the client's)");
    if (out.kind == UpstreamUrl::Kind::Tcp) {
      const std::size_t bracket = rest.find(']');
      if (rest.find(':', bracket == std::string_view::npos ? 0 : bracket) == std::string_view::npos) {
        refuse("a uwsgi:// URL needs a port (uwsgi://HOST:PORT)");
      }
    }
  }
  return out;
}

bool isIpLiteral(const UpstreamUrl& url) {
  if (url.kind != UpstreamUrl::Kind::Tcp) return false;
  in6_addr a6{};
  in_addr a4{};
  return ::inet_pton(AF_INET, url.host.c_str(), &a4) == 1 ||
         ::inet_pton(AF_INET6, url.host.c_str(), &a6) == 1;
}

std::string authority(const UpstreamUrl& url) {
  if (url.kind == UpstreamUrl::Kind::Unix) return "localhost";
  std::string out;
  const bool v6 = url.host.find(':') != std::string::npos;
  if (v6) out += '[';
  out += url.host;
  if (v6) out += ']';
  if (url.port != 80) out += ":" + std::to_string(url.port);
  return out;
}

}  // namespace epserve::proxy
