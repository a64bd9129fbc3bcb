// Unit tests for the outbound connect (reactor/Connector) on a real EventLoop over loopback and
// unix sockets. Every loop run is bounded by a guard timer; no traffic leaves the machine.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "reactor/Connector.h"
#include "reactor/EventLoop.h"
#include "reactor/Fd.h"
#include "reactor/SocketAddress.h"
#include "reactor/TimeoutList.h"
#include "reactor/UnixAddress.h"

using epserve::reactor::classifyConnectErrno;
using epserve::reactor::ConnectError;
using epserve::reactor::ConnectHandler;
using epserve::reactor::Connector;
using epserve::reactor::EventLoop;
using epserve::reactor::Fd;
using epserve::reactor::IoHandler;
using epserve::reactor::Millis;
using epserve::reactor::SocketAddress;
using epserve::reactor::TimeoutHandler;
using epserve::reactor::TimeoutList;
using epserve::reactor::Timer;
using epserve::reactor::UnixAddress;

namespace {

// A loop with the connect-deadline list and a guard list that stops any run after a bound.
struct Rig {
  explicit Rig(Millis connectTimeout = 2000, Millis guard = 3000)
      : deadlines(connectTimeout), guardList(guard) {
    loop.addTimeoutList(&deadlines);
    loop.addTimeoutList(&guardList);
  }

  // Runs the loop until something calls stop() or the guard fires; true if the guard fired.
  bool run() {
    struct Guard : TimeoutHandler {
      explicit Guard(EventLoop& l) : loop(l) {}
      void onTimeout() override {
        fired = true;
        loop.stop();
      }
      EventLoop& loop;
      bool fired = false;
      Timer timer{this};
    } guard(loop);
    loop.updateClock();
    guardList.arm(guard.timer, loop.now());
    loop.run();
    return guard.fired;
  }

  TimeoutList deadlines;
  TimeoutList guardList;
  EventLoop loop;
};

// Records the outcome and stops the loop.
struct Outcome : ConnectHandler {
  explicit Outcome(EventLoop& l) : loop(l) {}
  void onConnected(Connector&, Fd f) override {
    ++calls;
    fd = std::move(f);
    loop.stop();
  }
  void onConnectFailed(Connector&, ConnectError e, int err) override {
    ++calls;
    failed = true;
    error = e;
    errnum = err;
    loop.stop();
  }
  EventLoop& loop;
  int calls = 0;
  bool failed = false;
  Fd fd;
  ConnectError error = ConnectError::Other;
  int errnum = 0;
};

// A plain listener (no TCP_DEFER_ACCEPT, so a handshake alone fills the accept queue); invalid
// if the address family is unavailable.
Fd tcpListener(const char* host, int backlog, SocketAddress& bound) {
  SocketAddress any;
  REQUIRE(SocketAddress::parse(host, 0, any));
  Fd fd(::socket(any.addr.any.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd || ::bind(fd.get(), &any.addr.any, any.length) != 0 ||
      ::listen(fd.get(), backlog) != 0) {
    return Fd();
  }
  bound = SocketAddress::local(fd.get());
  return fd;
}

UnixAddress unixAddress(const std::string& path) {
  UnixAddress a;
  REQUIRE(UnixAddress::parse(path, a));
  return a;
}

const sockaddr* asSockaddr(const UnixAddress& a) {
  return reinterpret_cast<const sockaddr*>(&a.addr);
}

Fd unixListener(const std::string& path, int backlog) {
  UnixAddress address = unixAddress(path);
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  REQUIRE(fd);
  REQUIRE(::bind(fd.get(), asSockaddr(address), address.length) == 0);
  REQUIRE(::listen(fd.get(), backlog) == 0);
  return fd;
}

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/epserve-connector-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string path;
};

int openFds() {
  int n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++n;
  }
  return n;
}

