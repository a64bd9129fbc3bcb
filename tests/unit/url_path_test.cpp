// Tests for normalizeUrlPath and encodeLocation: traversal vectors, encodings, dot files,
// and the invariants the resolver and the Location header rely on.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fs/UrlPath.h"

using epserve::fs::encodeLocation;
using epserve::fs::normalizeUrlPath;
using epserve::fs::UrlPath;
using epserve::http::Status;

namespace {

struct Case {
  std::string_view in;
  Status status;
  std::string_view relative;  // only checked for Ok
  bool trailingSlash;         // only checked for Ok
};

constexpr Status kOk = Status::Ok;
constexpr Status kBad = Status::BadRequest;
constexpr Status kNotFound = Status::NotFound;

const Case kCases[] = {
    // Not origin-form.
    {"", kBad, "", false},
    {"..", kBad, "", false},
    {"a/b", kBad, "", false},
    {".git/config", kBad, "", false},
    {"*", kBad, "", false},
    {"http://example.com/", kBad, "", false},
    {"?x", kBad, "", false},
    // Plain paths and the root.
    {"/", kOk, "", true},
    {"/index.html", kOk, "index.html", false},
    {"/a/b/c.txt", kOk, "a/b/c.txt", false},
    {"/a/b/", kOk, "a/b", true},
    // Traversal.
    {"/..", kBad, "", false},
    {"/../", kBad, "", false},
    {"/../etc/passwd", kBad, "", false},
    {"/a/../../etc/passwd", kBad, "", false},
    {"/a/./../b/../../c", kBad, "", false},
    {"/%2e%2e", kBad, "", false},
    {"/%2e%2e/etc/passwd", kBad, "", false},
    {"/%2E%2e%2f", kBad, "", false},
    {"/%2E%2e%2fetc%2fpasswd", kBad, "", false},
    {"/.%2e/x", kBad, "", false},
    {"/%2e./x", kBad, "", false},
    {"/..%2f", kBad, "", false},
    {"/..%2fetc/passwd", kBad, "", false},
    {"/..%2F..%2F..%2Fetc%2Fpasswd", kBad, "", false},
    {"/a/%2e%2e%2f%2e%2e%2fetc", kBad, "", false},
    {"/a/%2e%2e/b", kOk, "b", false},
    {"/a/b/../c", kOk, "a/c", false},
    {"/a/b/%2e%2e/c", kOk, "a/c", false},
    // Trailing-slash semantics of dot segments (RFC 3986 §5.2.4): they name a directory.
    {"/a/..", kOk, "", true},
    {"/a/b/..", kOk, "a", true},
    {"/a/b/%2e%2e", kOk, "a", true},
    {"/a/.", kOk, "a", true},
    {"/.", kOk, "", true},
    {"/a/./", kOk, "a", true},
    {"/./a", kOk, "a", false},
    {"/a/./b/./", kOk, "a/b", true},
    // Encoded slash: a separator once decoded.
    {"/%2f", kOk, "", true},
    {"/%2F%2F", kOk, "", true},
    {"/a%2fb", kOk, "a/b", false},
    {"/a%2F", kOk, "a", true},
    {"/%2fetc%2fpasswd", kOk, "etc/passwd", false},
    // Decoded once only: "%25" is a literal '%', so "%252e%252e" is a file named "%2e%2e".
    {"/%252e%252e", kOk, "%2e%2e", false},
    {"/%252e%252e%252fetc", kOk, "%2e%2e%2fetc", false},
    {"/%25", kOk, "%", false},
    {"/%41%6a%6A", kOk, "Ajj", false},
    {"/a%3fb", kOk, "a?b", false},
    {"/a%23b", kOk, "a#b", false},
    {"/%20x", kOk, " x", false},
    // Control bytes, however spelled.
    {"/%00", kBad, "", false},
    {"/a%00.html", kBad, "", false},
    {"/index.html%00.txt", kBad, "", false},
    {"/%01", kBad, "", false},
    {"/%0a", kBad, "", false},
    {"/%0D%0ASet-Cookie:x", kBad, "", false},
    {"/%1f", kBad, "", false},
    {"/%7f", kBad, "", false},
    {"/%7F", kBad, "", false},
    {std::string_view("/a\0b", 4), kBad, "", false},
    {"/a\tb", kBad, "", false},
    // Invalid escapes.
    {"/%", kBad, "", false},
    {"/%4", kBad, "", false},
    {"/%zz", kBad, "", false},
    {"/%4g", kBad, "", false},
    {"/%g4", kBad, "", false},
    {"/a%", kBad, "", false},
    {"/%%41", kBad, "", false},
    {"/%-1", kBad, "", false},
    {"/% 1", kBad, "", false},
    // Backslash is an ordinary byte on Linux.
    {"/..\\..\\", kNotFound, "", false},
    {"/..\\..\\etc\\passwd", kNotFound, "", false},
    {"/a\\..\\b", kOk, "a\\..\\b", false},
    {"/%5c..%5c", kOk, "\\..\\", false},
    {"/x/..\\", kNotFound, "", false},
    {"/x/a..\\", kOk, "x/a..\\", false},
    // UTF-8: overlong, surrogates, out of range, truncated, stray continuation bytes.
    {"/%c0%ae%c0%ae", kBad, "", false},
    {"/%c0%ae%c0%ae/etc/passwd", kBad, "", false},
    {"/%c0%af", kBad, "", false},
    {"/%c1%bf", kBad, "", false},
    {"/%e0%80%ae", kBad, "", false},
    {"/%e0%9f%bf", kBad, "", false},
    {"/%f0%80%80%ae", kBad, "", false},
    {"/%f0%8f%bf%bf", kBad, "", false},
    {"/%ed%a0%80", kBad, "", false},
    {"/%ed%bf%bf", kBad, "", false},
    {"/%f4%90%80%80", kBad, "", false},
    {"/%f5%80%80%80", kBad, "", false},
    {"/%f8%88%80%80%80", kBad, "", false},
    {"/%fe", kBad, "", false},
    {"/%ff", kBad, "", false},
    {"/%80", kBad, "", false},
    {"/a%bf", kBad, "", false},
    {"/%c3", kBad, "", false},
    {"/%c3/", kBad, "", false},
    {"/%c3%28", kBad, "", false},
    {"/%e2%82", kBad, "", false},
    {"/%f0%9f%98", kBad, "", false},
    {"/\xc3\xa9", kOk, "\xc3\xa9", false},
    {"/\xc0\xae", kBad, "", false},
    // Valid non-ASCII.
    {"/%C3%A9t%C3%A9.html", kOk, "\xc3\xa9t\xc3\xa9.html", false},
    {"/%e2%82%ac/", kOk, "\xe2\x82\xac", true},
    {"/%f0%9f%98%80", kOk, "\xf0\x9f\x98\x80", false},
    {"/%c2%80", kOk, "\xc2\x80", false},
    {"/%ed%9f%bf", kOk, "\xed\x9f\xbf", false},
    {"/%ee%80%80", kOk, "\xee\x80\x80", false},
    {"/%f4%8f%bf%bf", kOk, "\xf4\x8f\xbf\xbf", false},
    // Dot files are never served; ".well-known" only as the first segment (RFC 8615).
    {"/.git/config", kNotFound, "", false},
    {"/.git/", kNotFound, "", false},
    {"/.env", kNotFound, "", false},
    {"/a/.hidden", kNotFound, "", false},
    {"/a/.hidden/", kNotFound, "", false},
    {"/a/.hidden/b", kNotFound, "", false},
    {"/%2egit/config", kNotFound, "", false},
    {"/%2Eenv", kNotFound, "", false},
    {"/...", kNotFound, "", false},
    {"/a/..../b", kNotFound, "", false},
    {"/.well-known/x", kOk, ".well-known/x", false},
    {"/.well-known/acme-challenge/tok", kOk, ".well-known/acme-challenge/tok", false},
    {"/.well-known/", kOk, ".well-known", true},
    {"/.well-known", kOk, ".well-known", false},
    {"/%2ewell-known/x", kOk, ".well-known/x", false},
    {"/a/.well-known/x", kNotFound, "", false},
    {"/.well-known/.x", kNotFound, "", false},
    {"/.Well-Known/x", kNotFound, "", false},
    {"/.well-knownx", kNotFound, "", false},
    {"/a/../.well-known/x", kOk, ".well-known/x", false},
    // A hidden name removed by ".." was never a request for it.
    {"/.git/..", kOk, "", true},
    {"/.git/../a", kOk, "a", false},
    // BadRequest wins over NotFound.
    {"/.git/%zz", kBad, "", false},
    {"/.git/../..", kBad, "", false},
    // Query and fragment dropped (and not decoded).
    {"/a?b=../../x", kOk, "a", false},
    {"/a?", kOk, "a", false},
    {"/?x", kOk, "", true},
    {"/a/?x=1", kOk, "a", true},
    {"/a?%zz%00", kOk, "a", false},
    {"/?/../..", kOk, "", true},
    {"/a#frag", kOk, "a", false},
    {"/a#/../../x", kOk, "a", false},
    {"/%zz?x", kBad, "", false},
    // Repeated slashes merged; "//" cannot make an absolute or authority path.
    {"//", kOk, "", true},
    {"//a//b//", kOk, "a/b", true},
    {"///etc/passwd", kOk, "etc/passwd", false},
    {"//evil.com", kOk, "evil.com", false},
    {"/a////b", kOk, "a/b", false},
};

// Properties every Ok result must have, whatever the input.
void checkInvariants(const UrlPath& p) {
  const std::string& rel = p.relative;
  CHECK_FALSE(rel.starts_with('/'));
  CHECK_FALSE(rel.ends_with('/'));
  CHECK(rel.find("//") == std::string::npos);
  CHECK(rel.find('\0') == std::string::npos);
  std::size_t start = 0;
  while (start < rel.size()) {
    std::size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    const std::string_view seg(rel.data() + start, end - start);
    CHECK(seg != ".");
    CHECK(seg != "..");
    if (seg.starts_with('.')) CHECK((start == 0 && seg == ".well-known"));
    start = end + 1;
  }
  if (rel.empty()) CHECK(p.trailingSlash);
  // The redirect target is a path-absolute URL and normalizes back to the same place.
  const std::string loc = encodeLocation(rel, p.trailingSlash);
  CHECK(loc.starts_with('/'));
  CHECK_FALSE(loc.starts_with("//"));
  UrlPath again;
  normalizeUrlPath(loc, again);
  CHECK(again.status == Status::Ok);
  CHECK(again.relative == rel);
  CHECK(again.trailingSlash == p.trailingSlash);
}

}  // namespace

