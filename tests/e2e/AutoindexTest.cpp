// End-to-end tests for --autoindex listings: names HTML-escaped, links percent-encoded and
// relative (each one followed back to its file), dotfiles hidden, directories first, sizes and
// dates; and no listing at all without the flag.
#include <doctest/doctest.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "Client.h"
#include "Curl.h"
#include "FeatureSupport.h"
#include "ServedRoot.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;

constexpr std::time_t kMtime = 1622888430;  // 2021-06-05 10:20:30 UTC

std::string htmlUnescape(const std::string& text) {
  static const std::vector<std::pair<std::string, std::string>> kEntities = {
      {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&#x27;", "'"},
      {"&apos;", "'"}, {"&#34;", "\""}, {"&amp;", "&"}};
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    bool replaced = false;
    if (text[i] == '&') {
      for (const auto& [entity, ch] : kEntities) {
        if (text.compare(i, entity.size(), entity) == 0) {
          out += ch;
          i += entity.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += text[i++];
  }
  return out;
}

std::string stripTags(const std::string& html) {
  return htmlUnescape(std::regex_replace(html, std::regex("<[^>]*>"), ""));
}

// One row of a listing: the link's href and text (both unescaped) and the other cells' text.
struct Row {
  std::string href;
  std::string name;
  std::vector<std::string> cells;  // every cell after the one holding the link
};

std::vector<Row> parseListing(const std::string& html) {
  static const std::regex kRow("<tr[^>]*>([\\s\\S]*?)</tr>");
  static const std::regex kCell("<td[^>]*>([\\s\\S]*?)</td>");
  static const std::regex kLink("<a href=\"([^\"]*)\"[^>]*>([\\s\\S]*?)</a>");
  std::vector<Row> rows;
  for (std::sregex_iterator r(html.begin(), html.end(), kRow), end; r != end; ++r) {
    const std::string rowHtml = (*r)[1];
    std::smatch link;
    if (!std::regex_search(rowHtml, link, kLink)) continue;  // a header row
    Row row;
    row.href = htmlUnescape(link[1]);
    row.name = stripTags(link[2]);
    bool afterLink = false;
    for (std::sregex_iterator c(rowHtml.begin(), rowHtml.end(), kCell); c != end; ++c) {
      const std::string cell = (*c)[1];
      if (afterLink) row.cells.push_back(stripTags(cell));
      if (cell.find("<a ") != std::string::npos) afterLink = true;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// RFC 3986 §3.1: a reference that starts with `scheme ":"` is not relative.
bool hasScheme(const std::string& href) {
  return std::regex_search(href, std::regex("^[A-Za-z][A-Za-z0-9+.-]*:"));
}

// Characters that may not appear raw in a URI reference (RFC 3986 §2): they must be encoded.
bool needsEncoding(const std::string& href) {
  for (unsigned char c : href) {
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' ||
        c == '`' || c == '{' || c == '|' || c == '}' || c == '#' || c == '?') {
      return true;
    }
  }
  return false;
}

const std::string kQuotes = "<b>&'\".txt";  // every HTML special character in one name

// list/ holds files and directories whose names need escaping, dotfiles and a symlink out.
struct ListedRoot {
  ServedRoot served;
  std::filesystem::path list;

  explicit ListedRoot(std::vector<std::string> args = {"--autoindex"})
      : served(args), list(served.files.root() / "list") {
    const TempRoot& f = served.files;
    f.writeFile("list/b.txt", "bee");
    f.writeFile("list/Z.txt", "zed zed zed");
    f.writeFile("list/100%.txt", "percent");
    f.writeFile("list/" + kQuotes, "quotes");
    f.writeFile("list/\xc3\xbc-umlaut.txt", "umlaut");
    f.writeFile("list/hash#q?.txt", "hash and question mark");
    f.writeFile("list/a dir/inside.txt", "in a dir with a space");
    f.writeFile("list/sub/deep.txt", "deep file");
    f.writeFile("list/.dotfile", "hidden");
    f.writeFile("list/.dotdir/x.txt", "hidden dir");
    std::filesystem::create_symlink(f.base() / "secret.txt", list / "link-out");
    setModificationTime(list / "b.txt", kMtime);
    setModificationTime(list / "Z.txt", kMtime + 86400 * 365);
  }
};

TEST_CASE("autoindex: a directory without index gets an HTML listing, dirs first, sorted") {
  ListedRoot root;
  Client client = root.served.connect();
  const HttpResponse r = client.request(requestHead("GET", "/list/"));
  REQUIRE(r.status == 200);
  CHECK(r.header("Content-Type") == "text/html; charset=utf-8");
  CHECK(r.header("Content-Length") == std::to_string(r.body.size()));
  CHECK(r.body.find("<title>Index of /list/</title>") != std::string::npos);

  const std::vector<Row> rows = parseListing(r.body);
  std::vector<std::string> names;
  for (const Row& row : rows) names.push_back(row.name);
  const std::vector<std::string> expected = {
      "../", "a dir/", "sub/", "100%.txt", kQuotes, "Z.txt", "b.txt", "hash#q?.txt",
      "\xc3\xbc-umlaut.txt"};
  CHECK(names == expected);
  // Dotfiles, dot-dirs and the symlink out of the root are not shown at all.
  for (const std::string hidden : {".dotfile", ".dotdir", "link-out", "secret"}) {
    CAPTURE(hidden);
    CHECK(r.body.find(hidden) == std::string::npos);
  }

  // Sizes for files, and the modification dates (UTC) named in the setup.
  for (const Row& row : rows) {
    CAPTURE(row.name);
    if (row.name == "b.txt") {
      REQUIRE(row.cells.size() >= 2);
      CHECK(row.cells[0] == "3");
      CHECK(row.cells[1].find("2021-06-05") != std::string::npos);
      CHECK(row.cells[1].find("10:20") != std::string::npos);
    } else if (row.name == "Z.txt") {
      REQUIRE(row.cells.size() >= 2);
      CHECK(row.cells[0] == "11");
      CHECK(row.cells[1].find("2022-06-05") != std::string::npos);
    } else if (row.name == kQuotes) {
      REQUIRE_FALSE(row.cells.empty());
      CHECK(row.cells[0] == "6");
    }
  }
  // HEAD: the same length, no body.
  const HttpResponse head = client.request(requestHead("HEAD", "/list/"), true);
  CHECK(head.status == 200);
  CHECK(head.header("Content-Length") == r.header("Content-Length"));
  CHECK(client.request(requestHead("GET", "/style.css")).status == 200);
}

TEST_CASE("autoindex: names are HTML-escaped and every link leads back to its entry") {
  ListedRoot root;
  Client client = root.served.connect();
  const HttpResponse r = client.request(requestHead("GET", "/list/"));
  REQUIRE(r.status == 200);
  // The markup in a file name never reaches the page as markup.
  CHECK(r.body.find("<b>&") == std::string::npos);
  CHECK(r.body.find("&lt;b&gt;&amp;") != std::string::npos);

  const std::vector<Row> rows = parseListing(r.body);
  REQUIRE(rows.size() >= 9);
  for (const Row& row : rows) {
    CAPTURE(row.name);
    CAPTURE(row.href);
    CHECK_FALSE(hasScheme(row.href));
    CHECK_FALSE(needsEncoding(row.href));
    CHECK(row.href.find('/') == (row.name.back() == '/' ? row.href.size() - 1 : std::string::npos));
    if (row.name == "../") continue;
    // Follow the link the way a browser resolves it against /list/.
    const HttpResponse followed = client.request(requestHead("GET", "/list/" + row.href));
    CHECK(followed.status == 200);
    if (row.name.back() == '/') {
      CHECK(followed.body.find("Index of /list/" + row.name) != std::string::npos);
    } else {
      CHECK(followed.body == root.served.files.readFile("list/" + row.name));
    }
  }
  const auto find = [&](const std::string& name) {
    for (const Row& row : rows) {
      if (row.name == name) return row.href;
    }
    return std::string("(missing)");
  };
  CHECK(find("a dir/") == "a%20dir/");
  CHECK(find("100%.txt") == "100%25.txt");
  CHECK(find("hash#q?.txt") == "hash%23q%3F.txt");
  CHECK(find("\xc3\xbc-umlaut.txt") == "%C3%BC-umlaut.txt");
  CHECK(find("../") == "../");
}

TEST_CASE("autoindex: a file named like a URL scheme is linked as a relative path") {
  // "javascript:alert(1)" as a bare relative link would be read as a javascript: URL
  // (RFC 3986 §4.2: a first segment with a colon must be written "./name" or encoded).
  ListedRoot root;
  root.served.files.writeFile("list/javascript:alert(1)", "not a script");
  root.served.files.writeFile("list/mailto:x@example.com", "not an address");
  Client client = root.served.connect();
  const HttpResponse r = client.request(requestHead("GET", "/list/"));
  REQUIRE(r.status == 200);
  int seen = 0;
  for (const Row& row : parseListing(r.body)) {
    if (row.name.find(':') == std::string::npos) continue;
    ++seen;
    CAPTURE(row.name);
    CAPTURE(row.href);
    CHECK_FALSE(hasScheme(row.href));
    const HttpResponse followed = client.request(requestHead("GET", "/list/" + row.href));
    CHECK(followed.status == 200);
    CHECK(followed.body == root.served.files.readFile("list/" + row.name));
  }
  CHECK(seen == 2);
}

TEST_CASE("autoindex: nested and escaped directory names, parent link, title escaped") {
  ListedRoot root;
  root.served.files.writeFile("list/<i>dir/f.txt", "f");
  Client client = root.served.connect();
  const HttpResponse sub = client.request(requestHead("GET", "/list/sub/"));
  REQUIRE(sub.status == 200);
  const std::vector<Row> rows = parseListing(sub.body);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].href == "../");
  CHECK(rows[1].name == "deep.txt");
  CHECK(rows[1].href == "deep.txt");

  const HttpResponse odd = client.request(requestHead("GET", "/list/%3Ci%3Edir/"));
  REQUIRE(odd.status == 200);
  CHECK(odd.body.find("<i>dir") == std::string::npos);
  CHECK(odd.body.find("Index of /list/&lt;i&gt;dir/") != std::string::npos);
  // Without the trailing slash the directory still redirects first.
  const HttpResponse redirect = client.request(requestHead("GET", "/list/sub"));
  CHECK(redirect.status == 301);
  CHECK(redirect.header("Location") == "/list/sub/");
}

TEST_CASE("autoindex: an index file wins, dot-dirs and missing dirs stay 404") {
  ListedRoot root;
  Client client = root.served.connect();
  const HttpResponse docs = client.request(requestHead("GET", "/docs/"));
  CHECK(docs.status == 200);
  CHECK(docs.body == root.served.files.readFile("docs/index.html"));
  CHECK(client.request(requestHead("GET", "/")).body == root.served.files.readFile("index.html"));
  for (const std::string target : {"/list/.dotdir/", "/.private/", "/no-such-dir/", "/linkdir/"}) {
    CAPTURE(target);
    const HttpResponse r = client.request(requestHead("GET", target));
    CHECK(r.status == 404);
    CHECK(r.body == root.served.files.readFile("noIndex.html"));
  }
}

TEST_CASE("autoindex: without --autoindex a directory without index is 404") {
  ListedRoot root(std::vector<std::string>{});
  Client client = root.served.connect();
  for (const std::string target : {"/list/", "/list/sub/", "/empty/"}) {
    CAPTURE(target);
    const HttpResponse r = client.request(requestHead("GET", target));
    CHECK(r.status == 404);
    CHECK(r.body == root.served.files.readFile("noIndex.html"));
    CHECK(r.body.find("b.txt") == std::string::npos);
  }
}

TEST_CASE("autoindex: the root is listed when it has no index, without a parent link") {
  TempRoot files;
  ServerProcess server(files.root(), {"--autoindex", "--index", "home.html"});
  Client client(server.port());
  const HttpResponse r = client.request(requestHead("GET", "/"));
  REQUIRE(r.status == 200);
  CHECK(r.body.find("Index of /</") != std::string::npos);
  std::vector<std::string> names;
  for (const Row& row : parseListing(r.body)) names.push_back(row.name);
  const std::vector<std::string> expected = {
      "docs/",     "empty/",     "blob.bin",       "data.json",  "image.png", "index.html",
      "noIndex.html", "notes.xyz", "readme.txt", "style.css", "with space.txt"};
  CHECK(names == expected);  // no "../", no dotfiles, no .well-known, no symlinks
}

TEST_CASE("autoindex: listings follow files added and removed on disk") {
  ListedRoot root;
  Client client = root.served.connect();
  CHECK(client.request(requestHead("GET", "/list/")).body.find("new.txt") == std::string::npos);
  root.served.files.writeFile("list/new.txt", "new");
  CHECK(client.request(requestHead("GET", "/list/")).body.find(">new.txt<") != std::string::npos);
  std::filesystem::remove(root.list / "new.txt");
  std::filesystem::remove(root.list / "b.txt");
  const std::string after = client.request(requestHead("GET", "/list/")).body;
  CHECK(after.find("new.txt") == std::string::npos);
  CHECK(after.find(">b.txt<") == std::string::npos);
  CHECK(after.find(">Z.txt<") != std::string::npos);
}

TEST_CASE("autoindex: a listing for directories, the --fallback for other routes") {
  ListedRoot root({"--autoindex", "--fallback", "app.html"});
  root.served.files.writeFile("app.html", "<p>app</p>\n");
  Client client = root.served.connect();
  CHECK(client.request(requestHead("GET", "/list/")).body.find("Index of /list/") !=
        std::string::npos);
  const HttpResponse route = client.request(requestHead("GET", "/nowhere/"));
  CHECK(route.status == 200);
  CHECK(route.body == "<p>app</p>\n");
  CHECK(client.request(requestHead("GET", "/users/1")).body == "<p>app</p>\n");
}

TEST_CASE("autoindex: curl fetches a nested listing and the file it links to") {
  ListedRoot root;
  const auto out = root.served.files.base() / "curl-out";
  const CurlResult listing =
      runCurl({"-sS", "-o", out.string(), "-w", "%{http_code} %{content_type}",
               root.served.url("/list/a%20dir/")});
  CHECK(listing.exitCode == 0);
  CHECK(listing.out == "200 text/html; charset=utf-8");
  const std::vector<Row> rows = parseListing(readWholeFile(out));
  REQUIRE(rows.size() == 2);
  CHECK(rows[1].name == "inside.txt");
  const CurlResult file = runCurl({"-sS", root.served.url("/list/a%20dir/" + rows[1].href)});
  CHECK(file.exitCode == 0);
  CHECK(file.out == "in a dir with a space");
}

}  // namespace
}  // namespace epserve::e2e
