// The HTTP server on one event loop: accepts connections, owns them (pooled) and the loop's
// shared context, refuses clients over the limit, and shuts down gracefully on SIGINT/SIGTERM.
#pragma once

#include <memory>
#include <mutex>
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
  // SIGHUP: `next` (validated) becomes the settings of new requests. `listener`, when open,
  // replaces the listening socket (opened before the old one closes; connections accepted on
  // the old one carry on). Loop thread only.
  // False (with an error line) when it could not be applied: the running settings stay.
  bool reload(std::shared_ptr<const Config> next, reactor::Fd listener);
  // reload() from another thread (the main thread of --workers N): handed over via a wakeup.
  void requestReload(std::shared_ptr<const Config> next, reactor::Fd listener);

  // Metrics: where this loop's figures are (for Metrics::add), and serving `metrics` on
  // `listener` (bound, listening) from this loop, at most kMaxMetricsConnections at a time.
  static constexpr std::size_t kMaxMetricsConnections = 8;
  const Metrics::Published& publishedMetrics() const;
  void serveMetrics(reactor::Fd listener, const Metrics& metrics);
  // Reopens this loop's access log by its name (SIGUSR1, after logrotate). Loop thread only.
  void reopenLogs() { ctx_.accessLog.reopen(); }
  // reopenLogs() from any thread: wakes the loop to do it.
  void requestLogReopen() { reopenRequest_.notify(); }
  // SIGTERM: with --shutdown-delay, keeps serving (and accepting) that long while the health
  // path answers 503, then beginShutdown(); at once without a delay, or when the delay is
  // already running (a second SIGTERM cuts it short). Loop thread only.
  void beginDrain();
  // beginDrain() from any thread.
  void requestDrain() { drainRequest_.notify(); }

 private:
  // An acceptor whose connections are the site's (served by accept()).
  std::unique_ptr<reactor::Acceptor> siteAcceptor(reactor::Fd listener,
                                                 reactor::Acceptor::Sharing sharing);
  void accept(reactor::Fd fd, const reactor::SocketAddress& peer,
              Connection::Purpose purpose = Connection::Purpose::Site);
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
  std::unique_ptr<reactor::Acceptor> metricsAcceptor_;  // null unless serveMetrics()
  std::size_t metricsOpen_ = 0;                         // of open_, metrics connections
  std::vector<std::unique_ptr<reactor::Acceptor>> moreAcceptors_;  // 2nd.. inherited socket
  reactor::Wakeup shutdownRequest_;
  std::mutex reloadMutex_;  // guards the two pending values between requestReload and the loop
  std::shared_ptr<const Config> pendingConfig_;
  reactor::Fd pendingListener_;
  reactor::Wakeup reloadRequest_;
  reactor::Wakeup reopenRequest_;
  reactor::Wakeup drainRequest_;
};

}  // namespace epserve::server
