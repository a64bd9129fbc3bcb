// What the proxied exchanges of one event loop share: the upstreams of every proxy route (with
// their idle pools), the loop's DNS resolver for their host names, and the timeout lists for
// connect, send, read, idle pooled connections and idle upgraded tunnels.
#pragma once

#include <memory>
#include <vector>

#include "proxy/Upstream.h"
#include "reactor/DnsResolver.h"
#include "reactor/EventLoop.h"
#include "reactor/TimeoutList.h"

namespace epserve::server {
struct Config;
}

namespace epserve::proxy {

class Gateway {
 public:
  // Idle pooled connections close after this: below gunicorn's and Node's own keep-alive
  // timeouts (2 s and 5 s), so the upstream is never the one to close a connection we reuse.
  static constexpr reactor::Millis kIdleMillis = 2000;

  Gateway(reactor::EventLoop& loop, const server::Config& config);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // The upstreams of config.proxyRoutes[route].
  Upstream& upstream(std::size_t route) { return *upstreams_[route]; }

  reactor::TimeoutList& connectTimeouts() { return connect_; }
  reactor::TimeoutList& sendTimeouts() { return send_; }
  reactor::TimeoutList& readTimeouts() { return read_; }
  reactor::TimeoutList& tunnelTimeouts() { return tunnel_; }
  reactor::Millis failTimeout() const { return failTimeout_; }

 private:
  reactor::EventLoop& loop_;
  reactor::TimeoutList connect_;
  reactor::TimeoutList send_;
  reactor::TimeoutList read_;
  reactor::TimeoutList idle_;
  reactor::TimeoutList tunnel_;
  reactor::Millis failTimeout_;
  std::unique_ptr<reactor::DnsResolver> resolver_;  // null when every upstream is an address
  std::vector<std::unique_ptr<Upstream>> upstreams_;
};

}  // namespace epserve::proxy
