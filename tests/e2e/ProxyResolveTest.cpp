// End-to-end tests of upstream host names: epserve asks the test DNS server (--resolver) and
// follows its answers: a changed address within the resolve interval, at once after a refused
// connect, a name that only appears after start-up, and a slow or silent name server that
// never holds up anything else.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "Client.h"
#include "DnsTestServer.h"
#include "ServerProcess.h"
#include "TempRoot.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;
using testing::DnsTestServer;

// An upstream on a chosen loopback address (ScriptedUpstream listens on 127.0.0.1 only): each
// connection gets one "200 OK" whose body is this upstream's name, then a close.
class NamedUpstream {
 public:
  NamedUpstream(std::string name, const std::string& address, std::uint16_t port)
      : name_(std::move(name)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, address.c_str(), &a.sin_addr);
    a.sin_port = htons(port);
    socklen_t len = sizeof(a);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ::close(fd_);
      throw std::runtime_error("cannot listen on " + address + ":" + std::to_string(port));
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~NamedUpstream() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  NamedUpstream(const NamedUpstream&) = delete;
  NamedUpstream& operator=(const NamedUpstream&) = delete;

  std::uint16_t port() const { return port_; }
  int served() const { return served_; }
  // Stops listening but keeps the port bound (Linux: shutdown() of a listener), so connects
  // are refused and no other test can take the port meanwhile.
  void refuse() { ::shutdown(fd_, SHUT_RDWR); }

 private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 10) <= 0 || !(p.revents & POLLIN)) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      timeval tv{2, 0};
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      std::string in;
      char buf[4096];
      for (int i = 0; i < 64 && in.find("\r\n\r\n") == std::string::npos; ++i) {
        ssize_t n = ::recv(c, buf, sizeof(buf), 0);
        if (n <= 0) break;
        in.append(buf, static_cast<std::size_t>(n));
      }
      if (in.find("\r\n\r\n") != std::string::npos) {
        std::string out = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(name_.size()) +
                          "\r\nConnection: close\r\n\r\n" + name_;
        ++served_;  // before the send: a client that has its answer sees the count
        ::send(c, out.data(), out.size(), MSG_NOSIGNAL);
      }
      ::close(c);
    }
  }

  std::string name_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> served_{0};
  std::thread thread_;
};

// Upstream "A" on 127.0.0.1 and "B" on 127.0.0.2, on one port (retried until one is free on both).
struct TwoAddresses {
  std::unique_ptr<NamedUpstream> a, b;
  TwoAddresses() {
    for (int attempt = 0; attempt < 20 && !b; ++attempt) {
      a = std::make_unique<NamedUpstream>("A", "127.0.0.1", 0);
      try {
        b = std::make_unique<NamedUpstream>("B", "127.0.0.2", a->port());
      } catch (const std::runtime_error&) {
        a.reset();
      }
    }
    REQUIRE(b);
  }
  std::uint16_t port() const { return a->port(); }
};

std::vector<std::string> proxyArgs(const DnsTestServer& dns, std::uint16_t port,
                                   const std::string& interval,
                                   std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--proxy", "/app/=http://app.test:" + std::to_string(port),
                                "--resolver", dns.address(), "--proxy-resolve-interval", interval};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::string getApp(std::uint16_t port, int* status = nullptr) {
  Client c(port);
  HttpResponse r = c.request(requestHead("GET", "/app/x"));
  if (status) *status = r.status;
  return r.status == 200 ? r.body : "";
}

