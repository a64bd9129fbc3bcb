// c-ares on the event loop: see DnsResolver.h.
#include "reactor/DnsResolver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace epserve::reactor {

namespace {

bool sameHost(const SocketAddress& a, const SocketAddress& b) {
  if (a.addr.any.sa_family != b.addr.any.sa_family) return false;
  if (a.addr.any.sa_family == AF_INET6) {
    return std::memcmp(&a.addr.v6.sin6_addr, &b.addr.v6.sin6_addr, sizeof(in6_addr)) == 0;
  }
  return a.addr.v4.sin_addr.s_addr == b.addr.v4.sin_addr.s_addr;
}

void initLibrary() {
  static std::once_flag once;
  static int status = ARES_SUCCESS;
  std::call_once(once, [] { status = ::ares_library_init(ARES_LIB_INIT_ALL); });
  if (status != ARES_SUCCESS) {
    throw std::runtime_error(std::string("c-ares: ") + ::ares_strerror(status));
  }
}

}  // namespace

bool parseNameServer(std::string_view text, SocketAddress& out) {
  std::string_view host = text;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos) return false;
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
      if (port.empty()) return false;
    }
    if (host.find(':') == std::string_view::npos) return false;  // brackets are for IPv6
  } else if (std::size_t colon = text.find(':');
             colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    host = text.substr(0, colon);  // one colon: IPv4 with a port (bare IPv6 has several)
    port = text.substr(colon + 1);
    if (port.empty()) return false;
  }
  unsigned number = 53;
  if (!port.empty()) {
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (ec != std::errc() || end != port.data() + port.size() || number == 0 || number > 65535) {
      return false;
    }
  }
  if (host.empty() || host == "localhost") return false;  // an address, not a name
  return SocketAddress::parse(std::string(host), static_cast<std::uint16_t>(number), out);
}

// Watches one c-ares socket for the loop. Freed ones stay allocated and are reused, so an
// event already queued for a socket c-ares just closed never reaches freed memory.
struct DnsResolver::Watch final : IoHandler {
  DnsResolver* owner = nullptr;
  int fd = -1;

