// The per-loop shared state and its hooks into the loop: see LoopContext.h.
#include "server/LoopContext.h"

#include <spdlog/spdlog.h>

#include "http/Upgrade.h"
#include "proxy/RequestHead.h"
#include "proxy/TargetRewrite.h"

namespace epserve::server {

namespace {

constexpr reactor::Millis kLingerMillis = 2000;

}  // namespace

LoopContext::LoopContext(reactor::EventLoop& eventLoop, const Config& cfg, fs::Resolver resolver)
    : loop(eventLoop),
      config(live_),
      limits(),
      accessLog(cfg),
      health(cfg.healthPath),
      live_(cfg),
      generation_(std::make_shared<Generation>(eventLoop, std::make_shared<const Config>(cfg),
                                               std::move(resolver), nullptr)),
      request_(std::make_unique<http::Request>()),
      timeouts_{reactor::TimeoutList(cfg.headerTimeoutSec * 1000LL),
                reactor::TimeoutList(cfg.keepAliveTimeoutSec * 1000LL),
                reactor::TimeoutList(cfg.sendTimeoutSec * 1000LL),
                reactor::TimeoutList(kLingerMillis)} {
  for (auto& list : timeouts_) loop.addTimeoutList(&list);
  gateway = generation_->gateway.get();
  published_.sources.loop = &stats;
  {
    std::lock_guard<std::mutex> hold(published_.lock);
    publishMetricsOf(*generation_);
  }
  flushHook_ = loop.addBeforeSleep([this] { accessLog.flush(); });
  setBodyTooLargeReason();
}

void LoopContext::setBodyTooLargeReason() {
  bodyTooLarge_ = "The request body is larger than the " + std::to_string(live_.maxBodySize) +
                  " bytes this server accepts.";
}

LoopContext::~LoopContext() {
  generation_.reset();
  loop.removeBeforeSleep(flushHook_);
  for (auto& list : timeouts_) loop.removeTimeoutList(&list);
  accessLog.flush();
}

void LoopContext::setShedCounter(const reactor::Counter* shed) {
  std::lock_guard<std::mutex> hold(published_.lock);
  published_.sources.shed = shed;
}

void LoopContext::publishMetricsOf(const Generation& g) {
  Metrics::Sources& s = published_.sources;
  s.fileCaches.clear();
  s.upstreams.clear();
  s.fileCaches.push_back(&g.root().files().stats());
  for (const auto& site : g.aliases()) s.fileCaches.push_back(&site->files().stats());
  const auto& routes = g.config.proxyRoutes;
  for (std::size_t r = 0; r < routes.size(); ++r) {
    for (std::size_t u = 0; u < routes[r].upstreams.size(); ++u) {
      s.upstreams.emplace_back(routes[r].upstreams[u].text, &g.gateway->upstream(r).stats(u));
    }
  }
}

bool LoopContext::reload(std::shared_ptr<const Config> next) {
  std::shared_ptr<Generation> g;
  try {
    g = std::make_shared<Generation>(loop, std::move(next), std::nullopt, generation_.get());
    // A new access log file or format: opened before anything changes, so a file that cannot
    // be opened keeps the running configuration whole.
    const Config& c = g->config;
    if (c.accessLog != live_.accessLog || c.accessLogPath != live_.accessLogPath ||
        c.logFormat != live_.logFormat) {
      accessLog.configure(c);
    }
  } catch (const std::exception& e) {
    spdlog::error("reload: {}: keeping the running configuration", e.what());
    return false;
  }
  {
    // Published before the old Generation can go: see Metrics::Published.
    std::lock_guard<std::mutex> hold(published_.lock);
    publishMetricsOf(*g);
    generation_ = std::move(g);
  }
  live_ = generation_->config;
  setBodyTooLargeReason();
  gateway = generation_->gateway.get();
  timeouts(Deadline::Header).setDuration(live_.headerTimeoutSec * 1000LL);
  timeouts(Deadline::KeepAlive).setDuration(live_.keepAliveTimeoutSec * 1000LL);
  timeouts(Deadline::Send).setDuration(live_.sendTimeoutSec * 1000LL);
  return true;
}

const Route* LoopContext::route(std::string_view path) {
  const Router& router = generation_->router;
  if (router.routes().empty()) return nullptr;  // no routing work for a plain file server
  if (!routingPath(path, routePath_)) return nullptr;  // the static handler answers its 400
  return router.match(routePath_);
}

void LoopContext::writeUpstreamHead(const http::Request& req, std::size_t route,
                                    const reactor::SocketAddress& peer,
                                    ChunkedUpload chunked, std::string& out) {
  // Called as the request starts, so the current generation is the one it pinned.
  const Generation& g = *generation_;
  const ProxyRoute& r = g.config.proxyRoutes[route];
  // Every URL of a route shares the first one's path (the flag's validation sees to it).
  const proxy::UpstreamUrl& url = r.upstreams.front();
  target_.clear();
  proxy::appendUpstreamTarget(req.path, routePath_, r.prefix, url.path, target_);
  proxy::ForwardInfo f;
  f.target = target_;
  f.peer = &peer;
  f.peerTrusted = !g.config.trustedProxies.empty() && g.config.trustedProxies.contains(peer);
  f.fallbackHost = g.fallbackHosts[route];
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
