// End-to-end tests completing conditional requests (RFC 9110 §13): all three HTTP-date forms,
// the §13.2.2 evaluation order, weak vs strong comparison, what a 304 carries, curl -z, and a
// file changed on disk being seen at the next request (the file cache follows inotify).
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "Client.h"
#include "Curl.h"
#include "FeatureSupport.h"
#include "ServedRoot.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;

// Saturday 5 June 2021, 10:20:30 UTC: a one-digit day, so asctime's "Jun  5" form is exercised.
constexpr std::time_t kMtime = 1622888430;
constexpr DateForm kForms[] = {DateForm::ImfFixdate, DateForm::Rfc850, DateForm::Asctime};

// A root whose page.txt has the modification time kMtime.
struct DatedRoot {
  ServedRoot served;
  explicit DatedRoot(const std::vector<std::string>& args = {}) : served(args) {
    served.files.writeFile("page.txt", "a page with a known date\n");
    setModificationTime(served.files.root() / "page.txt", kMtime);
  }
};

std::string get(const std::string& target, const std::string& fields) {
  return requestHead("GET", target, fields);
}

TEST_CASE("cache: the date forms used here are the RFC 9110 §5.6.7 examples' shapes") {
  CHECK(httpDate(kMtime, DateForm::ImfFixdate) == "Sat, 05 Jun 2021 10:20:30 GMT");
  CHECK(httpDate(kMtime, DateForm::Rfc850) == "Saturday, 05-Jun-21 10:20:30 GMT");
  CHECK(httpDate(kMtime, DateForm::Asctime) == "Sat Jun  5 10:20:30 2021");
}

TEST_CASE("cache: If-Modified-Since in IMF-fixdate, RFC 850 and asctime forms") {
  DatedRoot root;
  Client client = root.served.connect();
  const HttpResponse plain = client.request(requestHead("GET", "/page.txt"));
  REQUIRE(plain.status == 200);
  CHECK(plain.header("Last-Modified") == "Sat, 05 Jun 2021 10:20:30 GMT");
  for (const DateForm form : kForms) {
    for (const std::time_t date : {kMtime, kMtime + 1, kMtime + 86400 * 30}) {
      const std::string value = httpDate(date, form);
      CAPTURE(value);
      const HttpResponse r = client.request(get("/page.txt", "If-Modified-Since: " + value + "\r\n"));
      CHECK(r.status == 304);
      CHECK(r.body.empty());
    }
    for (const std::time_t date : {kMtime - 1, kMtime - 86400 * 400}) {
      const std::string value = httpDate(date, form);
      CAPTURE(value);
      const HttpResponse r = client.request(get("/page.txt", "If-Modified-Since: " + value + "\r\n"));
      CHECK(r.status == 200);
      CHECK(r.body == root.served.files.readFile("page.txt"));
    }
  }
}

TEST_CASE("cache: If-Unmodified-Since in all three forms gives 412 once the file is newer") {
  DatedRoot root;
  Client client = root.served.connect();
  for (const DateForm form : kForms) {
    const std::string same = httpDate(kMtime, form);
    const std::string before = httpDate(kMtime - 1, form);
    CAPTURE(same);
    const HttpResponse ok = client.request(get("/page.txt", "If-Unmodified-Since: " + same + "\r\n"));
    CHECK(ok.status == 200);
    CHECK(ok.body == root.served.files.readFile("page.txt"));
    const HttpResponse failed =
        client.request(get("/page.txt", "If-Unmodified-Since: " + before + "\r\n"));
    CHECK(failed.status == 412);
    CHECK_FALSE(failed.connectionHas("close"));
  }
}

TEST_CASE("cache: invalid or repeated date validators are ignored") {
  DatedRoot root;
  Client client = root.served.connect();
  const std::string later = httpDate(kMtime + 60, DateForm::ImfFixdate);
  const std::string earlier = httpDate(kMtime - 60, DateForm::ImfFixdate);
  const std::vector<std::string> ignoredIms = {
      "If-Modified-Since: yesterday\r\n",
      "If-Modified-Since: Sat, 05 Jun 2021 10:21:30 UTC\r\n",  // not GMT
      "If-Modified-Since: Sat, 5 Jun 2021 10:21:30 GMT\r\n",   // one-digit day
      "If-Modified-Since: Sat, 31 Jun 2021 10:21:30 GMT\r\n",  // no such date
      "If-Modified-Since: " + later + ", " + later + "\r\n",     // a list is not a date
      "If-Modified-Since: " + later + "\r\nIf-Modified-Since: " + later + "\r\n",
  };
  for (const std::string& field : ignoredIms) {
    CAPTURE(field);
    const HttpResponse r = client.request(get("/page.txt", field));
    CHECK(r.status == 200);
  }
  const HttpResponse ignoredIus =
      client.request(get("/page.txt", "If-Unmodified-Since: " + earlier + "x\r\n"));
  CHECK(ignoredIus.status == 200);
}

