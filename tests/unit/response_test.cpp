// Unit tests for response head serialization (http/Response) and status phrases.
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
