// End-to-end tests of --static PREFIX=DIR (nginx's alias): files under DIR by the same safe-path
// rules as the root, redirects and listings that keep the prefix, the root's 404 page.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "Client.h"
#include "ServerProcess.h"
#include "TempRoot.h"

namespace epserve::e2e {
namespace {

namespace fs = std::filesystem;

struct AliasedRoot {
  TempRoot files;
  fs::path dir;
  ServerProcess server;
  AliasedRoot()
      : files(), dir(makeAssets(files)), server(files.root(), {"--static", "/assets/=" + dir.string(),
                                                                "--autoindex"}) {}
  static fs::path makeAssets(const TempRoot& t) {
    fs::path d = t.base() / "assets-dir";
    fs::create_directories(d / "css");
    fs::create_directories(d / "sub");
    writeWholeFile(d / "css" / "site.css", "body{}");
    writeWholeFile(d / "sub" / "index.html", "<p>sub index</p>");
    writeWholeFile(d / ".env", "SECRET=1");
    fs::create_symlink(t.base() / "secret.txt", d / "escape.txt");
    return d;
  }
};

TEST_CASE("static route: files come from DIR, the rest from the root") {
  AliasedRoot a;
  Client c(a.server.port());
  HttpResponse css = c.request(requestHead("GET", "/assets/css/site.css"));
  CHECK(css.status == 200);
  CHECK(css.body == "body{}");
  CHECK(css.header("Content-Type").rfind("text/css", 0) == 0);
  CHECK(c.request(requestHead("GET", "/assets/sub/")).body == "<p>sub index</p>");
  CHECK(c.request(requestHead("GET", "/index.html")).status == 200);  // the root still
  // Dot segments are resolved before routing: this is the root's index.html.
  HttpResponse up = c.request(requestHead("GET", "/assets/../index.html"));
  CHECK(up.status == 200);
  CHECK(up.body == a.files.readFile("index.html"));
}

TEST_CASE("static route: the root's safety rules hold in DIR") {
  AliasedRoot a;
  Client c(a.server.port());
  HttpResponse escape = c.request(requestHead("GET", "/assets/escape.txt"));
  CHECK(escape.status == 404);  // a symlink out of DIR is not followed
  CHECK(escape.body.find(kSecret) == std::string::npos);
  CHECK(c.request(requestHead("GET", "/assets/.env")).status == 404);
  HttpResponse missing = c.request(requestHead("GET", "/assets/nope.css"));
  CHECK(missing.status == 404);
  CHECK(missing.body == a.files.readFile("noIndex.html"));  // the root's 404 page
  Client d(a.server.port());  // a 400 closes its connection
  CHECK(d.request(requestHead("GET", "/assets/../../secret.txt")).status == 400);
}

TEST_CASE("static route: redirects and listings keep the prefix") {
  AliasedRoot a;
  Client c(a.server.port());
  HttpResponse r = c.request(requestHead("GET", "/assets/sub?x=1"));
  CHECK(r.status == 301);
  CHECK(r.header("Location") == "/assets/sub/?x=1");
  HttpResponse list = c.request(requestHead("GET", "/assets/css/"));
  CHECK(list.status == 200);
  CHECK(list.body.find("/assets/css/") != std::string::npos);
  CHECK(list.body.find("site.css") != std::string::npos);
}

TEST_CASE("static route: a DIR that does not exist is one line and exit 2") {
  ExitResult r = ServerProcess::run({"-p", "0", "--static", "/x/=/nonexistent-epserve"}, std::chrono::seconds(5));
  CHECK(r.status == 2);
}

}  // namespace
}  // namespace epserve::e2e