TEST_CASE("cache: preconditions are evaluated in the RFC 9110 §13.2.2 order") {
  DatedRoot root;
  Client client = root.served.connect();
  const HttpResponse plain = client.request(requestHead("GET", "/page.txt"));
  const std::string etag = plain.header("ETag");
  REQUIRE(etag.size() > 2);
  const std::string before = httpDate(kMtime - 60, DateForm::ImfFixdate);
  const std::string after = httpDate(kMtime + 60, DateForm::ImfFixdate);
  struct Case {
    std::string fields;
    int status;
  };
  const std::vector<Case> cases = {
      // step 1 before step 2: a passing If-Match makes If-Unmodified-Since irrelevant
      {"If-Match: " + etag + "\r\nIf-Unmodified-Since: " + before + "\r\n", 200},
      // steps 1/2 before step 3: 412 wins over a matching If-None-Match
      {"If-Match: \"other\"\r\nIf-None-Match: " + etag + "\r\n", 412},
      {"If-Unmodified-Since: " + before + "\r\nIf-None-Match: " + etag + "\r\n", 412},
      {"If-Match: " + etag + "\r\nIf-None-Match: " + etag + "\r\n", 304},
      {"If-Match: *\r\nIf-None-Match: \"other\"\r\n", 200},
      {"If-Unmodified-Since: " + after + "\r\nIf-Modified-Since: " + after + "\r\n", 304},
      // step 3 before step 4: If-None-Match decides alone when present
      {"If-None-Match: \"other\"\r\nIf-Modified-Since: " + after + "\r\n", 200},
      {"If-None-Match: " + etag + "\r\nIf-Modified-Since: " + before + "\r\n", 304},
      // list forms and weak/strong comparison (RFC 9110 §8.8.3.2)
      {"If-Match: \"a\", " + etag + ", \"b\"\r\n", 200},
      {"If-Match: W/" + etag + "\r\n", 412},
      {"If-None-Match: W/" + etag + "\r\n", 304},
      {"If-None-Match: \"a\"\r\nIf-None-Match: W/\"b\", " + etag + "\r\n", 304},
      {"If-None-Match: *\r\n", 304},
      {"If-None-Match: \"a\", \"b\"\r\n", 200},
      {"If-None-Match: " + etag.substr(1, etag.size() - 2) + "\r\n", 200},  // unquoted: malformed
  };
  for (const Case& c : cases) {
    CAPTURE(c.fields);
    const HttpResponse r = client.request(get("/page.txt", c.fields));
    CHECK(r.status == c.status);
    if (c.status == 304) CHECK(r.header("ETag") == etag);
    if (c.status == 200) CHECK(r.body == root.served.files.readFile("page.txt"));
  }
  const HttpResponse head =
      client.request(requestHead("HEAD", "/page.txt", "If-None-Match: " + etag + "\r\n"), true);
  CHECK(head.status == 304);
  // RFC 9110 §13.2.1: preconditions are ignored when the response would otherwise be a 404.
  const HttpResponse missing = client.request(get("/absent.txt", "If-Match: \"x\"\r\n"));
  CHECK(missing.status == 404);
  const HttpResponse missingStar = client.request(get("/absent.txt", "If-None-Match: *\r\n"));
  CHECK(missingStar.status == 404);
}

TEST_CASE("cache: a 304 repeats ETag and Cache-Control, has no body, keeps the connection") {
  DatedRoot root({"--cache-control", "no-cache"});
  Client client = root.served.connect();
  const HttpResponse plain = client.request(requestHead("GET", "/page.txt"));
  // Pipelined, so a body wrongly sent after the 304 would corrupt the second response.
  client.send(get("/page.txt", "If-None-Match: " + plain.header("ETag") + "\r\n") +
              requestHead("GET", "/style.css"));
  const HttpResponse notModified = client.readResponse();
  CHECK(notModified.status == 304);
  CHECK(notModified.header("ETag") == plain.header("ETag"));
  CHECK(notModified.header("Cache-Control") == "no-cache");
  CHECK(notModified.has("Date"));
  CHECK_FALSE(notModified.has("Content-Length"));
  CHECK_FALSE(notModified.connectionHas("close"));
  const HttpResponse next = client.readResponse();
  CHECK(next.status == 200);
  CHECK(next.body == root.served.files.readFile("style.css"));
}

