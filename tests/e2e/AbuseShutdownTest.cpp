// Graceful shutdown under load: SIGTERM while 200 clients download a 4 MiB file in a loop.
// Every response already started must complete byte for byte; new connections must fail.
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>
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

constexpr std::size_t kDownloaders = 200;
constexpr std::size_t kFileSize = 4u << 20;

// One downloader: sends GET, checks the response as it streams in, sends the next GET.
struct Downloader {
  Socket socket;
  std::string head;          // response head bytes so far (this response)
  std::size_t bodyGot = 0;   // body bytes checked so far (this response)
  bool inBody = false;
  std::size_t completed = 0;
  std::size_t completedAfterSignal = 0;
  bool startedAtSignal = false;  // a response had begun arriving when SIGTERM was sent
  bool ended = false;
  bool reset = false;
  std::string failure;  // first framing or content error

  bool responseStarted() const { return inBody || !head.empty(); }
};

class DownloadLoad {
 public:
  DownloadLoad(std::uint16_t port, const std::string& expected)
      : expected_(expected), request_(requestHead("GET", "/four.bin")), clients_(kDownloaders) {
    for (Downloader& d : clients_) {
      d.socket = Socket::connect(port);
      REQUIRE(d.socket.valid());
      d.socket.setNonBlocking();
      REQUIRE(::send(d.socket.fd(), request_.data(), request_.size(), MSG_NOSIGNAL) ==
              static_cast<ssize_t>(request_.size()));
    }
  }

  // Runs the loop until `until` or until every connection has ended.
  void run(Clock::time_point until) {
    std::vector<pollfd> watched;
    std::vector<Downloader*> owner;
    while (Clock::now() < until) {
      watched.clear();
      owner.clear();
      for (Downloader& d : clients_) {
        if (d.ended) continue;
        watched.push_back(pollfd{d.socket.fd(), POLLIN, 0});
        owner.push_back(&d);
      }
      if (watched.empty()) return;
      if (::poll(watched.data(), watched.size(), 10) <= 0) continue;
      for (std::size_t k = 0; k < watched.size(); ++k) {
        if (watched[k].revents != 0) receive(*owner[k]);
      }
    }
  }

  void markSignal() {
    signalled_ = true;
    for (Downloader& d : clients_) d.startedAtSignal = !d.ended && d.responseStarted();
  }
  std::vector<Downloader>& clients() { return clients_; }

 private:
  void receive(Downloader& d) {
    for (;;) {
      const ssize_t n = ::recv(d.socket.fd(), buffer_, sizeof buffer_, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        d.ended = true;
        d.reset = n < 0;
        d.socket.close();
        return;
      }
      if (n < 0) return;
      consume(d, std::string_view(buffer_, static_cast<std::size_t>(n)));
    }
  }

  void consume(Downloader& d, std::string_view bytes) {
    while (!bytes.empty()) {
      if (!d.inBody) {
        const std::size_t before = d.head.size();
        d.head.append(bytes);
        HttpResponse response;
        std::optional<std::size_t> headLength;
        try {
          headLength = abuse::parseHead(d.head, response);
        } catch (const std::exception& e) {
          fail(d, e.what());
          return;
        }
        if (!headLength) return;
        if (response.status != 200 ||
            response.header("Content-Length") != std::to_string(expected_.size())) {
          fail(d, "unexpected head: " + d.head.substr(0, *headLength));
          return;
        }
        bytes.remove_prefix(*headLength - before);
        d.head.clear();
        d.inBody = true;
        d.bodyGot = 0;
        continue;
      }
      const std::size_t take = std::min(bytes.size(), expected_.size() - d.bodyGot);
      if (std::memcmp(bytes.data(), expected_.data() + d.bodyGot, take) != 0) {
        fail(d, "body bytes differ near offset " + std::to_string(d.bodyGot));
        return;
      }
      d.bodyGot += take;
      bytes.remove_prefix(take);
      if (d.bodyGot == expected_.size()) {
        d.inBody = false;
        ++d.completed;
        if (signalled_) ++d.completedAfterSignal;
        // The next download on the same connection; the server may be closing it by now.
        ::send(d.socket.fd(), request_.data(), request_.size(), MSG_NOSIGNAL);
      }
    }
  }

  void fail(Downloader& d, const std::string& why) {
    if (d.failure.empty()) d.failure = why;
    d.ended = true;
    d.socket.close();
  }

