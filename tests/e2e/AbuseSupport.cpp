// The abuse tests' harness: see AbuseSupport.h. /proc is read the way ps and top read it,
// so the figures the tests print can be checked by hand against a running server.
#include "AbuseSupport.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "TempRoot.h"

namespace epserve::e2e::abuse {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

rlim_t raiseDescriptorLimit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
    ::getrlimit(RLIMIT_NOFILE, &lim);
  }
  return lim.rlim_cur;
}

namespace {

std::string procPath(pid_t pid, const char* leaf) {
  return "/proc/" + std::to_string(pid) + "/" + leaf;
}

}  // namespace

std::size_t residentKiB(pid_t pid) {
  std::ifstream in(procPath(pid, "status"));
  if (!in) throw std::runtime_error("cannot read /proc status of " + std::to_string(pid));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    std::size_t kib = 0;
    fields >> kib;  // "VmRSS:   12345 kB"
    return kib;
  }
  throw std::runtime_error("no VmRSS for " + std::to_string(pid));
}

double cpuSeconds(pid_t pid) {
  const std::string stat = readWholeFile(procPath(pid, "stat"));
  // comm (field 2) is parenthesized and may hold spaces: count fields after the last ')'.
  const std::size_t close = stat.rfind(')');
  if (close == std::string::npos) throw std::runtime_error("bad /proc stat: " + stat);
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  // After ')' come field 3 (state) onwards; utime and stime are fields 14 and 15 (proc(5)).
  for (int index = 3; index <= 15 && fields >> field; ++index) {
    if (index == 14) utime = std::stoull(field);
    if (index == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::size_t openDescriptors(pid_t pid) {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(procPath(pid, "fd"))) ++count;
  return count;
}

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds bound,
                std::chrono::milliseconds step) {
  const auto deadline = Clock::now() + bound;
  for (;;) {
    if (done()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

std::size_t settledDescriptors(pid_t pid, std::chrono::milliseconds bound,
                               std::chrono::milliseconds quiet) {
  const auto deadline = Clock::now() + bound;
  std::size_t last = openDescriptors(pid);
  while (Clock::now() < deadline) {
    std::this_thread::sleep_for(quiet);
    const std::size_t now = openDescriptors(pid);
    if (now == last) return now;
    last = now;
  }
  return last;
}

bool sanitizerReported(const std::string& err) {
  return err.find("AddressSanitizer") != std::string::npos ||
         err.find("LeakSanitizer") != std::string::npos ||
         err.find("runtime error:") != std::string::npos;
}

double millisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = other.release();
  }
  return *this;
}

Socket Socket::connect(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Socket();
  const timeval five{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five, sizeof five);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &five, sizeof five);  // also bounds connect()
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return Socket();
  }
  return Socket(fd);
}

int Socket::release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

