// Unit tests for routing (server/Router): the routing path (decoded, dot segments removed, dot
// names kept), the segment rules of prefixes, longest match, and the prefixes refused.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "server/Router.h"

using epserve::server::isRoutePrefix;
using epserve::server::prefixMatches;
using epserve::server::Route;
using epserve::server::Router;
using epserve::server::routingPath;

namespace {

using Kind = Route::Kind;

// The routing path, or "<bad>" when routingPath refuses it.
std::string routed(std::string_view raw) {
  std::string out = "garbage";
  if (!routingPath(raw, out)) {
    CHECK(out.empty());
    return "<bad>";
  }
  return out;
}

// The prefix of the route matched for a raw path, "<root>" for none, "<bad>" for a bad path.
std::string matched(const Router& r, std::string_view raw) {
  std::string path;
  if (!routingPath(raw, path)) return "<bad>";
  const Route* route = r.match(path);
  return route ? route->prefix : "<root>";
}

}  // namespace

TEST_CASE("routing path: normalised, decoded once, query dropped") {
  struct Case {
    std::string_view in;
    std::string_view out;
  };
  const Case cases[] = {
      {"/", "/"},
      {"/app", "/app"},
      {"/app/", "/app/"},
      {"/app/x", "/app/x"},
      {"/app/x/", "/app/x/"},
      {"/app?x=1", "/app"},
      {"/app/?x=/../..", "/app/"},
      {"/?", "/"},
      {"//", "/"},
      {"//app//x//", "/app/x/"},
      {"/app/./x", "/app/x"},
      {"/app/.", "/app/"},
      {"/app/..", "/"},
      {"/app/../secret", "/secret"},
      {"/app/%2e%2e/secret", "/secret"},
      {"/app/..%2fsecret", "/secret"},
      {"/app%2fx", "/app/x"},
      {"/a%20b", "/a b"},
      {"/%41pp", "/App"},
      {"/%C3%A9t%C3%A9/", "/\xc3\xa9t\xc3\xa9/"},
      {"/%25", "/%"},
      // Dot names route: the upstream (or the static handler later) decides about them.
      {"/app/.env", "/app/.env"},
      {"/app/.git/config", "/app/.git/config"},
      {"/app/.well-known/x", "/app/.well-known/x"},
      {"/.well-known/acme-challenge/t", "/.well-known/acme-challenge/t"},
      {"/.env", "/.env"},
      {"/...", "/..."},
      {"/app/.hidden/", "/app/.hidden/"},
      // Bad: 400.
      {"/..", "<bad>"},
      {"/../x", "<bad>"},
      {"/app/../../x", "<bad>"},
      {"/%2e%2e/x", "<bad>"},
      {"/.env/../..", "<bad>"},
      {"/%zz", "<bad>"},
      {"/%00", "<bad>"},
      {"/a%0d%0aX: y", "<bad>"},
      {"/%c0%ae%c0%ae/", "<bad>"},
      {"", "<bad>"},
      {"*", "<bad>"},
      {"app", "<bad>"},
      {"http://h/app", "<bad>"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.in);
    CHECK(routed(c.in) == c.out);
  }
}

TEST_CASE("routing path: reuses the caller's buffer") {
  std::string out;
  out.reserve(512);
  const char* buffer = out.data();
  REQUIRE(routingPath("/a/b/c/", out));
  CHECK(out == "/a/b/c/");
  REQUIRE(routingPath("/x%20y/../z", out));
  CHECK(out == "/z");
  CHECK_FALSE(routingPath("/%zz", out));
  REQUIRE(routingPath("/", out));
  CHECK(out == "/");
  CHECK(out.data() == buffer);
}

TEST_CASE("prefix matching: whole segments only") {
  // A prefix ending in '/': what lies below it, not the bare name.
  CHECK(prefixMatches("/app/", "/app/"));
  CHECK(prefixMatches("/app/", "/app/x"));
  CHECK(prefixMatches("/app/", "/app/x/y/"));
  CHECK_FALSE(prefixMatches("/app/", "/app"));
  CHECK_FALSE(prefixMatches("/app/", "/application"));
  CHECK_FALSE(prefixMatches("/app/", "/ap"));
  CHECK_FALSE(prefixMatches("/app/", "/"));
  CHECK_FALSE(prefixMatches("/app/", "/App/"));  // paths are case-sensitive
  // Without one: the name itself and below it.
  CHECK(prefixMatches("/api", "/api"));
  CHECK(prefixMatches("/api", "/api/"));
  CHECK(prefixMatches("/api", "/api/v1/x"));
  CHECK_FALSE(prefixMatches("/api", "/apix"));
  CHECK_FALSE(prefixMatches("/api", "/api.json"));
  CHECK_FALSE(prefixMatches("/api", "/ap"));
  CHECK_FALSE(prefixMatches("/api", "/"));
  // Deeper prefixes.
  CHECK(prefixMatches("/a/b", "/a/b"));
  CHECK(prefixMatches("/a/b", "/a/b/c"));
  CHECK_FALSE(prefixMatches("/a/b", "/a/bc"));
  CHECK_FALSE(prefixMatches("/a/b", "/a"));
  // "/" matches everything.
  CHECK(prefixMatches("/", "/"));
  CHECK(prefixMatches("/", "/anything/at/all"));
}

