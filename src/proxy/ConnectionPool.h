// Idle keep-alive connections to one upstream server, reused last-in first-out. Each idle one
// is watched: bytes or EOF from the upstream while idle mean it is closing, so it is dropped.
#pragma once

#include <memory>
#include <vector>

#include "proxy/UpstreamConnection.h"
#include "reactor/Counter.h"
#include "reactor/EventLoop.h"
#include "reactor/TimeoutList.h"

namespace epserve::proxy {

class ConnectionPool final : private UpstreamUser {
 public:
  static constexpr std::size_t kMaxIdle = 32;

  // `idleTimeouts` has the idle timeout as its duration (below the upstreams' own). `idleGauge`
  // (optional) follows how many connections are idle here, for the metrics.
  ConnectionPool(reactor::EventLoop& loop, reactor::TimeoutList& idleTimeouts,
                 reactor::Gauge* idleGauge = nullptr)
      : loop_(&loop), idleTimeouts_(&idleTimeouts), idleGauge_(idleGauge) {}
  ~ConnectionPool();
  ConnectionPool(ConnectionPool&&) = default;
  ConnectionPool& operator=(ConnectionPool&&) = default;

  // Keeps `c` (its request fully answered, nothing unread) for reuse; once closed, retires it.
  void put(std::unique_ptr<UpstreamConnection> c);
  // The most recently idle connection, or nullptr.
  std::unique_ptr<UpstreamConnection> take();
  std::size_t idle() const { return idle_.size(); }
  // The server left its host name's DNS answer: the idle connections are retired now, and
  // any connection an exchange still on it hands back later too.
  void close();
  bool closed() const { return closed_; }

  // Closes `c` and frees it once this loop iteration is over (events for it may be queued).
  static void retire(reactor::EventLoop& loop, std::unique_ptr<UpstreamConnection> c);

 private:
  // Any edge (EPOLLOUT too) may wake an idle connection; only bytes or an EOF condemn it.
  void onUpstreamEvents(UpstreamConnection& c) override;
  void onUpstreamTimeout(UpstreamConnection& c) override { drop(c); }
  void drop(UpstreamConnection& c);
  void report();  // idle_'s size changed: tell the gauge


  reactor::EventLoop* loop_;
  reactor::TimeoutList* idleTimeouts_;
  std::vector<std::unique_ptr<UpstreamConnection>> idle_;  // oldest first
  reactor::Gauge* idleGauge_;
  std::size_t reported_ = 0;  // idle_.size() as the gauge last heard it
  bool closed_ = false;
};

}  // namespace epserve::proxy
