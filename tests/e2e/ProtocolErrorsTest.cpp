// End-to-end tests for method handling and rejected requests: status, Allow, and whether the
// connection survives (400/408/413/414/417/431/501/505 close it; 404/405/412 do not).
#include <doctest/doctest.h>

#include <chrono>

#include "Client.h"
#include "ServedRoot.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;

constexpr const char* kAllow = "GET, HEAD, OPTIONS";

// An error that ends the connection: small HTML body, `Connection: close`, then EOF.
void checkClosingError(Client& client, const HttpResponse& response, int status) {
  CHECK(response.status == status);
  CHECK(response.connectionHas("close"));
  CHECK(response.header("Content-Type").rfind("text/html", 0) == 0);
  CHECK_FALSE(response.body.empty());
  CHECK(client.waitForClose(3s));
}

// Sends `raw` on a fresh connection and expects a closing error with `status`.
void expectClosingError(const ServedRoot& served, const std::string& raw, int status) {
  Client client = served.connect();
  const HttpResponse response = client.request(raw);
  checkClosingError(client, response, status);
}

TEST_CASE("errors: OPTIONS gives 204 with Allow and keeps the connection") {
  ServedRoot served;
  Client client = served.connect();
  const HttpResponse response = client.request(requestHead("OPTIONS", "/index.html"));
  CHECK(response.status == 204);
  CHECK(response.header("Allow") == kAllow);
  CHECK_FALSE(response.has("Content-Length"));  // RFC 9110 §8.6: never on a 204
  CHECK(response.body.empty());
  const HttpResponse next = client.request(requestHead("GET", "/style.css"));
  CHECK(next.status == 200);
  CHECK(next.body == served.files.readFile("style.css"));
}

TEST_CASE("errors: OPTIONS with the asterisk-form target gives 204") {
  ServedRoot served;
  Client client = served.connect();
  // RFC 9112 §3.2.4: "*" asks about the server as a whole and is only valid with OPTIONS.
  const HttpResponse response = client.request(requestHead("OPTIONS", "*"));
  CHECK(response.status == 204);
  CHECK(response.header("Allow") == kAllow);
}

TEST_CASE("errors: POST PUT DELETE PATCH give 405 with Allow and keep the connection") {
  ServedRoot served;
  Client client = served.connect();
  for (const std::string method : {"POST", "PUT", "DELETE", "PATCH"}) {
    CAPTURE(method);
    const HttpResponse response =
        client.request(requestHead(method, "/index.html", "Content-Length: 3\r\n") + "abc");
    CHECK(response.status == 405);
    CHECK(response.header("Allow") == kAllow);
    CHECK_FALSE(response.connectionHas("close"));
  }
  const HttpResponse next = client.request(requestHead("GET", "/style.css"));
  CHECK(next.status == 200);
  CHECK(next.body == served.files.readFile("style.css"));
}

TEST_CASE("errors: unknown methods give 501 and close") {
  ServedRoot served;
  for (const std::string method : {"BREW", "TRACE"}) {
    CAPTURE(method);
    expectClosingError(served, requestHead(method, "/index.html"), 501);
  }
}

TEST_CASE("errors: malformed request line gives 400 and closes") {
  ServedRoot served;
  const std::string cases[] = {
      "GARBAGE\r\n\r\n",
      "GET /index.html HTTP/1.1 extra\r\nHost: x\r\n\r\n",
      std::string("G\x01T /index.html HTTP/1.1\r\nHost: x\r\n\r\n"),
      "GET /index.html HTTX/1.1\r\nHost: x\r\n\r\n",
  };
  for (const std::string& raw : cases) {
    CAPTURE(raw);
    expectClosingError(served, raw, 400);
  }
}

TEST_CASE("errors: malformed header fields give 400 and close") {
  ServedRoot served;
  const std::string cases[] = {
      "GET / HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n",
      // RFC 9112 §5.1: whitespace between field name and colon MUST be rejected with 400.
      "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
      // RFC 9112 §5.2: obs-fold outside message/http is rejected (the spec chooses 400).
      "GET / HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n",
  };
  for (const std::string& raw : cases) {
    CAPTURE(raw);
    expectClosingError(served, raw, 400);
  }
}

