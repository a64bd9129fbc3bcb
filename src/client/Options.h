// epserve-get's settings, read from the command line (cxxopts). Every bad flag, value or path is
// reported in one line before any connection is made.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "reactor/SocketAddress.h"

namespace epserve::client {

struct ClientOptions {
  reactor::SocketAddress server;
  std::string serverName;  // "127.0.0.1:8080" or "[::1]:8080": the Host value, and for messages
  bool head = false;       // send HEAD instead of GET
  bool http10 = false;     // send HTTP/1.0 requests (one connection per request)
  bool verbose = false;    // request and response heads on stderr
  std::chrono::milliseconds timeout{10'000};  // connect, and every send and receive
  std::vector<std::string> paths;
};

struct CommandLine {
  std::optional<ClientOptions> options;  // empty: exit with exitCode (help, version, bad flags)
  int exitCode = 0;
};

CommandLine parseCommandLine(int argc, char** argv);

// "10 s", "0.5 s": a timeout as the user gave it, for messages.
std::string describeTimeout(std::chrono::milliseconds timeout);

}  // namespace epserve::client
