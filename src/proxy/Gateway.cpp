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
    upstreams_.push_back(std::make_unique<Upstream>(route.upstreams, loop, idle_));
  }
}

Gateway::~Gateway() {
  upstreams_.clear();  // pools close their idle connections while the lists still exist
  for (reactor::TimeoutList* list : {&connect_, &send_, &read_, &idle_, &tunnel_}) {
    loop_.removeTimeoutList(list);
  }
}

}  // namespace epserve::proxy
