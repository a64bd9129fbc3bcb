// posix_spawn wrapper for the server and curl: output captured in files, bounded reaping.
// Files rather than pipes, so a chatty child can never block on a full pipe we are not reading.
#include "ChildProcess.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "TempRoot.h"

extern char** environ;

namespace epserve::e2e {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

ChildProcess::ChildProcess(const std::vector<std::string>& argv)
    : captureDir_(makeTempDir("epserve-e2e-proc-")) {
  const std::string outPath = (captureDir_ / "stdout").string();
  const std::string errPath = (captureDir_ / "stderr").string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  // The child must see default signal handling whatever the test runner changed in this process.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGTERM, SIGINT, SIGPIPE, SIGHUP}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const int rc = posix_spawn(&pid_, args[0], &actions, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    std::error_code ec;
    fs::remove_all(captureDir_, ec);
    throw std::system_error(rc, std::generic_category(), "posix_spawn " + argv.at(0));
  }
}

ChildProcess::~ChildProcess() {
  try {
    stop();
  } catch (...) {
    // A destructor must not throw; the child has been SIGKILLed by then anyway.
  }
  std::error_code ec;
  fs::remove_all(captureDir_, ec);
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!status_) {
    int raw = 0;
    const pid_t r = ::waitpid(pid_, &raw, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : -WTERMSIG(raw);
      break;
    }
    if (r < 0 && errno != EINTR) throw std::system_error(errno, std::generic_category(), "waitpid");
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(10ms);
  }
  return status_;
}

void ChildProcess::signal(int sig) const {
  if (!status_) ::kill(pid_, sig);
}

int ChildProcess::stop() {
  if (!wait(0ms)) {
    ::kill(pid_, SIGTERM);
    if (!wait(5000ms)) {
      ::kill(pid_, SIGKILL);
      wait(5000ms);
    }
  }
  if (!status_) throw std::runtime_error("child " + std::to_string(pid_) + " survived SIGKILL");
  return *status_;
}

namespace {

std::string readIfPresent(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return {};
  return readWholeFile(path);
}

}  // namespace

std::string ChildProcess::out() const { return readIfPresent(captureDir_ / "stdout"); }

std::string ChildProcess::err() const { return readIfPresent(captureDir_ / "stderr"); }

}  // namespace epserve::e2e
