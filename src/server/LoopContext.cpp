// The per-loop shared state and its hooks into the loop: see LoopContext.h.
#include "server/LoopContext.h"

#include "http/Upgrade.h"
#include "proxy/RequestHead.h"
#include "proxy/TargetRewrite.h"

namespace epserve::server {

namespace {

constexpr reactor::Millis kLingerMillis = 2000;

std::vector<std::unique_ptr<Site>> openAliases(reactor::EventLoop& loop, const Config& config) {
  std::vector<std::unique_ptr<Site>> sites;
  for (const StaticRoute& r : config.staticRoutes) {
    sites.push_back(std::make_unique<Site>(
        loop, r.dir, fs::Resolver(fs::Resolver::openRoot(r.dir), config.indexName)));
  }
  return sites;
}

std::vector<Site*> pointers(const std::vector<std::unique_ptr<Site>>& sites) {
  std::vector<Site*> out;
  for (const auto& s : sites) out.push_back(s.get());
  return out;
}

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

}  // namespace

LoopContext::LoopContext(reactor::EventLoop& eventLoop, const Config& cfg, fs::Resolver resolver)
    : loop(eventLoop),
      config(cfg),
      limits(),
      accessLog(cfg.accessLog),
      health(cfg.healthPath),
      root_(eventLoop, cfg.root, std::move(resolver)),
      aliases_(openAliases(eventLoop, cfg)),
      router_(routesOf(cfg)),
      handler_(config, root_, pointers(aliases_)),
      request_(std::make_unique<http::Request>()),
      timeouts_{reactor::TimeoutList(cfg.headerTimeoutSec * 1000LL),
                reactor::TimeoutList(cfg.keepAliveTimeoutSec * 1000LL),
                reactor::TimeoutList(cfg.sendTimeoutSec * 1000LL),
                reactor::TimeoutList(kLingerMillis)} {
  for (auto& list : timeouts_) loop.addTimeoutList(&list);
  if (!cfg.proxyRoutes.empty()) gateway = std::make_unique<proxy::Gateway>(loop, cfg);
  for (const ProxyRoute& r : cfg.proxyRoutes) {
    fallbackHosts_.push_back(proxy::authority(r.upstreams.front()));
  }
  flushHook_ = loop.addBeforeSleep([this] { accessLog.flush(); });
  bodyTooLarge_ = "The request body is larger than the " + std::to_string(cfg.maxBodySize) +
                  " bytes this server accepts.";
}

LoopContext::~LoopContext() {
  gateway.reset();
  loop.removeBeforeSleep(flushHook_);
  for (auto& list : timeouts_) loop.removeTimeoutList(&list);
  accessLog.flush();
}


const Route* LoopContext::route(std::string_view path) {
  if (router_.routes().empty()) return nullptr;  // no routing work for a plain file server
  if (!routingPath(path, routePath_)) return nullptr;  // the static handler answers its 400
  return router_.match(routePath_);
}

void LoopContext::writeUpstreamHead(const http::Request& req, std::size_t route,
                                    const reactor::SocketAddress& peer,
                                    ChunkedUpload chunked, std::string& out) {
  const ProxyRoute& r = config.proxyRoutes[route];
  // Every URL of a route shares the first one's path (the flag's validation sees to it).
  const proxy::UpstreamUrl& url = r.upstreams.front();
  target_.clear();
  proxy::appendUpstreamTarget(req.path, routePath_, r.prefix, url.path, target_);
  proxy::ForwardInfo f;
  f.target = target_;
  f.peer = &peer;
  f.peerTrusted = !config.trustedProxies.empty() && config.trustedProxies.contains(peer);
  f.fallbackHost = fallbackHosts_[route];
  f.upgrade = http::requestsUpgrade(req);
  if (req.framing == http::BodyFraming::ContentLength) {
    f.body = proxy::ForwardInfo::Body::Length;
    f.contentLength = req.contentLength;
  } else if (req.framing == http::BodyFraming::Chunked && chunked == ChunkedUpload::Rechunked) {
    f.body = proxy::ForwardInfo::Body::Chunked;
  }
  out.clear();
  proxy::writeUpstreamRequestHead(req, f, out);
}

}  // namespace epserve::server
