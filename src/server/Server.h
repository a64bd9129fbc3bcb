// The HTTP server on one event loop: accepts connections, owns them (pooled) and the loop's
// shared context, refuses clients over the limit, and shuts down gracefully on SIGINT/SIGTERM.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fs/Resolver.h"
#include "reactor/Acceptor.h"
#include "reactor/EventLoop.h"
#include "reactor/TimeoutList.h"
#include "reactor/Wakeup.h"
#include "server/Config.h"
#include "server/Connection.h"
#include "server/LoopContext.h"

namespace epserve::server {

class Server final : private reactor::TimeoutHandler, private ConnectionOwner {
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
  // SIGTERM: with --shutdown-delay, keeps serving (and accepting) that long while the health
  // path answers 503, then beginShutdown(); at once without a delay, or when the delay is
  // already running (a second SIGTERM cuts it short). Loop thread only.
  void beginDrain();
  // beginDrain() from any thread.
  void requestDrain() { drainRequest_.notify(); }

 private:
  void accept(reactor::Fd fd, const reactor::SocketAddress& peer);
  void refuse(int fd, const reactor::SocketAddress& peer);
  // A closed connection is recycled once this loop iteration is over.
  void connectionClosed(Connection* c) override;
  void onTimeout() override;  // the shutdown grace period ran out

  LoopContext ctx_;
  std::string busyHeaders_;  // the extra headers of a 503 at capacity (with Retry-After)

  reactor::TimeoutList shutdownTimeout_;
  reactor::Timer shutdownTimer_;

  std::vector<std::unique_ptr<Connection>> all_;  // every Connection ever made (pool)
  std::vector<Connection*> free_;                 // ready for reuse
  std::vector<Connection*> open_;                 // open now (Connection::ownerIndex)
  bool shuttingDown_ = false;
  reactor::TimeoutList delayTimeout_;  // --shutdown-delay; shutdownTimer_ waits on it first
  bool delaying_ = false;

  std::unique_ptr<reactor::Acceptor> acceptor_;
  reactor::Wakeup shutdownRequest_;
  reactor::Wakeup drainRequest_;
};

}  // namespace epserve::server
