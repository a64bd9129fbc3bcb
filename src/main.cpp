// epserve: a static-file HTTP/1.1 server on one epoll loop per worker (one by default).
// Parses the command line, opens the document root and the listening sockets, then runs the
// server until SIGINT/SIGTERM.
#include <fcntl.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <atomic>
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
#include "reactor/Wakeup.h"
#include "server/Config.h"
#include "server/Server.h"

using namespace epserve;

namespace {

void setUpLogging(spdlog::level::level_enum level) {
  auto logger = spdlog::stderr_logger_mt("epserve");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e [%l] %v");
  logger->set_level(level);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

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

// SIGTERM (docker stop, Kubernetes) drains: --shutdown-delay first, then the graceful shutdown.
// SIGINT (Ctrl-C at a terminal) skips the delay and shuts down gracefully at once.
bool skipsDelay(int sig) { return sig == SIGINT; }

// One worker: the server and the signal watcher share the main thread's loop.
void runSingle(const server::Config& config, reactor::Fd root, reactor::Fd listener) {
  reactor::EventLoop loop;
  server::Server server(loop, config, fs::Resolver(std::move(root), config.indexName),
                        std::move(listener));
  reactor::SignalWatcher signals(loop, [&server](int sig) {
    spdlog::info("received {}, shutting down", signalName(sig));
    if (skipsDelay(sig)) {
      server.beginShutdown();
    } else {
      server.beginDrain();
    }
  });
  server.run();
}

// N workers: each thread runs its own loop, server, listener and file cache; the main thread
// runs a loop of its own that only passes signals on to every worker (a second SIGTERM during
// --shutdown-delay too) and ends when the last worker has.
void runWorkers(const server::Config& config, reactor::Fd root,
                std::vector<reactor::Fd> listeners) {
  reactor::EventLoop mainLoop;
  std::vector<std::unique_ptr<reactor::EventLoop>> loops;  // outlive their servers
  std::vector<std::unique_ptr<server::Server>> servers;
  // Blocks SIGINT/SIGTERM before any worker exists, so the threads inherit the mask and
  // every signal reaches this loop's signalfd.
  reactor::SignalWatcher signals(mainLoop, [&servers](int sig) {
    spdlog::info("received {}, shutting down {} workers", signalName(sig), servers.size());
    for (auto& s : servers) {
      if (skipsDelay(sig)) {
        s->requestShutdown();
      } else {
        s->requestDrain();
      }
    }
  });
  std::atomic<std::size_t> running{listeners.size()};
  reactor::Wakeup workerDone(mainLoop, [&mainLoop, &running] {
    if (running.load() == 0) mainLoop.stop();
  });

  for (auto& listener : listeners) {
    reactor::Fd workerRoot(::fcntl(root.get(), F_DUPFD_CLOEXEC, 0));
    if (!workerRoot) throw std::system_error(errno, std::generic_category(), "dup root");
    loops.push_back(std::make_unique<reactor::EventLoop>());
    servers.push_back(std::make_unique<server::Server>(
        *loops.back(), config, fs::Resolver(std::move(workerRoot), config.indexName),
        std::move(listener)));
  }
  std::vector<std::thread> threads;
  for (auto& s : servers) {
    threads.emplace_back([&s, &running, &workerDone] {
      s->run();
      running.fetch_sub(1);
      workerDone.notify();
    });
  }
  mainLoop.run();
  for (auto& t : threads) t.join();
}

}  // namespace

int main(int argc, char** argv) {
  server::CommandLine cl = server::parseCommandLine(argc, argv);
  if (!cl.config) return cl.exitCode;
  const server::Config& config = *cl.config;
  setUpLogging(config.logLevel);
  raiseDescriptorLimit(config);
  // Held pending from here on: a SIGTERM sent right after the startup line, before the signal
  // watcher exists, still drains instead of killing the process (tests and orchestrators do).
  sigset_t stopSignals;
  ::sigemptyset(&stopSignals);
  ::sigaddset(&stopSignals, SIGINT);
  ::sigaddset(&stopSignals, SIGTERM);
  ::sigprocmask(SIG_BLOCK, &stopSignals, nullptr);

  try {
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
