// End-to-end tests for serving files: bodies byte for byte, 404 page, HEAD, types, directories.
// Every case starts its own server on a fresh temp root (see ServedRoot.h).
#include <doctest/doctest.h>
#include <time.h>

#include <chrono>
#include <ctime>
#include <regex>

#include "Client.h"
#include "Curl.h"
#include "ServedRoot.h"

namespace epserve::e2e {
namespace {

TEST_CASE("static: GET / and /index.html return index.html byte for byte over one socket") {
  ServedRoot served;
  const std::string index = served.files.readFile("index.html");
  Client client = served.connect();
  for (const std::string target : {"/", "/index.html"}) {
    CAPTURE(target);
    const HttpResponse response = client.request(requestHead("GET", target));
    CHECK(response.version == "HTTP/1.1");
    CHECK(response.status == 200);
    CHECK(response.header("Content-Type") == "text/html; charset=utf-8");
    CHECK(response.header("Content-Length") == std::to_string(index.size()));
    CHECK(sameBytes(response.body, index));
  }
}

TEST_CASE("static: curl -o downloads / and /index.html and a binary file byte for byte") {
  ServedRoot served;
  const auto saved = served.files.base() / "curl-download";
  for (const std::string target : {"/", "/index.html", "/blob.bin"}) {
    CAPTURE(target);
    const std::string expected =
        served.files.readFile(target == "/" ? "index.html" : target.substr(1));
    const CurlResult curl =
        runCurl({"-s", "-o", saved.string(), "-w", "%{http_code}", served.url(target)});
    CHECK(curl.exitCode == 0);
    CHECK(curl.out == "200");
    CHECK(sameBytes(readWholeFile(saved), expected));
  }
}

TEST_CASE("static: binary file with every octet value arrives byte for byte") {
  ServedRoot served;
  const std::string blob = served.files.readFile("blob.bin");
  Client client = served.connect();
  const HttpResponse response = client.request(requestHead("GET", "/blob.bin"));
  CHECK(response.status == 200);
  CHECK(response.header("Content-Type") == "application/octet-stream");
  CHECK(response.header("Content-Length") == std::to_string(blob.size()));
  CHECK(sameBytes(response.body, blob));
}

TEST_CASE("static: missing path gives 404 with the root's noIndex.html and keeps the connection") {
  ServedRoot served;
  const std::string notFound = served.files.readFile("noIndex.html");
  Client client = served.connect();
  const HttpResponse missing = client.request(requestHead("GET", "/no/such/file.html"));
  CHECK(missing.status == 404);
  CHECK(missing.header("Content-Type") == "text/html; charset=utf-8");
  CHECK(missing.header("Content-Length") == std::to_string(notFound.size()));
  CHECK(sameBytes(missing.body, notFound));
  CHECK_FALSE(missing.connectionHas("close"));
  // 404 is not a connection-ending error: the same socket must serve the next request.
  const HttpResponse next = client.request(requestHead("GET", "/style.css"));
  CHECK(next.status == 200);
  CHECK(next.body == served.files.readFile("style.css"));
}

TEST_CASE("static: HEAD has the same headers as GET and no body") {
  ServedRoot served;
  Client client = served.connect();
  const HttpResponse get = client.request(requestHead("GET", "/index.html"));
  const HttpResponse head = client.request(requestHead("HEAD", "/index.html"), true);
  REQUIRE(get.status == 200);
  CHECK(head.status == 200);
  for (const std::string name :
       {"Content-Type", "Content-Length", "ETag", "Last-Modified", "Server"}) {
    CAPTURE(name);
    CHECK(head.has(name));
    CHECK(head.header(name) == get.header(name));
  }
  CHECK(head.has("Date"));
  CHECK(head.body.empty());
  // Were any body bytes sent after the HEAD response, they would be parsed as this status line.
  const HttpResponse after = client.request(requestHead("GET", "/style.css"));
  CHECK(after.status == 200);
  CHECK(after.body == served.files.readFile("style.css"));

  const HttpResponse missingHead = client.request(requestHead("HEAD", "/nope.html"), true);
  CHECK(missingHead.status == 404);
  CHECK(missingHead.header("Content-Length") ==
        std::to_string(served.files.readFile("noIndex.html").size()));
  const HttpResponse afterMissing = client.request(requestHead("GET", "/readme.txt"));
  CHECK(afterMissing.status == 200);
  CHECK(afterMissing.body == served.files.readFile("readme.txt"));
}

TEST_CASE("static: Content-Type follows the file extension") {
  ServedRoot served;
  Client client = served.connect();
  const std::pair<std::string, std::string> cases[] = {
      {"/index.html", "text/html; charset=utf-8"},  {"/style.css", "text/css; charset=utf-8"},
      {"/readme.txt", "text/plain; charset=utf-8"}, {"/image.png", "image/png"},
      {"/notes.xyz", "application/octet-stream"},
  };
  for (const auto& [target, type] : cases) {
    CAPTURE(target);
    const HttpResponse response = client.request(requestHead("GET", target));
    CHECK(response.status == 200);
    CHECK(response.header("Content-Type") == type);
    CHECK(response.body == served.files.readFile(target.substr(1)));
  }
  const HttpResponse json = client.request(requestHead("GET", "/data.json"));
  CHECK(json.status == 200);
  // application/json has no charset parameter (RFC 8259 §11), but tolerate one.
  CHECK(json.header("Content-Type").rfind("application/json", 0) == 0);
}

TEST_CASE("static: directory without slash redirects and with slash serves its index") {
  ServedRoot served;
  {
    Client client = served.connect();
    const HttpResponse redirect = client.request(requestHead("GET", "/docs"));
    CHECK(redirect.status == 301);
    CHECK(redirect.header("Location") == "/docs/");
  }
  {
    Client client = served.connect();
    const HttpResponse index = client.request(requestHead("GET", "/docs/"));
    CHECK(index.status == 200);
    CHECK(index.header("Content-Type") == "text/html; charset=utf-8");
    CHECK(index.body == served.files.readFile("docs/index.html"));
  }
  {
    Client client = served.connect();
    const HttpResponse redirect = client.request(requestHead("GET", "/empty"));
    CHECK(redirect.status == 301);
    CHECK(redirect.header("Location") == "/empty/");
  }
  {
    // No directory listings: a directory without index.html is simply not found.
    Client client = served.connect();
    const HttpResponse listing = client.request(requestHead("GET", "/empty/"));
    CHECK(listing.status == 404);
    CHECK(listing.body == served.files.readFile("noIndex.html"));
    CHECK(listing.body.find("a.txt") == std::string::npos);
  }
}

TEST_CASE("static: query string is ignored and percent-escapes are decoded for lookup") {
  ServedRoot served;
  Client client = served.connect();
  const HttpResponse query = client.request(requestHead("GET", "/index.html?v=1&x=%2F"));
  CHECK(query.status == 200);
  CHECK(query.body == served.files.readFile("index.html"));
  const HttpResponse rootQuery = client.request(requestHead("GET", "/?lang=en"));
  CHECK(rootQuery.status == 200);
  CHECK(rootQuery.body == served.files.readFile("index.html"));
  const HttpResponse spaced = client.request(requestHead("GET", "/with%20space.txt"));
  CHECK(spaced.status == 200);
  CHECK(spaced.body == served.files.readFile("with space.txt"));
}

TEST_CASE("static: dotfiles and dot-dirs are 404 but /.well-known/ is served") {
  ServedRoot served;
  Client client = served.connect();
  for (const std::string target : {"/.hidden", "/.private/inner.txt", "/.private/"}) {
    CAPTURE(target);
    const HttpResponse response = client.request(requestHead("GET", target));
    CHECK(response.status == 404);
    CHECK(response.body == served.files.readFile("noIndex.html"));
  }
  const HttpResponse wellKnown = client.request(requestHead("GET", "/.well-known/probe.txt"));
  CHECK(wellKnown.status == 200);
  CHECK(wellKnown.body == served.files.readFile(".well-known/probe.txt"));
}

TEST_CASE("static: --index and --not-found choose the files used") {
  TempRoot files;
  files.writeFile("home.html", "<p>home page</p>\n");
  files.writeFile("missing.html", "<p>custom not found</p>\n");
  files.writeFile("docs/home.html", "<p>docs home</p>\n");
  ServerProcess server(files.root(), {"--index", "home.html", "--not-found", "missing.html"});
  Client client(server.port());
  const HttpResponse home = client.request(requestHead("GET", "/"));
  CHECK(home.status == 200);
  CHECK(home.body == files.readFile("home.html"));
  const HttpResponse docs = client.request(requestHead("GET", "/docs/"));
  CHECK(docs.status == 200);
  CHECK(docs.body == files.readFile("docs/home.html"));
  const HttpResponse missing = client.request(requestHead("GET", "/absent"));
  CHECK(missing.status == 404);
  CHECK(missing.body == files.readFile("missing.html"));
}

// IMF-fixdate (RFC 9110 §5.6.7), converted to a time_t; -1 if it does not parse.
std::time_t parseImfFixdate(const std::string& text) {
  static const std::regex kShape(
      R"(^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) )"
      R"(\d{4} \d{2}:\d{2}:\d{2} GMT$)");
  if (!std::regex_match(text, kShape)) return -1;
  std::tm parts{};
  if (::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parts) == nullptr) return -1;
  return ::timegm(&parts);
}

TEST_CASE("static: every response carries Date and Server headers") {
  ServedRoot served;
  const std::time_t now = std::time(nullptr);
  Client client = served.connect();
  const HttpResponse ok = client.request(requestHead("GET", "/index.html"));
  const HttpResponse missing = client.request(requestHead("GET", "/absent"));
  const HttpResponse options = client.request(requestHead("OPTIONS", "/index.html"));
  Client another = served.connect();
  const HttpResponse bad = another.request("GARBAGE\r\n\r\n");
  for (const HttpResponse* response : {&ok, &missing, &options, &bad}) {
    CAPTURE(response->status);
    CHECK(response->headerCount("Date") == 1);
    CHECK(response->headerCount("Server") == 1);
    CHECK(response->header("Server") == "epserve/0.1.0");
    const std::time_t date = parseImfFixdate(response->header("Date"));
    CHECK(date != -1);
    CHECK(std::abs(static_cast<long>(date - now)) < 120);
  }
  // Files also carry a strong validator and their modification time (RFC 9110 §8.8).
  CHECK(ok.header("ETag").size() > 2);
  CHECK(ok.header("ETag").front() == '"');
  CHECK(ok.header("ETag").back() == '"');
  CHECK(parseImfFixdate(ok.header("Last-Modified")) != -1);
}

}  // namespace
}  // namespace epserve::e2e