TEST_CASE("normalizeUrlPath: table of traversal vectors, encodings and dot files") {
  UrlPath out;
  for (const Case& c : kCases) {
    CAPTURE(c.in);
    normalizeUrlPath(c.in, out);
    CHECK(static_cast<int>(out.status) == static_cast<int>(c.status));
    if (c.status == Status::Ok) {
      CHECK(out.relative == c.relative);
      CHECK(out.trailingSlash == c.trailingSlash);
      checkInvariants(out);
    } else {
      CHECK(out.relative.empty());
      CHECK_FALSE(out.trailingSlash);
    }
  }
}

TEST_CASE("normalizeUrlPath: reuses the output and resets it on every call") {
  UrlPath out;
  out.relative.reserve(256);
  const char* const buffer = out.relative.data();
  const std::size_t capacity = out.relative.capacity();

  normalizeUrlPath("/a/b/", out);
  CHECK(out.status == Status::Ok);
  CHECK(out.trailingSlash);
  normalizeUrlPath("/%zz", out);
  CHECK(out.status == Status::BadRequest);
  CHECK(out.relative.empty());
  CHECK_FALSE(out.trailingSlash);
  normalizeUrlPath("/.env", out);
  CHECK(out.status == Status::NotFound);
  normalizeUrlPath("/x/y.html?q", out);
  CHECK(out.status == Status::Ok);
  CHECK(out.relative == "x/y.html");
  CHECK_FALSE(out.trailingSlash);

  CHECK(out.relative.data() == buffer);
  CHECK(out.relative.capacity() == capacity);
}

