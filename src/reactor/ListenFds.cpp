// The sd_listen_fds(3) protocol without libsystemd: see ListenFds.h.
#include "reactor/ListenFds.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>

namespace epserve::reactor {

namespace {

constexpr int kFirstFd = 3;  // SD_LISTEN_FDS_START: after stdin, stdout and stderr
// A bound that no unit reaches (each ListenStream= is one fd) and that keeps 3 + n an int.
constexpr long kMaxFds = 4096;

std::optional<long> parseDecimal(const char* text) {
  if (text == nullptr) return std::nullopt;
  std::string_view s(text);
  long value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return value;
}

std::string describe(int fd) { return "inherited fd " + std::to_string(fd); }

int intOption(int fd, int option) {
  int value = 0;
  socklen_t length = sizeof(value);
  if (::getsockopt(fd, SOL_SOCKET, option, &value, &length) != 0) {
    if (errno == ENOTSOCK) throw ListenFdsError(describe(fd) + " is not a socket");
    if (errno == EBADF) throw ListenFdsError(describe(fd) + " is not open");
    throw ListenFdsError(describe(fd) + ": getsockopt: " + std::strerror(errno));
  }
  return value;
}

// What epserve can serve: a TCP socket that is already listening. A datagram or unix socket
// means a unit file written for something else, so say which.
void checkListeningTcp(int fd) {
  if (intOption(fd, SO_TYPE) != SOCK_STREAM) {
    throw ListenFdsError(describe(fd) + " is not a stream socket (ListenStream= in the unit)");
  }
  const int family = intOption(fd, SO_DOMAIN);
  if (family != AF_INET && family != AF_INET6) {
    throw ListenFdsError(describe(fd) + " is not a TCP socket (address family " +
                         std::to_string(family) + "); epserve serves TCP only");
  }
  if (intOption(fd, SO_ACCEPTCONN) == 0) {
    throw ListenFdsError(describe(fd) + " is a socket that is not listening");
  }
}

// The manager may hand over blocking descriptors without FD_CLOEXEC (systemd-socket-activate
// does): the loop needs non-blocking accepts, and nothing we start should hold the port.
void makeNonBlockingCloexec(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0 ||
      ::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
    throw ListenFdsError(describe(fd) + ": fcntl: " + std::strerror(errno));
  }
}

}  // namespace

std::vector<InheritedListener> takeListenFds() {
  const std::optional<long> pid = parseDecimal(::getenv("LISTEN_PID"));
  const char* countText = ::getenv("LISTEN_FDS");
  const char* namesText = ::getenv("LISTEN_FDNAMES");
  const std::string names = namesText != nullptr ? namesText : "";
  const std::optional<long> count = parseDecimal(countText);
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");

  // Variables meant for another process (a parent that did not clear them) describe fds that
  // are not ours to take.
  if (!pid || *pid != static_cast<long>(::getpid())) return {};
  if (countText == nullptr) return {};
  if (!count || *count < 0 || *count > kMaxFds) {
    throw ListenFdsError(std::string("LISTEN_FDS is not a descriptor count: '") + countText + "'");
  }

  std::vector<InheritedListener> listeners;
  listeners.reserve(static_cast<std::size_t>(*count));
  // Own every fd first, so each is closed if a later one turns out to be unusable.
  for (int i = 0; i < static_cast<int>(*count); ++i) listeners.push_back({Fd(kFirstFd + i), ""});
  std::size_t start = 0;
  for (auto& listener : listeners) {
    if (start > names.size()) break;
    std::size_t end = names.find(':', start);
    if (end == std::string::npos) end = names.size();
    listener.name = names.substr(start, end - start);
    start = end + 1;
  }
  for (auto& listener : listeners) {
    checkListeningTcp(listener.fd.get());
    makeNonBlockingCloexec(listener.fd.get());
  }
  return listeners;
}

}  // namespace epserve::reactor
