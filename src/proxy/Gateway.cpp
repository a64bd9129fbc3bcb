// The per-loop proxy state: see Gateway.h.
#include "proxy/Gateway.h"

#include "server/Config.h"

namespace epserve::proxy {

Gateway::Gateway(reactor::EventLoop& loop, const server::Config& config)
    : loop_(loop),
      connect_(config.proxyConnectTimeoutMs),
      send_(config.proxySendTimeoutMs),
      read_(config.proxyReadTimeoutMs),
      idle_(kIdleMillis),
      tunnel_(config.tunnelIdleTimeoutMs),
      failTimeout_(config.proxyFailTimeoutMs) {
  for (reactor::TimeoutList* list : {&connect_, &send_, &read_, &idle_, &tunnel_}) {
    loop.addTimeoutList(list);
  }
  for (const auto& route : config.proxyRoutes) {
    for (const UpstreamUrl& url : route.upstreams) {
      reactor::SocketAddress literal;
      bool named = url.kind == UpstreamUrl::Kind::Tcp &&
                   !reactor::SocketAddress::parse(url.host, url.port, literal);
      if (named && !resolver_) {
        resolver_ = std::make_unique<reactor::DnsResolver>(loop, config.resolvers);
      }
    }
  }
  for (const auto& route : config.proxyRoutes) {
    upstreams_.push_back(std::make_unique<Upstream>(route.upstreams, loop, idle_, resolver_.get(),
                                                    config.proxyResolveIntervalMs));
  }
}

Gateway::~Gateway() {
  upstreams_.clear();  // pools close their idle connections while the lists still exist
  resolver_.reset();   // no answer is delivered to an upstream that is gone
  for (reactor::TimeoutList* list : {&connect_, &send_, &read_, &idle_, &tunnel_}) {
    loop_.removeTimeoutList(list);
  }
}

}  // namespace epserve::proxy
