// Harness for the fault and abuse tests: descriptor limits, /proc readings of the server, raw
// sockets that half-close or reset, strict parsing of raw response streams, a limited server.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ChildProcess.h"
#include "HttpResponse.h"

namespace epserve::e2e::abuse {

using Clock = std::chrono::steady_clock;

// Raises this process's RLIMIT_NOFILE soft limit to its hard limit; returns the soft limit now.
rlim_t raiseDescriptorLimit();

// Readings of another process (the server) from /proc. Each throws if the process is gone.
std::size_t residentKiB(pid_t pid);    // VmRSS in /proc/PID/status
double cpuSeconds(pid_t pid);          // utime + stime in /proc/PID/stat
std::size_t openDescriptors(pid_t pid);  // entries of /proc/PID/fd

// Polls `done` every `step` until it holds (true) or `bound` has passed (false).
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds bound,
                std::chrono::milliseconds step = std::chrono::milliseconds(10));

// The server's descriptor count once it has stopped changing (two equal readings `quiet`
// apart), or the last reading after `bound`.
std::size_t settledDescriptors(pid_t pid, std::chrono::milliseconds bound,
                               std::chrono::milliseconds quiet = std::chrono::milliseconds(300));

// A sanitizer (ASan/UBSan) report in the server's stderr: the server hit a memory error.
bool sanitizerReported(const std::string& err);

double millisSince(Clock::time_point start);

// An owned client socket, blocking, with 5 s send/receive timeouts unless made non-blocking.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() { close(); }
  Socket(Socket&& other) noexcept : fd_(other.release()) {}
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  // A TCP connection to 127.0.0.1:port; an invalid Socket (errno set) if connect fails.
  static Socket connect(std::uint16_t port);

  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release();
  void close();
  // SO_LINGER {on, 0 s} then close: the kernel drops unsent data and sends RST (RFC 9293 §3.6).
  void reset();
  void setNonBlocking();
  void shutdownWrite();
  // Blocking send of all of `bytes`; false if the peer has gone (EPIPE, ECONNRESET, timeout).
  bool sendAll(std::string_view bytes);
  // Everything until EOF or a reset, bounded by `bound`; `reset`/`timedOut` say how it ended.
  struct Drained {
    std::string bytes;
    bool reset = false;
    bool timedOut = false;
  };
  Drained readToEnd(std::chrono::milliseconds bound);

 private:
  int fd_ = -1;
};

// Parses the response head at the start of `stream` (through the empty line) into `out`
// (status, reason, headers; body untouched). Returns the head's length, or nullopt if the
// head is not complete yet. Throws std::runtime_error on a malformed status line or field.
std::optional<std::size_t> parseHead(std::string_view stream, HttpResponse& out);

// Splits a stream of whole responses framed by Content-Length (RFC 9112 §6.3); `headFlags[i]`
// says response i answers a HEAD (no body). Throws if the stream does not hold exactly that many
// responses, if a body is short, or if bytes follow the last one.
std::vector<HttpResponse> splitResponses(std::string_view stream,
                                         const std::vector<bool>& headFlags);

// epserve started through `prlimit --nofile=N:N --`, so its descriptor limit, soft and hard, is
// N from exec on and the server cannot raise it. prlimit execs the server: same PID.
class LimitedServer {
 public:
  LimitedServer(const std::string& root, unsigned descriptorLimit,
                const std::vector<std::string>& extraArgs = {});
  pid_t pid() const { return child_.pid(); }
  std::uint16_t port() const { return port_; }
  std::string err() const { return child_.err(); }
  std::optional<int> waitExit(std::chrono::milliseconds bound) { return child_.wait(bound); }

 private:
  ChildProcess child_;
  std::uint16_t port_ = 0;
};

// The port in a complete `listening on HOST:PORT` line of `err`, or 0 if there is none yet.
std::uint16_t listeningPort(const std::string& err);

}  // namespace epserve::e2e::abuse