TEST_CASE("normalizeUrlPath: a long path of many segments") {
  std::string in;
  std::string expected;
  for (int i = 0; i < 2000; ++i) {
    in += "/d" + std::to_string(i) + "/./x/..//";
    expected += (i ? "/d" : "d") + std::to_string(i);
  }
  UrlPath out;
  normalizeUrlPath(in, out);
  REQUIRE(out.status == Status::Ok);
  CHECK(out.relative == expected);
  CHECK(out.trailingSlash);
  // Climbing back out of all 2000 directories is fine; one more is not.
  std::string up = in;
  for (int i = 0; i < 2000; ++i) up += "../";
  normalizeUrlPath(up, out);
  CHECK(out.status == Status::Ok);
  CHECK(out.relative.empty());
  normalizeUrlPath(up + "..", out);
  CHECK(out.status == Status::BadRequest);
}

TEST_CASE("normalizeUrlPath: generated hostile paths keep the invariants") {
  // Deterministic xorshift so a failure is reproducible; bounded number of inputs.
  std::uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const std::vector<std::string_view> tokens = {
      "/",     "//",    ".",     "..",    "%2e",   "%2E",    "%2f",   "%2F",  "%5c", "\\",
      "a",     "b.txt", ".git",  ".well-known",     "%c0%ae", "%c3%a9", "%25",  "%",   "%0",
      "%00",   "?",     "#",     "%3f",   "%e2%82%ac", "%ed%a0%80", "%f4%90%80%80", "x y", "~"};
  UrlPath out;
  int ok = 0;
  int bad = 0;
  int notFound = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string in = "/";
    const int n = static_cast<int>(next() % 10);
    for (int k = 0; k < n; ++k) in += tokens[next() % tokens.size()];
    CAPTURE(in);
    normalizeUrlPath(in, out);
    if (out.status == Status::Ok) {
      ++ok;
      checkInvariants(out);
    } else if (out.status == Status::BadRequest) {
      ++bad;
    } else {
      CHECK(out.status == Status::NotFound);
      ++notFound;
    }
  }
  // All three outcomes must actually be exercised for the loop to mean anything.
  CHECK(ok > 1000);
  CHECK(bad > 1000);
  CHECK(notFound > 100);
}

