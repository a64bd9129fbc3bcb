// End-to-end tests for conditional GET (RFC 9110 §13): 304 from ETag or date validators, 412.
// Validators are taken from a first response, the way a browser cache would use them.
#include <doctest/doctest.h>

#include "Client.h"
#include "ServedRoot.h"

namespace epserve::e2e {
namespace {

constexpr const char* kLongAgo = "Thu, 01 Jan 1970 00:00:01 GMT";

std::string withHeader(const std::string& target, const std::string& field) {
  return requestHead("GET", target, field + "\r\n");
}

TEST_CASE("conditional: If-None-Match with the ETag gives 304 without a body") {
  ServedRoot served;
  Client client = served.connect();
  const HttpResponse first = client.request(requestHead("GET", "/index.html"));
  REQUIRE(first.status == 200);
  const std::string etag = first.header("ETag");
  REQUIRE_FALSE(etag.empty());

  const HttpResponse notModified =
      client.request(withHeader("/index.html", "If-None-Match: " + etag));
  CHECK(notModified.status == 304);
  CHECK(notModified.header("ETag") == etag);  // RFC 9110 §15.4.5: 304 repeats the validator
  CHECK(notModified.body.empty());
  // A body after the 304 would be read as the next status line; 304 keeps the connection.
  const HttpResponse next = client.request(requestHead("GET", "/style.css"));
  CHECK(next.status == 200);
  CHECK(next.body == served.files.readFile("style.css"));

  // The field is a list, may be *, and uses weak comparison (RFC 9110 §13.1.2).
  for (const std::string& value : {"\"other\", " + etag, std::string("*"), "W/" + etag}) {
    CAPTURE(value);
    const HttpResponse response =
        client.request(withHeader("/index.html", "If-None-Match: " + value));
    CHECK(response.status == 304);
    CHECK(response.body.empty());
  }
  const HttpResponse changed = client.request(withHeader("/index.html", "If-None-Match: \"nope\""));
  CHECK(changed.status == 200);
  CHECK(changed.body == served.files.readFile("index.html"));
}

TEST_CASE("conditional: If-Modified-Since with Last-Modified gives 304 without a body") {
  ServedRoot served;
  Client client = served.connect();
  const HttpResponse first = client.request(requestHead("GET", "/index.html"));
  REQUIRE(first.status == 200);
  const std::string lastModified = first.header("Last-Modified");
  REQUIRE_FALSE(lastModified.empty());

  const HttpResponse notModified =
      client.request(withHeader("/index.html", "If-Modified-Since: " + lastModified));
  CHECK(notModified.status == 304);
  CHECK(notModified.body.empty());
  const HttpResponse next = client.request(requestHead("GET", "/readme.txt"));
  CHECK(next.status == 200);
  CHECK(next.body == served.files.readFile("readme.txt"));

  const HttpResponse old =
      client.request(withHeader("/index.html", std::string("If-Modified-Since: ") + kLongAgo));
  CHECK(old.status == 200);
  CHECK(old.body == served.files.readFile("index.html"));
}

TEST_CASE("conditional: If-None-Match takes precedence over If-Modified-Since") {
  ServedRoot served;
  Client client = served.connect();
  const HttpResponse first = client.request(requestHead("GET", "/index.html"));
  REQUIRE(first.status == 200);
  // RFC 9110 §13.2.2 step 3: when If-None-Match is present, If-Modified-Since is ignored.
  const HttpResponse mismatch = client.request(requestHead(
      "GET", "/index.html",
      "If-None-Match: \"nope\"\r\nIf-Modified-Since: " + first.header("Last-Modified") + "\r\n"));
  CHECK(mismatch.status == 200);
  CHECK(mismatch.body == served.files.readFile("index.html"));
  const HttpResponse match = client.request(requestHead(
      "GET", "/index.html",
      "If-None-Match: " + first.header("ETag") + "\r\nIf-Modified-Since: " + kLongAgo + "\r\n"));
  CHECK(match.status == 304);
}

TEST_CASE("conditional: failing If-Match or If-Unmodified-Since gives 412") {
  ServedRoot served;
  Client client = served.connect();
  const HttpResponse first = client.request(requestHead("GET", "/index.html"));
  REQUIRE(first.status == 200);
  const std::string etag = first.header("ETag");

  const HttpResponse failed = client.request(withHeader("/index.html", "If-Match: \"not-it\""));
  CHECK(failed.status == 412);
  CHECK_FALSE(failed.connectionHas("close"));
  // 412 keeps the connection alive.
  const HttpResponse matched = client.request(withHeader("/index.html", "If-Match: " + etag));
  CHECK(matched.status == 200);
  CHECK(matched.body == served.files.readFile("index.html"));
  const HttpResponse any = client.request(withHeader("/index.html", "If-Match: *"));
  CHECK(any.status == 200);
  // If-Match uses strong comparison: a weak tag never matches (RFC 9110 §13.1.1).
  const HttpResponse weak = client.request(withHeader("/index.html", "If-Match: W/" + etag));
  CHECK(weak.status == 412);

  const HttpResponse unmodified =
      client.request(withHeader("/index.html", std::string("If-Unmodified-Since: ") + kLongAgo));
  CHECK(unmodified.status == 412);
  const HttpResponse stillFine = client.request(
      withHeader("/index.html", "If-Unmodified-Since: " + first.header("Last-Modified")));
  CHECK(stillFine.status == 200);
}

}  // namespace
}  // namespace epserve::e2e
