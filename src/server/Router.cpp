// Route matching by whole path segments, longest prefix first, and the routing path it runs on:
// see Router.h.
#include "server/Router.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "fs/UrlPath.h"

namespace epserve::server {

bool prefixMatches(std::string_view prefix, std::string_view path) {
  if (!path.starts_with(prefix)) return false;
  // "/app/" has its boundary built in; "/api" needs the path to end or go on with a '/'.
  if (prefix.ends_with('/')) return true;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

bool routingPath(std::string_view rawPath, std::string& out) {
  // Borrow out's buffer for the normalised relative path, so a warm caller allocates nothing.
  fs::UrlPath p;
  p.relative.swap(out);
  fs::normalizeUrlPath(rawPath, p, fs::HiddenNames::Keep);
  out.swap(p.relative);
  if (p.status != http::Status::Ok) {
    out.clear();
    return false;
  }
  out.insert(out.begin(), '/');
  if (p.trailingSlash && out.size() > 1) out.push_back('/');
  return true;
}

bool isRoutePrefix(std::string_view prefix) {
  if (prefix.empty() || prefix.front() != '/') return false;
  // A '%' would be decoded (or refused) by routingPath, so the comparison below catches it, but
  // "%25" would survive as '%': refuse escapes outright, the prefix is written decoded.
  if (prefix.find('%') != std::string_view::npos) return false;
  std::string normal;
  return routingPath(prefix, normal) && normal == prefix;
}

Router::Router(std::vector<Route> routes) : routes_(std::move(routes)) {
  for (const Route& r : routes_) {
    if (!isRoutePrefix(r.prefix)) {
      throw std::invalid_argument("route prefix '" + r.prefix + "' is not a normalised path");
    }
  }
  // Longest first; equal lengths by name, which also puts duplicates next to each other. Two
  // different prefixes of one length never both match a path, so that order is not a priority.
  std::sort(routes_.begin(), routes_.end(), [](const Route& a, const Route& b) {
    if (a.prefix.size() != b.prefix.size()) return a.prefix.size() > b.prefix.size();
    return a.prefix < b.prefix;
  });
  for (std::size_t i = 1; i < routes_.size(); ++i) {
    if (routes_[i].prefix == routes_[i - 1].prefix) {
      throw std::invalid_argument("duplicate route prefix '" + routes_[i].prefix + "'");
    }
  }
}

const Route* Router::match(std::string_view normalizedPath) const {
  for (const Route& r : routes_) {
    if (prefixMatches(r.prefix, normalizedPath)) return &r;
  }
  return nullptr;
}

}  // namespace epserve::server
