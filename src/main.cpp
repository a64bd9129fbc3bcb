// epserve: a static-file HTTP/1.1 server on one epoll loop per worker (one by default).
// Parses the command line, opens the logs, the document root and the listening sockets, then
// runs the server until SIGINT/SIGTERM (SIGUSR1 reopens the log files).
#include <fcntl.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <system_error>
#include <thread>
#include <vector>

#include "fs/Resolver.h"
#include "reactor/EventLoop.h"
#include "reactor/Listener.h"
#include "reactor/SignalWatcher.h"
#include "server/Config.h"
#include "server/ErrorLog.h"
#include "server/LogFile.h"
#include "server/Server.h"

using namespace epserve;

namespace {

// Every connection and every cached file holds a descriptor; the usual soft limit of 1024 is
// far below --max-connections, so take what the hard limit allows.
void raiseDescriptorLimit(const server::Config& config) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
    ::getrlimit(RLIMIT_NOFILE, &lim);
  }
  if (lim.rlim_cur < config.maxConnections + 64) {
    spdlog::warn("descriptor limit {} is below --max-connections {}: connections beyond it are "
                 "shed", lim.rlim_cur, config.maxConnections);
  }
}

const char* signalName(int sig) { return sig == SIGINT ? "SIGINT" : "SIGTERM"; }

// SIGUSR1, logrotate's postrotate: the error log now, each worker's access log in its own loop
// (a line buffered there goes whole to the old file or the new one).
void reopenLogs(const std::vector<server::Server*>& servers, bool sameThread) {
  server::reopenErrorLog();
  for (server::Server* s : servers) {
    if (sameThread) {
      s->reopenLogs();
    } else {
      s->requestLogReopen();
    }
  }
  spdlog::info("received SIGUSR1, reopening the log files");
}

// One worker: the server and the signal watcher share the main thread's loop.
void runSingle(const server::Config& config, reactor::Fd root, reactor::Fd listener) {
  reactor::EventLoop loop;
  server::Server server(loop, config, fs::Resolver(std::move(root), config.indexName),
                        std::move(listener));
  reactor::SignalWatcher signals(loop, [&server](int sig) {
    if (sig == SIGUSR1) {
      reopenLogs({&server}, true);
      return;
    }
    spdlog::info("received {}, shutting down", signalName(sig));
    server.beginShutdown();
  });
  server.run();
}

// N workers: each thread runs its own loop, server, listener and file cache; the main thread
// only waits for a signal and asks every worker to drain.
void runWorkers(const server::Config& config, reactor::Fd root,
                std::vector<reactor::Fd> listeners) {
  sigset_t set;
  ::sigemptyset(&set);
  ::sigaddset(&set, SIGINT);
  ::sigaddset(&set, SIGTERM);
  ::sigaddset(&set, SIGUSR1);
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);  // inherited by the workers
  ::signal(SIGPIPE, SIG_IGN);

  std::vector<std::unique_ptr<reactor::EventLoop>> loops;
  std::vector<std::unique_ptr<server::Server>> servers;
  for (auto& listener : listeners) {
    reactor::Fd workerRoot(::fcntl(root.get(), F_DUPFD_CLOEXEC, 0));
    if (!workerRoot) throw std::system_error(errno, std::generic_category(), "dup root");
    loops.push_back(std::make_unique<reactor::EventLoop>());
    servers.push_back(std::make_unique<server::Server>(
        *loops.back(), config, fs::Resolver(std::move(workerRoot), config.indexName),
        std::move(listener)));
  }
  std::vector<std::thread> threads;
  for (auto& s : servers) threads.emplace_back([&s] { s->run(); });

  std::vector<server::Server*> all;
  for (auto& s : servers) all.push_back(s.get());
  int sig = 0;
  while (::sigwait(&set, &sig) == 0 && sig == SIGUSR1) reopenLogs(all, false);
  spdlog::info("received {}, shutting down {} workers", signalName(sig), servers.size());
  for (auto& s : servers) s->requestShutdown();
  for (auto& t : threads) t.join();
}

}  // namespace

int main(int argc, char** argv) {
  server::CommandLine cl = server::parseCommandLine(argc, argv);
  if (!cl.config) return cl.exitCode;
  const server::Config& config = *cl.config;
  // SIGUSR1's default action ends the process: a logrotate that runs while epserve starts must
  // not, so it waits (blocked, pending) until the signal watcher or sigwait takes it.
  sigset_t usr1;
  ::sigemptyset(&usr1);
  ::sigaddset(&usr1, SIGUSR1);
  ::pthread_sigmask(SIG_BLOCK, &usr1, nullptr);
  try {
    // A log file that cannot be opened is a start-up failure like a port that cannot be bound.
    server::configureErrorLog(config);
    // Each worker opens the access log for itself; this first open stops a bad path before
    // anything says "listening".
    if (config.accessLog) {
      const server::LogFile probe(config.accessLogPath, STDOUT_FILENO, "access log");
    }
    raiseDescriptorLimit(config);
    reactor::Fd root = fs::Resolver::openRoot(config.root);
    reactor::SocketAddress address;
    reactor::SocketAddress::parse(config.address, config.port, address);
    const bool shared = config.workers > 1;
    std::vector<reactor::Fd> listeners;
    listeners.push_back(reactor::listenTcp(address, 4096, shared, config.notSentLowat));
    // With --port 0 the later workers must join the port the first one was given.
    reactor::SocketAddress bound = reactor::SocketAddress::local(listeners.front().get());
    for (std::uint32_t i = 1; i < config.workers; ++i) {
      listeners.push_back(reactor::listenTcp(bound, 4096, true, config.notSentLowat));
    }
    spdlog::info("epserve {} listening on {} (root {}, index {}, 404 page {}, {} worker{})",
                 EPSERVE_VERSION, bound.toString(), config.root, config.indexName,
                 config.notFoundPage, config.workers, config.workers > 1 ? "s" : "");
    for (const auto& r : config.staticRoutes) spdlog::info("static {} -> {}", r.prefix, r.dir);
    for (const auto& r : config.proxyRoutes) {
      std::string urls;
      for (const auto& u : r.upstreams) urls += (urls.empty() ? "" : ", ") + u.text;
      spdlog::info("proxy {} -> {}", r.prefix, urls);
    }
    if (shared) {
      runWorkers(config, std::move(root), std::move(listeners));
    } else {
      runSingle(config, std::move(root), std::move(listeners.front()));
    }
    spdlog::info("shut down cleanly");
    return 0;
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "epserve: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "epserve: %s\n", e.what());
    return 1;
  }
}
