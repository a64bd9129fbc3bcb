// Unit tests for http/CgiHead: CGI-style response heads (uWSGI's cgi-mode) as HTTP/1.1 heads,
// and the relay reading them on a uwsgi route.
#include <doctest/doctest.h>

#include <string>

#include "http/CgiHead.h"
#include "proxy/ResponseRelay.h"

using epserve::http::CgiHead;
using epserve::http::cgiToHttpHead;

namespace {

struct StringSink final : epserve::proxy::RelaySink {
  std::string bytes;
  void write(std::string_view b) override { bytes.append(b); }
};

}  // namespace

TEST_CASE("cgi head: Status becomes the status line, the other fields stay") {
  std::string out;
  std::size_t length = 0;
  const std::string head = "Content-Type: text/html\r\nStatus: 404 Not Found\r\nX-A: 1\r\n\r\n";
  REQUIRE(cgiToHttpHead(head + "body", out, length) == CgiHead::Converted);
  CHECK(length == head.size());
  CHECK(out == "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nX-A: 1\r\n\r\n");
  REQUIRE(cgiToHttpHead("status: 204\r\n\r\n", out, length) == CgiHead::Converted);
  CHECK(out == "HTTP/1.1 204 \r\n\r\n");
}

TEST_CASE("cgi head: a Location alone is a 302, nothing at all a 200") {
  std::string out;
  std::size_t length = 0;
  REQUIRE(cgiToHttpHead("Location: /next\r\n\r\n", out, length) == CgiHead::Converted);
  CHECK(out == "HTTP/1.1 302 Found\r\nLocation: /next\r\n\r\n");
  REQUIRE(cgiToHttpHead("Content-Type: text/plain\r\n\r\n", out, length) == CgiHead::Converted);
  CHECK(out.starts_with("HTTP/1.1 200 OK\r\n"));
}

TEST_CASE("cgi head: status lines, partial heads and bad Status values") {
  std::string out;
  std::size_t length = 0;
  CHECK(cgiToHttpHead("HTTP/1.1 200 OK\r\n\r\n", out, length) == CgiHead::NotCgi);
  CHECK(cgiToHttpHead("HTT", out, length) == CgiHead::Incomplete);
  CHECK(cgiToHttpHead("", out, length) == CgiHead::Incomplete);
  CHECK(cgiToHttpHead("Status: 200 OK\r\n", out, length) == CgiHead::Incomplete);
  CHECK(cgiToHttpHead("Status: 20\r\n\r\n", out, length) == CgiHead::Invalid);
  CHECK(cgiToHttpHead("Status: 2000\r\n\r\n", out, length) == CgiHead::Invalid);
  CHECK(cgiToHttpHead("Status: abc\r\n\r\n", out, length) == CgiHead::Invalid);
  CHECK(cgiToHttpHead("Status: 200\r\nStatus: 500\r\n\r\n", out, length) == CgiHead::Invalid);
}

TEST_CASE("relay: a uwsgi route reads a CGI head with the strict parser's checks") {
  using Relay = epserve::proxy::ResponseRelay;
  Relay relay;
  Relay::Params p;
  p.date = "Wed, 02 Dec 2026 21:00:00 GMT";
  p.cgiHeads = true;
  SUBCASE("a good head and its body") {
    relay.reset(p);
    StringSink sink;
    std::size_t used = 0;
    std::string in = "Status: 201 Created\r\nContent-Length: 2\r\nSet-Cookie: a=1\r\n\r\nok";
    CHECK(relay.feed(in, used, sink) == Relay::Result::Done);
    CHECK(used == in.size());
    CHECK(relay.status() == 201);
    CHECK(sink.bytes.starts_with("HTTP/1.1 201 Created\r\n"));
    CHECK(sink.bytes.find("Set-Cookie: a=1\r\n") != std::string::npos);
    CHECK(sink.bytes.ends_with("\r\n\r\nok"));
  }
  SUBCASE("a plain status line still works") {
    relay.reset(p);
    StringSink sink;
    std::size_t used = 0;
    CHECK(relay.feed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", used, sink) ==
          Relay::Result::Done);
  }
  SUBCASE("a CGI head breaking a field rule is a bad head") {
    relay.reset(p);
    StringSink sink;
    std::size_t used = 0;
    CHECK(relay.feed("Status: 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", used,
                     sink) == Relay::Result::BadHead);
    CHECK(sink.bytes.empty());
  }
  SUBCASE("without cgiHeads a CGI head is refused") {
    p.cgiHeads = false;
    relay.reset(p);
    StringSink sink;
    std::size_t used = 0;
    CHECK(relay.feed("Status: 200 OK\r\n\r\n", used, sink) == Relay::Result::BadHead);
  }
}