TEST_CASE("cache: a file changed on disk is served new at the very next request") {
  ServedRoot served;
  const std::filesystem::path dir = served.files.root();
  served.files.writeFile("small.txt", "version one\n");
  served.files.writeFile("large.bin", randomBytes(50000, 1));
  Client client = served.connect();

  for (const std::string name : {"small.txt", "large.bin"}) {
    CAPTURE(name);
    const HttpResponse v1 = client.request(requestHead("GET", "/" + name));
    REQUIRE(v1.status == 200);
    // Rewritten in place with another size: well within the cache's 1 s recheck interval, so
    // only the inotify event can make the next answer right.
    const std::string v2bytes = name == "small.txt" ? std::string("version two, longer\n")
                                                    : randomBytes(60000, 2);
    served.files.writeFile(name, v2bytes);
    const HttpResponse v2 = client.request(requestHead("GET", "/" + name));
    CHECK(v2.status == 200);
    CHECK(v2.header("Content-Length") == std::to_string(v2bytes.size()));
    CHECK(v2.header("ETag") != v1.header("ETag"));
    CHECK(sameBytes(v2.body, v2bytes));
    // The old validator no longer matches.
    const HttpResponse stale =
        client.request(requestHead("GET", "/" + name, "If-None-Match: " + v1.header("ETag") + "\r\n"));
    CHECK(stale.status == 200);
    CHECK(sameBytes(stale.body, v2bytes));

    // Same size, new bytes and an older mtime (as `cp -p` or an unpacked archive would leave).
    std::string v3bytes = v2bytes;
    v3bytes[0] = static_cast<char>(v3bytes[0] ^ 0x55);
    served.files.writeFile(name, v3bytes);
    setModificationTime(dir / name, kMtime);
    const HttpResponse v3 = client.request(requestHead("GET", "/" + name));
    CHECK(v3.header("ETag") != v2.header("ETag"));
    CHECK(v3.header("Last-Modified") == httpDate(kMtime, DateForm::ImfFixdate));
    CHECK(sameBytes(v3.body, v3bytes));

    // Atomic replace (write elsewhere, rename over), as deploy tools do.
    const std::string v4bytes = v3bytes + "appended";
    writeWholeFile(served.files.base() / "staging", v4bytes);
    std::filesystem::rename(served.files.base() / "staging", dir / name);
    const HttpResponse v4 = client.request(requestHead("GET", "/" + name));
    CHECK(sameBytes(v4.body, v4bytes));

    std::filesystem::remove(dir / name);
    const HttpResponse gone = client.request(requestHead("GET", "/" + name));
    CHECK(gone.status == 404);
    served.files.writeFile(name, "back again\n");
    const HttpResponse back = client.request(requestHead("GET", "/" + name));
    CHECK(back.status == 200);
    CHECK(back.body == "back again\n");
  }

  // A directory's index file changing is seen through the directory URL as well.
  CHECK(client.request(requestHead("GET", "/docs/")).body == served.files.readFile("docs/index.html"));
  served.files.writeFile("docs/index.html", "<p>new docs index</p>\n");
  CHECK(client.request(requestHead("GET", "/docs/")).body == "<p>new docs index</p>\n");
}

TEST_CASE("cache: curl -z sends If-Modified-Since or If-Unmodified-Since") {
  DatedRoot root;
  const std::string url = root.served.url("/page.txt");
  const auto out = root.served.files.base() / "curl-out";
  auto curlZ = [&](const std::string& condition) {
    std::filesystem::remove(out);
    const CurlResult curl =
        runCurl({"-sS", "-z", condition, "-o", out.string(), "-w", "%{http_code}", url});
    CAPTURE(curl.err);
    CHECK(curl.exitCode == 0);
    return curl.out;
  };
  const std::string body = root.served.files.readFile("page.txt");
  CHECK(curlZ(httpDate(kMtime, DateForm::ImfFixdate)) == "304");
  CHECK((!std::filesystem::exists(out) || readWholeFile(out).empty()));
  CHECK(curlZ(httpDate(kMtime - 86400, DateForm::ImfFixdate)) == "200");
  CHECK(readWholeFile(out) == body);
  // A local file's mtime as the date: equal to the server's copy, so nothing to fetch.
  const auto local = root.served.files.base() / "local-copy.txt";
  writeWholeFile(local, body);
  setModificationTime(local, kMtime);
  CHECK(curlZ(local.string()) == "304");
  setModificationTime(local, kMtime - 3600);
  CHECK(curlZ(local.string()) == "200");
  // "-DATE" means If-Unmodified-Since.
  CHECK(curlZ("-" + httpDate(kMtime - 86400, DateForm::ImfFixdate)) == "412");
  CHECK(curlZ("-" + httpDate(kMtime + 86400, DateForm::ImfFixdate)) == "200");
  CHECK(readWholeFile(out) == body);
  CHECK(root.served.server.waitForOut("\"GET /page.txt HTTP/1.1\" 304 0 ", 5s));
  CHECK(root.served.server.waitForOut("\"GET /page.txt HTTP/1.1\" 412 ", 5s));
}

}  // namespace
}  // namespace epserve::e2e
