// The server's settings, read from the command line (cxxopts) and a --config file. Validation
// lives here so a bad flag or value is reported in one line before anything starts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/common.h>

#include "proxy/TrustedProxies.h"
#include "proxy/UpstreamUrl.h"
#include "reactor/SocketAddress.h"

namespace epserve::server {

// One --proxy PREFIX=URL[,URL...]: requests routed to `prefix` go to one of `upstreams`.
struct ProxyRoute {
  std::string prefix;
  std::vector<proxy::UpstreamUrl> upstreams;  // at least one
  // Every URL of a route has the same scheme (parseProxyRoute checks), so the first one's says.
  bool uwsgi() const { return upstreams.front().protocol == proxy::UpstreamUrl::Protocol::Uwsgi; }
};

// One --static PREFIX=DIR: requests routed to `prefix` are served from the directory `dir`.
struct StaticRoute {
  std::string prefix;
  std::string dir;  // existed and was a directory when the command line was read
};

// --log-format: nginx's combined line, or one JSON object per line (server/AccessLog.h).
enum class LogFormat : std::uint8_t { Combined, Json };

struct Config {
  std::string address = "0.0.0.0";
  std::uint16_t port = 8080;
  std::string root = "www";
  std::string indexName = "index.html";
  std::string notFoundPage = "noIndex.html";  // relative to the root
  spdlog::level::level_enum logLevel = spdlog::level::info;
  bool accessLog = true;
  // Logs (server/AccessLog.h, server/ErrorLog.h): empty paths mean stdout and stderr.
  std::string accessLogPath;
  LogFormat logFormat = LogFormat::Combined;
  std::string errorLogPath;
  std::uint32_t maxConnections = 10000;
  std::uint32_t headerTimeoutSec = 10;
  std::uint32_t keepAliveTimeoutSec = 5;
  std::uint32_t sendTimeoutSec = 60;
  std::uint64_t maxBodySize = 1024 * 1024;
  std::uint32_t shutdownGraceSec = 3;
  std::string cacheControl;         // Cache-Control for file responses; empty = none
  std::string extraHeaders;         // validated --header lines, "Name: value\r\n" each
  std::string fallback;             // SPA fallback file (relative to the root); empty = none
  bool autoindex = false;           // HTML listings for directories without an index
  std::uint32_t workers = 1;        // independent single-threaded reactors (SO_REUSEPORT)
  // TCP_NOTSENT_LOWAT on every accepted socket (bytes; 0 = leave the system default): see
  // reactor/Listener.cpp for what was measured.
  std::uint32_t notSentLowat = 16384;

  // Routes and proxying. Prefixes are normalised paths (server/Router.h), unique across both
  // lists; durations are milliseconds (the flags take seconds with up to three decimals).
  std::vector<ProxyRoute> proxyRoutes;
  std::vector<StaticRoute> staticRoutes;
  std::int64_t proxyConnectTimeoutMs = 5'000;
  std::int64_t proxyReadTimeoutMs = 60'000;
  std::int64_t proxySendTimeoutMs = 60'000;
  std::int64_t proxyFailTimeoutMs = 10'000;
  std::int64_t proxyResolveIntervalMs = 30'000;
  // --resolver: the name servers for upstream host names; empty = the system's (resolv.conf).
  std::vector<reactor::SocketAddress> resolvers;
  std::int64_t tunnelIdleTimeoutMs = 300'000;
  std::size_t uwsgiBufferSize = 4096;  // bytes: uWSGI's own buffer-size default
  proxy::TrustedProxies trustedProxies;  // empty: no peer's forwarding fields are believed
  std::string tempDir = "/tmp";
  bool proxyRequestBuffering = true;
  bool proxyBuffering = true;
  std::uint64_t proxyMaxTempFile = 1ULL << 30;  // bytes

  // --config: the TOML file read (empty = none), and the whole command line, so SIGHUP can
  // read both again.
  std::string configFile;
  std::vector<std::string> arguments;

  // --metrics-listen ADDR:PORT: where /metrics is answered (a listener of its own); unset = off.
  std::optional<reactor::SocketAddress> metricsListen;

  // Health and drain: --health-path ("" = off) answers 200, or 503 from SIGTERM on, first for
  // --shutdown-delay while everything else is served as usual, then during the drain.
  std::string healthPath;
  bool logHealth = false;  // health checks get access-log lines
  std::int64_t shutdownDelayMs = 0;
};

// Checks one --header value ("Name: value"): a token name, a value of visible characters,
// spaces and tabs only (no CR/LF injection). Returns the normalized "Name: value" or throws
// std::invalid_argument.
std::string validateHeader(const std::string& header);

// Reads a duration flag: seconds with up to three decimals ("5", "0.25"), as milliseconds in
// [minMs, maxMs]. Throws std::invalid_argument naming the flag and the value.
std::int64_t parseMilliseconds(const std::string& flag, const std::string& text,
                               std::int64_t minMs, std::int64_t maxMs);

// What the command line asked for: run with a config, or exit at once with a code
// (0 after --help/--version/--check-config, 2 after a bad flag or file value).
struct CommandLine {
  std::optional<Config> config;
  int exitCode = 0;
  std::string output;  // for stdout: the help, the version, "configuration ok"
  std::string error;   // one line for stderr: "FILE:LINE:COLUMN: KEY: message" for a file value
};

// Reads `args` (args[0] is the program name) and the --config file they name; prints nothing,
// so a reload can log the error instead.
CommandLine readCommandLine(const std::vector<std::string>& args);
// readCommandLine, printing its output and error.
CommandLine parseCommandLine(int argc, char** argv);

}  // namespace epserve::server
