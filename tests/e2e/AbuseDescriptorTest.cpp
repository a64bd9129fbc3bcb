// Descriptor exhaustion: a server limited to 256 descriptors facing 1000 concurrent requests
// must shed what it cannot hold, not crash and not spin, and serve normally afterwards.
#include <doctest/doctest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <vector>

#include "AbuseSupport.h"
#include "Client.h"
#include "TempRoot.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;
using abuse::Clock;
using abuse::Socket;

constexpr unsigned kServerDescriptors = 256;
constexpr std::size_t kFlood = 1000;

struct FloodClient {
  Socket socket;
  std::string received;
  bool connectFailed = false;
  bool ended = false;  // EOF or reset seen
  bool reset = false;
};

enum class Outcome { Served, Shed, Pending, Other };

Outcome outcomeOf(const FloodClient& c, const std::string& expectedBody) {
  if (c.connectFailed) return Outcome::Shed;
  if (c.received.empty()) return c.ended ? Outcome::Shed : Outcome::Pending;
  HttpResponse response;
  try {
    const auto head = abuse::parseHead(c.received, response);
    if (!head) return c.ended ? Outcome::Other : Outcome::Pending;
    if (c.received.size() - *head < expectedBody.size()) {
      return c.ended ? Outcome::Other : Outcome::Pending;
    }
    const bool ok = response.status == 200 && c.received.substr(*head) == expectedBody;
    return ok ? Outcome::Served : Outcome::Other;
  } catch (const std::exception&) {
    return Outcome::Other;
  }
}

