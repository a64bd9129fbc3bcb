// epserve: a static-file HTTP/1.1 server on one epoll loop per worker (one by default).
// Parses the command line, opens the logs, the document root and the listening sockets (or takes
// the ones systemd passed in), then runs the server until SIGINT/SIGTERM; SIGHUP re-reads the
// command line and its --config file, SIGUSR1 reopens the log files.
#include <fcntl.h>
#include <linux/capability.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "fs/Resolver.h"
#include "reactor/Acceptor.h"
#include "reactor/EventLoop.h"
#include "reactor/ListenFds.h"
#include "reactor/Listener.h"
#include "reactor/SignalWatcher.h"
#include "reactor/SystemdNotifier.h"
#include "server/Config.h"
#include "server/ErrorLog.h"
#include "server/LogFile.h"
#include "server/Metrics.h"
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

// The container image's binary carries CAP_NET_BIND_SERVICE as a permitted-only file capability
// (+p, not +ep): an effective file capability makes exec fail outright (EPERM) where the
// capability cannot be granted, e.g. a Kubernetes pod that drops ALL, while a permitted one is
// simply absent there. So the process raises it into its effective set itself, when it has it,
// before it binds a port below 1024. Without the capability (a plain install, or such a pod on
// port 8080) this does nothing.
void raiseBindCapability() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (::syscall(SYS_capget, &header, data) != 0) return;
  constexpr unsigned kWord = CAP_NET_BIND_SERVICE / 32;
  constexpr std::uint32_t kBit = 1U << (CAP_NET_BIND_SERVICE % 32);
  if ((data[kWord].permitted & kBit) == 0 || (data[kWord].effective & kBit) != 0) return;
  data[kWord].effective |= kBit;
  if (::syscall(SYS_capset, &header, data) != 0) {
    spdlog::warn("could not raise CAP_NET_BIND_SERVICE: {}", std::strerror(errno));
  }
}

const char* signalName(int sig) { return sig == SIGINT ? "SIGINT" : "SIGTERM"; }

// SIGTERM (docker stop, Kubernetes) drains: --shutdown-delay first, then the graceful shutdown.
// SIGINT (Ctrl-C at a terminal) skips the delay and shuts down gracefully at once.
bool skipsDelay(int sig) { return sig == SIGINT; }

// The sockets one worker accepts on: its own SO_REUSEPORT socket, or its copies of every
// socket systemd passed in (the same sockets as the other workers': Shared).
struct WorkerListeners {
  std::vector<reactor::Fd> fds;
  reactor::Acceptor::Sharing sharing = reactor::Acceptor::Sharing::Own;
};

// -i/-p: one socket per worker; with several, SO_REUSEPORT lets the kernel spread connections.
std::vector<WorkerListeners> bindListeners(const server::Config& config) {
  reactor::SocketAddress address;
  reactor::SocketAddress::parse(config.address, config.port, address);
  const bool shared = config.workers > 1;
  std::vector<WorkerListeners> workers(config.workers);
  workers[0].fds.push_back(reactor::listenTcp(address, 4096, shared, config.notSentLowat));
  // With --port 0 the later workers must join the port the first one was given.
  reactor::SocketAddress bound = reactor::SocketAddress::local(workers[0].fds.front().get());
  for (std::uint32_t i = 1; i < config.workers; ++i) {
    workers[i].fds.push_back(reactor::listenTcp(bound, 4096, true, config.notSentLowat));
  }
  return workers;
}

// Socket activation: every worker serves every inherited socket, through its own duplicate of
// it (each Acceptor owns and closes its fd). Sharing one socket is the only way several loops
// can serve it; Acceptor.cpp says why EPOLLEXCLUSIVE makes that cheap.
std::vector<WorkerListeners> shareInherited(const server::Config& config,
                                            std::vector<reactor::InheritedListener> inherited) {
  std::vector<WorkerListeners> workers(config.workers);
  const auto sharing = config.workers > 1 ? reactor::Acceptor::Sharing::Shared
                                          : reactor::Acceptor::Sharing::Own;
  for (auto& listener : inherited) {
    reactor::setListenerOptions(listener.fd.get(), config.notSentLowat);
    for (std::uint32_t i = 1; i < config.workers; ++i) {
      reactor::Fd copy(::fcntl(listener.fd.get(), F_DUPFD_CLOEXEC, 0));
      if (!copy) throw std::system_error(errno, std::generic_category(), "dup listener");
      workers[i].fds.push_back(std::move(copy));
    }
    workers[0].fds.push_back(std::move(listener.fd));
  }
  for (auto& w : workers) w.sharing = sharing;
  return workers;
}

