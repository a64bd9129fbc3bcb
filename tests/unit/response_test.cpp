// Unit tests for response head serialization (http/Response) and status codes and phrases.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "http/Response.h"

using namespace epserve::http;

namespace {

std::string render(const ResponseHead& h) {
  std::vector<char> out(maxHeadSize(h));
  std::size_t n = writeResponseHead(h, out.data());
  REQUIRE(n <= out.size());
  return std::string(out.data(), n);
}

}  // namespace

TEST_CASE("response: a 200 head carries every required field in order") {
  ResponseHead h;
  h.date = "Wed, 25 Nov 2026 08:00:00 GMT";
  h.contentType = "text/html; charset=utf-8";
  h.contentLength = 612;
  h.etag = "\"abc-264\"";
  h.lastModified = 0;
  CHECK(render(h) ==
        "HTTP/1.1 200 OK\r\n"
        "Server: epserve/" EPSERVE_VERSION "\r\n"
        "Date: Wed, 25 Nov 2026 08:00:00 GMT\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        "Content-Length: 612\r\n"
        "Last-Modified: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
        "ETag: \"abc-264\"\r\n"
        "\r\n");
}

TEST_CASE("response: 204 and 304 carry no Content-Length, 404 does") {
  ResponseHead h;
  h.date = "d";
  h.status = Status::NoContent;
  h.allow = "GET, HEAD, OPTIONS";
  std::string s = render(h);
  CHECK(s.find("Content-Length") == std::string::npos);
  CHECK(s.find("Allow: GET, HEAD, OPTIONS\r\n") != std::string::npos);
  CHECK(s.rfind("HTTP/1.1 204 No Content\r\n", 0) == 0);

  h.status = Status::NotModified;
  CHECK(render(h).find("Content-Length") == std::string::npos);

  h.status = Status::NotFound;
  h.contentLength = 0;
  CHECK(render(h).find("Content-Length: 0\r\n") != std::string::npos);
}

TEST_CASE("response: connection, location and large lengths") {
  ResponseHead h;
  h.date = "d";
  h.status = Status::MovedPermanently;
  h.location = "/docs/";
  h.connection = ConnectionHeader::Close;
  h.contentLength = 18446744073709551615ULL;
  std::string s = render(h);
  CHECK(s.find("Location: /docs/\r\n") != std::string::npos);
  CHECK(s.find("Connection: close\r\n") != std::string::npos);
  CHECK(s.find("Content-Length: 18446744073709551615\r\n") != std::string::npos);
  h.connection = ConnectionHeader::KeepAlive;
  CHECK(render(h).find("Connection: keep-alive\r\n") != std::string::npos);
}

TEST_CASE("status: every code has its RFC 9110 reason phrase") {
  CHECK(reasonPhrase(Status::Ok) == "OK");
  CHECK(reasonPhrase(Status::NotFound) == "Not Found");
  CHECK(reasonPhrase(Status::HeaderFieldsTooLarge) == "Request Header Fields Too Large");
  CHECK(reasonPhrase(Status::ContentTooLarge) == "Content Too Large");
  CHECK(reasonPhrase(Status::VersionNotSupported) == "HTTP Version Not Supported");
  CHECK(reasonPhrase(static_cast<Status>(299)) == "Unknown");
  CHECK(forbidsContent(Status::NoContent));
  CHECK(forbidsContent(Status::NotModified));
  CHECK(forbidsContent(Status::Continue));
  CHECK_FALSE(forbidsContent(Status::NotFound));
}

TEST_CASE("response: each content framing writes its own field, or none") {
  ResponseHead h;
  h.date = "d";
  h.contentLength = 42;
  std::string s = render(h);
  CHECK(s.find("Content-Length: 42\r\n") != std::string::npos);
  CHECK(s.find("Transfer-Encoding") == std::string::npos);

  h.framing = ContentFraming::Chunked;
  s = render(h);
  CHECK(s.find("Transfer-Encoding: chunked\r\n") != std::string::npos);
  CHECK(s.find("Content-Length") == std::string::npos);
  CHECK(s.find("Connection") == std::string::npos);

  // Close-delimited: no framing field, and the connection is declared closing even when the
  // caller asked for keep-alive, since the body's end is the connection's end.
  h.framing = ContentFraming::UntilClose;
  h.connection = ConnectionHeader::KeepAlive;
  s = render(h);
  CHECK(s.find("Content-Length") == std::string::npos);
  CHECK(s.find("Transfer-Encoding") == std::string::npos);
  CHECK(s.find("Connection: close\r\n") != std::string::npos);
  CHECK(s.find("keep-alive") == std::string::npos);

  h.framing = ContentFraming::None;
  s = render(h);
  CHECK(s.find("Content-Length") == std::string::npos);
  CHECK(s.find("Transfer-Encoding") == std::string::npos);
  CHECK(s.find("Connection: keep-alive\r\n") != std::string::npos);

  // Statuses without content get no framing field, whichever was chosen.
  h.framing = ContentFraming::Chunked;
  for (Status st : {Status::Continue, Status::NoContent, Status::NotModified}) {
    h.status = st;
    CHECK(render(h).find("Transfer-Encoding") == std::string::npos);
  }
}