TEST_CASE("router: longest prefix wins, no match is the root") {
  const Router r({{"/app/", Kind::Proxy, 0},
                  {"/app/static/", Kind::Static, 0},
                  {"/api", Kind::Proxy, 1},
                  {"/media", Kind::Static, 1}});
  CHECK(matched(r, "/") == "<root>");
  CHECK(matched(r, "/index.html") == "<root>");
  CHECK(matched(r, "/app") == "<root>");
  CHECK(matched(r, "/app/") == "/app/");
  CHECK(matched(r, "/app/x") == "/app/");
  CHECK(matched(r, "/app/static") == "/app/");
  CHECK(matched(r, "/app/static/") == "/app/static/");
  CHECK(matched(r, "/app/static/a.css") == "/app/static/");
  CHECK(matched(r, "/app/staticx") == "/app/");
  CHECK(matched(r, "/application") == "<root>");
  CHECK(matched(r, "/api") == "/api");
  CHECK(matched(r, "/api/") == "/api");
  CHECK(matched(r, "/api/users?id=1") == "/api");
  CHECK(matched(r, "/apix") == "<root>");
  CHECK(matched(r, "/media/a.png") == "/media");
  CHECK(matched(r, "/mediaX") == "<root>");
  // Matching is on the normalised path.
  CHECK(matched(r, "/app/../api/x") == "/api");
  CHECK(matched(r, "/api/../app/") == "/app/");
  CHECK(matched(r, "/app/static/../../media/x") == "/media");
  CHECK(matched(r, "/x/../app/static/y") == "/app/static/");
  CHECK(matched(r, "//app//static//y") == "/app/static/");
  CHECK(matched(r, "/%61pp/") == "/app/");
  CHECK(matched(r, "/app%2fstatic%2fy") == "/app/static/");
  CHECK(matched(r, "/app/.env") == "/app/");
  CHECK(matched(r, "/app/.well-known/x") == "/app/");
  CHECK(matched(r, "/../app/") == "<bad>");

  const Route* route = r.match("/app/static/x");
  REQUIRE(route);
  CHECK(route->kind == Kind::Static);
  CHECK(route->index == 0);
  route = r.match("/api/x");
  REQUIRE(route);
  CHECK(route->kind == Kind::Proxy);
  CHECK(route->index == 1);
}

TEST_CASE("router: '/' catches what nothing longer does") {
  const Router r({{"/", Kind::Proxy, 0}, {"/static/", Kind::Static, 0}});
  CHECK(matched(r, "/") == "/");
  CHECK(matched(r, "/polls/") == "/");
  CHECK(matched(r, "/static") == "/");
  CHECK(matched(r, "/static/app.css") == "/static/");
  const Router empty;
  CHECK(empty.match("/") == nullptr);
  CHECK(empty.routes().empty());
}

TEST_CASE("router: '/app' and '/app/' may both be routes") {
  const Router r({{"/app", Kind::Static, 0}, {"/app/", Kind::Proxy, 0}});
  CHECK(matched(r, "/app") == "/app");
  CHECK(matched(r, "/app/") == "/app/");
  CHECK(matched(r, "/app/x") == "/app/");
}

TEST_CASE("router: the order routes are given in does not matter") {
  std::vector<Route> routes = {{"/a/", Kind::Proxy, 0}, {"/a/b/", Kind::Proxy, 1},
                               {"/a/b/c/", Kind::Proxy, 2}, {"/b", Kind::Proxy, 3},
                               {"/c", Kind::Proxy, 4}};
  const Router forward(routes);
  std::vector<Route> reversed(routes.rbegin(), routes.rend());
  const Router backward(reversed);
  for (std::string_view p : {"/a/", "/a/x", "/a/b/", "/a/b/x", "/a/b/c/", "/a/b/c/d", "/b", "/b/x",
                             "/c", "/cx", "/"}) {
    CAPTURE(p);
    const Route* f = forward.match(p);
    const Route* b = backward.match(p);
    REQUIRE((f == nullptr) == (b == nullptr));
    if (f) CHECK(f->index == b->index);
  }
  CHECK(forward.match("/a/b/c/d")->index == 2);
  CHECK(forward.routes().front().prefix == "/a/b/c/");
}

TEST_CASE("router: prefixes that are not normalised paths, and duplicates, are refused") {
  for (std::string_view p : {"/", "/app", "/app/", "/a/b/", "/a b/", "/.well-known/", "/.env",
                             "/\xc3\xa9t\xc3\xa9/", "/a:b@c/", "/~user/"}) {
    CAPTURE(p);
    CHECK(isRoutePrefix(p));
  }
  for (std::string_view p : {"", "app", "app/", "//", "/app//", "//app", "/a/./b", "/a/../b", "/..",
                             "/.", "/app/.", "/%61pp", "/a%20b", "/a%25", "/app?x", "/app#x",
                             "/a\tb", "/a\x01", "/\xc3", "*", "http://h/"}) {
    CAPTURE(p);
    CHECK_FALSE(isRoutePrefix(p));
  }
  CHECK_THROWS_WITH_AS(Router({{"/a//b", Kind::Proxy, 0}}),
                       "route prefix '/a//b' is not a normalised path", std::invalid_argument);
  CHECK_THROWS_WITH_AS(Router({{"/a", Kind::Proxy, 0}, {"/b", Kind::Static, 0},
                               {"/a", Kind::Static, 1}}),
                       "duplicate route prefix '/a'", std::invalid_argument);
  CHECK_NOTHROW(Router({{"/a", Kind::Proxy, 0}, {"/a/", Kind::Static, 0}}));
}
