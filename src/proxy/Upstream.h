// The servers behind one proxy route, on one loop: their addresses, round-robin choice that
// skips a server whose connect failed for the fail timeout, and each server's idle pool.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proxy/ConnectionPool.h"
#include "proxy/UpstreamUrl.h"
#include "reactor/SocketAddress.h"
#include "reactor/TimeoutList.h"
#include "reactor/UnixAddress.h"

namespace epserve::proxy {

struct UpstreamServer {
  UpstreamServer(const UpstreamUrl& u, reactor::EventLoop& loop, reactor::TimeoutList& idle)
      : url(u), pool(loop, idle) {}

  UpstreamUrl url;
  bool isUnix = false;
  reactor::SocketAddress tcp;
  reactor::UnixAddress unixAddress;
  std::string label;  // "127.0.0.1:8000" or "unix:/run/app.sock", for logs
  reactor::Millis downUntil = 0;
  ConnectionPool pool;
};

class Upstream {
 public:
  // Resolves host names once, here (at start-up, before the loop serves anyone); throws
  // std::runtime_error naming the URL when one cannot be resolved.
  Upstream(const std::vector<UpstreamUrl>& urls, reactor::EventLoop& loop,
           reactor::TimeoutList& idleTimeouts);

  // The next server in turn that `tried` (a bit per server) does not name, preferring servers
  // that are not marked down; nullptr once every server was tried. Marks the choice in `tried`.
  UpstreamServer* pick(reactor::Millis now, std::uint64_t& tried);
  static void markDown(UpstreamServer& s, reactor::Millis now, reactor::Millis failTimeout) {
    s.downUntil = now + failTimeout;
  }
  const UpstreamServer& first() const { return *servers_.front(); }

 private:
  std::vector<std::unique_ptr<UpstreamServer>> servers_;
  std::size_t next_ = 0;
};

}  // namespace epserve::proxy
