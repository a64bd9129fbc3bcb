// Upstream server choice and host-name following: see Upstream.h.
#include "proxy/Upstream.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace epserve::proxy {

namespace {

// Family, address and port: flow labels and padding are not part of a server's identity.
bool sameAddress(const reactor::SocketAddress& a, const reactor::SocketAddress& b) {
  if (a.addr.any.sa_family != b.addr.any.sa_family || a.port() != b.port()) return false;
  if (a.addr.any.sa_family == AF_INET6) {
    return std::memcmp(&a.addr.v6.sin6_addr, &b.addr.v6.sin6_addr, sizeof(in6_addr)) == 0;
  }
  return a.addr.v4.sin_addr.s_addr == b.addr.v4.sin_addr.s_addr;
}

reactor::SocketAddress withPort(reactor::SocketAddress a, std::uint16_t port) {
  if (a.addr.any.sa_family == AF_INET6) {
    a.addr.v6.sin6_port = htons(port);
  } else {
    a.addr.v4.sin_port = htons(port);
  }
  return a;
}

std::string labels(const std::vector<std::shared_ptr<UpstreamServer>>& servers) {
  std::string out;
  for (const auto& s : servers) {
    if (!out.empty()) out += ", ";
    out += s->label;
  }
  return out.empty() ? "nothing" : out;
}

}  // namespace

Upstream::Upstream(const std::vector<UpstreamUrl>& urls, reactor::EventLoop& loop,
                   reactor::TimeoutList& idleTimeouts, reactor::DnsResolver* resolver,
                   reactor::Millis resolveInterval)
    : loop_(loop),
      idleTimeouts_(idleTimeouts),
      resolver_(resolver),
      resolveInterval_(resolveInterval),
      stats_(std::make_unique<UpstreamStats[]>(urls.size())) {
  origins_.reserve(urls.size());
  for (const UpstreamUrl& url : urls) {
    Origin& o = origins_.emplace_back();
    o.url = url;
    auto s = std::make_shared<UpstreamServer>(url, loop, idleTimeouts,
                                              &stats_[origins_.size() - 1].idle);
    s->urlIndex = origins_.size() - 1;
    if (url.kind == UpstreamUrl::Kind::Unix) {
      s->isUnix = true;
      if (!reactor::UnixAddress::parse(url.socketPath, s->unixAddress)) {
        throw std::runtime_error("bad unix socket path in upstream " + url.text);
      }
      s->label = s->unixAddress.toString();
    } else if (reactor::SocketAddress::parse(url.host, url.port, s->tcp)) {
      s->label = s->tcp.toString();
    } else {
      if (!resolver_) throw std::logic_error("upstream " + url.text + " needs a resolver");
      o.dynamic = true;
      continue;
    }
    o.servers.push_back(std::move(s));
  }
  rebuild();
  for (std::size_t i = 0; i < origins_.size(); ++i) {
    if (origins_[i].dynamic) lookup(i, loop_.now());
  }
}

Upstream::~Upstream() {
  for (ResolveWait* w : parked_) {
    w->upstream_ = nullptr;
    w->timer_.cancel();
  }
}

void Upstream::lookup(std::size_t index, reactor::Millis now) {
  Origin& o = origins_[index];
  o.inFlight = true;
  o.everLooked = true;
  o.lastLookup = now;
  spdlog::debug("upstream {}: looking up {}", o.url.text, o.url.host);
  resolver_->resolve(o.url.host,
                     [this, index](reactor::DnsAnswer answer) { onAnswer(index, std::move(answer)); });
}

void Upstream::onAnswer(std::size_t index, reactor::DnsAnswer answer) {
  Origin& o = origins_[index];
  o.inFlight = false;
  if (!answer.ok) {
    if (!o.failing) {
      if (o.answered) {
        spdlog::warn("upstream {}: cannot resolve {}: {}; keeping {}", o.url.text, o.url.host,
                     answer.error, labels(o.servers));
      } else {
        spdlog::warn("upstream {}: cannot resolve {}: {}; answering 502 until it resolves",
                     o.url.text, o.url.host, answer.error);
      }
    }
    o.failing = true;
  } else {
    if (o.failing) {
      spdlog::info("upstream {}: {} resolves {}", o.url.text, o.url.host,
                   o.answered ? "again" : "now");
    }
    o.failing = false;
    o.answered = true;
    adopt(o, index, answer);
  }
  wake();
}