  const std::string& expected_;
  const std::string request_;
  std::vector<Downloader> clients_;
  bool signalled_ = false;
  char buffer_[256 * 1024];
};

// What a connection attempted after shutdown began got: refused, closed or reset without one
// response byte (acceptable), or an answer (not).
bool newConnectionServed(std::uint16_t port) {
  Socket s = Socket::connect(port);
  if (!s.valid()) return false;  // ECONNREFUSED: the listening socket is gone
  if (!s.sendAll(requestHead("GET", "/index.html"))) return false;
  const Socket::Drained drained = s.readToEnd(3s);
  return !drained.bytes.empty();
}

TEST_CASE("abuse: SIGTERM under 200 busy downloads finishes every started response and exits 0") {
  REQUIRE(abuse::raiseDescriptorLimit() >= kDownloaders + 64);
  ServedRoot served({"--access-log", "off"});
  const std::string four = patternBytes(kFileSize);
  served.files.writeFile("four.bin", four);

  auto load = std::make_unique<DownloadLoad>(served.server.port(), four);
  // Under load: run until every connection has finished at least one download.
  const auto loadStart = Clock::now();
  std::size_t warmedUp = 0;
  while (abuse::millisSince(loadStart) < 20000.0) {
    load->run(Clock::now() + 100ms);
    warmedUp = 0;
    for (const Downloader& d : load->clients()) warmedUp += d.completed > 0;
    if (warmedUp == kDownloaders) break;
  }
  REQUIRE(warmedUp == kDownloaders);
  // A little longer, so the connections are spread over every stage of a download when the
  // signal comes (most of them part-way through a body).
  load->run(Clock::now() + 300ms);
  std::size_t before = 0;
  for (const Downloader& d : load->clients()) before += d.completed;

  load->markSignal();
  served.server.signal(SIGTERM);
  const auto signalled = Clock::now();
  // Once the server says shutdown has begun, nobody new gets in; probed from another thread
  // while this one keeps reading (the test client must not be what stalls the drain).
  std::size_t probes = 0;
  std::size_t probesServed = 0;
  std::thread prober([&] {
    const bool stopped = abuse::eventually(
        [&] { return served.server.err().find("stopped accepting") != std::string::npos; }, 3s);
    if (!stopped) return;
    for (int i = 0; i < 5; ++i, ++probes) probesServed += newConnectionServed(served.server.port());
  });
  load->run(signalled + 8s);
  prober.join();
  std::optional<int> status = served.server.waitExit(5000ms);
  const double exitMs = abuse::millisSince(signalled);

  std::size_t startedAtSignal = 0;
  std::size_t finishedAfter = 0;
  std::size_t partial = 0;
  std::size_t failures = 0;
  std::size_t stillOpen = 0;
  for (const Downloader& d : load->clients()) {
    startedAtSignal += d.startedAtSignal;
    finishedAfter += d.completedAfterSignal;
    if (!d.failure.empty()) {
      ++failures;
      if (failures <= 3) MESSAGE("failure: " << d.failure);
    }
    // Ended with a response begun and unfinished: the server cut a started response short.
    if (d.ended && d.responseStarted() && d.failure.empty()) {
      ++partial;
      if (partial <= 3) {
        MESSAGE("cut short: " << d.bodyGot << " of " << kFileSize << " body bytes"
                              << std::string(d.reset ? " (reset)" : " (EOF)"));
      }
    }
    stillOpen += !d.ended;
  }
  MESSAGE("graceful shutdown: " << before << " downloads before SIGTERM; " << startedAtSignal
                                << " responses arriving at SIGTERM, " << finishedAfter
                                << " completed after it; " << partial << " cut short; exit "
                                << (status ? std::to_string(*status) : "none") << " after "
                                << exitMs << " ms");
  CHECK(probes == 5);
  CHECK(probesServed == 0);
  CHECK(startedAtSignal > 0);  // the signal really came during transfers
  CHECK(finishedAfter >= startedAtSignal);
  CHECK(partial == 0);
  CHECK(failures == 0);
  CHECK(stillOpen == 0);
  REQUIRE(status.has_value());
  CHECK(*status == 0);
  CHECK(exitMs < 5000.0);
  CHECK_FALSE(abuse::sanitizerReported(served.server.err()));
}

}  // namespace
}  // namespace epserve::e2e