TEST_CASE("encodeLocation: encodes everything but pchar and '/'") {
  CHECK(encodeLocation("", true) == "/");
  CHECK(encodeLocation("", false) == "/");
  CHECK(encodeLocation("a/b", false) == "/a/b");
  CHECK(encodeLocation("docs", true) == "/docs/");
  CHECK(encodeLocation("\xc3\xa9t\xc3\xa9.html", false) == "/%C3%A9t%C3%A9.html");
  CHECK(encodeLocation("a b?c#d%e", false) == "/a%20b%3Fc%23d%25e");
  CHECK(encodeLocation("-._~!$&'()*+,;=:@", false) == "/-._~!$&'()*+,;=:@");
  CHECK(encodeLocation("\"<>[]^`{|}", false) == "/%22%3C%3E%5B%5D%5E%60%7B%7C%7D");
  CHECK(encodeLocation(std::string_view("\x01\x7f\xff\0", 4), false) == "/%01%7F%FF%00");
  // Browsers treat '\' like '/' in http URLs: "/\evil.com" would be protocol-relative.
  CHECK(encodeLocation("\\evil.com", true) == "/%5Cevil.com/");
  // Never "//...", even for a (non-normalized) relative path that starts with '/'.
  CHECK(encodeLocation("/evil.com", true) == "/%2Fevil.com/");
  CHECK(encodeLocation("//evil.com", false) == "/%2F/evil.com");
}

TEST_CASE("encodeLocation: never protocol-relative for paths from normalizeUrlPath") {
  const char* const targets[] = {"//evil.com",  "///evil.com/", "/%2fevil.com/", "/%2F%2Fevil.com",
                                 "/./%2f/evil.com", "/a/..//evil.com", "/%5cevil.com", "/\\evil.com",
                                 "/a/../%2f%2fevil.com/"};
  UrlPath out;
  for (const char* t : targets) {
    CAPTURE(t);
    normalizeUrlPath(t, out);
    REQUIRE(out.status == Status::Ok);
    CHECK_FALSE(out.relative.starts_with('/'));
    const std::string loc = encodeLocation(out.relative, true);
    CHECK_FALSE(loc.starts_with("//"));
    CHECK_FALSE(loc.starts_with("/\\"));
  }
}

TEST_CASE("normalizeUrlPath: HiddenNames::Keep changes NotFound into Ok and nothing else") {
  using epserve::fs::HiddenNames;
  UrlPath refused;
  UrlPath kept;
  for (const Case& c : kCases) {
    CAPTURE(c.in);
    normalizeUrlPath(c.in, refused);
    normalizeUrlPath(c.in, kept, HiddenNames::Keep);
    if (refused.status == Status::NotFound) {
      CHECK(kept.status == Status::Ok);
      CHECK_FALSE(kept.relative.starts_with('/'));
      CHECK(kept.relative.find("//") == std::string::npos);
    } else {
      CHECK(static_cast<int>(kept.status) == static_cast<int>(refused.status));
      CHECK(kept.relative == refused.relative);
      CHECK(kept.trailingSlash == refused.trailingSlash);
    }
  }
  struct Kept {
    std::string_view in;
    std::string_view relative;
    bool trailingSlash;
  };
  const Kept cases[] = {
      {"/.git/config", ".git/config", false},
      {"/.env", ".env", false},
      {"/a/.hidden/", "a/.hidden", true},
      {"/a/.well-known/x", "a/.well-known/x", false},
      {"/%2egit/./config/", ".git/config", true},
      {"/...", "...", false},
      {"/a/..../b", "a/..../b", false},
      {"/..\\..\\", "..\\..\\", false},
      {"/app/.env?x=../..", "app/.env", false},
  };
  for (const Kept& c : cases) {
    CAPTURE(c.in);
    normalizeUrlPath(c.in, kept, HiddenNames::Keep);
    CHECK(kept.status == Status::Ok);
    CHECK(kept.relative == c.relative);
    CHECK(kept.trailingSlash == c.trailingSlash);
  }
  // Bad stays bad.
  for (std::string_view bad : {"/.git/%zz", "/.git/../..", "/.env/%00", "/../.env"}) {
    CAPTURE(bad);
    normalizeUrlPath(bad, kept, HiddenNames::Keep);
    CHECK(kept.status == Status::BadRequest);
    CHECK(kept.relative.empty());
  }
}
