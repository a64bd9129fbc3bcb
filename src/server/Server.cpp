// Connection ownership, accept policy and graceful shutdown: see Server.h.
#include "server/Server.h"

#include <spdlog/spdlog.h>

#include "server/ReplyWriter.h"

namespace epserve::server {

Server::Server(reactor::EventLoop& loop, const Config& config, fs::Resolver resolver,
               reactor::Fd listener)
    : ctx_(loop, config, std::move(resolver)),
      busyHeaders_(config.extraHeaders + "Retry-After: 1\r\n"),
      shutdownTimeout_(config.shutdownGraceSec * 1000LL),
      shutdownTimer_(this),
      delayTimeout_(config.shutdownDelayMs),
      shutdownRequest_(loop, [this] { beginShutdown(); }),
      drainRequest_(loop, [this] { beginDrain(); }) {
  loop.addTimeoutList(&shutdownTimeout_);
  loop.addTimeoutList(&delayTimeout_);
  acceptor_ = std::make_unique<reactor::Acceptor>(
      loop, std::move(listener),
      [this](reactor::Fd fd, const reactor::SocketAddress& peer) { accept(std::move(fd), peer); });
}

Server::~Server() {
  ctx_.loop.removeTimeoutList(&shutdownTimeout_);
  ctx_.loop.removeTimeoutList(&delayTimeout_);
}

void Server::run() { ctx_.loop.run(); }

void Server::accept(reactor::Fd fd, const reactor::SocketAddress& peer) {
  if (open_.size() >= ctx_.config.maxConnections) {
    refuse(fd.get(), peer);
    return;
  }
  Connection* c;
  if (free_.empty()) {
    ConnectionOwner& owner = *this;
    all_.push_back(std::make_unique<Connection>(ctx_, owner));
    c = all_.back().get();
  } else {
    c = free_.back();
    free_.pop_back();
  }
  c->ownerIndex = open_.size();
  open_.push_back(c);
  if (spdlog::should_log(spdlog::level::debug)) {
    spdlog::debug("{}: connected", peer.toString());
  }
  c->open(std::move(fd), peer);
}

// Over --max-connections: a 503 from the same error-page path as every other status, sent
// best effort (a new connection's socket buffer always takes these few hundred bytes), then
// the socket closes with the caller's Fd.
void Server::refuse(int fd, const reactor::SocketAddress& peer) {
  Reply& reply = ctx_.scratchReply();
  reply.reset();
  RequestHandler::error(http::Status::ServiceUnavailable, true, reply);
  reactor::OutputQueue out(ctx_.buffers);
  writeReply(out, reply, nullptr, ctx_.date(), busyHeaders_);
  out.flush(fd);
  out.clear();
  spdlog::debug("{}: refused, {} connections open", peer.toString(), open_.size());
}

void Server::connectionClosed(Connection* c) {
  // Swap-remove from the open list; the object itself is reused only after this iteration,
  // since events for it may still be queued in the current one.
  std::size_t i = c->ownerIndex;
  open_[i] = open_.back();
  open_[i]->ownerIndex = i;
  open_.pop_back();
  ctx_.loop.defer([this, c] { free_.push_back(c); });
  if (shuttingDown_ && open_.empty()) ctx_.loop.stop();
}

void Server::beginDrain() {
  if (shuttingDown_) return;
  if (delaying_ || ctx_.config.shutdownDelayMs == 0) {
    beginShutdown();
    return;
  }
  delaying_ = true;
  ctx_.draining = true;
  spdlog::info("draining: the health path answers 503; shutting down in {} ms",
               ctx_.config.shutdownDelayMs);
  delayTimeout_.arm(shutdownTimer_, ctx_.loop.now());
}

void Server::beginShutdown() {
  if (shuttingDown_) return;
  shuttingDown_ = true;
  delaying_ = false;
  shutdownTimer_.cancel();  // the delay, if it was running
  ctx_.shuttingDown = true;
  acceptor_->close();
  spdlog::info("stopped accepting; {} connection(s) open", open_.size());
  for (Connection* c : std::vector<Connection*>(open_)) c->beginShutdown();
  if (open_.empty()) {
    ctx_.loop.stop();
    return;
  }
  shutdownTimeout_.arm(shutdownTimer_, ctx_.loop.now());
}

void Server::onTimeout() {
  if (delaying_) {
    beginShutdown();  // the delay is over
    return;
  }
  spdlog::warn("shutdown grace period over: closing {} connection(s)", open_.size());
  for (Connection* c : std::vector<Connection*>(open_)) c->forceClose();
  ctx_.loop.stop();
}

}  // namespace epserve::server
