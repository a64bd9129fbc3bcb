// The per-server idle pool: see ConnectionPool.h.
#include "proxy/ConnectionPool.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace epserve::proxy {

namespace {

// True when nothing is waiting on the socket: an idle upstream connection that has bytes or
// an EOF pending is being closed by the upstream (or is out of step) and must not be reused.
bool quiet(int fd) {
  char b;
  ssize_t n = ::recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

// The gauge is left alone: a pool goes either after close() (nothing idle) or with its
// Upstream, which owns the gauge.
ConnectionPool::~ConnectionPool() {
  for (auto& c : idle_) c->close();
}

void ConnectionPool::report() {
  if (!idleGauge_) return;
  idleGauge_->add(static_cast<std::int64_t>(idle_.size()) - static_cast<std::int64_t>(reported_));
  reported_ = idle_.size();
}

void ConnectionPool::put(std::unique_ptr<UpstreamConnection> c) {
  if (closed_) {
    retire(*loop_, std::move(c));
    return;
  }
  if (idle_.size() >= kMaxIdle) {
    retire(*loop_, std::move(idle_.front()));
    idle_.erase(idle_.begin());
  }
  // Bytes already waiting (more than the response announced) are found by take()'s check.
  c->setUser(this);
  idleTimeouts_->arm(c->timer(), loop_->now());
  c->stream().releaseIdleBuffers();
  idle_.push_back(std::move(c));
  report();
}

void ConnectionPool::close() {
  closed_ = true;
  for (auto& c : idle_) retire(*loop_, std::move(c));
  idle_.clear();
  report();
}

std::unique_ptr<UpstreamConnection> ConnectionPool::take() {
  while (!idle_.empty()) {
    std::unique_ptr<UpstreamConnection> c = std::move(idle_.back());
    idle_.pop_back();
    c->timer().cancel();
    c->setUser(nullptr);
    // An EOF not yet dispatched, or bytes left after the last response: either way the
    // connection is out of step with the upstream.
    if (!quiet(c->stream().fd())) {
      retire(*loop_, std::move(c));
      continue;
    }
    report();
    return c;
  }
  report();
  return nullptr;
}

void ConnectionPool::onUpstreamEvents(UpstreamConnection& c) {
  if (!quiet(c.stream().fd())) drop(c);
}

void ConnectionPool::drop(UpstreamConnection& c) {
  auto it = std::find_if(idle_.begin(), idle_.end(), [&](const auto& p) { return p.get() == &c; });
  if (it == idle_.end()) return;
  std::unique_ptr<UpstreamConnection> owned = std::move(*it);
  idle_.erase(it);
  report();
  retire(*loop_, std::move(owned));
}

void ConnectionPool::retire(reactor::EventLoop& loop, std::unique_ptr<UpstreamConnection> c) {
  if (!c) return;
  c->close();
  // std::function needs a copyable callable: hand the pointer over raw, re-own it when run.
  UpstreamConnection* raw = c.release();
  loop.defer([raw] { delete raw; });
}

}  // namespace epserve::proxy
