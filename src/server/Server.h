// The HTTP server on one event loop: accepts connections, owns them (pooled), their timer
// lists and the shared per-loop state, and shuts down gracefully on SIGINT/SIGTERM.
#pragma once

#include <memory>
#include <vector>

#include "fs/DirectoryWatcher.h"
#include "fs/FileCache.h"
#include "fs/Resolver.h"
#include "http/HttpDate.h"
#include "http/Request.h"
#include "http/RequestParser.h"
#include "reactor/Acceptor.h"
#include "reactor/Buffer.h"
#include "reactor/EventLoop.h"
#include "reactor/Wakeup.h"
#include "reactor/TimeoutList.h"
#include "server/AccessLog.h"
#include "server/Config.h"
#include "server/Connection.h"
#include "server/Reply.h"
#include "server/RequestHandler.h"

namespace epserve::server {

class Server final : public reactor::TimeoutHandler, public reactor::IoHandler {
 public:
  // `listener` is bound and listening; `resolver` is rooted at the document root.
  Server(reactor::EventLoop& loop, const Config& config, fs::Resolver resolver,
         reactor::Fd listener);
  ~Server();

  // Runs the loop until a graceful shutdown completes.
  void run();
  // Stops accepting, lets responses in flight finish (up to config.shutdownGraceSec).
  // Loop thread only.
  void beginShutdown();
  // beginShutdown() from any thread (or a signal handler): wakes the loop to do it.
  void requestShutdown() { shutdownRequest_.notify(); }

  // Shared with the connections (all single-threaded, one loop).
  reactor::EventLoop& loop() { return loop_; }
  const Config& config() const { return config_; }
  reactor::BufferPool& buffers() { return buffers_; }
  const http::ParseLimits& parseLimits() const { return limits_; }
  http::Request& scratchRequest() { return *request_; }
  Reply& scratchReply() { return reply_; }
  RequestHandler& handler() { return handler_; }
  AccessLog& accessLog() { return accessLog_; }
  std::string_view date() { return dates_.get(loop_.wallSeconds()); }
  reactor::TimeoutList& headerTimeouts() { return headerTimeouts_; }
  reactor::TimeoutList& keepAliveTimeouts() { return keepAliveTimeouts_; }
  reactor::TimeoutList& sendTimeouts() { return sendTimeouts_; }
  reactor::TimeoutList& lingerTimeouts() { return lingerTimeouts_; }

  // Called by a connection as it closes; it is recycled after the current loop iteration.
  void connectionClosed(Connection* c);

  void onTimeout() override;  // the shutdown grace period ran out
  void onEvents(std::uint32_t events) override;  // files changed beneath the root

 private:
  void accept(reactor::Fd fd, const reactor::SocketAddress& peer);
  void beforeSleep();

  reactor::EventLoop& loop_;
  const Config& config_;
  fs::Resolver resolver_;
  fs::DirectoryWatcher watcher_;
  fs::FileCache files_;
  RequestHandler handler_;
  AccessLog accessLog_;
  reactor::BufferPool buffers_;
  http::ParseLimits limits_;
  std::unique_ptr<http::Request> request_;  // ~3 KiB of header views, reused per request
  Reply reply_;
  http::DateCache dates_;

  reactor::TimeoutList headerTimeouts_;
  reactor::TimeoutList keepAliveTimeouts_;
  reactor::TimeoutList sendTimeouts_;
  reactor::TimeoutList lingerTimeouts_;
  reactor::TimeoutList shutdownTimeout_;
  reactor::Timer shutdownTimer_;

  std::vector<std::unique_ptr<Connection>> all_;  // every Connection ever made (pool)
  std::vector<Connection*> free_;                 // ready for reuse
  std::vector<Connection*> open_;                 // open now (Connection::serverIndex)
  std::vector<Connection*> closing_;              // closed this iteration, freed before sleep
  bool shuttingDown_ = false;

  std::unique_ptr<reactor::Acceptor> acceptor_;
  reactor::Wakeup shutdownRequest_;
};

}  // namespace epserve::server