  void onEvents(std::uint32_t events) override {
    if (fd < 0) return;
    const bool readable = (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0;
    const bool writable = (events & EPOLLOUT) != 0;
    owner->process(readable ? fd : ARES_SOCKET_BAD, writable ? fd : ARES_SOCKET_BAD);
  }
};

struct DnsResolver::Lookup {
  DnsResolver* owner;
  Callback done;
};

DnsResolver::DnsResolver(EventLoop& loop, const std::vector<SocketAddress>& nameServers)
    : loop_(loop) {
  initLibrary();
  ares_options options{};
  options.sock_state_cb = &DnsResolver::onSocketState;
  options.sock_state_cb_data = this;
  int status = ::ares_init_options(&channel_, &options, ARES_OPT_SOCK_STATE_CB);
  if (status != ARES_SUCCESS) {
    throw std::runtime_error(std::string("c-ares: cannot start a resolver: ") +
                             ::ares_strerror(status));
  }
  if (!nameServers.empty()) {
    std::vector<ares_addr_port_node> nodes(nameServers.size());
    for (std::size_t i = 0; i < nameServers.size(); ++i) {
      const SocketAddress& s = nameServers[i];
      ares_addr_port_node& n = nodes[i];
      n.next = i + 1 < nodes.size() ? &nodes[i + 1] : nullptr;
      n.family = s.addr.any.sa_family;
      if (n.family == AF_INET6) {
        std::memcpy(&n.addr.addr6, &s.addr.v6.sin6_addr, sizeof(in6_addr));
      } else {
        n.addr.addr4 = s.addr.v4.sin_addr;
      }
      n.udp_port = n.tcp_port = s.port();
    }
    status = ::ares_set_servers_ports(channel_, nodes.data());
    if (status != ARES_SUCCESS) {
      ::ares_destroy(channel_);
      throw std::runtime_error(std::string("c-ares: cannot set the name servers: ") +
                               ::ares_strerror(status));
    }
  }
  loop_.addTimeoutList(&ticks_);
}

DnsResolver::~DnsResolver() {
  destroying_ = true;
  ::ares_destroy(channel_);  // closes its sockets (onSocketState) and drops every lookup
  if (posted_) loop_.unpost(this);
  tick_.cancel();
  loop_.removeTimeoutList(&ticks_);
}

void DnsResolver::resolve(const std::string& name, Callback done) {
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  // No RFC 6724 sorting: it costs a socket and a connect() per address, and callers treat the
  // answer as a set.
  hints.ai_flags = ARES_AI_NOSORT;
  ++inFlight_;
  auto* lookup = new Lookup{this, std::move(done)};
  ::ares_getaddrinfo(channel_, name.c_str(), nullptr, &hints, &DnsResolver::onLookupDone, lookup);
  armTick();
}

void DnsResolver::onLookupDone(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
  std::unique_ptr<Lookup> lookup(static_cast<Lookup*>(arg));
  DnsResolver& self = *lookup->owner;
  --self.inFlight_;
  if (status == ARES_EDESTRUCTION || self.destroying_) {
    if (result) ::ares_freeaddrinfo(result);
    return;
  }
  DnsAnswer answer;
  if (status == ARES_SUCCESS && result) {
    for (ares_addrinfo_node* n = result->nodes; n; n = n->ai_next) {
      if (n->ai_family != AF_INET && n->ai_family != AF_INET6) continue;
      SocketAddress a;
      std::size_t length = std::min<std::size_t>(n->ai_addrlen, sizeof(a.addr));
      std::memcpy(&a.addr, n->ai_addr, length);
      a.length = static_cast<socklen_t>(length);
      if (a.addr.any.sa_family == AF_INET6) {
        a.addr.v6.sin6_port = 0;
      } else {
        a.addr.v4.sin_port = 0;
      }
      bool seen = false;
      for (const SocketAddress& b : answer.addresses) seen = seen || sameHost(a, b);
      if (!seen) answer.addresses.push_back(a);
    }
  }
  answer.ok = status == ARES_SUCCESS && !answer.addresses.empty();
  if (!answer.ok) answer.error = ::ares_strerror(status == ARES_SUCCESS ? ARES_ENODATA : status);
  if (result) ::ares_freeaddrinfo(result);
  self.ready_.push_back(Ready{std::move(lookup->done), std::move(answer)});
  if (!self.posted_) {
    self.posted_ = true;
    self.loop_.post(&self);
  }
}

void DnsResolver::onEvents(std::uint32_t) {
  posted_ = false;
  delivering_.swap(ready_);
  for (Ready& r : delivering_) r.done(std::move(r.answer));
  delivering_.clear();
}

void DnsResolver::onSocketState(void* arg, ares_socket_t fd, int readable, int writable) {
  auto& self = *static_cast<DnsResolver*>(arg);
  Watch* watch = nullptr;
  Watch* spare = nullptr;
  for (auto& w : self.watches_) {
    if (w->fd == fd) watch = w.get();
    if (w->fd < 0 && !spare) spare = w.get();
  }
  if (!readable && !writable) {
    // c-ares is about to close it (closing removes it from epoll too; this says so early).
    if (watch) {
      if (!self.destroying_) self.loop_.remove(fd);
      watch->fd = -1;
    }
    return;
  }
  std::uint32_t events = (readable ? EPOLLIN : 0U) | (writable ? EPOLLOUT : 0U);
  if (watch) {
    self.loop_.modify(fd, events, watch);
    return;
  }
  if (!spare) {
    self.watches_.push_back(std::make_unique<Watch>());
    spare = self.watches_.back().get();
    spare->owner = &self;
  }
  spare->fd = fd;
  self.loop_.add(fd, events, spare);
}

void DnsResolver::process(ares_socket_t readFd, ares_socket_t writeFd) {
  ::ares_process_fd(channel_, readFd, writeFd);
}

void DnsResolver::onTimeout() {
  process(ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // only expires what is due
  armTick();
}

void DnsResolver::armTick() {
  if (inFlight_ > 0 && !tick_.armed()) ticks_.arm(tick_, loop_.now());
}

}  // namespace epserve::reactor
