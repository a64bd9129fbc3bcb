// A configuration's sites, router, handler and gateway: see Generation.h.
#include "server/Generation.h"

#include "proxy/TargetRewrite.h"

namespace epserve::server {

namespace {

std::vector<Route> routesOf(const Config& config) {
  std::vector<Route> routes;
  for (std::size_t i = 0; i < config.staticRoutes.size(); ++i) {
    routes.push_back(Route{config.staticRoutes[i].prefix, Route::Kind::Static, i});
  }
  for (std::size_t i = 0; i < config.proxyRoutes.size(); ++i) {
    routes.push_back(Route{config.proxyRoutes[i].prefix, Route::Kind::Proxy, i});
  }
  return routes;
}

std::vector<Site*> pointers(const std::vector<std::shared_ptr<Site>>& sites) {
  std::vector<Site*> out;
  for (const auto& s : sites) out.push_back(s.get());
  return out;
}

}  // namespace

std::shared_ptr<Site> Generation::openRoot(reactor::EventLoop& loop, const Config& config,
                                           std::optional<fs::Resolver>& resolver,
                                           const Generation* previous) {
  if (keptRoot(previous, config)) return previous->root_;
  if (!resolver) {
    resolver.emplace(fs::Resolver::openRoot(config.root), config.indexName);
  }
  return std::make_shared<Site>(loop, config.root, std::move(*resolver));
}

bool Generation::keptRoot(const Generation* previous, const Config& config) {
  return previous && previous->config.root == config.root &&
         previous->config.indexName == config.indexName;
}

// A --static directory already served under the same index name keeps its site (and cache).
std::vector<std::shared_ptr<Site>> Generation::openAliases(reactor::EventLoop& loop,
                                                           const Config& config,
                                                           const Generation* previous) {
  std::vector<std::shared_ptr<Site>> sites;
  for (const StaticRoute& r : config.staticRoutes) {
    std::shared_ptr<Site> kept;
    if (previous && previous->config.indexName == config.indexName) {
      for (std::size_t i = 0; i < previous->config.staticRoutes.size(); ++i) {
        if (previous->config.staticRoutes[i].dir == r.dir) kept = previous->aliases_[i];
      }
    }
    if (!kept) {
      kept = std::make_shared<Site>(
          loop, r.dir, fs::Resolver(fs::Resolver::openRoot(r.dir), config.indexName));
    }
    sites.push_back(std::move(kept));
  }
  return sites;
}

bool sameProxySettings(const Config& a, const Config& b) {
  if (a.proxyRoutes.size() != b.proxyRoutes.size() || a.resolvers.size() != b.resolvers.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.proxyRoutes.size(); ++i) {
    const auto& ua = a.proxyRoutes[i].upstreams;
    const auto& ub = b.proxyRoutes[i].upstreams;
    if (ua.size() != ub.size()) return false;
    for (std::size_t j = 0; j < ua.size(); ++j) {
      if (ua[j].text != ub[j].text) return false;
    }
  }
  for (std::size_t i = 0; i < a.resolvers.size(); ++i) {
    if (a.resolvers[i].toString() != b.resolvers[i].toString()) return false;
  }
  return a.proxyConnectTimeoutMs == b.proxyConnectTimeoutMs &&
         a.proxySendTimeoutMs == b.proxySendTimeoutMs &&
         a.proxyReadTimeoutMs == b.proxyReadTimeoutMs &&
         a.proxyFailTimeoutMs == b.proxyFailTimeoutMs &&
         a.proxyResolveIntervalMs == b.proxyResolveIntervalMs &&
         a.tunnelIdleTimeoutMs == b.tunnelIdleTimeoutMs;
}

Generation::Generation(reactor::EventLoop& loop, std::shared_ptr<const Config> cfg,
                       std::optional<fs::Resolver> resolver, const Generation* previous)
    : settings(std::move(cfg)),
      config(*settings),
      router(routesOf(config)),
      root_(openRoot(loop, config, resolver, previous)),
      aliases_(openAliases(loop, config, previous)),
      handler_(config, *root_, pointers(aliases_)) {
  if (!config.proxyRoutes.empty()) {
    if (previous && previous->gateway && sameProxySettings(previous->config, config)) {
      gateway = previous->gateway;
    } else {
      gateway = std::make_shared<proxy::Gateway>(loop, config);
    }
  }
  for (const ProxyRoute& r : config.proxyRoutes) {
    fallbackHosts.push_back(proxy::authority(r.upstreams.front()));
  }
}

}  // namespace epserve::server