// "127.0.0.1:8080", or for inherited sockets each address and its systemd name.
std::string describeListeners(const std::vector<reactor::Fd>& fds,
                              const std::vector<std::string>& names) {
  std::string text;
  for (std::size_t i = 0; i < fds.size(); ++i) {
    if (!text.empty()) text += ", ";
    text += reactor::SocketAddress::local(fds[i].get()).toString();
    if (i < names.size() && !names[i].empty()) text += " '" + names[i] + "'";
  }
  return text;
}

// What a SIGHUP asks for: the settings read and checked again, and new listeners when the
// address or port changed (empty otherwise). Nothing when they are invalid or cannot be bound:
// one error line says why and the running settings stay.
struct Reload {
  std::shared_ptr<const server::Config> config;
  std::vector<reactor::Fd> listeners;
};

std::optional<Reload> prepareReload(const server::Config& running, bool activated) {
  server::CommandLine cl = server::readCommandLine(running.arguments);
  if (!cl.config) {
    spdlog::error("reload: {}: keeping the running configuration", cl.error);
    return std::nullopt;
  }
  server::Config next = std::move(*cl.config);
  // Fixed for the process's life: the threads, and what the listeners were opened with.
  if (next.workers != running.workers) {
    spdlog::warn("reload: --workers cannot change live: keeping {} (restart to change it)",
                 running.workers);
    next.workers = running.workers;
  }
  if (next.notSentLowat != running.notSentLowat) {
    spdlog::warn("reload: --tcp-notsent-lowat cannot change live: keeping {}",
                 running.notSentLowat);
    next.notSentLowat = running.notSentLowat;
  }
  if ((next.metricsListen ? next.metricsListen->toString() : "") !=
      (running.metricsListen ? running.metricsListen->toString() : "")) {
    spdlog::warn("reload: --metrics-listen cannot change live: keeping {}",
                 running.metricsListen ? running.metricsListen->toString() : "off");
    next.metricsListen = running.metricsListen;
  }
  // Read once into each loop's health check and drain timer.
  if (next.healthPath != running.healthPath || next.shutdownDelayMs != running.shutdownDelayMs) {
    spdlog::warn("reload: --health-path and --shutdown-delay cannot change live: keeping them");
    next.healthPath = running.healthPath;
    next.shutdownDelayMs = running.shutdownDelayMs;
  }
  Reload r;
  if (activated && (next.address != running.address || next.port != running.port)) {
    spdlog::warn("reload: the listening sockets came from systemd: -i/-p stay unused");
    next.address = running.address;
    next.port = running.port;
  }
  if (next.address != running.address || next.port != running.port) {
    try {
      for (WorkerListeners& w : bindListeners(next)) r.listeners.push_back(std::move(w.fds.front()));
      spdlog::info("reload: listening on {} (the old listener closes)",
                   reactor::SocketAddress::local(r.listeners.front().get()).toString());
    } catch (const std::exception& e) {
      spdlog::error("reload: {}: keeping the running configuration", e.what());
      return std::nullopt;
    }
  }
  // The error log moves here, once for every worker (each loop moves its own access log).
  if (next.errorLogPath != running.errorLogPath) {
    try {
      server::configureErrorLog(next);
    } catch (const std::exception& e) {
      spdlog::error("reload: {}: keeping the running configuration", e.what());
      return std::nullopt;
    }
  }
  r.config = std::make_shared<const server::Config>(std::move(next));
  return r;
}

// A SIGHUP: the settings read and checked again, then handed to `apply` (true: they now run),
// framed for systemd by RELOADING=1 and READY=1 (the STATUS line stays the start-up one).
template <typename Apply>
void reloadWith(std::shared_ptr<const server::Config>& running, bool activated,
                const reactor::SystemdNotifier& notifier, Apply apply) {
  notifier.notify("RELOADING=1");
  std::optional<Reload> r = prepareReload(*running, activated);
  if (r && apply(*r)) {
    running = r->config;
    spdlog::default_logger()->set_level(running->logLevel);
  }
  notifier.notify("READY=1");
}