// Reads whatever is ready on every open flood connection for up to `bound`.
void pump(std::vector<FloodClient>& clients, std::chrono::milliseconds bound) {
  const auto deadline = Clock::now() + bound;
  std::vector<pollfd> watched;
  std::vector<FloodClient*> owner;
  while (Clock::now() < deadline) {
    watched.clear();
    owner.clear();
    for (FloodClient& c : clients) {
      if (c.socket.valid() && !c.ended) {
        watched.push_back(pollfd{c.socket.fd(), POLLIN, 0});
        owner.push_back(&c);
      }
    }
    if (watched.empty()) return;
    if (::poll(watched.data(), watched.size(), 20) <= 0) continue;
    for (std::size_t k = 0; k < watched.size(); ++k) {
      if (watched[k].revents == 0) continue;
      FloodClient& c = *owner[k];
      char chunk[8192];
      for (;;) {
        const ssize_t n = ::recv(c.socket.fd(), chunk, sizeof chunk, 0);
        if (n > 0) {
          c.received.append(chunk, static_cast<std::size_t>(n));
          continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
        c.ended = true;
        c.reset = n < 0;
        break;
      }
    }
  }
}

TEST_CASE("abuse: 1000 connections against a 256-descriptor server are shed without spinning") {
  REQUIRE(abuse::raiseDescriptorLimit() >= kFlood + 64);
  if (!std::filesystem::exists("/usr/bin/prlimit")) {
    FAIL("/usr/bin/prlimit (util-linux) is needed to start the server with a descriptor limit");
  }
  TempRoot files;
  // Long timeouts: the flood's connections must be held by the server, not expired, while the
  // CPU is measured.
  abuse::LimitedServer server(files.root().string(), kServerDescriptors,
                              {"--keepalive-timeout", "60", "--header-timeout", "60",
                               "--access-log", "off"});
  const pid_t pid = server.pid();
  const std::string index = files.readFile("index.html");
  const std::string request = requestHead("GET", "/index.html");
  {
    Client warm(server.port());
    REQUIRE(warm.request(request).status == 200);
  }
  const std::size_t baseFds = abuse::settledDescriptors(pid, 3s);
  // The server runs with the limit it was given and says that it cannot hold 10000 connections.
  CHECK(server.err().find("descriptor limit 256 is below --max-connections") !=
        std::string::npos);

  // The flood: 1000 connections, each sends its request at once and then waits.
  std::vector<FloodClient> clients(kFlood);
  const double cpuStart = abuse::cpuSeconds(pid);
  const auto floodStart = Clock::now();
  for (FloodClient& c : clients) {
    c.socket = Socket::connect(server.port());
    if (!c.socket.valid()) {
      c.connectFailed = true;  // refused or reset during the handshake: shed
      continue;
    }
    c.socket.setNonBlocking();
    if (::send(c.socket.fd(), request.data(), request.size(), MSG_NOSIGNAL) < 0) c.ended = true;
  }
  // Every client learns its fate: a response, or a close without one.
  std::size_t pending = kFlood;
  const auto settleDeadline = Clock::now() + 20s;
  while (Clock::now() < settleDeadline) {
    pump(clients, 200ms);
    pending = 0;
    for (const FloodClient& c : clients) pending += outcomeOf(c, index) == Outcome::Pending;
    if (pending == 0) break;
  }
  const double floodWall = abuse::millisSince(floodStart) / 1000.0;
  const double floodCpu = abuse::cpuSeconds(pid) - cpuStart;

  // Holding: the served connections stay open (keep-alive), the server is at its limit.
  const std::size_t heldFds = abuse::openDescriptors(pid);
  const double holdCpuStart = abuse::cpuSeconds(pid);
  const auto holdStart = Clock::now();
  pump(clients, 3s);
  const double holdWall = abuse::millisSince(holdStart) / 1000.0;
  const double holdCpu = abuse::cpuSeconds(pid) - holdCpuStart;
  // At the limit, a newcomer is shed at once (closed without an answer), not left queued.
  const auto probeStart = Clock::now();
  Socket probe = Socket::connect(server.port());
  Socket::Drained shedProbe;
  if (probe.valid() && probe.sendAll(request)) shedProbe = probe.readToEnd(5s);
  const double probeMs = abuse::millisSince(probeStart);

  std::size_t served = 0;
  std::size_t shed = 0;
  std::size_t other = 0;
  std::size_t refused = 0;
  for (const FloodClient& c : clients) {
    switch (outcomeOf(c, index)) {
      case Outcome::Served: ++served; break;
      case Outcome::Shed: ++shed; break;
      case Outcome::Other: ++other; break;
      case Outcome::Pending: break;
    }
    refused += c.connectFailed;
  }
  MESSAGE("fd exhaustion (limit " << kServerDescriptors << "): " << served << " served, " << shed
          << " shed (" << refused << " at connect), " << other << " other, " << pending
          << " pending; server fds " << baseFds << " -> " << heldFds << "; CPU "
          << floodCpu << " s over the " << floodWall << " s flood, " << holdCpu << " s over a "
          << holdWall << " s hold (" << 100.0 * holdCpu / holdWall << "%)");
  MESSAGE("a newcomer at the limit got " << shedProbe.bytes.size() << " bytes and was "
          << std::string(shedProbe.timedOut ? "left waiting" : shedProbe.reset ? "reset" : "closed")
          << " after " << probeMs << " ms");
  CHECK(shedProbe.bytes.empty());
  CHECK_FALSE(shedProbe.timedOut);
  CHECK(probeMs < 1000.0);
  CHECK(pending == 0);
  CHECK(other == 0);           // nobody got a wrong or partial answer
  CHECK(served + shed == kFlood);
  CHECK(served >= 100);        // it served as many as its descriptors allow...
  CHECK(served < kFlood);      // ...and could not have served them all
  CHECK(heldFds + 8 >= kServerDescriptors);  // it used what it had before shedding
  CHECK(holdCpu < 0.5 * holdWall);  // holding connections at the limit is not a busy loop
  CHECK_FALSE(server.waitExit(0ms).has_value());

  // The flood ends: every connection closes, the server returns to its baseline and serves.
  clients.clear();
  CHECK(abuse::eventually([&] { return abuse::openDescriptors(pid) <= baseFds; }, 10s, 50ms));
  const auto start = Clock::now();
  Client after(server.port());
  const HttpResponse response = after.request(request);
  const double afterMs = abuse::millisSince(start);
  CHECK(response.status == 200);
  CHECK(response.body == index);
  CHECK(afterMs < 200.0);
  CHECK_FALSE(server.waitExit(0ms).has_value());
  CHECK_FALSE(abuse::sanitizerReported(server.err()));
}

}  // namespace
}  // namespace epserve::e2e
