// Slowloris: hundreds of connections trickling a request head one byte a second must neither
// delay other clients nor outlive --header-timeout (each gets 408, then the connection closes).
#include <doctest/doctest.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>
#include <vector>

#include "AbuseSupport.h"
#include "Client.h"
#include "ServedRoot.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;
using abuse::Clock;
using abuse::Socket;

constexpr std::size_t kSlowConnections = 500;
// Connections are opened 2 ms apart, so the 500 first bytes (and every later round of bytes)
// are spread over a second instead of arriving as one burst.
constexpr auto kOpenSpacing = 2ms;
constexpr auto kByteInterval = 1s;

// A head far longer than any test lasts at one byte a second, so it never completes.
const std::string kSlowHead =
    "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slowloris\r\nX-Padding: " +
    std::string(200, 'p') + "\r\n\r\n";

struct SlowConnection {
  Socket socket;
  bool connectFailed = false;
  std::size_t sent = 0;
  Clock::time_point firstByte{};
  Clock::time_point nextSend{};
  std::string received;
  std::optional<Clock::time_point> firstReply;  // first byte the server sent
  std::optional<Clock::time_point> closed;      // EOF or reset seen
  bool reset = false;
};

// Drives all slow connections from one thread with poll(): opens them kOpenSpacing apart, sends
// each its next byte every kByteInterval until the server answers, and records what comes back.
class Slowloris {
 public:
  explicit Slowloris(std::uint16_t port) : port_(port), conns_(kSlowConnections) {}
  ~Slowloris() { stop(); }

  void start() {
    thread_ = std::thread([this] { run(); });
  }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Readable once stop() has returned (or while running, only the atomics below).
  const std::vector<SlowConnection>& connections() const { return conns_; }
  std::size_t opened() const { return opened_.load(); }
  std::size_t answered() const { return answered_.load(); }
  std::size_t finished() const { return finished_.load(); }

 private:
  void run() {
    const auto start = Clock::now();
    const auto deadline = start + 30s;  // a hard bound whatever the test does
    std::vector<pollfd> watched;
    std::vector<std::size_t> owner;
    while (!stop_ && Clock::now() < deadline) {
      const auto now = Clock::now();
      // Open the connections that are due; the first byte goes out right away.
      while (next_ < conns_.size() && start + kOpenSpacing * next_ <= now) {
        SlowConnection& c = conns_[next_++];
        c.socket = Socket::connect(port_);
        if (!c.socket.valid()) {
          c.connectFailed = true;
          ++finished_;
        } else {
          c.socket.setNonBlocking();
          sendNext(c, now);
          c.firstByte = now;
        }
        opened_ = next_;
      }
      for (SlowConnection& c : conns_) {
        if (c.socket.valid() && !c.firstReply && c.sent > 0 && c.nextSend <= now) {
          sendNext(c, now);
        }
      }
      watched.clear();
      owner.clear();
      for (std::size_t i = 0; i < next_; ++i) {
        if (!conns_[i].socket.valid()) continue;
        watched.push_back(pollfd{conns_[i].socket.fd(), POLLIN, 0});
        owner.push_back(i);
      }
      if (next_ == conns_.size() && watched.empty()) break;  // everything has ended
      const int ready = ::poll(watched.data(), watched.size(), 5);
      for (int k = 0; ready > 0 && k < static_cast<int>(watched.size()); ++k) {
        if (watched[k].revents != 0) receive(conns_[owner[k]]);
      }
    }
  }

  void sendNext(SlowConnection& c, Clock::time_point now) {
    if (c.sent < kSlowHead.size()) {
      const ssize_t n = ::send(c.socket.fd(), kSlowHead.data() + c.sent, 1, MSG_NOSIGNAL);
      if (n == 1) ++c.sent;
    }
    c.nextSend = now + kByteInterval;
  }

