// Starts epserve for a test and learns its port from the startup line, as a user reading it would.
// EPSERVE_BINARY is the absolute path of the built server, set by CMake.
#include "ServerProcess.h"

#include <charconv>
#include <stdexcept>
#include <thread>

namespace epserve::e2e {

using namespace std::chrono_literals;

namespace {

constexpr auto kStartupBound = 10s;

std::vector<std::string> serverArgv(const std::filesystem::path& root,
                                    const std::vector<std::string>& extraArgs,
                                    const std::string& address) {
  std::vector<std::string> argv{EPSERVE_BINARY, "-i", address, "-p", "0", "-r", root.string()};
  argv.insert(argv.end(), extraArgs.begin(), extraArgs.end());
  return argv;
}

// The port from a complete `listening on HOST:PORT` line, or 0 if there is none yet.
std::uint16_t parseListeningPort(const std::string& err) {
  constexpr std::string_view kMarker = "listening on ";
  const std::size_t at = err.find(kMarker);
  if (at == std::string::npos) return 0;
  const std::size_t lineEnd = err.find('\n', at);
  if (lineEnd == std::string::npos) return 0;  // the line is still being written
  const std::string_view line(err.data() + at + kMarker.size(), lineEnd - at - kMarker.size());
  const std::size_t tokenEnd = line.find_first_of(" \t\r");
  const std::string_view token = line.substr(0, tokenEnd);
  const std::size_t colon = token.rfind(':');
  if (colon == std::string_view::npos) return 0;
  unsigned value = 0;
  const char* first = token.data() + colon + 1;
  const char* last = token.data() + token.size();
  const auto [ptr, ec] = std::from_chars(first, last, value);
  if (ec != std::errc() || ptr != last || value == 0 || value > 65535) return 0;
  return static_cast<std::uint16_t>(value);
}

}  // namespace

ServerProcess::ServerProcess(const std::filesystem::path& root,
                             const std::vector<std::string>& extraArgs, const std::string& address)
    : child_(serverArgv(root, extraArgs, address)) {
  const auto deadline = std::chrono::steady_clock::now() + kStartupBound;
  for (;;) {
    port_ = parseListeningPort(child_.err());
    if (port_ != 0) return;
    if (const auto status = child_.wait(0ms)) {
      throw std::runtime_error("epserve exited with " + std::to_string(*status) +
                               " before listening; stderr:\n" + child_.err());
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error("epserve printed no 'listening on' line within 10 s; stderr:\n" +
                               child_.err());
    }
    std::this_thread::sleep_for(20ms);
  }
}

bool ServerProcess::waitForOut(std::string_view needle, std::chrono::milliseconds bound) const {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  for (;;) {
    if (child_.out().find(needle) != std::string::npos) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

ExitResult ServerProcess::run(const std::vector<std::string>& args,
                              std::chrono::milliseconds bound) {
  std::vector<std::string> argv{EPSERVE_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess child(argv);
  ExitResult result;
  result.status = child.wait(bound);
  if (!result.status) child.stop();  // report the timeout as nullopt, but never leave it running
  result.out = child.out();
  result.err = child.err();
  return result;
}

}  // namespace epserve::e2e
