// The upgraded connection's byte relay: see Tunnel.h.
#include "proxy/Tunnel.h"

#include <spdlog/spdlog.h>

#include "proxy/ConnectionPool.h"

namespace epserve::proxy {

using reactor::OutputQueue;
using reactor::Stream;

namespace {

// Reads per direction per wake-up before the tunnel yields to other connections (it resumes in
// the next iteration by a post): a fast pair of peers cannot hold the loop.
constexpr int kMaxReadRounds = 8;

}  // namespace

Tunnel::Tunnel(reactor::EventLoop& loop, reactor::TimeoutList& idleTimeouts, TunnelOwner& owner)
    : loop_(loop), idleTimeouts_(idleTimeouts), owner_(owner) {}

Tunnel::~Tunnel() { close(); }

void Tunnel::start(Stream& client, std::unique_ptr<UpstreamConnection> upstream) {
  upstream_ = std::move(upstream);
  upstream_->setUser(this);
  Stream& server = upstream_->stream();
  // Both streams may have been paused for back-pressure while the head was relayed.
  client.resumeReading();
  server.resumeReading();
  up_ = Direction{&client, &server, 0, false};
  down_ = Direction{&server, &client, 0, false};
  idleTimeouts_.arm(upstream_->timer(), loop_.now());
}

bool Tunnel::drive() {
  if (!upstream_) return false;
  bool moved = false;
  bool capped = false;
  // Downstream first: the upstream's bytes after its 101 are what a client waits for.
  if (!pump(down_, moved, capped) || !pump(up_, moved, capped)) {
    spdlog::debug("tunnel: a side failed after {} bytes up, {} down", up_.bytes, down_.bytes);
    return false;
  }
  if (up_.finished && down_.finished) return false;
  if (moved) idleTimeouts_.arm(upstream_->timer(), loop_.now());  // traffic either way
  if (capped) upstream_->post();  // either side: one drive() serves both
  up_.from->releaseIdleBuffers();
  down_.from->releaseIdleBuffers();
  return true;
}

bool Tunnel::pump(Direction& d, bool& moved, bool& capped) {
  Stream& from = *d.from;
  Stream& to = *d.to;
  OutputQueue& out = to.output();
  reactor::Buffer& early = from.input();  // read before the switch, behind either head
  if (!early.empty()) {
    out.append(early.view());
    d.bytes += early.size();
    early.clear();
    moved = true;
  }
  for (int rounds = 0;; ++rounds) {
    if (to.wantsWrite() && to.flush() == OutputQueue::FlushResult::Failed) return false;
    if (out.takeProgress()) moved = true;  // a slow reader taking bytes is traffic too
    // Back-pressure: `to`'s EPOLLOUT drives us again once it has taken some.
    const std::uint64_t pending = out.pendingBytes();
    if (pending >= kHighWater || !from.wantsRead()) break;
    if (rounds == kMaxReadRounds) {
      capped = true;
      break;
    }
    // Straight into `to`'s queue, never more than fits below the mark: one pool block.
    const auto room = static_cast<std::size_t>(kHighWater - pending);
    std::size_t got = 0;
    Stream::ReadResult r = from.readInto(out.reserve(room), room, got);
    out.commit(got);
    d.bytes += got;
    if (got > 0) moved = true;
    if (r == Stream::ReadResult::Failed) return false;  // a reset
  }
  // Half-close passes through: once all `from` sent is delivered, `to` gets a FIN.
  if (!d.finished && from.eof() && out.empty()) {
    to.shutdownWrite();
    d.finished = true;
  }
  return true;
}

void Tunnel::onUpstreamEvents(UpstreamConnection&) {
  if (!drive()) owner_.tunnelEnded();
}

void Tunnel::onUpstreamTimeout(UpstreamConnection&) {
  spdlog::debug("tunnel: idle for --tunnel-idle-timeout after {} bytes up, {} down", up_.bytes,
                down_.bytes);
  owner_.tunnelEnded();
}

void Tunnel::close() {
  if (!upstream_) return;
  ConnectionPool::retire(loop_, std::move(upstream_));
}

}  // namespace epserve::proxy