TEST_CASE("errors: HTTP/1.1 needs exactly one Host but HTTP/1.0 needs none") {
  ServedRoot served;
  expectClosingError(served, "GET /index.html HTTP/1.1\r\n\r\n", 400);
  expectClosingError(served, "GET /index.html HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
  Client client = served.connect();
  const HttpResponse legacy = client.request("GET /index.html HTTP/1.0\r\n\r\n");
  CHECK(legacy.status == 200);
  CHECK(legacy.body == served.files.readFile("index.html"));
}

TEST_CASE("errors: HTTP/1.2 to 1.9 are answered as HTTP/1.1") {
  ServedRoot served;
  const std::string index = served.files.readFile("index.html");
  Client client = served.connect();
  for (const std::string version : {"HTTP/1.2", "HTTP/1.5", "HTTP/1.9"}) {
    CAPTURE(version);
    // RFC 9110 §2.5: a later minor version is handled as the highest one served, 1.1: keep-alive
    // by default, so the same connection answers all three.
    const HttpResponse r =
        client.request("GET /index.html " + version + "\r\nHost: x\r\n\r\n");
    CHECK(r.status == 200);
    CHECK(r.version == "HTTP/1.1");
    CHECK_FALSE(r.connectionHas("close"));
    CHECK(sameBytes(r.body, index));
  }
  // As 1.1, it needs a Host.
  expectClosingError(served, "GET /index.html HTTP/1.5\r\n\r\n", 400);
}

TEST_CASE("errors: unsupported HTTP versions give 505") {
  ServedRoot served;
  for (const std::string version : {"HTTP/3.0", "HTTP/2.0"}) {
    CAPTURE(version);
    expectClosingError(served, "GET /index.html " + version + "\r\nHost: x\r\n\r\n", 505);
  }
}

TEST_CASE("errors: request target over 8 KiB gives 414 but 7 KiB is fine") {
  ServedRoot served;
  expectClosingError(served, requestHead("GET", "/" + std::string(9 * 1024, 'a')), 414);
  Client client = served.connect();
  const HttpResponse response =
      client.request(requestHead("GET", "/" + std::string(7 * 1024, 'a')));
  CHECK(response.status == 404);
}

std::string headWithFields(std::size_t extraFields) {
  std::string fields;
  for (std::size_t i = 0; i < extraFields; ++i) {
    fields += "X-Field-" + std::to_string(i) + ": value\r\n";
  }
  return requestHead("GET", "/index.html", fields);
}

TEST_CASE("errors: 101 header fields give 431 but 100 are accepted") {
  ServedRoot served;
  {
    Client client = served.connect();
    const HttpResponse response = client.request(headWithFields(99));  // plus Host: 100 fields
    CHECK(response.status == 200);
    CHECK(response.body == served.files.readFile("index.html"));
  }
  expectClosingError(served, headWithFields(100), 431);
}

TEST_CASE("errors: a 17 KiB header field gives 431") {
  ServedRoot served;
  expectClosingError(
      served, requestHead("GET", "/index.html", "X-Big: " + std::string(17 * 1024, 'b') + "\r\n"),
      431);
}

TEST_CASE("errors: bad body framing gives 400") {
  ServedRoot served;
  // RFC 9112 §6.1: both framings at once is a smuggling vector and must not be guessed at.
  expectClosingError(
      served,
      requestHead("GET", "/index.html", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n") +
          "0\r\n\r\n",
      400);
  expectClosingError(served, requestHead("GET", "/index.html", "Content-Length: abc\r\n"), 400);
  expectClosingError(
      served,
      requestHead("GET", "/index.html", "Content-Length: 3\r\nContent-Length: 4\r\n") + "abcd",
      400);
}

TEST_CASE("errors: Transfer-Encoding other than chunked gives 501") {
  ServedRoot served;
  expectClosingError(served, requestHead("POST", "/index.html", "Transfer-Encoding: gzip\r\n"),
                     501);
}

TEST_CASE("errors: body over --max-body-size gives 413 and the limit itself is accepted") {
  ServedRoot served({"--max-body-size", "100"});
  {
    Client client = served.connect();
    const HttpResponse response = client.request(
        requestHead("GET", "/index.html", "Content-Length: 100\r\n") + std::string(100, 'x'));
    CHECK(response.status == 200);
    CHECK(response.body == served.files.readFile("index.html"));
  }
  // Content-Length alone already tells the server; the body is never sent.
  expectClosingError(served, requestHead("GET", "/index.html", "Content-Length: 1000\r\n"), 413);
  // A chunked body only shows its size as it arrives.
  expectClosingError(served,
                     requestHead("GET", "/index.html", "Transfer-Encoding: chunked\r\n") +
                         "96\r\n" + std::string(150, 'y') + "\r\n0\r\n\r\n",
                     413);
}

// What the error page says, for a person reading the raw response: one sentence naming the
// problem (and, where telnet is the likely sender, what to type instead).
void expectSentence(const ServedRoot& served, const std::string& raw, int status,
                    const std::string& sentence) {
  Client client = served.connect();
  const HttpResponse r = client.request(raw);
  CHECK(r.status == status);
  CHECK(r.header("Content-Length") == std::to_string(r.body.size()));
  CHECK(r.body.find("<p>" + sentence) != std::string::npos);
}

TEST_CASE("errors: each error body says in one sentence what was wrong") {
  ServedRoot served({"--max-body-size", "100"});
  // The telnet session that forgot the Host line.
  expectSentence(served, "GET /index.html HTTP/1.1\r\n\r\n", 400,
                 "An HTTP/1.1 request needs a Host header (type Host: localhost on the line "
                 "after the request line, then an empty line).");
  expectSentence(served, "GET / http/1.1\r\nHost: x\r\n\r\n", 400,
                 "The request line must end with the version in capitals, HTTP/1.1");
  expectSentence(served, requestHead("POST", "/index.html", "Content-Length: 0\r\n"), 405,
                 "This resource answers GET, HEAD and OPTIONS; POST is not allowed.");
  expectSentence(served, requestHead("GET", "/index.html", "Content-Length: 1000\r\n"), 413,
                 "The request body is larger than the 100 bytes this server accepts.");
  expectSentence(served, requestHead("GET", "/" + std::string(9 * 1024, 'a')), 414,
                 "The request line is longer than this server accepts");
  expectSentence(served, headWithFields(100), 431,
                 "The request has more header fields than this server accepts");
  expectSentence(served,
                 requestHead("GET", "/index.html", "X-Big: " + std::string(17 * 1024, 'b') + "\r\n"),
                 431, "The header fields are larger than this server accepts");
  expectSentence(served, requestHead("get", "/index.html"), 501,
                 "The method is not one this server implements; it answers GET, HEAD and OPTIONS "
                 "(methods are case-sensitive: GET, not get).");
  expectSentence(served, requestHead("POST", "/index.html", "Transfer-Encoding: gzip\r\n"), 501,
                 "The request body uses a transfer coding other than chunked");
  expectSentence(served, "GET /index.html HTTP/2.0\r\nHost: x\r\n\r\n", 505,
                 "This server speaks HTTP/1.1 and HTTP/1.0: end the request line with HTTP/1.1.");
  expectSentence(served, requestHead("GET", "/index.html", "Expect: teapot\r\n"), 417,
                 "Only Expect: 100-continue is supported");
}

TEST_CASE("errors: error bodies echo no request bytes") {
  ServedRoot served;
  // Markup in the target, a header name and a Host value: none of it reaches the page.
  const std::string probes[] = {
      "GET /<script>alert(1)</script> HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /index.html HTTP/1.1\r\nHost: <b>x</b>\r\n\r\n",
      "GET /index.html HTTP/1.1\r\nHost: x\r\n<img src=x>: y\r\n\r\n",
      "<marquee> / HTTP/1.1\r\nHost: x\r\n\r\n",
  };
  for (const std::string& raw : probes) {
    CAPTURE(raw);
    Client client = served.connect();
    const HttpResponse r = client.request(raw);
    CHECK(r.status == 400);
    for (const char* bytes : {"script", "<b>", "img", "marquee"}) {
      CHECK(r.body.find(bytes) == std::string::npos);
    }
  }
}

TEST_CASE("errors: Expect other than 100-continue gives 417") {
  ServedRoot served;
  expectClosingError(served, requestHead("GET", "/index.html", "Expect: teapot\r\n"), 417);
}

}  // namespace
}  // namespace epserve::e2e