void Socket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void Socket::reset() {
  if (fd_ < 0) return;
  const linger abort{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  close();
}

void Socket::setNonBlocking() {
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
}

void Socket::shutdownWrite() { ::shutdown(fd_, SHUT_WR); }

bool Socket::sendAll(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

Socket::Drained Socket::readToEnd(std::chrono::milliseconds bound) {
  Drained result;
  const auto deadline = Clock::now() + bound;
  std::string chunk(256 * 1024, '\0');
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      result.timedOut = true;
      return result;
    }
    pollfd watched{fd_, POLLIN, 0};
    const int ready = ::poll(&watched, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;  // the deadline check above ends the loop
    const ssize_t n = ::recv(fd_, chunk.data(), chunk.size(), MSG_DONTWAIT);
    if (n > 0) {
      result.bytes.append(chunk.data(), static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) return result;
    if (errno == EINTR || errno == EAGAIN) continue;
    result.reset = true;  // ECONNRESET: an abortive close
    return result;
  }
}

std::optional<std::size_t> parseHead(std::string_view stream, HttpResponse& out) {
  const std::size_t end = stream.find("\r\n\r\n");
  if (end == std::string_view::npos) return std::nullopt;
  const std::string_view head = stream.substr(0, end);
  std::size_t lineEnd = head.find("\r\n");
  const std::string_view statusLine = head.substr(0, lineEnd);
  // status-line = HTTP-version SP 3DIGIT SP [ reason-phrase ]  (RFC 9112 §4)
  if (statusLine.size() < 12 || statusLine.substr(0, 7) != "HTTP/1." || statusLine[8] != ' ' ||
      (statusLine.size() > 12 && statusLine[12] != ' ')) {
    throw std::runtime_error("bad status line: '" + std::string(statusLine.substr(0, 80)) + "'");
  }
  out = HttpResponse{};
  out.version = std::string(statusLine.substr(0, 8));
  const auto [ptr, ec] = std::from_chars(statusLine.data() + 9, statusLine.data() + 12, out.status);
  if (ec != std::errc() || ptr != statusLine.data() + 12) {
    throw std::runtime_error("bad status code: '" + std::string(statusLine) + "'");
  }
  if (statusLine.size() > 13) out.reason = std::string(statusLine.substr(13));
  while (lineEnd != std::string_view::npos) {
    const std::size_t start = lineEnd + 2;
    lineEnd = head.find("\r\n", start);
    const std::string_view line =
        head.substr(start, lineEnd == std::string_view::npos ? lineEnd : lineEnd - start);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      throw std::runtime_error("bad header line: '" + std::string(line) + "'");
    }
    std::string_view value = line.substr(colon + 1);
    auto blank = [](char c) { return c == ' ' || c == '\t'; };
    while (!value.empty() && blank(value.front())) value.remove_prefix(1);
    while (!value.empty() && blank(value.back())) value.remove_suffix(1);
    out.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  return end + 4;
}

std::vector<HttpResponse> splitResponses(std::string_view stream,
                                         const std::vector<bool>& headFlags) {
  std::vector<HttpResponse> responses;
  for (const bool head : headFlags) {
    HttpResponse response;
    const auto headLength = parseHead(stream, response);
    if (!headLength) {
      throw std::runtime_error("response " + std::to_string(responses.size() + 1) +
                               " has no complete head; " + std::to_string(stream.size()) +
                               " bytes left");
    }
    stream.remove_prefix(*headLength);
    const bool bodiless = head || response.status == 204 || response.status == 304;
    if (!bodiless) {
      if (!response.has("Content-Length")) throw std::runtime_error("no Content-Length");
      const std::size_t length = std::stoull(response.header("Content-Length"));
      if (stream.size() < length) {
        throw std::runtime_error("body of response " + std::to_string(responses.size() + 1) +
                                 " short: " + std::to_string(stream.size()) + " of " +
                                 std::to_string(length) + " bytes");
      }
      response.body = std::string(stream.substr(0, length));
      stream.remove_prefix(length);
    }
    responses.push_back(std::move(response));
  }
  if (!stream.empty()) {
    throw std::runtime_error(std::to_string(stream.size()) + " bytes after the last response");
  }
  return responses;
}

std::uint16_t listeningPort(const std::string& err) {
  constexpr std::string_view kMarker = "listening on ";
  const std::size_t at = err.find(kMarker);
  if (at == std::string::npos) return 0;
  const std::size_t lineEnd = err.find('\n', at);
  if (lineEnd == std::string::npos) return 0;
  const std::string_view line(err.data() + at + kMarker.size(), lineEnd - at - kMarker.size());
  const std::string_view token = line.substr(0, line.find_first_of(" \t\r"));
  const std::size_t colon = token.rfind(':');
  if (colon == std::string_view::npos) return 0;
  unsigned value = 0;
  const char* last = token.data() + token.size();
  const auto [ptr, ec] = std::from_chars(token.data() + colon + 1, last, value);
  if (ec != std::errc() || ptr != last || value == 0 || value > 65535) {
    return 0;
  }
  return static_cast<std::uint16_t>(value);
}

namespace {

std::vector<std::string> limitedArgv(const std::string& root, unsigned limit,
                                     const std::vector<std::string>& extraArgs) {
  const std::string n = std::to_string(limit);
  std::vector<std::string> argv{"/usr/bin/prlimit", "--nofile=" + n + ":" + n, "--",
                                EPSERVE_BINARY,     "-i", "127.0.0.1", "-p", "0", "-r", root};
  argv.insert(argv.end(), extraArgs.begin(), extraArgs.end());
  return argv;
}

}  // namespace

LimitedServer::LimitedServer(const std::string& root, unsigned descriptorLimit,
                             const std::vector<std::string>& extraArgs)
    : child_(limitedArgv(root, descriptorLimit, extraArgs)) {
  const auto deadline = Clock::now() + 10s;
  for (;;) {
    port_ = listeningPort(child_.err());
    if (port_ != 0) return;
    if (const auto status = child_.wait(0ms)) {
      throw std::runtime_error("prlimit/epserve exited with " + std::to_string(*status) +
                               " before listening; stderr:\n" + child_.err());
    }
    if (Clock::now() >= deadline) {
      throw std::runtime_error("no 'listening on' line within 10 s; stderr:\n" + child_.err());
    }
    std::this_thread::sleep_for(20ms);
  }
}

}  // namespace epserve::e2e::abuse
