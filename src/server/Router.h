// Which route serves a request: the --proxy and --static prefixes, matched by whole path segments
// against the normalised request path, longest prefix first. Pure: no I/O, no allocation to match.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace epserve::server {

struct Route {
  enum class Kind : std::uint8_t { Static, Proxy };
  std::string prefix;      // normalised, starts with '/' (see isRoutePrefix)
  Kind kind = Kind::Static;
  std::size_t index = 0;   // into Config::staticRoutes or Config::proxyRoutes, by kind
};

// Matching rules, on the path routingPath() gives:
//   - A prefix ending in '/' ("/app/") matches the paths that start with it: "/app/" and
//     "/app/x", never "/application" and not the bare "/app" (as nginx's `location /app/`;
//     nginx answers "/app" with a redirect only for proxy locations, epserve leaves it to
//     whatever else matches, usually the --root, which redirects a directory itself).
//   - A prefix without one ("/api") matches "/api" and "/api/..." only: whole segments, never
//     "/apix" (nginx would match "/apix"; sending it to the API was never meant).
//   - "/" matches every path.
//   - Of several matches the longest prefix wins, so "/app/static/" beats "/app/".
// No match means the --root serves the request.
class Router {
 public:
  Router() = default;
  // Throws std::invalid_argument if a prefix is not isRoutePrefix or appears twice.
  explicit Router(std::vector<Route> routes);

  // The route for a normalised path, or nullptr. Valid while the Router lives.
  const Route* match(std::string_view normalizedPath) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;  // longest prefix first, so the first match is the longest
};

// Whether `prefix` matches `path` by the rules above.
bool prefixMatches(std::string_view prefix, std::string_view path);

// A prefix is usable when it is its own routing path: it starts with '/', has no "//", "." or
// ".." segments, no '%' escapes (it is compared with the decoded path, so it is written decoded),
// no '?' or '#', no control bytes, valid UTF-8. Paths that could never match are refused here.
bool isRoutePrefix(std::string_view prefix);

// The path a request is routed by: its path[?query] target percent-decoded once, dot segments
// removed, "//" merged, query dropped, as "/" + relative (+ "/" when it ended in one): "/" for
// the root. Dot names (".env", ".well-known") are kept: refusing them is the static files' rule,
// and a proxied route leaves them to its upstream. "/app/../secret" routes as "/secret".
// False (answer 400) for a bad escape, a control byte, invalid UTF-8, a path climbing above "/"
// or a target that is not origin-form. `out` keeps its capacity between calls.
bool routingPath(std::string_view rawPath, std::string& out);

}  // namespace epserve::server
