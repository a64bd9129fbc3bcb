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
  // Several listeners (socket activation: every socket systemd passed in, non-empty), each
  // `sharing` the same way: Shared when other loops watch the same sockets (--workers N).
  Server(reactor::EventLoop& loop, const Config& config, fs::Resolver resolver,
         std::vector<reactor::Fd> listeners, reactor::Acceptor::Sharing sharing);
  ~Server();

  // Runs the loop until a graceful shutdown completes.
  void run();
  // Stops accepting, lets responses in flight finish (up to config.shutdownGraceSec).
  // Loop thread only.
  void beginShutdown();
  // beginShutdown() from any thread (or a signal handler): wakes the loop to do it.
  void requestShutdown() { shutdownRequest_.notify(); }

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

  std::unique_ptr<reactor::Acceptor> acceptor_;
  std::vector<std::unique_ptr<reactor::Acceptor>> moreAcceptors_;  // 2nd.. inherited socket
  reactor::Wakeup shutdownRequest_;
};

}  // namespace epserve::server
