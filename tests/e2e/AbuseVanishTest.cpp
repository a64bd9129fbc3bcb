// Clients that vanish (reset mid-request, mid-headers, mid-body, mid-download) must leave no
// trace in the server; clients that half-close after their request still get every byte.
#include <doctest/doctest.h>
#include <sys/socket.h>

#include <vector>

#include "AbuseSupport.h"
#include "Client.h"
#include "ServedRoot.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;
using abuse::Clock;
using abuse::Socket;

constexpr std::size_t kBigSize = 64u << 20;
constexpr std::size_t kPerKind = 250;  // x4 kinds = 1000 clients
constexpr std::size_t kBatch = 50;     // connections alive at once

enum class Vanish { MidRequestLine, MidHeaders, MidBody, MidResponse };

const char* nameOf(Vanish kind) {
  switch (kind) {
    case Vanish::MidRequestLine: return "mid-request-line";
    case Vanish::MidHeaders: return "mid-headers";
    case Vanish::MidBody: return "mid-body";
    case Vanish::MidResponse: return "mid-response";
  }
  return "?";
}

std::string partialRequest(Vanish kind) {
  switch (kind) {
    case Vanish::MidRequestLine:
      return "GET /index.ht";
    case Vanish::MidHeaders:
      return "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: vanis";
    case Vanish::MidBody:  // 405 is queued and held until the body ends; the body never does
      return "POST /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n" +
             std::string(1000, 'b');
    case Vanish::MidResponse:
      return requestHead("GET", "/big64.bin");
  }
  return {};
}

// One batch: kBatch clients send their partial bytes, are known to be held by the server, then
// all reset. Returns how many reached the point they were meant to vanish at.
std::size_t vanishBatch(const ServedRoot& served, Vanish kind, std::size_t baseFds) {
  const pid_t pid = served.server.pid();
  // The previous batch is gone from the server first, so the count below sees this batch only.
  if (!abuse::eventually([&] { return abuse::openDescriptors(pid) <= baseFds; }, 5s, 5ms)) {
    return 0;
  }
  std::vector<Socket> batch;
  const std::string bytes = partialRequest(kind);
  for (std::size_t i = 0; i < kBatch; ++i) {
    Socket s = Socket::connect(served.server.port());
    if (!s.valid() || !s.sendAll(bytes)) continue;
    batch.push_back(std::move(s));
  }
  std::size_t reached = 0;
  if (kind == Vanish::MidResponse) {
    // Read the head and a little of the 64 MiB body: the server is in the middle of sending.
    for (Socket& s : batch) {
      std::string got;
      char chunk[16384];
      while (got.size() < 65536) {
        const ssize_t n = ::recv(s.fd(), chunk, sizeof chunk, 0);
        if (n <= 0) break;
        got.append(chunk, static_cast<std::size_t>(n));
      }
      reached += got.rfind("HTTP/1.1 200 ", 0) == 0 && got.size() >= 65536;
    }
  } else {
    // The server reads a connection's bytes as it accepts it (TCP_DEFER_ACCEPT: they came with
    // the handshake), so once it holds a descriptor per client it holds their partial requests.
    if (abuse::eventually([&] { return abuse::openDescriptors(pid) >= baseFds + batch.size(); },
                          5s, 5ms)) {
      reached = batch.size();
    }
  }
  for (Socket& s : batch) s.reset();
  return reached;
}

