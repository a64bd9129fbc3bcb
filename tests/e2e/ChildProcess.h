// A program started with posix_spawn whose stdout and stderr go to files, readable at any time.
// Waiting is always bounded; the destructor stops that PID only (SIGTERM, then SIGKILL).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace epserve::e2e {

class ChildProcess {
 public:
  // argv[0] is the absolute path of the program. Throws if it cannot be spawned.
  explicit ChildProcess(const std::vector<std::string>& argv);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Exit code if the child exited, or minus the signal number if a signal killed it;
  // std::nullopt if it is still running after `bound`.
  std::optional<int> wait(std::chrono::milliseconds bound);
  void signal(int sig) const;
  // SIGTERM, up to 5 s, then SIGKILL; returns the status as wait() encodes it.
  int stop();
  std::string out() const;
  std::string err() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::filesystem::path captureDir_;
};

}  // namespace epserve::e2e