// Asks every 100 ms until the body is `want`; false after `bound`.
bool untilBody(std::uint16_t port, const std::string& want, std::chrono::milliseconds bound) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < deadline) {
    if (getApp(port) == want) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

TEST_CASE("proxy dns: a name that moves to another address is followed within the interval") {
  TwoAddresses up;
  DnsTestServer dns;
  dns.set("app.test", {"127.0.0.1"});
  TempRoot files;
  ServerProcess server(files.root(), proxyArgs(dns, up.port(), "1"));
  CHECK(getApp(server.port()) == "A");
  CHECK(getApp(server.port()) == "A");
  dns.set("app.test", {"127.0.0.2"});  // both upstreams stay up: only a new lookup can tell
  CHECK(untilBody(server.port(), "B", 5000ms));
  CHECK(getApp(server.port()) == "B");
  CHECK(server.err().find("app.test is 127.0.0.2:" + std::to_string(up.port())) !=
        std::string::npos);
}

TEST_CASE("proxy dns: a refused connect looks the name up again at once, and follows it") {
  TwoAddresses up;
  DnsTestServer dns;
  dns.set("app.test", {"127.0.0.1"});
  TempRoot files;
  ServerProcess server(files.root(), proxyArgs(dns, up.port(), "600"));
  CHECK(getApp(server.port()) == "A");
  const std::size_t asked = dns.queries("app.test");
  dns.set("app.test", {"127.0.0.2"});
  up.a->refuse();
  REQUIRE_FALSE(canConnect(up.port(), "127.0.0.1"));
  std::this_thread::sleep_for(1100ms);  // past the once-a-second limit since the last lookup
  // Refused: the name is asked again, and the request waits for that answer and goes to B.
  CHECK(getApp(server.port()) == "B");
  CHECK(dns.queries("app.test") > asked);
  CHECK(getApp(server.port()) == "B");  // long before the 600 s interval
}

TEST_CASE("proxy dns: a name that does not resolve at start-up is 502 until it appears") {
  NamedUpstream a("A", "127.0.0.1", 0);
  DnsTestServer dns;  // app.test: NXDOMAIN
  TempRoot files;
  ServerProcess server(files.root(), proxyArgs(dns, a.port(), "30"));
  int status = 0;
  CHECK(getApp(server.port(), &status).empty());
  CHECK(status == 502);
  CHECK(server.err().find("cannot resolve app.test") != std::string::npos);
  dns.set("app.test", {"127.0.0.1"});
  CHECK(untilBody(server.port(), "A", 5000ms));  // retried on use, at most once a second
}

TEST_CASE("proxy dns: a slow name server holds up only the requests that need its answer") {
  NamedUpstream a("A", "127.0.0.1", 0);
  DnsTestServer dns;
  dns.set("app.test", {"127.0.0.1"});
  dns.setDelay(1500ms);
  TempRoot files;
  ServerProcess server(files.root(), proxyArgs(dns, a.port(), "30"));
  std::vector<Client> waiting;
  for (int i = 0; i < 20; ++i) {
    waiting.emplace_back(server.port());
    waiting.back().send(requestHead("GET", "/app/x"));  // each waits for the first answer
  }
  Client other(server.port());
  CHECK(other.request(requestHead("GET", "/index.html")).status == 200);
  CHECK(dns.answers("app.test") == 0);  // served while the lookup was still unanswered
  for (Client& c : waiting) {
    HttpResponse r = c.readResponse();
    CHECK(r.status == 200);
    CHECK(r.body == "A");
  }
  CHECK(a.served() == 20);
}

TEST_CASE("proxy dns: a request waits for a silent name server only as long as a connect") {
  NamedUpstream a("A", "127.0.0.1", 0);
  DnsTestServer dns;
  dns.setSilent(true);
  TempRoot files;
  ServerProcess server(files.root(),
                       proxyArgs(dns, a.port(), "30", {"--proxy-connect-timeout", "0.5"}));
  int status = 0;
  getApp(server.port(), &status);
  CHECK(status == 504);
  Client other(server.port());
  CHECK(other.request(requestHead("GET", "/index.html")).status == 200);
  CHECK(a.served() == 0);
}

TEST_CASE("proxy dns: a bad --resolver value is refused at start-up") {
  ExitResult r = ServerProcess::run({"--resolver", "ns.example", "-p", "0"}, 5000ms);
  CHECK(r.status == 2);
  CHECK(r.err.find("--resolver") != std::string::npos);
}

}  // namespace
}  // namespace epserve::e2e
