// The server's settings, read from the command line (cxxopts). Validation lives here so
// a bad flag or value is reported in one line before anything starts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/common.h>

namespace epserve::server {

struct Config {
  std::string address = "0.0.0.0";
  std::uint16_t port = 8080;
  std::string root = "www";
  std::string indexName = "index.html";
  std::string notFoundPage = "noIndex.html";  // relative to the root
  spdlog::level::level_enum logLevel = spdlog::level::info;
  bool accessLog = true;
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
};

// Checks one --header value ("Name: value"): a token name, a value of visible characters,
// spaces and tabs only (no CR/LF injection). Returns the normalized "Name: value" or throws
// std::invalid_argument.
std::string validateHeader(const std::string& header);

// What the command line asked for: run with a config, or exit at once with a code
// (0 after --help/--version, 2 after a bad flag; the message is already printed).
struct CommandLine {
  std::optional<Config> config;
  int exitCode = 0;
};

CommandLine parseCommandLine(int argc, char** argv);

}  // namespace epserve::server
