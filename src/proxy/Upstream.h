// The servers behind one proxy route, on one loop: their addresses (host names looked up without
// blocking and followed as their answers change), round-robin choice that skips a server whose
// connect failed for the fail timeout, and each server's idle pool.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proxy/ConnectionPool.h"
#include "proxy/ResolveWait.h"
#include "proxy/UpstreamStats.h"
#include "proxy/UpstreamUrl.h"
#include "reactor/DnsResolver.h"
#include "reactor/SocketAddress.h"
#include "reactor/TimeoutList.h"
#include "reactor/UnixAddress.h"

namespace epserve::proxy {

// Shared: an exchange holds the server it talks to, so one that leaves a DNS answer mid-exchange
// lives on (its pool closed) until that exchange lets go.
struct UpstreamServer {
  UpstreamServer(const UpstreamUrl& u, reactor::EventLoop& loop, reactor::TimeoutList& idle,
                 reactor::Gauge* idleGauge)
      : url(u), pool(loop, idle, idleGauge) {}

  UpstreamUrl url;
  bool isUnix = false;
  reactor::SocketAddress tcp;
  reactor::UnixAddress unixAddress;
  std::string label;  // "127.0.0.1:8000" or "unix:/run/app.sock", for logs
  reactor::Millis downUntil = 0;
  std::size_t urlIndex = 0;  // which of the route's URLs it came from
  ConnectionPool pool;
};

class Upstream {
 public:
  // A host name whose lookup failed (or that never answered) is asked again after this, when
  // requests come or a connect fails; an answered name waits the resolve interval.
  static constexpr reactor::Millis kRetryMillis = 1000;

  // IP literals (and "localhost") and unix sockets are fixed servers; every other host is
  // looked up with `resolver` (needed then, not owned), starting now. Throws
  // std::runtime_error for a bad unix socket path.
  Upstream(const std::vector<UpstreamUrl>& urls, reactor::EventLoop& loop,
           reactor::TimeoutList& idleTimeouts, reactor::DnsResolver* resolver,
           reactor::Millis resolveInterval);
  ~Upstream();
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;

  // Called before each pick() of a request (`tried` as pick takes it): starts the lookups that
  // are due. True when no server is known yet but a lookup is in flight, or when every server
  // failed this request and a lookup is in flight (the one a failed connect asked for; once per
  // request): `wait` is parked until one ends (or its timer, armed on `deadlines`, fires first).
  // Once woken, a changed server list clears `tried`, so the new servers are tried too. False
  // disarms `wait`.
  bool mustWait(ResolveWait& wait, reactor::TimeoutList& deadlines, reactor::Millis now,
                std::uint64_t& tried);

  // The next server in turn that `tried` (a bit per server) does not name, preferring servers
  // that are not marked down; nullptr once every server was tried (or none is known). Marks
  // the choice in `tried`. A new DNS answer may renumber the servers between two picks of one
  // request; bits are never cleared, so a request still tries at most 64.
  std::shared_ptr<UpstreamServer> pick(reactor::Millis now, std::uint64_t& tried);
  // A connect to `s` failed: it is left out for `failTimeout`, and its host name (if it has
  // one) is looked up again at once, at most every kRetryMillis.
  void markDown(UpstreamServer& s, reactor::Millis now, reactor::Millis failTimeout);

  // What the exchanges did with the route's URL `urlIndex` on this loop (the metrics).
  UpstreamStats& stats(std::size_t urlIndex) { return stats_[urlIndex]; }
  const UpstreamStats& stats(std::size_t urlIndex) const { return stats_[urlIndex]; }

  // The servers known now, in URL order (for tests and logs).
  const std::vector<std::shared_ptr<UpstreamServer>>& servers() const { return servers_; }

 private:
  friend class ResolveWait;

  // One configured URL: a fixed server, or a host name and the servers of its last answer.
  struct Origin {
    UpstreamUrl url;
    bool dynamic = false;
    std::vector<std::shared_ptr<UpstreamServer>> servers;
    bool inFlight = false;
    bool answered = false;  // has had a good answer (kept through failed lookups)
    bool failing = false;   // the last lookup failed (one warning per streak)
    reactor::Millis lastLookup = 0;
    bool everLooked = false;
  };

  void lookup(std::size_t origin, reactor::Millis now);
  void onAnswer(std::size_t origin, reactor::DnsAnswer answer);
  void adopt(Origin& o, std::size_t index, const reactor::DnsAnswer& answer);
  void rebuild();
  void wake();
  void unpark(ResolveWait& wait);

  reactor::EventLoop& loop_;
  reactor::TimeoutList& idleTimeouts_;
  reactor::DnsResolver* resolver_;
  reactor::Millis resolveInterval_;
  // One per URL; declared before the servers, whose pools report to it, so it outlives them.
  std::unique_ptr<UpstreamStats[]> stats_;
  std::vector<Origin> origins_;
  std::vector<std::shared_ptr<UpstreamServer>> servers_;  // every origin's, flattened
  std::size_t next_ = 0;
  std::uint64_t generation_ = 0;  // counts changes of servers_
  std::vector<ResolveWait*> parked_;
  std::uint64_t wakeEpoch_ = 0;
};

}  // namespace epserve::proxy