TEST_CASE("response: the chunked head is byte-exact") {
  ResponseHead h;
  h.status = Status::BadGateway;
  h.date = "Wed, 25 Nov 2026 08:00:00 GMT";
  h.framing = ContentFraming::Chunked;
  h.passThrough = "X-Upstream: a\r\nSet-Cookie: b=c\r\n";
  h.extraHeaders = "X-Frame-Options: DENY\r\n";
  CHECK(render(h) ==
        "HTTP/1.1 502 Bad Gateway\r\n"
        "Server: epserve/" EPSERVE_VERSION "\r\n"
        "Date: Wed, 25 Nov 2026 08:00:00 GMT\r\n"
        "Transfer-Encoding: chunked\r\n"
        "X-Upstream: a\r\nSet-Cookie: b=c\r\n"
        "X-Frame-Options: DENY\r\n"
        "\r\n");
}

TEST_CASE("response: any three-digit code, with the table's, a class or an explicit phrase") {
  ResponseHead h;
  h.date = "d";
  h.status = Status::GatewayTimeout;
  CHECK(render(h).rfind("HTTP/1.1 504 Gateway Timeout\r\n", 0) == 0);
  h.status = statusFromCode(299);
  CHECK(render(h).rfind("HTTP/1.1 299 Successful\r\n", 0) == 0);
  h.status = statusFromCode(599);
  CHECK(render(h).rfind("HTTP/1.1 599 Server Error\r\n", 0) == 0);
  h.status = statusFromCode(999);
  CHECK(render(h).rfind("HTTP/1.1 999 Unknown\r\n", 0) == 0);
  CHECK(render(h).find("Content-Length: 0\r\n") != std::string::npos);

  // A relayed phrase replaces the table's, for registered codes too.
  h.reason = "Whatever The Upstream Said";
  CHECK(render(h).rfind("HTTP/1.1 999 Whatever The Upstream Said\r\n", 0) == 0);
  h.status = statusFromCode(299);
  CHECK(render(h).rfind("HTTP/1.1 299 Whatever The Upstream Said\r\n", 0) == 0);
  h.status = Status::Ok;
  h.reason = "Fine";
  CHECK(render(h).rfind("HTTP/1.1 200 Fine\r\n", 0) == 0);
}

TEST_CASE("response: Server can be relayed or left out") {
  ResponseHead h;
  h.date = "d";
  h.server = "nginx";
  CHECK(render(h).find("Server: nginx\r\n") != std::string::npos);
  h.server = {};
  CHECK(render(h).find("Server") == std::string::npos);
}

TEST_CASE("response: maxHeadSize bounds a head with every field at once") {
  ResponseHead h;
  const std::string big(1000, 'x');
  h.status = Status::HeaderFieldsTooLarge;  // among the longest table phrases
  h.date = big;
  h.contentType = big;
  h.contentLength = UINT64_MAX;
  h.etag = big;
  h.lastModified = 253402300799;  // 9999-12-31: the formatted date is still fixed-size
  h.location = big;
  h.allow = big;
  h.contentRange = big;
  h.contentEncoding = big;
  h.vary = big;
  h.cacheControl = big;
  h.acceptRanges = true;
  h.connection = ConnectionHeader::KeepAlive;
  h.passThrough = big;
  h.extraHeaders = big;
  std::string s = render(h);  // render() REQUIREs the bound
  CHECK(s.size() > 11000);
  CHECK(maxHeadSize(h) - s.size() < 400);  // and the bound is not wasteful
  h.status = statusFromCode(65535);  // out of range, but the writer still stays within the bound
  h.reason = big;
  h.server = big;
  h.lastModifiedText = big;
  CHECK(render(h).size() > 14000);
}

TEST_CASE("status: codes an upstream returns, and what an unregistered one gets") {
  CHECK(reasonPhrase(Status::BadGateway) == "Bad Gateway");
  CHECK(reasonPhrase(Status::GatewayTimeout) == "Gateway Timeout");
  CHECK(reasonPhrase(Status::TooManyRequests) == "Too Many Requests");
  CHECK(reasonPhrase(Status::NetworkAuthenticationRequired) == "Network Authentication Required");
  CHECK(reasonPhrase(Status::UnprocessableContent) == "Unprocessable Content");
  CHECK(reasonPhrase(Status::PermanentRedirect) == "Permanent Redirect");
  CHECK(reasonPhrase(Status::NonAuthoritativeInformation) == "Non-Authoritative Information");
  CHECK(isRegistered(Status::BadGateway));
  CHECK_FALSE(isRegistered(statusFromCode(299)));
  CHECK_FALSE(isRegistered(statusFromCode(418)));  // "(Unused)" in RFC 9110 §15.5.19
  CHECK(reasonPhrase(statusFromCode(599)) == "Unknown");
  CHECK(defaultReasonPhrase(Status::NotFound) == "Not Found");
  CHECK(defaultReasonPhrase(statusFromCode(199)) == "Informational");
  CHECK(defaultReasonPhrase(statusFromCode(399)) == "Redirection");
  CHECK(defaultReasonPhrase(statusFromCode(499)) == "Client Error");
  CHECK(defaultReasonPhrase(statusFromCode(600)) == "Unknown");
  CHECK(isStatusCode(100));
  CHECK(isStatusCode(999));
  CHECK_FALSE(isStatusCode(99));
  CHECK_FALSE(isStatusCode(1000));
  // forbidsContent holds for every code, named or not.
  CHECK(forbidsContent(statusFromCode(199)));
  CHECK(forbidsContent(Status::SwitchingProtocols));
  CHECK_FALSE(forbidsContent(Status::ResetContent));
  CHECK_FALSE(forbidsContent(statusFromCode(299)));
  CHECK_FALSE(forbidsContent(statusFromCode(999)));
}
