// One epserve process under test: started on an ephemeral port, port parsed from its startup line.
// Stopped (SIGTERM, bounded wait, SIGKILL) when the object goes away; logs readable at any time.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ChildProcess.h"

namespace epserve::e2e {

struct ExitResult {
  std::optional<int> status;  // exit code, minus the signal number, or nullopt on timeout
  std::string out;
  std::string err;
};

class ServerProcess {
 public:
  // Runs `epserve -i address -p 0 -r root extraArgs...` and waits (at most 10 s) for the
  // `listening on ADDR:PORT` line on stderr. Throws with the server's stderr if that never comes.
  explicit ServerProcess(const std::filesystem::path& root,
                         const std::vector<std::string>& extraArgs = {},
                         const std::string& address = "127.0.0.1");

  pid_t pid() const { return child_.pid(); }
  std::uint16_t port() const { return port_; }
  std::string out() const { return child_.out(); }
  std::string err() const { return child_.err(); }
  // Polls stdout until it contains `needle`; false if it does not within `bound`.
  bool waitForOut(std::string_view needle, std::chrono::milliseconds bound) const;
  void signal(int sig) const { child_.signal(sig); }
  std::optional<int> waitExit(std::chrono::milliseconds bound) { return child_.wait(bound); }
  // SIGTERM, wait up to 5 s, then SIGKILL; returns the exit code (or minus the signal).
  int terminate() { return child_.stop(); }

  // Runs epserve with exactly `args` (no defaults added) and waits up to `bound` for it to exit.
  static ExitResult run(const std::vector<std::string>& args, std::chrono::milliseconds bound);

 private:
  ChildProcess child_;
  std::uint16_t port_ = 0;
};

}  // namespace epserve::e2e
