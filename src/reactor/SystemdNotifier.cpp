// sd_notify(3) as one non-blocking datagram: see SystemdNotifier.h.
#include "reactor/SystemdNotifier.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

namespace epserve::reactor {

SystemdNotifier SystemdNotifier::fromEnvironment() {
  SystemdNotifier notifier;
  const char* value = ::getenv("NOTIFY_SOCKET");
  if (value == nullptr) return notifier;
  const std::string name(value);
  ::unsetenv("NOTIFY_SOCKET");

  // '@' stands for the leading NUL of an abstract address; its length is then exact, not up
  // to a terminator. Anything else (systemd 253's "vsock:") is not a unix socket we can reach.
  const bool abstract = name.size() > 1 && name.front() == '@';
  if (!(abstract || (name.size() > 1 && name.front() == '/')) ||
      name.size() >= sizeof(notifier.address_.sun_path)) {
    spdlog::warn("NOTIFY_SOCKET '{}' is not a unix socket path or @name: no readiness notices",
                 name);
    return notifier;
  }
  notifier.address_.sun_family = AF_UNIX;
  std::memcpy(notifier.address_.sun_path, name.data(), name.size());
  if (abstract) notifier.address_.sun_path[0] = '\0';
  notifier.addressLength_ =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + (abstract ? 0 : 1));

  notifier.socket_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!notifier.socket_) {
    spdlog::warn("NOTIFY_SOCKET: socket: {}: no readiness notices", std::strerror(errno));
  }
  return notifier;
}

void SystemdNotifier::notify(std::string_view state) const {
  if (!active()) return;
  const auto* to = reinterpret_cast<const sockaddr*>(&address_);
  if (::sendto(socket_.get(), state.data(), state.size(), MSG_NOSIGNAL, to, addressLength_) < 0) {
    spdlog::warn("NOTIFY_SOCKET: sending '{}': {}", state.substr(0, state.find('\n')),
                 std::strerror(errno));
  }
}

}  // namespace epserve::reactor
