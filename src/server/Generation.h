// One configuration's worth of a loop's serving state: the settings, the sites, the router, the
// request handler and the proxy gateway. A reload makes a new one; a request pins the one it
// started under (shared_ptr), so it finishes under the settings it began with.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fs/Resolver.h"
#include "proxy/Gateway.h"
#include "reactor/EventLoop.h"
#include "server/Config.h"
#include "server/RequestHandler.h"
#include "server/Router.h"
#include "server/Site.h"

namespace epserve::server {

class Generation {
 public:
  // `resolver`, when given, is rooted at config->root (else the root is opened here, unless
  // kept). `previous` (null at start-up) lends what the new
  // settings leave unchanged: sites with their warm file caches, and the gateway with its idle
  // upstream pools and DNS state when no proxy setting changed.
  Generation(reactor::EventLoop& loop, std::shared_ptr<const Config> config,
             std::optional<fs::Resolver> resolver, const Generation* previous);
  Generation(const Generation&) = delete;
  Generation& operator=(const Generation&) = delete;

  const std::shared_ptr<const Config> settings;
  const Config& config;  // *settings
  Router router;          // every --static and --proxy prefix
  std::vector<std::string> fallbackHosts;  // per proxy route: its first URL's authority
  std::shared_ptr<proxy::Gateway> gateway;  // null when no route is proxied

  RequestHandler& handler() { return handler_; }
  const Site& root() const { return *root_; }
  const std::vector<std::shared_ptr<Site>>& aliases() const { return aliases_; }

 private:
  static std::shared_ptr<Site> openRoot(reactor::EventLoop& loop, const Config& config,
                                        std::optional<fs::Resolver>& resolver,
                                        const Generation* previous);
  static bool keptRoot(const Generation* previous, const Config& config);
  static std::vector<std::shared_ptr<Site>> openAliases(reactor::EventLoop& loop,
                                                        const Config& config,
                                                        const Generation* previous);

  std::shared_ptr<Site> root_;
  std::vector<std::shared_ptr<Site>> aliases_;  // one per config.staticRoutes entry
  RequestHandler handler_;
};

// The settings a gateway is built from are the same in `a` and `b`: it can be kept.
bool sameProxySettings(const Config& a, const Config& b);

}  // namespace epserve::server
