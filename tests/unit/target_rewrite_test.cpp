// Unit tests for the upstream request-target (proxy/TargetRewrite): unchanged targets, prefix
// replacement with and without slashes, re-encoding of the decoded remainder, the raw query.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "proxy/TargetRewrite.h"
#include "server/Router.h"

using epserve::proxy::appendUpstreamTarget;
using epserve::proxy::upstreamTarget;

namespace {

// What the proxy will do: route the raw path, then rewrite against the matched prefix.
std::string rewrite(std::string_view raw, std::string_view prefix, std::string_view upstreamPath) {
  std::string normalized;
  REQUIRE(epserve::server::routingPath(raw, normalized));
  REQUIRE(epserve::server::prefixMatches(prefix, normalized));
  return upstreamTarget(raw, normalized, prefix, upstreamPath);
}

}  // namespace

TEST_CASE("target rewrite: no upstream path sends the client's target unchanged") {
  for (std::string_view raw : {"/", "/app/x?y=1", "/app/a%20b", "/app/a%2Fb", "/app/...",
                               "/app/.x/..y/", "/app/x?q=%zz&a=/../", "/app/.env", "/app?",
                               "/app/%2e%2e%2e"}) {
    CAPTURE(raw);
    std::string normalized;
    REQUIRE(epserve::server::routingPath(raw, normalized));
    CHECK(upstreamTarget(raw, normalized, "/app/", "") == raw);
  }
}

TEST_CASE("target rewrite: a path with dot or empty segments goes as epserve routed it") {
  // The upstream must not resolve "/public/..%2fadmin" to a path epserve never routed to it.
  CHECK(rewrite("/app/../app/x", "/app/", "") == "/app/x");
  CHECK(rewrite("/app//x?q=/../", "/app/", "") == "/app/x?q=/../");
  CHECK(rewrite("/app/./x", "/app/", "") == "/app/x");
  CHECK(rewrite("/app/x/.", "/app/", "") == "/app/x/");
  CHECK(rewrite("/app/y/%2e%2e/x", "/app/", "") == "/app/x");
  CHECK(rewrite("/public/..%2fapp/a%20b", "/app/", "") == "/app/a%20b");
  CHECK(rewrite("/public/%2E%2E%2Fapp/x", "/app/", "") == "/app/x");
}

TEST_CASE("target rewrite: a prefix ending in '/' replaced by the upstream path") {
  CHECK(rewrite("/app/", "/app/", "/") == "/");
  CHECK(rewrite("/app/x", "/app/", "/") == "/x");
  CHECK(rewrite("/app/x/y/", "/app/", "/") == "/x/y/");
  CHECK(rewrite("/app/", "/app/", "/v1/") == "/v1/");
  CHECK(rewrite("/app/x", "/app/", "/v1/") == "/v1/x");
  CHECK(rewrite("/app/x", "/app/", "/v1") == "/v1x");  // nginx's join: both need the '/'
  CHECK(rewrite("/", "/", "/mysite/") == "/mysite/");
  CHECK(rewrite("/polls/3/", "/", "/mysite/") == "/mysite/polls/3/");
}

TEST_CASE("target rewrite: a prefix without '/'") {
  CHECK(rewrite("/api", "/api", "/v1") == "/v1");
  CHECK(rewrite("/api/", "/api", "/v1") == "/v1/");
  CHECK(rewrite("/api/users", "/api", "/v1") == "/v1/users");
  CHECK(rewrite("/api/users", "/api", "/") == "//users");  // as nginx: "/" + "/users"
  CHECK(rewrite("/api", "/api", "/") == "/");
  CHECK(rewrite("/api/users", "/api", "/v1/") == "/v1//users");
}

TEST_CASE("target rewrite: the remainder is sent normalised and re-encoded") {
  CHECK(rewrite("/app/a%20b", "/app/", "/") == "/a%20b");
  CHECK(rewrite("/app/a b", "/app/", "/") == "/a%20b");  // a raw space never reaches upstream
  CHECK(rewrite("/app/%41%42c", "/app/", "/") == "/ABc");  // unreserved bytes need no escape
  CHECK(rewrite("/app/%C3%A9t%C3%A9", "/app/", "/") == "/%C3%A9t%C3%A9");
  CHECK(rewrite("/app/\xc3\xa9", "/app/", "/") == "/%C3%A9");
  CHECK(rewrite("/app/%25", "/app/", "/") == "/%25");
  CHECK(rewrite("/app/%2525", "/app/", "/") == "/%2525");
  CHECK(rewrite("/app/a%3fb", "/app/", "/") == "/a%3Fb");  // a decoded '?' is not a query
  CHECK(rewrite("/app/a%23b", "/app/", "/") == "/a%23b");
  CHECK(rewrite("/app/a%2fb", "/app/", "/") == "/a/b");  // decoded '/' is a separator
  CHECK(rewrite("/app/-._~!$&'()*+,;=:@", "/app/", "/") == "/-._~!$&'()*+,;=:@");
  CHECK(rewrite("/app/%22%3C%3E%5B%5D%5C%5E%60%7B%7C%7D", "/app/", "/") ==
        "/%22%3C%3E%5B%5D%5C%5E%60%7B%7C%7D");
  CHECK(rewrite("/app/./x/../y", "/app/", "/v1/") == "/v1/y");
  CHECK(rewrite("/app//x//", "/app/", "/v1/") == "/v1/x/");
  CHECK(rewrite("/x/../app/y", "/app/", "/v1/") == "/v1/y");
  CHECK(rewrite("/app/.env", "/app/", "/") == "/.env");
  // The upstream path goes as written, escapes and all.
  CHECK(rewrite("/app/x", "/app/", "/a%20b/") == "/a%20b/x");
}

TEST_CASE("target rewrite: the query goes as the client sent it") {
  CHECK(rewrite("/app/x?a=1&b=2", "/app/", "/") == "/x?a=1&b=2");
  CHECK(rewrite("/app/x?q=%20%zz/../", "/app/", "/v1/") == "/v1/x?q=%20%zz/../");
  CHECK(rewrite("/app/?", "/app/", "/") == "/");  // an empty query is no query
  CHECK(rewrite("/app/x??", "/app/", "/") == "/x??");
  CHECK(rewrite("/app/a%3fb?c", "/app/", "/") == "/a%3Fb?c");
  CHECK(rewrite("/api?x=1", "/api", "/v1") == "/v1?x=1");
  // A fragment never goes upstream (the parser refuses '#' already).
  CHECK(upstreamTarget("/app/x?q#f", "/app/x", "/app/", "/") == "/x?q");
}

TEST_CASE("target rewrite: a path outside the prefix is all remainder") {
  CHECK(upstreamTarget("/other/x", "/other/x", "/app/", "/v1") == "/v1/other/x");
}

TEST_CASE("target rewrite: appending keeps what is there") {
  std::string out = "GET ";
  appendUpstreamTarget("/app/x y?z", "/app/x y", "/app/", "/u/", out);
  CHECK(out == "GET /u/x%20y?z");
  appendUpstreamTarget("/app/raw?q", "/app/raw", "/app/", "", out);
  CHECK(out == "GET /u/x%20y?z/app/raw?q");
}