// --metrics-listen: the first loop answers /metrics, with every loop's figures (registered
// before any loop runs).
void setUpMetrics(server::Metrics& metrics, reactor::Fd metricsListener,
                  const std::vector<server::Server*>& servers) {
  if (!metricsListener) return;
  for (server::Server* s : servers) metrics.add(&s->publishedMetrics());
  servers.front()->serveMetrics(std::move(metricsListener), metrics);
}

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
void runSingle(const server::Config& config, reactor::Fd root, WorkerListeners listeners,
               bool activated, const reactor::SystemdNotifier& notifier,
               server::Metrics& metrics, reactor::Fd metricsListener) {
  reactor::EventLoop loop;
  server::Server server(loop, config, fs::Resolver(std::move(root), config.indexName),
                        std::move(listeners.fds), listeners.sharing);
  setUpMetrics(metrics, std::move(metricsListener), {&server});
  auto running = std::make_shared<const server::Config>(config);
  reactor::SignalWatcher signals(loop, [&server, &running, activated, &notifier](int sig) {
    if (sig == SIGUSR1) {
      reopenLogs({&server}, true);
      return;
    }
    if (sig == SIGHUP) {
      spdlog::info("received SIGHUP, reloading the configuration");
      reloadWith(running, activated, notifier, [&server](Reload& r) {
        reactor::Fd listener = r.listeners.empty() ? reactor::Fd() : std::move(r.listeners.front());
        if (!server.reload(r.config, std::move(listener))) return false;
        spdlog::info("configuration reloaded");
        return true;
      });
      return;
    }
    spdlog::info("received {}, shutting down", signalName(sig));
    notifier.notify(std::string("STOPPING=1\nSTATUS=shutting down on ") + signalName(sig));
    if (skipsDelay(sig)) {
      server.beginShutdown();
    } else {
      server.beginDrain();  // a second SIGTERM during --shutdown-delay cuts it short
    }
  });
  // The listeners are registered with the loop, so a connection made from now on is served
  // as soon as run() polls.
  notifier.notify("READY=1\nSTATUS=serving");
  server.run();
}

// N workers: each thread runs its own loop, server, listener and file cache; the main thread
// only takes the signals and hands them to every worker (a reload, a log reopen, a drain; a
// second SIGTERM during --shutdown-delay too), until the last worker has stopped.
void runWorkers(const server::Config& config, reactor::Fd root,
                std::vector<WorkerListeners> listeners, bool activated,
                const reactor::SystemdNotifier& notifier, server::Metrics& metrics,
                reactor::Fd metricsListener) {
  // Blocked since main began (inherited by the workers); this thread takes them with sigtimedwait.
  const sigset_t set = reactor::SignalWatcher::controlSignals();
  ::signal(SIGPIPE, SIG_IGN);

  std::vector<std::unique_ptr<reactor::EventLoop>> loops;
  std::vector<std::unique_ptr<server::Server>> servers;
  for (auto& listener : listeners) {
    reactor::Fd workerRoot(::fcntl(root.get(), F_DUPFD_CLOEXEC, 0));
    if (!workerRoot) throw std::system_error(errno, std::generic_category(), "dup root");
    loops.push_back(std::make_unique<reactor::EventLoop>());
    servers.push_back(std::make_unique<server::Server>(
        *loops.back(), config, fs::Resolver(std::move(workerRoot), config.indexName),
        std::move(listener.fds), listener.sharing));
  }
  std::vector<server::Server*> all;
  for (auto& s : servers) all.push_back(s.get());
  setUpMetrics(metrics, std::move(metricsListener), all);
  std::atomic<std::size_t> workersRunning{servers.size()};
  std::vector<std::thread> threads;
  for (auto& s : servers) {
    threads.emplace_back([&s, &workersRunning] {
      s->run();
      workersRunning.fetch_sub(1);
    });
  }
  notifier.notify("READY=1\nSTATUS=serving with " + std::to_string(servers.size()) + " workers");

  // The main thread reads and checks a reload once and hands it to every worker. It wakes every
  // 100 ms to see whether the workers are done (they stop by themselves after a drain).
  auto running = std::make_shared<const server::Config>(config);
  bool stopping = false;
  const timespec tick{0, 100'000'000};
  while (workersRunning.load() > 0) {
    const int sig = ::sigtimedwait(&set, nullptr, &tick);
    if (sig < 0) continue;  // the tick (EAGAIN) or EINTR
    if (sig == SIGINT || sig == SIGTERM) {
      spdlog::info("received {}, shutting down {} workers", signalName(sig), servers.size());
      if (!stopping) {
        notifier.notify(std::string("STOPPING=1\nSTATUS=shutting down on ") + signalName(sig));
      }
      stopping = true;
      for (auto& s : servers) {
        if (skipsDelay(sig)) {
          s->requestShutdown();
        } else {
          s->requestDrain();
        }
      }
      continue;
    }
    if (sig == SIGUSR1) {
      reopenLogs(all, false);
      continue;
    }
    if (stopping) continue;  // draining: nothing new is served that could use it
    spdlog::info("received SIGHUP, reloading the configuration of {} workers", servers.size());
    reloadWith(running, activated, notifier, [&servers](Reload& r) {
      for (std::size_t i = 0; i < servers.size(); ++i) {
        servers[i]->requestReload(r.config, r.listeners.empty() ? reactor::Fd()
                                                                : std::move(r.listeners[i]));
      }
      spdlog::info("configuration handed to the workers");
      return true;
    });
  }
  for (auto& t : threads) t.join();
}

}  // namespace

