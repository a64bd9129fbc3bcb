// epserve: a static-file HTTP/1.1 server on one epoll loop per worker (one by default).
// Parses the command line, opens the document root and the listening sockets (or takes the ones
// systemd passed in), then runs the server until SIGINT/SIGTERM.
#include <fcntl.h>
#include <pthread.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <memory>
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

// One worker: the server and the signal watcher share the main thread's loop.
void runSingle(const server::Config& config, reactor::Fd root, WorkerListeners listeners,
               const reactor::SystemdNotifier& notifier) {
  reactor::EventLoop loop;
  server::Server server(loop, config, fs::Resolver(std::move(root), config.indexName),
                        std::move(listeners.fds), listeners.sharing);
  reactor::SignalWatcher signals(loop, [&server, &notifier](int sig) {
    spdlog::info("received {}, shutting down", signalName(sig));
    notifier.notify(std::string("STOPPING=1\nSTATUS=shutting down on ") + signalName(sig));
    server.beginShutdown();
  });
  // The listeners are registered with the loop, so a connection made from now on is served
  // as soon as run() polls.
  notifier.notify("READY=1\nSTATUS=serving");
  server.run();
}

// N workers: each thread runs its own loop, server, listener and file cache; the main thread
// only waits for a signal and asks every worker to drain.
void runWorkers(const server::Config& config, reactor::Fd root,
                std::vector<WorkerListeners> listeners, const reactor::SystemdNotifier& notifier) {
  sigset_t set;
  ::sigemptyset(&set);
  ::sigaddset(&set, SIGINT);
  ::sigaddset(&set, SIGTERM);
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
        std::move(listener.fds), listener.sharing));
  }
  std::vector<std::thread> threads;
  for (auto& s : servers) threads.emplace_back([&s] { s->run(); });
  notifier.notify("READY=1\nSTATUS=serving with " + std::to_string(servers.size()) + " workers");

  int sig = 0;
  ::sigwait(&set, &sig);
  spdlog::info("received {}, shutting down {} workers", signalName(sig), servers.size());
  notifier.notify(std::string("STOPPING=1\nSTATUS=shutting down on ") + signalName(sig));
  for (auto& s : servers) s->requestShutdown();
  for (auto& t : threads) t.join();
}

}  // namespace

int main(int argc, char** argv) {
  server::CommandLine cl = server::parseCommandLine(argc, argv);
  if (!cl.config) return cl.exitCode;
  const server::Config& config = *cl.config;
  setUpLogging(config.logLevel);
  raiseDescriptorLimit(config);
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
    reactor::Fd root = fs::Resolver::openRoot(config.root);
    const bool shared = config.workers > 1;
    const bool activated = !inherited.empty();
    std::vector<std::string> names;
    for (const auto& l : inherited) names.push_back(l.name);
    std::vector<WorkerListeners> listeners =
        activated ? shareInherited(config, std::move(inherited)) : bindListeners(config);
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
    if (shared) {
      runWorkers(config, std::move(root), std::move(listeners), notifier);
    } else {
      runSingle(config, std::move(root), std::move(listeners.front()), notifier);
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