// The servers follow the answer: an address still in it keeps its server (pool, fail state),
// a new one becomes a server, a server whose address left closes its idle connections.
void Upstream::adopt(Origin& o, std::size_t index, const reactor::DnsAnswer& answer) {
  std::vector<std::shared_ptr<UpstreamServer>> next;
  bool changed = answer.addresses.size() != o.servers.size();
  for (const reactor::SocketAddress& found : answer.addresses) {
    reactor::SocketAddress address = withPort(found, o.url.port);
    auto same = [&](const auto& s) { return sameAddress(s->tcp, address); };
    auto it = std::find_if(o.servers.begin(), o.servers.end(), same);
    if (it != o.servers.end()) {
      next.push_back(*it);
      continue;
    }
    auto s = std::make_shared<UpstreamServer>(o.url, loop_, idleTimeouts_, &stats_[index].idle);
    s->tcp = address;
    s->label = address.toString();
    s->urlIndex = index;
    next.push_back(std::move(s));
    changed = true;
  }
  for (const auto& old : o.servers) {
    if (std::find(next.begin(), next.end(), old) == next.end()) old->pool.close();
  }
  if (changed) {
    ++generation_;
    if (o.servers.empty()) {
      spdlog::info("upstream {}: {} is {}", o.url.text, o.url.host, labels(next));
    } else {
      spdlog::info("upstream {}: {} is {} (was {})", o.url.text, o.url.host, labels(next),
                   labels(o.servers));
    }
  }
  o.servers = std::move(next);
  rebuild();
}

void Upstream::rebuild() {
  servers_.clear();
  for (const Origin& o : origins_) servers_.insert(servers_.end(), o.servers.begin(), o.servers.end());
}

bool Upstream::mustWait(ResolveWait& wait, reactor::TimeoutList& deadlines, reactor::Millis now,
                        std::uint64_t& tried) {
  if (wait.upstream_ && wait.upstream_ != this) wait.cancel();  // left over from another route
  if (wait.afterFailures_) {
    wait.afterFailures_ = false;
    if (wait.generation_ != generation_) tried = 0;  // new servers: try the list again
  } else if (tried == 0) {
    wait.retried_ = false;  // a new request
  }
  bool inFlight = false;
  for (std::size_t i = 0; i < origins_.size(); ++i) {
    Origin& o = origins_[i];
    if (!o.dynamic) continue;
    reactor::Millis gap = o.answered ? resolveInterval_ : kRetryMillis;
    if (!o.inFlight && (!o.everLooked || now - o.lastLookup >= gap)) lookup(i, now);
    inFlight = inFlight || o.inFlight;
  }
  const std::size_t n = std::min<std::size_t>(servers_.size(), 64);
  const std::uint64_t all = n == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1;
  const bool exhausted = n > 0 && (tried & all) == all;
  if (!inFlight || (!servers_.empty() && (!exhausted || wait.retried_))) {
    wait.cancel();
    return false;
  }
  if (exhausted) {
    wait.afterFailures_ = true;
    wait.retried_ = true;
    wait.generation_ = generation_;
  }
  if (!wait.parked()) {
    wait.upstream_ = this;
    wait.epoch_ = wakeEpoch_;
    parked_.push_back(&wait);
  }
  if (!wait.timer_.armed()) deadlines.arm(wait.timer_, now);
  return true;
}

// Every parked request looks again; one that parks again (another name still in flight) waits
// for a later round, so this ends.
void Upstream::wake() {
  const std::uint64_t round = wakeEpoch_++;
  for (;;) {
    auto it = std::find_if(parked_.begin(), parked_.end(),
                           [round](const ResolveWait* w) { return w->epoch_ <= round; });
    if (it == parked_.end()) return;
    ResolveWait* w = *it;
    parked_.erase(it);
    w->upstream_ = nullptr;
    w->waiter_.resolveWaitOver(false);
  }
}

void Upstream::unpark(ResolveWait& wait) {
  std::erase(parked_, &wait);
  wait.upstream_ = nullptr;
}

std::shared_ptr<UpstreamServer> Upstream::pick(reactor::Millis now, std::uint64_t& tried) {
  const std::size_t n = servers_.size();
  std::shared_ptr<UpstreamServer>* fallback = nullptr;  // marked down, used when all others are
  std::size_t fallbackIndex = 0;
  for (std::size_t i = 0; i < n && i < 64; ++i) {
    std::size_t index = (next_ + i) % n;
    if (tried & (std::uint64_t{1} << index)) continue;
    std::shared_ptr<UpstreamServer>& s = servers_[index];
    if (s->downUntil > now) {
      if (!fallback) {
        fallback = &s;
        fallbackIndex = index;
      }
      continue;
    }
    next_ = index + 1;
    tried |= std::uint64_t{1} << index;
    return s;
  }
  if (!fallback) return nullptr;
  tried |= std::uint64_t{1} << fallbackIndex;
  return *fallback;
}

void Upstream::markDown(UpstreamServer& s, reactor::Millis now, reactor::Millis failTimeout) {
  s.downUntil = now + failTimeout;
  Origin& o = origins_[s.urlIndex];
  // The application may have come back elsewhere (a restarted container): ask at once.
  if (o.dynamic && !o.inFlight && now - o.lastLookup >= kRetryMillis) lookup(s.urlIndex, now);
}

}  // namespace epserve::proxy
