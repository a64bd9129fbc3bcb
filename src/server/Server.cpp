// Connection ownership, accept policy and graceful shutdown: see Server.h.
#include "server/Server.h"

#include <sys/socket.h>

#include <spdlog/spdlog.h>


namespace epserve::server {

namespace {

constexpr reactor::Millis kLingerMillis = 2000;
// The open-file cache: how many files stay open, which are served from memory, and how often
// an entry is rechecked on disk even when inotify reported nothing.
constexpr std::size_t kCachedFiles = 1024;
constexpr std::size_t kInlineFileLimit = 16 * 1024;
constexpr reactor::Millis kRevalidateMillis = 1000;

// Sent to connections over --max-connections before closing them.
constexpr std::string_view kBusyResponse =
    "HTTP/1.1 503 Service Unavailable\r\nServer: epserve/" EPSERVE_VERSION
    "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 20\r\n"
    "Retry-After: 1\r\nConnection: close\r\n\r\nserver at capacity.\n";

}  // namespace

Server::Server(reactor::EventLoop& loop, const Config& config, fs::Resolver resolver,
               reactor::Fd listener)
    : loop_(loop),
      config_(config),
      resolver_(std::move(resolver)),
      watcher_(config.root),
      files_(resolver_, kCachedFiles, kInlineFileLimit, kRevalidateMillis,
             watcher_.available() ? &watcher_ : nullptr),
      handler_(config_, files_, resolver_),
      accessLog_(config.accessLog),
      request_(std::make_unique<http::Request>()),
      headerTimeouts_(config.headerTimeoutSec * 1000LL),
      keepAliveTimeouts_(config.keepAliveTimeoutSec * 1000LL),
      sendTimeouts_(config.sendTimeoutSec * 1000LL),
      lingerTimeouts_(kLingerMillis),
      shutdownTimeout_(config.shutdownGraceSec * 1000LL),
      shutdownTimer_(this),
      shutdownRequest_(loop, [this] { beginShutdown(); }) {
  loop_.addTimeoutList(&headerTimeouts_);
  loop_.addTimeoutList(&keepAliveTimeouts_);
  loop_.addTimeoutList(&sendTimeouts_);
  loop_.addTimeoutList(&lingerTimeouts_);
  loop_.addTimeoutList(&shutdownTimeout_);
  loop_.setBeforeSleep([this] { beforeSleep(); });
  if (watcher_.available()) {
    loop_.add(watcher_.fd(), EPOLLIN, this);
    // Change events are handled before the requests that arrive with them.
    loop_.setPriorityHandler(this);
  }
  acceptor_ = std::make_unique<reactor::Acceptor>(
      loop_, std::move(listener),
      [this](reactor::Fd fd, const reactor::SocketAddress& peer) { accept(std::move(fd), peer); });
}

Server::~Server() { accessLog_.flush(); }

void Server::run() { loop_.run(); }

void Server::accept(reactor::Fd fd, const reactor::SocketAddress& peer) {
  if (open_.size() >= config_.maxConnections) {
    // Best effort: the socket buffer of a new connection always takes these few bytes.
    ::send(fd.get(), kBusyResponse.data(), kBusyResponse.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    spdlog::debug("{}: refused, {} connections open", peer.toString(), open_.size());
    return;
  }
  Connection* c;
  if (free_.empty()) {
    all_.push_back(std::make_unique<Connection>(*this));
    c = all_.back().get();
  } else {
    c = free_.back();
    free_.pop_back();
  }
  c->serverIndex = open_.size();
  open_.push_back(c);
  if (spdlog::should_log(spdlog::level::debug)) {
    spdlog::debug("{}: connected", peer.toString());
  }
  c->open(std::move(fd), peer);
}

void Server::connectionClosed(Connection* c) {
  // Swap-remove from the open list; the object itself is reused only after this iteration,
  // since events for it may still be queued in the current one.
  std::size_t i = c->serverIndex;
  open_[i] = open_.back();
  open_[i]->serverIndex = i;
  open_.pop_back();
  closing_.push_back(c);
  if (shuttingDown_ && open_.empty()) loop_.stop();
}

void Server::beforeSleep() {
  for (Connection* c : closing_) free_.push_back(c);
  closing_.clear();
  accessLog_.flush();
}

void Server::beginShutdown() {
  if (shuttingDown_) return;
  shuttingDown_ = true;
  acceptor_->close();
  spdlog::info("stopped accepting; {} connection(s) open", open_.size());
  for (Connection* c : std::vector<Connection*>(open_)) c->beginShutdown();
  if (open_.empty()) {
    loop_.stop();
    return;
  }
  shutdownTimeout_.arm(shutdownTimer_, loop_.now());
}

void Server::onEvents(std::uint32_t) { files_.processChanges(); }

void Server::onTimeout() {
  spdlog::warn("shutdown grace period over: closing {} connection(s)", open_.size());
  for (Connection* c : std::vector<Connection*>(open_)) c->forceClose();
  loop_.stop();
}

}  // namespace epserve::server
