// Unit tests for upstream URL parsing (proxy/UpstreamUrl): every accepted form, every refusal
// and its message, isIpLiteral and the fallback Host.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <string_view>

#include "proxy/UpstreamUrl.h"

using epserve::proxy::authority;
using epserve::proxy::isIpLiteral;
using epserve::proxy::parseUpstreamUrl;
using epserve::proxy::UpstreamUrl;

namespace {

using Kind = UpstreamUrl::Kind;

// The refusal message for `text`, or "" when it parses.
std::string refusal(std::string_view text) {
  try {
    (void)parseUpstreamUrl(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("upstream url: host and port forms") {
  struct Case {
    std::string_view in;
    std::string_view host;
    std::uint16_t port;
    std::string_view path;
  };
  const Case cases[] = {
      {"http://127.0.0.1:8000", "127.0.0.1", 8000, ""},
      {"http://127.0.0.1:8000/", "127.0.0.1", 8000, "/"},
      {"http://127.0.0.1:8000/v1/", "127.0.0.1", 8000, "/v1/"},
      {"http://app", "app", 80, ""},
      {"http://app/", "app", 80, "/"},
      {"http://app/x/y", "app", 80, "/x/y"},
      {"http://app:1", "app", 1, ""},
      {"http://app:65535", "app", 65535, ""},
      {"http://app:080", "app", 80, ""},
      {"http://my_app-1.internal:8001/api", "my_app-1.internal", 8001, "/api"},
      {"http://example.com.:81", "example.com.", 81, ""},
      {"HTTP://App.Example:8080/A", "App.Example", 8080, "/A"},
      {"http://[::1]:8000/x", "::1", 8000, "/x"},
      {"http://[::1]", "::1", 80, ""},
      {"http://[2001:db8::1]/", "2001:db8::1", 80, "/"},
      {"http://[::ffff:10.0.0.1]:9", "::ffff:10.0.0.1", 9, ""},
      {"http://h/a%20b/%E2%82%AC", "h", 80, "/a%20b/%E2%82%AC"},
      {"http://h/-._~!$&'()*+,;=:@/", "h", 80, "/-._~!$&'()*+,;=:@/"},
      {"http://h//double", "h", 80, "//double"},
      // Dot segments in the path are the upstream's business: kept as written.
      {"http://a./../", "a.", 80, "/../"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.in);
    const UpstreamUrl u = parseUpstreamUrl(c.in);
    CHECK(u.kind == Kind::Tcp);
    CHECK(u.host == c.host);
    CHECK(u.port == c.port);
    CHECK(u.path == c.path);
    CHECK(u.socketPath.empty());
    CHECK(u.text == c.in);
  }
}

TEST_CASE("upstream url: unix sockets, with and without nginx's :/PATH") {
  UpstreamUrl u = parseUpstreamUrl("http://unix:/run/app.sock");
  CHECK(u.kind == Kind::Unix);
  CHECK(u.socketPath == "/run/app.sock");
  CHECK(u.path.empty());
  CHECK(u.host.empty());
  CHECK(u.text == "http://unix:/run/app.sock");

  u = parseUpstreamUrl("http://unix:/run/app.sock:/");
  CHECK(u.kind == Kind::Unix);
  CHECK(u.socketPath == "/run/app.sock");
  CHECK(u.path == "/");

  u = parseUpstreamUrl("http://unix:/srv/my-site@1/app.sock:/v1/x%2Fy");
  CHECK(u.socketPath == "/srv/my-site@1/app.sock");
  CHECK(u.path == "/v1/x%2Fy");

  // The socket path ends at the first ':'; ':' is a pchar, so the rest is all path.
  u = parseUpstreamUrl("http://unix:/a.sock:/x:y:/z");
  CHECK(u.socketPath == "/a.sock");
  CHECK(u.path == "/x:y:/z");

  u = parseUpstreamUrl("HTTP://UNIX:/tmp/a.sock");
  CHECK(u.kind == Kind::Unix);
  CHECK(u.socketPath == "/tmp/a.sock");

  // sun_path holds 107 bytes and the terminator.
  const std::string longest = "/" + std::string(106, 's');
  CHECK(parseUpstreamUrl("http://unix:" + longest).socketPath == longest);
  CHECK(refusal("http://unix:" + longest + "s") ==
        "the unix socket path is longer than 107 bytes");
  CHECK(parseUpstreamUrl("http://unix:" + longest + ":/p").path == "/p");

  // "unix" without the colon is an ordinary host name.
  u = parseUpstreamUrl("http://unix/x");
  CHECK(u.kind == Kind::Tcp);
  CHECK(u.host == "unix");
}

TEST_CASE("upstream url: refusals, each with its one-line reason") {
  struct Case {
    std::string_view in;
    std::string_view why;
  };
  const Case cases[] = {
      {"", "empty URL"},
      {"127.0.0.1:8000", "expected http://HOST[:PORT][/PATH], http://unix:/PATH.sock[:/PATH], uwsgi://HOST:PORT or uwsgi://unix:/PATH.sock"},
      {"//h/", "expected http://HOST[:PORT][/PATH], http://unix:/PATH.sock[:/PATH], uwsgi://HOST:PORT or uwsgi://unix:/PATH.sock"},
      {"https://h/", "https upstreams are not supported (epserve speaks plain HTTP to upstreams)"},
      {"HTTPS://h", "https upstreams are not supported (epserve speaks plain HTTP to upstreams)"},
      {"ftp://h/", "unsupported scheme 'ftp' (http:// and uwsgi:// upstreams only)"},
      {"uwsgi://h", "a uwsgi:// URL needs a port (uwsgi://HOST:PORT)"},
      {"uwsgi://[::1]", "a uwsgi:// URL needs a port (uwsgi://HOST:PORT)"},
      {"uwsgi://h:8001/app", "a uwsgi:// URL takes no path (REQUEST_URI is the client's)"},
      {"://h", "unsupported scheme '' (http:// and uwsgi:// upstreams only)"},
      {"http://", "empty host"},
      {"http:///x", "empty host"},
      {"http://:80", "empty host"},
      {"http://[]:80", "empty host"},
      {"http://h:", "empty port (expected 1..65535)"},
      {"http://h:/x", "empty port (expected 1..65535)"},
      {"http://h:0", "invalid port '0' (expected 1..65535)"},
      {"http://h:65536", "invalid port '65536' (expected 1..65535)"},
      {"http://h:000080", "invalid port '000080' (expected 1..65535)"},
      {"http://h:99999999999999999999", "invalid port '99999999999999999999' (expected 1..65535)"},
      {"http://h:8o", "invalid port '8o' (expected 1..65535)"},
      {"http://h:-1", "invalid port '-1' (expected 1..65535)"},
      {"http://h:80:81", "more than one ':' after the host (an IPv6 address needs brackets: "
                         "http://[::1]:PORT)"},
      {"http://::1:80/", "more than one ':' after the host (an IPv6 address needs brackets: "
                         "http://[::1]:PORT)"},
      {"http://[::1/", "unterminated IPv6 literal (missing ']')"},
      {"http://[::g]/", "invalid IPv6 address '::g'"},
      {"http://[fe80::1%25eth0]/", "invalid IPv6 address 'fe80::1%25eth0'"},
      {"http://[10.0.0.1]/", "invalid IPv6 address '10.0.0.1'"},
      {"http://[::1]x/", "unexpected 'x' after the IPv6 literal"},
      {"http://[::1]:0", "invalid port '0' (expected 1..65535)"},
      {"http://user@h/", "userinfo (user@) is not allowed"},
      {"http://user:pw@h:80/", "userinfo (user@) is not allowed"},
      {"http://@h/", "userinfo (user@) is not allowed"},
      {"http://h/?q=1", "a query or fragment is not allowed in an upstream URL"},
      {"http://h?q", "a query or fragment is not allowed in an upstream URL"},
      {"http://h/#f", "a query or fragment is not allowed in an upstream URL"},
      {"http://unix:/a.sock:/x?y", "a query or fragment is not allowed in an upstream URL"},
      {"http://h /", "whitespace is not allowed"},
      {" http://h/", "whitespace is not allowed"},
      {"http://h/\t", "whitespace is not allowed"},
      {"http://h/\r\nX: y", "control characters are not allowed"},
      {std::string_view("http://h/\0", 10), "control characters are not allowed"},
      {"http://h/\x7f", "control characters are not allowed"},
      {"http://h/\xc3\xa9", "non-ASCII bytes are not allowed (percent-encode them)"},
      {"http://h\xc3\xa9/", "non-ASCII bytes are not allowed (percent-encode them)"},
      {"http://h%41/", "character '%' is not allowed in the host 'h%41'"},
      {"http://h!/", "character '!' is not allowed in the host 'h!'"},
      {"http://a..b/", "empty label in the host 'a..b'"},
      {"http://.a/", "empty label in the host '.a'"},
      {"http://256.1.1.1/", "invalid IPv4 address '256.1.1.1'"},
      {"http://1.2.3/", "invalid IPv4 address '1.2.3'"},
      {"http://1.2.3.4./", "invalid IPv4 address '1.2.3.4.'"},
      {"http://01.2.3.4/", "invalid IPv4 address '01.2.3.4'"},
      {"http://h/a%2", "invalid percent-escape in the path (expected %HH)"},
      {"http://h/a%zz", "invalid percent-escape in the path (expected %HH)"},
      {"http://h/%", "invalid percent-escape in the path (expected %HH)"},
      {"http://h/a\"b", "character '\"' is not allowed in the path (percent-encode it)"},
      {"http://h/[x]", "character '[' is not allowed in the path (percent-encode it)"},
      {"http://h/a\\b", "character '\\' is not allowed in the path (percent-encode it)"},
      {"http://h/{x}", "character '{' is not allowed in the path (percent-encode it)"},
      {"http://unix:", "the unix socket path must be absolute (http://unix:/PATH.sock)"},
      {"http://unix:run/app.sock", "the unix socket path must be absolute (http://unix:/PATH.sock)"},
      {"http://unix:./app.sock", "the unix socket path must be absolute (http://unix:/PATH.sock)"},
      {"http://unix:/a.sock:", "expected ':/PATH' after the unix socket path"},
      {"http://unix:/a.sock:x", "expected ':/PATH' after the unix socket path"},
      {"http://unix:/a.sock:/a b", "whitespace is not allowed"},
      {"http://unix:/a.sock:/[", "character '[' is not allowed in the path (percent-encode it)"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.in);
    const std::string why = refusal(c.in);
    CHECK(why == c.why);
    CHECK(why.find('\n') == std::string::npos);
  }
}

TEST_CASE("upstream url: host names up to DNS limits") {
  const std::string label63(63, 'a');
  CHECK(parseUpstreamUrl("http://" + label63 + ".b/").host == label63 + ".b");
  CHECK(refusal("http://" + label63 + "a.b/") ==
        "a label of the host '" + label63 + "a.b' is over 63 characters");
  std::string name;
  while (name.size() < 253) name += (name.empty() ? "" : ".") + std::string(9, 'x');
  name.resize(253);
  if (name.back() == '.') name.back() = 'y';
  CHECK(parseUpstreamUrl("http://" + name).host == name);
  CHECK(parseUpstreamUrl("http://" + name + ".").host == name + ".");  // FQDN dot not counted
  CHECK(refusal("http://" + name + "z") == "host name longer than 253 characters");
}

TEST_CASE("upstream url: isIpLiteral") {
  CHECK(isIpLiteral(parseUpstreamUrl("http://127.0.0.1:8000")));
  CHECK(isIpLiteral(parseUpstreamUrl("http://10.1.2.3/")));
  CHECK(isIpLiteral(parseUpstreamUrl("http://[::1]:8000/x")));
  CHECK(isIpLiteral(parseUpstreamUrl("http://[2001:db8::42]")));
  CHECK_FALSE(isIpLiteral(parseUpstreamUrl("http://localhost:8000")));
  CHECK_FALSE(isIpLiteral(parseUpstreamUrl("http://app")));
  CHECK_FALSE(isIpLiteral(parseUpstreamUrl("http://1.example")));
  CHECK_FALSE(isIpLiteral(parseUpstreamUrl("http://unix:/run/a.sock")));
  UpstreamUrl unixWithHost = parseUpstreamUrl("http://unix:/run/a.sock");
  unixWithHost.host = "127.0.0.1";  // a unix upstream is never dialled by address
  CHECK_FALSE(isIpLiteral(unixWithHost));
}

TEST_CASE("upstream url: authority for the fallback Host") {
  CHECK(authority(parseUpstreamUrl("http://app")) == "app");
  CHECK(authority(parseUpstreamUrl("http://app:80/x")) == "app");
  CHECK(authority(parseUpstreamUrl("http://app:8000/x")) == "app:8000");
  CHECK(authority(parseUpstreamUrl("http://127.0.0.1:8001")) == "127.0.0.1:8001");
  CHECK(authority(parseUpstreamUrl("http://[::1]:8000/")) == "[::1]:8000");
  CHECK(authority(parseUpstreamUrl("http://[::1]")) == "[::1]");
  CHECK(authority(parseUpstreamUrl("http://unix:/run/app.sock:/x")) == "localhost");
}

TEST_CASE("upstream url: uwsgi:// over TCP and unix sockets") {
  using epserve::proxy::UpstreamUrl;
  UpstreamUrl t = epserve::proxy::parseUpstreamUrl("uwsgi://127.0.0.1:3031");
  CHECK(t.protocol == UpstreamUrl::Protocol::Uwsgi);
  CHECK(t.kind == UpstreamUrl::Kind::Tcp);
  CHECK(t.port == 3031);
  UpstreamUrl v6 = epserve::proxy::parseUpstreamUrl("UWSGI://[::1]:3031");
  CHECK(v6.host == "::1");
  UpstreamUrl u = epserve::proxy::parseUpstreamUrl("uwsgi://unix:/run/mysite/mysite.sock");
  CHECK(u.protocol == UpstreamUrl::Protocol::Uwsgi);
  CHECK(u.kind == UpstreamUrl::Kind::Unix);
  CHECK(u.socketPath == "/run/mysite/mysite.sock");
  CHECK(epserve::proxy::parseUpstreamUrl("http://h").protocol == UpstreamUrl::Protocol::Http);
}