  void receive(SlowConnection& c) {
    char chunk[4096];
    for (;;) {
      const ssize_t n = ::recv(c.socket.fd(), chunk, sizeof chunk, 0);
      if (n > 0) {
        if (!c.firstReply) {
          c.firstReply = Clock::now();
          ++answered_;
        }
        c.received.append(chunk, static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
      c.reset = n < 0;
      c.closed = Clock::now();
      c.socket.close();
      ++finished_;
      return;
    }
  }

  std::uint16_t port_;
  std::vector<SlowConnection> conns_;
  std::size_t next_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> opened_{0};
  std::atomic<std::size_t> answered_{0};
  std::atomic<std::size_t> finished_{0};
  std::thread thread_;
};

TEST_CASE("abuse: slowloris connections do not delay a normal client") {
  REQUIRE(abuse::raiseDescriptorLimit() >= kSlowConnections + 64);
  ServedRoot served;  // default --header-timeout (10 s): longer than this test holds them
  const std::string index = served.files.readFile("index.html");
  const std::size_t baseline = abuse::openDescriptors(served.server.pid());

  Slowloris slow(served.server.port());
  slow.start();
  // TCP_DEFER_ACCEPT hands the server each connection with its first byte: once the server
  // holds a descriptor per slow connection, all of them are being held.
  const bool allHeld = abuse::eventually(
      [&] {
        return slow.opened() == kSlowConnections &&
               abuse::openDescriptors(served.server.pid()) >= baseline + kSlowConnections;
      },
      10s);
  REQUIRE(allHeld);

  // Normal clients, a fresh connection each, while every slow connection trickles its head.
  std::vector<double> latencies;
  for (int i = 0; i < 30; ++i) {
    const auto start = Clock::now();
    Client client = served.connect();
    const HttpResponse response = client.request(requestHead("GET", "/index.html"));
    latencies.push_back(abuse::millisSince(start));
    CHECK(response.status == 200);
    CHECK(response.body == index);
    std::this_thread::sleep_for(100ms);  // pacing: spread the samples over three seconds
  }
  const std::size_t answeredDuring = slow.answered();
  const std::size_t finishedDuring = slow.finished();
  slow.stop();

  std::sort(latencies.begin(), latencies.end());
  const double median = latencies[latencies.size() / 2];
  const double worst = latencies.back();
  MESSAGE("GET latency with " << kSlowConnections << " slowloris connections held: median "
                              << median << " ms, max " << worst << " ms over " << latencies.size()
                              << " requests");
  CHECK(worst < 200.0);
  // The slow connections really were held the whole time: none answered, none closed.
  CHECK(answeredDuring == 0);
  CHECK(finishedDuring == 0);
  CHECK_FALSE(served.server.waitExit(0ms).has_value());
  CHECK_FALSE(abuse::sanitizerReported(served.server.err()));
}

TEST_CASE("abuse: slowloris connections get 408 and are closed by --header-timeout 2") {
  REQUIRE(abuse::raiseDescriptorLimit() >= kSlowConnections + 64);
  ServedRoot served({"--header-timeout", "2"});
  Slowloris slow(served.server.port());
  slow.start();
  // 500 connections opened over one second, each closed ~2 s after its first byte.
  const bool allEnded = abuse::eventually(
      [&] { return slow.opened() == kSlowConnections && slow.finished() == kSlowConnections; },
      15s, 50ms);
  slow.stop();
  CHECK(allEnded);

  std::size_t got408 = 0;
  std::size_t failedConnects = 0;
  double earliest = 1e9;
  double latest = 0;
  std::size_t maxBytesSent = 0;
  for (const SlowConnection& c : slow.connections()) {
    if (c.connectFailed) {
      ++failedConnects;
      continue;
    }
    CAPTURE(c.received);
    REQUIRE(c.firstReply.has_value());
    REQUIRE(c.closed.has_value());
    std::vector<HttpResponse> responses;
    REQUIRE_NOTHROW(responses = abuse::splitResponses(c.received, {false}));
    CHECK(responses[0].status == 408);
    CHECK(responses[0].connectionHas("close"));
    CHECK_FALSE(c.reset);  // a lingering close (FIN), so the 408 cannot be lost to an RST
    got408 += responses[0].status == 408 ? 1 : 0;
    const double answeredAfter =
        std::chrono::duration<double, std::milli>(*c.firstReply - c.firstByte).count();
    const double closedAfter =
        std::chrono::duration<double, std::milli>(*c.closed - c.firstByte).count();
    earliest = std::min(earliest, answeredAfter);
    latest = std::max(latest, closedAfter);
    maxBytesSent = std::max(maxBytesSent, c.sent);
  }
  MESSAGE(got408 << " of " << kSlowConnections << " slow connections got 408; answered "
                 << earliest << " ms at the earliest and closed " << latest
                 << " ms at the latest after their first byte; at most " << maxBytesSent
                 << " head bytes sent");
  CHECK(failedConnects == 0);
  CHECK(got408 == kSlowConnections);
  // The header timer runs from the first byte and is not restarted by later bytes.
  CHECK(earliest >= 1800.0);
  CHECK(latest <= 3500.0);
  CHECK(maxBytesSent <= 4);
  CHECK_FALSE(served.server.waitExit(0ms).has_value());
  CHECK_FALSE(abuse::sanitizerReported(served.server.err()));
}

}  // namespace
}  // namespace epserve::e2e
