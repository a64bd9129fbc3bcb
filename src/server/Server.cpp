// Connection ownership, accept policy and graceful shutdown: see Server.h.
#include "server/Server.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>

#include "server/ReplyWriter.h"

namespace epserve::server {

namespace {
std::vector<reactor::Fd> oneListener(reactor::Fd listener) {
  std::vector<reactor::Fd> listeners;
  listeners.push_back(std::move(listener));
  return listeners;
}
}  // namespace

Server::Server(reactor::EventLoop& loop, const Config& config, fs::Resolver resolver,
               reactor::Fd listener)
    : Server(loop, config, std::move(resolver), oneListener(std::move(listener)),
             reactor::Acceptor::Sharing::Own) {}

Server::Server(reactor::EventLoop& loop, const Config& config, fs::Resolver resolver,
               std::vector<reactor::Fd> listeners, reactor::Acceptor::Sharing sharing)
    : ctx_(loop, config, std::move(resolver)),
      busyHeaders_(config.extraHeaders + "Retry-After: 1\r\n"),
      shutdownTimeout_(config.shutdownGraceSec * 1000LL),
      shutdownTimer_(this),
      delayTimeout_(config.shutdownDelayMs),
      shutdownRequest_(loop, [this] { beginShutdown(); }),
      reloadRequest_(loop, [this] {
        std::shared_ptr<const Config> next;
        reactor::Fd newListener;
        {
          std::lock_guard<std::mutex> lock(reloadMutex_);
          next = std::move(pendingConfig_);
          newListener = std::move(pendingListener_);
        }
        if (next) reload(std::move(next), std::move(newListener));
      }),
      reopenRequest_(loop, [this] { reopenLogs(); }),
      drainRequest_(loop, [this] { beginDrain(); }) {
  loop.addTimeoutList(&shutdownTimeout_);
  loop.addTimeoutList(&delayTimeout_);
  acceptor_ = siteAcceptor(std::move(listeners.at(0)), sharing);
  for (std::size_t i = 1; i < listeners.size(); ++i) {
    moreAcceptors_.push_back(siteAcceptor(std::move(listeners[i]), sharing));
  }
  ctx_.setShedCounter(&acceptor_->shed());
}

Server::~Server() {
  ctx_.loop.removeTimeoutList(&shutdownTimeout_);
  ctx_.loop.removeTimeoutList(&delayTimeout_);
}

void Server::run() { ctx_.loop.run(); }

std::unique_ptr<reactor::Acceptor> Server::siteAcceptor(reactor::Fd listener,
                                                       reactor::Acceptor::Sharing sharing) {
  return std::make_unique<reactor::Acceptor>(
      ctx_.loop, std::move(listener),
      [this](reactor::Fd fd, const reactor::SocketAddress& peer) { accept(std::move(fd), peer); },
      sharing);
}

const Metrics::Published& Server::publishedMetrics() const { return ctx_.publishedMetrics(); }

void Server::serveMetrics(reactor::Fd listener, const Metrics& metrics) {
  ctx_.metricsPage = &metrics;
  metricsAcceptor_ = std::make_unique<reactor::Acceptor>(
      ctx_.loop, std::move(listener), [this](reactor::Fd fd, const reactor::SocketAddress& peer) {
        accept(std::move(fd), peer, Connection::Purpose::Metrics);
      });
}

void Server::accept(reactor::Fd fd, const reactor::SocketAddress& peer,
                    Connection::Purpose purpose) {
  const bool site = purpose == Connection::Purpose::Site;
  // The site's limit counts only its own connections; the metrics listener has its own.
  if (site ? open_.size() - metricsOpen_ >= ctx_.config.maxConnections
           : metricsOpen_ >= kMaxMetricsConnections) {
    if (site) ctx_.stats.refusedAtLimit.add();
    refuse(fd.get(), peer);
    return;
  }
  if (site) {
    ctx_.stats.accepted.add();
    ctx_.stats.open.add(1);
  } else {
    ++metricsOpen_;
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
  c->open(std::move(fd), peer, purpose);
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
  if (c->purpose() == Connection::Purpose::Site) {
    ctx_.stats.open.add(-1);
  } else {
    --metricsOpen_;
  }
  ctx_.loop.defer([this, c] {
    c->settle();
    free_.push_back(c);
  });
  if (shuttingDown_ && open_.empty()) ctx_.loop.stop();
}

void Server::requestReload(std::shared_ptr<const Config> next, reactor::Fd listener) {
  {
    std::lock_guard<std::mutex> lock(reloadMutex_);
    pendingConfig_ = std::move(next);
    pendingListener_ = std::move(listener);
  }
  reloadRequest_.notify();
}

bool Server::reload(std::shared_ptr<const Config> next, reactor::Fd listener) {
  if (shuttingDown_ || !ctx_.reload(std::move(next))) return false;
  busyHeaders_ = ctx_.config.extraHeaders + "Retry-After: 1\r\n";
  for (Connection* c : free_) c->settle();
  if (listener) {
    acceptor_->onEvents(EPOLLIN);  // what the old listener has queued is accepted, not reset
    auto acceptor = siteAcceptor(std::move(listener), reactor::Acceptor::Sharing::Own);
    // The metrics page must stop reading the old acceptor's count before it goes (it restarts
    // from 0 with the new listener).
    ctx_.setShedCounter(&acceptor->shed());
    acceptor_ = std::move(acceptor);
  }
  return true;
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
  if (metricsAcceptor_) metricsAcceptor_->close();
  for (auto& a : moreAcceptors_) a->close();
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
