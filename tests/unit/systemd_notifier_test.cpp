// Unit tests for reactor/SystemdNotifier (sd_notify) and the environment handling of
// reactor/ListenFds: a datagram socket bound here plays the service manager.
#include <doctest/doctest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

#include "reactor/Fd.h"
#include "reactor/ListenFds.h"
#include "reactor/SystemdNotifier.h"

using epserve::reactor::Fd;
using epserve::reactor::SystemdNotifier;

namespace {

// A bound unix datagram socket: `name` is a path, or "@name" for the abstract namespace.
Fd bindManager(const std::string& name) {
  Fd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  REQUIRE(fd);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  REQUIRE(name.size() < sizeof(addr.sun_path));
  std::memcpy(addr.sun_path, name.data(), name.size());
  const bool abstract = name.front() == '@';
  if (abstract) addr.sun_path[0] = '\0';
  auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() +
                                       (abstract ? 0 : 1));
  REQUIRE(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), length) == 0);
  return fd;
}

// One datagram, waiting at most 2 s; "" if none came.
std::string receive(const Fd& fd) {
  pollfd p{fd.get(), POLLIN, 0};
  if (::poll(&p, 1, 2000) != 1) return "";
  char buf[512];
  ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
}

std::string uniqueName(const char* what) {
  return std::string("epserve-unit-") + what + "-" + std::to_string(::getpid());
}

}  // namespace

TEST_CASE("systemd notifier: READY=1 reaches a path NOTIFY_SOCKET, which is then unset") {
  const std::string path = "/tmp/" + uniqueName("notify") + ".sock";
  ::unlink(path.c_str());
  Fd manager = bindManager(path);
  REQUIRE(::setenv("NOTIFY_SOCKET", path.c_str(), 1) == 0);
  const SystemdNotifier notifier = SystemdNotifier::fromEnvironment();
  CHECK(::getenv("NOTIFY_SOCKET") == nullptr);
  REQUIRE(notifier.active());
  notifier.notify("READY=1\nSTATUS=serving");
  CHECK(receive(manager) == "READY=1\nSTATUS=serving");
  notifier.notify("STOPPING=1");
  CHECK(receive(manager) == "STOPPING=1");
  ::unlink(path.c_str());
}

TEST_CASE("systemd notifier: an abstract @name works, with its exact length") {
  const std::string name = "@" + uniqueName("abstract");
  Fd manager = bindManager(name);
  REQUIRE(::setenv("NOTIFY_SOCKET", name.c_str(), 1) == 0);
  const SystemdNotifier notifier = SystemdNotifier::fromEnvironment();
  REQUIRE(notifier.active());
  notifier.notify("READY=1");
  CHECK(receive(manager) == "READY=1");
}

TEST_CASE("systemd notifier: unset, relative or gone: inactive or silent, never fatal") {
  ::unsetenv("NOTIFY_SOCKET");
  CHECK_FALSE(SystemdNotifier::fromEnvironment().active());
  REQUIRE(::setenv("NOTIFY_SOCKET", "relative.sock", 1) == 0);
  CHECK_FALSE(SystemdNotifier::fromEnvironment().active());
  // A manager that went away: the send fails (ECONNREFUSED/ENOENT), is logged, and returns.
  REQUIRE(::setenv("NOTIFY_SOCKET", "/nonexistent/epserve-notify.sock", 1) == 0);
  const SystemdNotifier gone = SystemdNotifier::fromEnvironment();
  CHECK(gone.active());
  gone.notify("READY=1");
}

TEST_CASE("listen fds: variables for another PID, or no LISTEN_FDS, take nothing and are unset") {
  // Only the paths that leave fds alone: the test binary's own fd 3 is not ours to take.
  const std::string other = std::to_string(::getpid() + 1);
  const std::string self = std::to_string(::getpid());
  struct Case {
    const char* pid;
    const char* fds;
  } cases[] = {{other.c_str(), "1"}, {nullptr, "1"}, {"junk", "1"}, {self.c_str(), nullptr},
               {self.c_str(), "0"}};
  for (const Case& c : cases) {
    CAPTURE(c.pid ? c.pid : "(unset)");
    CAPTURE(c.fds ? c.fds : "(unset)");
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    if (c.pid) ::setenv("LISTEN_PID", c.pid, 1);
    if (c.fds) ::setenv("LISTEN_FDS", c.fds, 1);
    ::setenv("LISTEN_FDNAMES", "http", 1);
    CHECK(epserve::reactor::takeListenFds().empty());
    CHECK(::getenv("LISTEN_PID") == nullptr);
    CHECK(::getenv("LISTEN_FDS") == nullptr);
    CHECK(::getenv("LISTEN_FDNAMES") == nullptr);
  }
}

TEST_CASE("listen fds: a LISTEN_FDS for this PID that is not a count is an error") {
  const std::string self = std::to_string(::getpid());
  for (const char* bad : {"two", "-1", "1x", "", "99999"}) {
    CAPTURE(bad);
    ::setenv("LISTEN_PID", self.c_str(), 1);
    ::setenv("LISTEN_FDS", bad, 1);
    CHECK_THROWS_AS(epserve::reactor::takeListenFds(), epserve::reactor::ListenFdsError);
    CHECK(::getenv("LISTEN_FDS") == nullptr);
  }
}