int main(int argc, char** argv) {
  server::CommandLine cl = server::parseCommandLine(argc, argv);
  if (!cl.config) return cl.exitCode;
  const server::Config& config = *cl.config;
  // Held from here on: the port accepts connections as soon as it is bound, before the loop's
  // signal watcher exists, and a SIGTERM, SIGINT, SIGHUP or SIGUSR1 in between must wait for it
  // (seen: a test that signalled a just-started server got it killed by the default action).
  reactor::SignalWatcher::blockControlSignals();
  // Both read (and clear) the environment: before any thread exists.
  std::vector<reactor::InheritedListener> inherited;
  try {
    inherited = reactor::takeListenFds();
  } catch (const reactor::ListenFdsError& e) {
    std::fprintf(stderr, "epserve: socket activation: %s\n", e.what());
    return 2;
  }
  const reactor::SystemdNotifier notifier = reactor::SystemdNotifier::fromEnvironment();

  try {
    // A log file that cannot be opened is a start-up failure like a port that cannot be bound.
    server::configureErrorLog(config);
    // Each worker opens the access log for itself; this first open stops a bad path before
    // anything says "listening".
    if (config.accessLog) {
      const server::LogFile probe(config.accessLogPath, STDOUT_FILENO, "access log");
    }
    raiseDescriptorLimit(config);
    raiseBindCapability();
    reactor::Fd root = fs::Resolver::openRoot(config.root);
    const bool shared = config.workers > 1;
    const bool activated = !inherited.empty();
    std::vector<std::string> names;
    for (const auto& l : inherited) names.push_back(l.name);
    std::vector<WorkerListeners> listeners =
        activated ? shareInherited(config, std::move(inherited)) : bindListeners(config);
    reactor::Fd metricsListener;
    if (config.metricsListen) {
      metricsListener = reactor::listenTcp(*config.metricsListen, 64);
      spdlog::info("metrics at http://{}/metrics",
                   reactor::SocketAddress::local(metricsListener.get()).toString());
    }
    spdlog::info("epserve {} listening on {}{} (root {}, index {}, 404 page {}, {} worker{})",
                 EPSERVE_VERSION, describeListeners(listeners.front().fds, names),
                 activated ? " from systemd (-i/-p unused)" : "", config.root, config.indexName,
                 config.notFoundPage, config.workers, config.workers > 1 ? "s" : "");
    for (const auto& r : config.staticRoutes) spdlog::info("static {} -> {}", r.prefix, r.dir);
    for (const auto& r : config.proxyRoutes) {
      std::string urls;
      for (const auto& u : r.upstreams) urls += (urls.empty() ? "" : ", ") + u.text;
      spdlog::info("proxy {} -> {}", r.prefix, urls);
    }
    server::Metrics metrics;
    if (shared) {
      runWorkers(config, std::move(root), std::move(listeners), activated, notifier, metrics,
                 std::move(metricsListener));
    } else {
      runSingle(config, std::move(root), std::move(listeners.front()), activated, notifier,
                metrics, std::move(metricsListener));
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
