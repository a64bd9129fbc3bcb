// End-to-end tests for --fallback (single-page apps): a path that matches nothing is answered 200
// with the app's shell file, unless its last segment has an extension (a missing asset: 404).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "Client.h"
#include "Curl.h"
#include "FeatureSupport.h"
#include "ServedRoot.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;

constexpr const char* kShell =
    "<!DOCTYPE html>\n<html><head><title>spa shell</title></head>\n"
    "<body><div id=\"app\"></div><script src=\"/app/main.js\"></script></body></html>\n";

struct SpaRoot {
  ServedRoot served;
  explicit SpaRoot(const std::vector<std::string>& args) : served(args) {
    served.files.writeFile("app.html", kShell);
    served.files.writeFile("app/main.js", "document.getElementById('app').textContent = 'hi';\n");
  }
};

TEST_CASE("fallback: routes without an extension get the fallback file with 200") {
  SpaRoot spa({"--fallback", "app.html"});
  Client client = spa.served.connect();
  const HttpResponse direct = client.request(requestHead("GET", "/app.html"));
  REQUIRE(direct.status == 200);
  for (const std::string target :
       {"/users/42", "/users/42/", "/deep/nested/client/route", "/settings?tab=a.b",
        "/v1.2/users", "/no-such-dir/", "/empty/", "/users/%C3%A9t%C3%A9"}) {
    CAPTURE(target);
    const HttpResponse r = client.request(requestHead("GET", target));
    CHECK(r.status == 200);
    CHECK(r.header("Content-Type") == "text/html; charset=utf-8");
    CHECK(r.header("ETag") == direct.header("ETag"));
    CHECK(r.header("Last-Modified") == direct.header("Last-Modified"));
    CHECK(r.body == kShell);
    CHECK_FALSE(r.connectionHas("close"));
  }
  // What exists is still served as itself.
  const std::vector<std::pair<std::string, std::string>> real = {
      {"/", "index.html"}, {"/style.css", "style.css"}, {"/docs/", "docs/index.html"},
      {"/app/main.js", "app/main.js"}};
  for (const auto& [target, file] : real) {
    CAPTURE(target);
    const HttpResponse r = client.request(requestHead("GET", target));
    CHECK(r.status == 200);
    CHECK(r.body == spa.served.files.readFile(file));
  }
  CHECK(client.request(requestHead("GET", "/docs")).status == 301);
}

TEST_CASE("fallback: a missing path whose last segment has an extension stays 404") {
  SpaRoot spa({"--fallback", "app.html"});
  Client client = spa.served.connect();
  const std::string notFound = spa.served.files.readFile("noIndex.html");
  for (const std::string target :
       {"/app.js", "/users/42.json", "/img/logo.png", "/a.b/c.d", "/dir.v2/file.txt",
        "/favicon.ico", "/users/john%2Edoe", "/archive.tar.gz", "/.hidden", "/.private/route",
        "/.env/route"}) {
    CAPTURE(target);
    const HttpResponse r = client.request(requestHead("GET", target));
    CHECK(r.status == 404);
    CHECK(r.body == notFound);
    CHECK(r.header("Cache-Control") == "no-store");
  }
  // The dot only counts in the last segment.
  CHECK(client.request(requestHead("GET", "/dir.v2/route")).body == kShell);
  // Other rules still come first.
  CHECK(client.request(requestHead("POST", "/users/42", "Content-Length: 0\r\n")).status == 405);
  Client another = spa.served.connect();
  CHECK(another.request(requestHead("GET", "/a/../../route")).status == 400);
}

TEST_CASE("fallback: HEAD, conditional requests, ranges and --cache-control apply to it") {
  SpaRoot spa({"--fallback", "/app.html", "--cache-control", "no-cache"});
  Client client = spa.served.connect();
  const HttpResponse get = client.request(requestHead("GET", "/inbox/7"));
  REQUIRE(get.status == 200);
  CHECK(get.body == kShell);
  CHECK(get.header("Cache-Control") == "no-cache");
  const HttpResponse head = client.request(requestHead("HEAD", "/inbox/7"), true);
  CHECK(head.status == 200);
  CHECK(headerDifferences(get, head) == "");
  const HttpResponse notModified = client.request(
      requestHead("GET", "/inbox/8", "If-None-Match: " + get.header("ETag") + "\r\n"));
  CHECK(notModified.status == 304);
  CHECK(notModified.header("Cache-Control") == "no-cache");
  const HttpResponse part = client.request(requestHead("GET", "/inbox/9", "Range: bytes=0-14\r\n"));
  CHECK(part.status == 206);
  CHECK(part.body == std::string(kShell).substr(0, 15));
  // The 404 for a missing asset keeps no-store, not the file policy.
  CHECK(client.request(requestHead("GET", "/inbox/9.js")).header("Cache-Control") == "no-store");
}

TEST_CASE("fallback: a fallback in a subdirectory is used, a missing one or none means 404") {
  {
    TempRoot files;
    files.writeFile("spa/shell.html", kShell);
    ServerProcess server(files.root(), {"--fallback", "spa/shell.html"});
    Client client(server.port());
    CHECK(client.request(requestHead("GET", "/x/y")).body == kShell);
  }
  {
    TempRoot files;
    ServerProcess server(files.root(), {"--fallback", "missing.html"});
    Client client(server.port());
    const HttpResponse r = client.request(requestHead("GET", "/users/42"));
    CHECK(r.status == 404);
    CHECK(r.body == files.readFile("noIndex.html"));
  }
  {
    ServedRoot served;
    served.files.writeFile("app.html", kShell);
    Client client = served.connect();
    CHECK(client.request(requestHead("GET", "/users/42")).status == 404);
  }
  // An empty name is refused at start-up like any bad value.
  TempRoot files;
  const ExitResult bad =
      ServerProcess::run({"-p", "0", "-r", files.root().string(), "--fallback", "/"}, 10s);
  CHECK(bad.status == 2);
}

TEST_CASE("fallback: curl following a deep link gets the app, a missing asset 404") {
  SpaRoot spa({"--fallback", "app.html"});
  const auto out = spa.served.files.base() / "curl-out";
  const CurlResult route = runCurl(
      {"-sS", "-o", out.string(), "-w", "%{http_code}", spa.served.url("/users/42/profile")});
  CHECK(route.exitCode == 0);
  CHECK(route.out == "200");
  CHECK(readWholeFile(out) == kShell);
  const CurlResult asset =
      runCurl({"-sS", "-o", out.string(), "-w", "%{http_code}", spa.served.url("/app/missing.js")});
  CHECK(asset.out == "404");
  CHECK(spa.served.server.waitForOut("\"GET /users/42/profile HTTP/1.1\" 200 ", 5s));
}

}  // namespace
}  // namespace epserve::e2e