// Fills the accept queue of a listen(fd, 0) TCP listener with handshakes nobody accepts, until a
// connect stays unanswered (its SYN is dropped while the queue is full). The open probes are
// kept in `probes`; false if no connect ever hung (then the kernel does not behave as assumed).
bool fillBacklog(const SocketAddress& to, std::vector<Fd>& probes) {
  for (int i = 0; i < 8; ++i) {
    Fd probe(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    REQUIRE(probe);
    int rc = ::connect(probe.get(), &to.addr.any, to.length);
    REQUIRE((rc == 0 || errno == EINPROGRESS));
    pollfd p{probe.get(), POLLOUT, 0};
    int ready = rc == 0 ? 1 : ::poll(&p, 1, 200);
    probes.push_back(std::move(probe));
    if (ready == 0) return true;
  }
  return false;
}

bool nodelay(const Fd& fd) {
  int v = 0;
  socklen_t len = sizeof(v);
  REQUIRE(::getsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0);
  return v != 0;
}

struct NoEvents : IoHandler {
  void onEvents(std::uint32_t) override {}
};

// The handed-over socket: non-blocking, close-on-exec, and not in the loop's epoll set
// (adding it again would throw EEXIST otherwise).
void checkHandedOver(EventLoop& loop, const Fd& fd) {
  REQUIRE(fd);
  CHECK((::fcntl(fd.get(), F_GETFL) & O_NONBLOCK) != 0);
  CHECK((::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC) != 0);
  NoEvents none;
  CHECK_NOTHROW(loop.add(fd.get(), EPOLLIN, &none));
  loop.remove(fd.get());
}

// Accepts the connection the Connector made and checks that bytes pass both ways.
void checkTalks(const Fd& listener, const Fd& client) {
  pollfd p{listener.get(), POLLIN, 0};
  REQUIRE(::poll(&p, 1, 2000) == 1);
  Fd server(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  REQUIRE(server);
  REQUIRE(::send(client.get(), "ping", 4, MSG_NOSIGNAL) == 4);
  char buf[8] = {};
  pollfd r{server.get(), POLLIN, 0};
  REQUIRE(::poll(&r, 1, 2000) == 1);
  CHECK(::recv(server.get(), buf, sizeof(buf), 0) == 4);
  CHECK(std::string(buf, 4) == "ping");
}

// In a forked child running as nobody (root bypasses socket file permissions): connects to
// `to` and exits with 1 on success, 10 + the ConnectError on failure, 2 if the guard fired,
// 77 if privileges could not be dropped.
int connectAsNobody(const UnixAddress& to) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) {
      ::_exit(77);
    }
    int code = 2;
    {
      Rig rig;
      Outcome out(rig.loop);
      Connector c(rig.loop, rig.deadlines);
      c.start(to, out);
      if (!rig.run()) code = out.failed ? 10 + static_cast<int>(out.error) : 1;
    }
    ::_exit(code);  // no atexit handlers, no doctest reporting from the child
  }
  int status = 0;
  for (int i = 0; i < 100; ++i) {  // the child's own guard ends it within ~3 s
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    ::usleep(50'000);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

}  // namespace

TEST_CASE("connector: errno classification and descriptions") {
  CHECK(classifyConnectErrno(ECONNREFUSED) == ConnectError::Refused);
  CHECK(classifyConnectErrno(ENOENT) == ConnectError::Refused);
  CHECK(classifyConnectErrno(EAGAIN) == ConnectError::Refused);
  CHECK(classifyConnectErrno(ENETUNREACH) == ConnectError::Unreachable);
  CHECK(classifyConnectErrno(EHOSTUNREACH) == ConnectError::Unreachable);
  CHECK(classifyConnectErrno(EADDRNOTAVAIL) == ConnectError::Unreachable);
  CHECK(classifyConnectErrno(ETIMEDOUT) == ConnectError::Timeout);
  CHECK(classifyConnectErrno(EACCES) == ConnectError::Permission);
  CHECK(classifyConnectErrno(EPERM) == ConnectError::Permission);
  CHECK(classifyConnectErrno(EMFILE) == ConnectError::Other);
  CHECK(classifyConnectErrno(0) == ConnectError::Other);
  CHECK(std::string(describe(ConnectError::Refused)) == "refused");
  CHECK(std::string(describe(ConnectError::Unreachable)) == "unreachable");
  CHECK(std::string(describe(ConnectError::Timeout)) == "timed out");
  CHECK(std::string(describe(ConnectError::Permission)) == "permission denied");
  CHECK(std::string(describe(ConnectError::Other)) == "failed");
}

TEST_CASE("connector: connects to 127.0.0.1, hands over an unregistered TCP_NODELAY socket") {
  SocketAddress bound;
  Fd listener = tcpListener("127.0.0.1", 16, bound);
  REQUIRE(listener);
  Rig rig;
  Outcome out(rig.loop);
  Connector c(rig.loop, rig.deadlines);
  c.start(bound, out);
  CHECK(c.connecting());
  CHECK(out.calls == 0);  // never from inside start()
  REQUIRE_FALSE(rig.run());
  REQUIRE(out.calls == 1);
  REQUIRE_FALSE(out.failed);
  CHECK_FALSE(c.connecting());
  CHECK(rig.deadlines.nextDeadline() == -1);  // the deadline was cancelled
  checkHandedOver(rig.loop, out.fd);
  CHECK(nodelay(out.fd));
  checkTalks(listener, out.fd);
}

TEST_CASE("connector: connects to [::1] when the machine has IPv6") {
  SocketAddress bound;
  Fd listener = tcpListener("::1", 16, bound);
  if (!listener) {
    MESSAGE("skipped: no IPv6 loopback here");
    return;
  }
  Rig rig;
  Outcome out(rig.loop);
  Connector c(rig.loop, rig.deadlines);
  c.start(bound, out);
  REQUIRE_FALSE(rig.run());
  REQUIRE(out.calls == 1);
  REQUIRE_FALSE(out.failed);
  CHECK(nodelay(out.fd));
  checkTalks(listener, out.fd);
}

TEST_CASE("connector: a port nobody listens on is refused") {
  // Bound but not listening: the port stays ours, and the kernel answers SYNs with a reset.
  SocketAddress any;
  REQUIRE(SocketAddress::parse("127.0.0.1", 0, any));
  Fd holder(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(::bind(holder.get(), &any.addr.any, any.length) == 0);
  SocketAddress closed = SocketAddress::local(holder.get());
  Rig rig;
  Outcome out(rig.loop);
  Connector c(rig.loop, rig.deadlines);
  c.start(closed, out);
  REQUIRE_FALSE(rig.run());
  REQUIRE(out.calls == 1);
  CHECK(out.failed);
  CHECK(out.error == ConnectError::Refused);
  CHECK(out.errnum == ECONNREFUSED);
  CHECK_FALSE(out.fd);
}

TEST_CASE("connector: connects to a unix socket listener") {
  TempDir dir;
  std::string path = dir.path + "/up.sock";
  Fd listener = unixListener(path, 16);
  Rig rig;
  Outcome out(rig.loop);
  Connector c(rig.loop, rig.deadlines);
  c.start(unixAddress(path), out);
  CHECK(out.calls == 0);  // even an immediate connect is delivered from the loop
  REQUIRE_FALSE(rig.run());
  REQUIRE(out.calls == 1);
  REQUIRE_FALSE(out.failed);
  checkHandedOver(rig.loop, out.fd);
  checkTalks(listener, out.fd);
}

TEST_CASE("connector: a missing unix socket path is refused") {
  TempDir dir;
  Rig rig;
  Outcome out(rig.loop);
  Connector c(rig.loop, rig.deadlines);
  c.start(unixAddress(dir.path + "/nobody-here.sock"), out);
  REQUIRE_FALSE(rig.run());
  REQUIRE(out.calls == 1);
  CHECK(out.error == ConnectError::Refused);
  CHECK(out.errnum == ENOENT);
}

TEST_CASE("connector: a unix listener with a full backlog is refused at once (EAGAIN)") {
  TempDir dir;
  std::string path = dir.path + "/busy.sock";
  Fd listener = unixListener(path, 0);
  UnixAddress to = unixAddress(path);
  std::vector<Fd> queued;
  bool full = false;
  for (int i = 0; i < 16 && !full; ++i) {
    Fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    REQUIRE(s);
    if (::connect(s.get(), asSockaddr(to), to.length) != 0) {
      REQUIRE(errno == EAGAIN);
      full = true;
    }
    queued.push_back(std::move(s));
  }
  REQUIRE(full);
  Rig rig;
  Outcome out(rig.loop);
  Connector c(rig.loop, rig.deadlines);
  c.start(to, out);
  REQUIRE_FALSE(rig.run());
  REQUIRE(out.calls == 1);
  CHECK(out.error == ConnectError::Refused);
  CHECK(out.errnum == EAGAIN);
}

TEST_CASE("connector: a unix socket file the caller may not write is a permission failure") {
  TempDir dir;
  std::string path = dir.path + "/locked.sock";
  Fd listener = unixListener(path, 16);
  REQUIRE(::chmod(path.c_str(), 0) == 0);
  UnixAddress to = unixAddress(path);
  if (::geteuid() != 0) {
    Rig rig;
    Outcome out(rig.loop);
    Connector c(rig.loop, rig.deadlines);
    c.start(to, out);
    REQUIRE_FALSE(rig.run());
    REQUIRE(out.calls == 1);
    CHECK(out.error == ConnectError::Permission);
    CHECK(out.errnum == EACCES);
    return;
  }
  // Root is never denied: connect from a child that dropped to nobody. The directory must be
  // searchable for it; the control run with a writable socket shows the mode is the cause.
  REQUIRE(::chmod(dir.path.c_str(), 0755) == 0);
  int denied = connectAsNobody(to);
  if (denied == 77) {
    MESSAGE("skipped: cannot switch to uid 65534 here, EACCES is covered by the mapping test");
    return;
  }
  CHECK(denied == 10 + static_cast<int>(ConnectError::Permission));
  REQUIRE(::chmod(path.c_str(), 0666) == 0);
  CHECK(connectAsNobody(to) == 1);
}

TEST_CASE("connector: the deadline reports Timeout while the handshake goes unanswered") {
  // A TCP listener's full accept queue makes the kernel drop new SYNs: the connect sits in
  // SYN-SENT (the first retransmission is a second away), so our 100 ms deadline must win.
  SocketAddress bound;
  Fd listener = tcpListener("127.0.0.1", 0, bound);
  REQUIRE(listener);
  std::vector<Fd> probes;
  REQUIRE(fillBacklog(bound, probes));
  Rig rig(100);
  Outcome out(rig.loop);
  Connector c(rig.loop, rig.deadlines);
  rig.loop.updateClock();
  Millis started = rig.loop.now();
  c.start(bound, out);
  REQUIRE(c.connecting());
  REQUIRE_FALSE(rig.run());
  REQUIRE(out.calls == 1);
  CHECK(out.error == ConnectError::Timeout);
  CHECK(out.errnum == ETIMEDOUT);
  CHECK(rig.loop.now() - started >= 100);
  CHECK_FALSE(c.connecting());
}

TEST_CASE("connector: cancel and destruction mid-connect close the socket, no callback") {
  SocketAddress bound;
  Fd listener = tcpListener("127.0.0.1", 0, bound);
  REQUIRE(listener);
  std::vector<Fd> probes;
  REQUIRE(fillBacklog(bound, probes));
  Rig rig(50, 200);  // a deadline that would fire within the bounded run, had it survived
  Outcome out(rig.loop);
  int before = openFds();

  SUBCASE("cancel") {
    Connector c(rig.loop, rig.deadlines);
    c.start(bound, out);
    REQUIRE(c.connecting());
    CHECK(openFds() == before + 1);
    c.cancel();
    CHECK_FALSE(c.connecting());
    CHECK(openFds() == before);
    CHECK(rig.deadlines.nextDeadline() == -1);
    CHECK(rig.run());  // only the guard ends it
  }
  SUBCASE("destroy") {
    auto c = std::make_unique<Connector>(rig.loop, rig.deadlines);
    c->start(bound, out);
    CHECK(openFds() == before + 1);
    c.reset();
    CHECK(openFds() == before);
    CHECK(rig.deadlines.nextDeadline() == -1);
    CHECK(rig.run());
  }
  SUBCASE("cancel an outcome already known, waiting to be delivered") {
    TempDir dir;
    std::string path = dir.path + "/up.sock";
    Fd unixSide = unixListener(path, 16);
    int withListener = openFds();
    Connector c(rig.loop, rig.deadlines);
    c.start(unixAddress(path), out);  // connects at once; delivery is posted
    CHECK(openFds() == withListener + 1);
    c.cancel();
    CHECK(openFds() == withListener);
    CHECK(rig.run());
  }
  CHECK(out.calls == 0);
}

TEST_CASE("connector: the handler may restart or destroy its Connector") {
  TempDir dir;
  std::string good = dir.path + "/up.sock";
  Fd listener = unixListener(good, 16);
  Rig rig;

  SUBCASE("restart from a failure") {
    struct Retry : ConnectHandler {
      Retry(EventLoop& l, UnixAddress then) : loop(l), next(then) {}
      void onConnected(Connector&, Fd f) override {
        fd = std::move(f);
        loop.stop();
      }
      void onConnectFailed(Connector& c, ConnectError, int) override {
        ++failures;
        c.start(next, *this);
      }
      EventLoop& loop;
      UnixAddress next;
      int failures = 0;
      Fd fd;
    } retry(rig.loop, unixAddress(good));
    Connector c(rig.loop, rig.deadlines);
    c.start(unixAddress(dir.path + "/missing.sock"), retry);
    REQUIRE_FALSE(rig.run());
    CHECK(retry.failures == 1);
    CHECK(retry.fd);
    CHECK_FALSE(c.connecting());
  }
  SUBCASE("destroy from success") {
    struct Owner : ConnectHandler {
      explicit Owner(EventLoop& l) : loop(l) {}
      void onConnected(Connector&, Fd f) override {
        fd = std::move(f);
        connector.reset();  // ASan would report any use of the Connector after this
        loop.stop();
      }
      void onConnectFailed(Connector&, ConnectError, int) override {
        connector.reset();
        loop.stop();
      }
      EventLoop& loop;
      std::unique_ptr<Connector> connector;
      Fd fd;
    } owner(rig.loop);
    SocketAddress bound;
    Fd tcp = tcpListener("127.0.0.1", 16, bound);
    REQUIRE(tcp);
    owner.connector = std::make_unique<Connector>(rig.loop, rig.deadlines);
    owner.connector->start(bound, owner);
    REQUIRE_FALSE(rig.run());
    CHECK(owner.fd);
    CHECK_FALSE(owner.connector);
  }
}

TEST_CASE("connector: a wakeup left over from an abandoned attempt is ignored") {
  // A handler that runs first in an iteration restarts the Connector, whose old socket is in
  // the same batch of ready events: that stale event must not complete the new attempt.
  SocketAddress quick;
  Fd quickListener = tcpListener("127.0.0.1", 16, quick);
  REQUIRE(quickListener);
  Rig rig(100);
  // Destroys the Connector when it reports: an outcome delivered twice, or delivered while
  // still posted, then shows up as a second call or (under ASan) a use after free.
  struct Destroyer : Outcome {
    using Outcome::Outcome;
    void onConnected(Connector& c, Fd f) override {
      Outcome::onConnected(c, std::move(f));
      owned.reset();
    }
    void onConnectFailed(Connector& c, ConnectError e, int err) override {
      Outcome::onConnectFailed(c, e, err);
      owned.reset();
    }
    std::unique_ptr<Connector> owned;
  } out(rig.loop);
  out.owned = std::make_unique<Connector>(rig.loop, rig.deadlines);
  Connector& c = *out.owned;

  struct Restarter : IoHandler {
    void onEvents(std::uint32_t) override {
      char b;
      (void)::read(fd, &b, 1);
      restart();
    }
    int fd = -1;
    std::function<void()> restart;
  } first;
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
  Fd reader(sv[0]), writer(sv[1]);
  first.fd = reader.get();
  rig.loop.add(reader.get(), EPOLLIN, &first);
  REQUIRE(::write(writer.get(), "x", 1) == 1);  // ready before the connect: dispatched first

  SocketAddress busy;
  Fd busyListener = tcpListener("127.0.0.1", 0, busy);
  REQUIRE(busyListener);
  std::vector<Fd> probes;
  REQUIRE(fillBacklog(busy, probes));
  TempDir dir;
  std::string path = dir.path + "/up.sock";
  Fd unixSide = unixListener(path, 16);

  SUBCASE("restarted into a handshake that will not finish") {
    first.restart = [&] { c.start(busy, out); };
    c.start(quick, out);
    ::usleep(20'000);  // the loopback handshake completes: its EPOLLOUT is in the same batch
    REQUIRE_FALSE(rig.run());
    REQUIRE(out.calls == 1);
    CHECK(out.error == ConnectError::Timeout);
    CHECK_FALSE(out.owned);
  }
  SUBCASE("restarted into an outcome waiting to be delivered") {
    first.restart = [&] { c.start(unixAddress(path), out); };
    c.start(quick, out);
    ::usleep(20'000);
    REQUIRE_FALSE(rig.run());
    REQUIRE(out.calls == 1);
    REQUIRE_FALSE(out.failed);
    CHECK(SocketAddress::local(out.fd.get()).addr.any.sa_family == AF_UNIX);
    CHECK_FALSE(out.owned);
  }
  rig.loop.remove(reader.get());
}
