// epserve: a static-file HTTP/1.1 server on one epoll loop. Parses the command line, opens
// the document root and the listening socket, then runs the server until SIGINT/SIGTERM.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <cstdio>
#include <system_error>

#include "fs/Resolver.h"
#include "reactor/EventLoop.h"
#include "reactor/Listener.h"
#include "server/Config.h"
#include "server/Server.h"

using namespace epserve;

namespace {

void setUpLogging(spdlog::level::level_enum level) {
  auto logger = spdlog::stderr_logger_st("epserve");
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

}  // namespace

int main(int argc, char** argv) {
  server::CommandLine cl = server::parseCommandLine(argc, argv);
  if (!cl.config) return cl.exitCode;
  const server::Config& config = *cl.config;
  setUpLogging(config.logLevel);
  raiseDescriptorLimit(config);

  try {
    reactor::Fd root = fs::Resolver::openRoot(config.root);
    reactor::SocketAddress address;
    reactor::SocketAddress::parse(config.address, config.port, address);
    reactor::Fd listener = reactor::listenTcp(address, 4096);
    reactor::SocketAddress bound = reactor::SocketAddress::local(listener.get());

    reactor::EventLoop loop;
    server::Server server(loop, config, fs::Resolver(std::move(root), config.indexName),
                          std::move(listener));
    spdlog::info("epserve {} listening on {} (root {}, index {}, 404 page {})", EPSERVE_VERSION,
                 bound.toString(), config.root, config.indexName, config.notFoundPage);
    server.run();
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
