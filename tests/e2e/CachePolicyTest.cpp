// End-to-end tests for the cache policy options: --cache-control on file responses (200, 206,
// 304), Cache-Control: no-store on the 404 page, --header on every response, and the start-up
// refusal of header values that could inject fields (CR/LF).
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "Client.h"
#include "FeatureSupport.h"
#include "ServedRoot.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPolicy = "public, max-age=3600, must-revalidate";

TEST_CASE("cache: --cache-control is on 200, 206 and 304 file responses, the 404 page no-store") {
  ServedRoot served({"--cache-control", kPolicy});
  served.files.writeFile("big.bin", randomBytes(40000, 7));
  Client client = served.connect();
  const HttpResponse ok = client.request(requestHead("GET", "/index.html"));
  const HttpResponse big = client.request(requestHead("GET", "/big.bin"));
  const HttpResponse dirIndex = client.request(requestHead("GET", "/docs/"));
  const HttpResponse head = client.request(requestHead("HEAD", "/style.css"), true);
  const HttpResponse partial = client.request(requestHead("GET", "/big.bin", "Range: bytes=0-9\r\n"));
  const HttpResponse notModified = client.request(
      requestHead("GET", "/index.html", "If-None-Match: " + ok.header("ETag") + "\r\n"));
  const HttpResponse dated = client.request(requestHead(
      "GET", "/index.html", "If-Modified-Since: " + ok.header("Last-Modified") + "\r\n"));
  const std::vector<std::pair<int, const HttpResponse*>> withPolicy = {
      {200, &ok}, {200, &big}, {200, &dirIndex}, {200, &head},
      {206, &partial}, {304, &notModified}, {304, &dated}};
  for (const auto& [status, r] : withPolicy) {
    CAPTURE(status);
    CHECK(r->status == status);
    CHECK(r->header("Cache-Control") == kPolicy);
    CHECK(r->headerCount("Cache-Control") == 1);
  }

  // A missing page may appear at any moment: never cached, whatever the file policy says.
  for (const std::string target : {"/no/such/page", "/missing.css", "/.hidden"}) {
    CAPTURE(target);
    const HttpResponse missing = client.request(requestHead("GET", target));
    CHECK(missing.status == 404);
    CHECK(missing.header("Cache-Control") == "no-store");
    CHECK(missing.headerCount("Cache-Control") == 1);
    CHECK(missing.body == served.files.readFile("noIndex.html"));
  }
  const HttpResponse missingHead = client.request(requestHead("HEAD", "/gone.html"), true);
  CHECK(missingHead.status == 404);
  CHECK(missingHead.header("Cache-Control") == "no-store");
}

TEST_CASE("cache: without --cache-control files carry none, the 404 page still no-store") {
  ServedRoot served;
  Client client = served.connect();
  const HttpResponse ok = client.request(requestHead("GET", "/index.html"));
  CHECK(ok.status == 200);
  CHECK_FALSE(ok.has("Cache-Control"));
  const HttpResponse notModified = client.request(
      requestHead("GET", "/index.html", "If-None-Match: " + ok.header("ETag") + "\r\n"));
  CHECK(notModified.status == 304);
  CHECK_FALSE(notModified.has("Cache-Control"));
  const HttpResponse missing = client.request(requestHead("GET", "/absent.html"));
  CHECK(missing.status == 404);
  CHECK(missing.header("Cache-Control") == "no-store");
}

TEST_CASE("cache: --header adds each field, once, to every kind of response") {
  ServedRoot served({"--header", "X-Frame-Options: DENY", "--header",
                     "Strict-Transport-Security:   max-age=63072000; includeSubDomains  ",
                     "--header", "X-Tabbed: a\tb"});
  served.files.writeFile("big.bin", randomBytes(40000, 9));
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"X-Frame-Options", "DENY"},
      {"Strict-Transport-Security", "max-age=63072000; includeSubDomains"},
      {"X-Tabbed", "a\tb"}};

  std::vector<HttpResponse> responses;
  {
    Client client = served.connect();
    const HttpResponse ok = client.request(requestHead("GET", "/index.html"));
    responses.push_back(ok);
    responses.push_back(client.request(requestHead("GET", "/big.bin")));
    responses.push_back(client.request(requestHead("HEAD", "/index.html"), true));
    responses.push_back(client.request(requestHead("GET", "/big.bin", "Range: bytes=0-1\r\n")));
    responses.push_back(client.request(
        requestHead("GET", "/big.bin", "Range: bytes=0-1,5-6\r\n")));
    responses.push_back(client.request(requestHead("GET", "/big.bin", "Range: bytes=99999-\r\n")));
    responses.push_back(client.request(
        requestHead("GET", "/index.html", "If-None-Match: " + ok.header("ETag") + "\r\n")));
    responses.push_back(client.request(requestHead("GET", "/index.html", "If-Match: \"x\"\r\n")));
    responses.push_back(client.request(requestHead("GET", "/missing")));
    responses.push_back(client.request(requestHead("GET", "/docs")));
    responses.push_back(client.request(requestHead("OPTIONS", "/")));
    responses.push_back(client.request(requestHead("POST", "/index.html", "Content-Length: 0\r\n")));
  }
  {  // responses that close the connection go through the same head writer
    Client client = served.connect();
    responses.push_back(client.request(requestHead("BREW", "/pot")));
  }
  {
    Client client = served.connect();
    responses.push_back(client.request("GET /a/../../x HTTP/1.1\r\nHost: h\r\n\r\n"));
  }
  {
    Client client = served.connect();
    responses.push_back(client.request("GET / HTTP/2.0\r\nHost: h\r\n\r\n"));
  }
  std::vector<int> statuses;
  for (const HttpResponse& r : responses) statuses.push_back(r.status);
  CHECK(statuses == std::vector<int>{200, 200, 200, 206, 206, 416, 304, 412, 404, 301, 204, 405,
                                     501, 400, 505});
  for (const HttpResponse& r : responses) {
    CAPTURE(r.status);
    for (const auto& [name, value] : expected) {
      CAPTURE(name);
      CHECK(r.headerCount(name) == 1);
      CHECK(r.header(name) == value);
    }
  }
}

TEST_CASE("cache: header values with CR or LF are refused at start-up with exit 2") {
  TempRoot files;
  const std::string root = files.root().string();
  const std::vector<std::vector<std::string>> refused = {
      {"--header", "X-Evil: a\r\nSet-Cookie: session=stolen"},
      {"--header", "X-Evil: a\nSet-Cookie: session=stolen"},
      {"--header", "X-Evil: a\rb"},
      {"--header", "X-Ok: fine", "--header", "X-Evil: \r\n"},
      {"--cache-control", "max-age=60\r\nX-Injected: 1"},
      {"--cache-control", "no-cache\n"},
      {"--header", "Bad Name: value"},  // not a token
      {"--header", "no colon at all"},
      {"--header", ": empty name"},
  };
  for (const auto& extra : refused) {
    std::vector<std::string> args = {"-i", "127.0.0.1", "-p", "0", "-r", root};
    args.insert(args.end(), extra.begin(), extra.end());
    CAPTURE(extra.back());
    const ExitResult result = ServerProcess::run(args, 10s);
    CHECK(result.status == 2);
    CHECK(result.err.find("listening on") == std::string::npos);
    // One line naming the problem, and nothing on stdout (no access log, no request served).
    CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
    CHECK(result.err.find("header") != std::string::npos);
    CHECK(result.out.empty());
  }
}

}  // namespace
}  // namespace epserve::e2e