TEST_CASE("abuse: 1000 clients reset mid-request-line / mid-headers / mid-body / mid-download") {
  REQUIRE(abuse::raiseDescriptorLimit() >= 256);
  ServedRoot served({"--access-log", "off"});
  const std::string big = patternBytes(kBigSize);
  served.files.writeFile("big64.bin", big);
  const pid_t pid = served.server.pid();
  const std::string index = served.files.readFile("index.html");

  // Warm-up, so the baseline includes the cached descriptor of the big file.
  {
    Client warm = served.connect();
    const HttpResponse response = warm.request(requestHead("GET", "/big64.bin"));
    REQUIRE(response.status == 200);
    REQUIRE(response.body.size() == big.size());
  }
  const std::size_t baseFds = abuse::settledDescriptors(pid, 3s);

  std::size_t reachedTotal = 0;
  const auto start = Clock::now();
  for (Vanish kind : {Vanish::MidRequestLine, Vanish::MidHeaders, Vanish::MidBody,
                      Vanish::MidResponse}) {
    std::size_t reached = 0;
    for (std::size_t done = 0; done < kPerKind; done += kBatch) {
      const std::size_t got = vanishBatch(served, kind, baseFds);
      reached += got;
      if (got != kBatch) break;  // it already failed: do not spend minutes failing again
    }
    MESSAGE(std::string(nameOf(kind)) << ": " << reached << " of " << kPerKind
                                      << " clients reset at that point");
    reachedTotal += reached;
    REQUIRE(reached == kPerKind);
  }
  const double vanishMs = abuse::millisSince(start);

  // The server is alive and serves; every descriptor of the vanished clients is closed.
  REQUIRE_FALSE(served.server.waitExit(0ms).has_value());
  {
    Client after = served.connect();
    const HttpResponse response = after.request(requestHead("GET", "/index.html"));
    CHECK(response.status == 200);
    CHECK(response.body == index);
  }
  std::size_t fds = 0;
  const auto settleStart = Clock::now();
  const bool back = abuse::eventually(
      [&] { return (fds = abuse::openDescriptors(pid)) <= baseFds; }, 5s, 20ms);
  MESSAGE(reachedTotal << " vanishing clients in " << vanishMs << " ms; server fds back to "
                       << fds << " (baseline " << baseFds << ") after "
                       << abuse::millisSince(settleStart) << " ms");
  CHECK(back);
  CHECK_FALSE(abuse::sanitizerReported(served.server.err()));
}

TEST_CASE("abuse: half-closed clients still get their full responses") {
  ServedRoot served({"--access-log", "off"});
  const std::string big = patternBytes(kBigSize);
  served.files.writeFile("big64.bin", big);
  const std::string index = served.files.readFile("index.html");
  const std::string readme = served.files.readFile("readme.txt");
  const std::string blob = served.files.readFile("blob.bin");

  struct Case {
    const char* what;
    std::string request;
    std::vector<bool> headFlags;
    std::vector<std::pair<int, const std::string*>> expected;  // status, body (null: none)
  };
  const std::string postHead =
      "POST /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\n\r\n";
  const std::vector<Case> cases = {
      {"small GET", requestHead("GET", "/index.html"), {false}, {{200, &index}}},
      {"64 MiB GET", requestHead("GET", "/big64.bin"), {false}, {{200, &big}}},
      {"three pipelined",
       requestHead("GET", "/readme.txt") + requestHead("HEAD", "/index.html") +
           requestHead("GET", "/blob.bin"),
       {false, true, false},
       {{200, &readme}, {200, nullptr}, {200, &blob}}},
      {"POST with a body (405)", postHead + std::string(5000, 'x'), {false}, {{405, nullptr}}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    Socket s = Socket::connect(served.server.port());
    REQUIRE(s.valid());
    REQUIRE(s.sendAll(c.request));
    s.shutdownWrite();  // "no more requests", not "gone": the responses are still owed
    const Socket::Drained drained = s.readToEnd(20s);
    CHECK_FALSE(drained.timedOut);
    CHECK_FALSE(drained.reset);  // all of it, then an orderly close
    std::vector<HttpResponse> responses;
    REQUIRE_NOTHROW(responses = abuse::splitResponses(drained.bytes, c.headFlags));
    for (std::size_t i = 0; i < responses.size(); ++i) {
      CAPTURE(i);
      CHECK(responses[i].status == c.expected[i].first);
      if (const std::string* body = c.expected[i].second) {
        CHECK(sameBytes(responses[i].body, *body));
      }
    }
  }
  CHECK_FALSE(served.server.waitExit(0ms).has_value());
  CHECK_FALSE(abuse::sanitizerReported(served.server.err()));
}

}  // namespace
}  // namespace epserve::e2e
