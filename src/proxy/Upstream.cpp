// Upstream server choice and start-up resolution: see Upstream.h.
#include "proxy/Upstream.h"

#include <netdb.h>

#include <cstring>
#include <stdexcept>

namespace epserve::proxy {

namespace {

reactor::SocketAddress resolve(const UpstreamUrl& url) {
  reactor::SocketAddress out;
  if (reactor::SocketAddress::parse(url.host, url.port, out)) return out;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(url.host.c_str(), nullptr, &hints, &found);
  if (rc != 0 || !found) {
    throw std::runtime_error("cannot resolve upstream " + url.text + ": " + ::gai_strerror(rc));
  }
  std::memcpy(&out.addr, found->ai_addr, found->ai_addrlen);
  out.length = found->ai_addrlen;
  ::freeaddrinfo(found);
  if (out.addr.any.sa_family == AF_INET6) {
    out.addr.v6.sin6_port = htons(url.port);
  } else {
    out.addr.v4.sin_port = htons(url.port);
  }
  return out;
}

}  // namespace

Upstream::Upstream(const std::vector<UpstreamUrl>& urls, reactor::EventLoop& loop,
                   reactor::TimeoutList& idleTimeouts) {
  for (const UpstreamUrl& url : urls) {
    auto s = std::make_unique<UpstreamServer>(url, loop, idleTimeouts);
    if (url.kind == UpstreamUrl::Kind::Unix) {
      s->isUnix = true;
      if (!reactor::UnixAddress::parse(url.socketPath, s->unixAddress)) {
        throw std::runtime_error("bad unix socket path in upstream " + url.text);
      }
      s->label = s->unixAddress.toString();
    } else {
      s->tcp = resolve(url);
      s->label = s->tcp.toString();
    }
    servers_.push_back(std::move(s));
  }
}

UpstreamServer* Upstream::pick(reactor::Millis now, std::uint64_t& tried) {
  const std::size_t n = servers_.size();
  UpstreamServer* fallback = nullptr;  // a server marked down, used when all others are too
  std::size_t fallbackIndex = 0;
  for (std::size_t i = 0; i < n && i < 64; ++i) {
    std::size_t index = (next_ + i) % n;
    if (tried & (std::uint64_t{1} << index)) continue;
    UpstreamServer* s = servers_[index].get();
    if (s->downUntil > now) {
      if (!fallback) {
        fallback = s;
        fallbackIndex = index;
      }
      continue;
    }
    next_ = index + 1;
    tried |= std::uint64_t{1} << index;
    return s;
  }
  if (fallback) tried |= std::uint64_t{1} << fallbackIndex;
  return fallback;
}

}  // namespace epserve::proxy
