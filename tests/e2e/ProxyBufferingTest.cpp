// End-to-end tests of proxy response buffering: a response that outruns its client is spooled
// to an unlinked temporary file, so the upstream is released in seconds while epserve's memory
// stays flat; streaming (--proxy-buffering off, X-Accel-Buffering: no, server-sent events)
// holds the upstream back instead. Bodies are checked byte for byte, never stored.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "AbuseSupport.h"
#include "BulkUpstream.h"
#include "Client.h"
#include "ServerProcess.h"
#include "TempRoot.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
constexpr std::uint64_t kMiB = 1024 * 1024;

// Sizes of the unlinked files the server holds open (its spooled responses).
std::vector<std::uint64_t> deletedFiles(pid_t pid) {
  std::vector<std::uint64_t> sizes;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::string target = std::filesystem::read_symlink(e.path(), ec).string();
    if (ec || target.find("(deleted)") == std::string::npos) continue;
    struct stat st {};
    if (::stat(e.path().c_str(), &st) == 0) sizes.push_back(static_cast<std::uint64_t>(st.st_size));
  }
  return sizes;
}

struct Download {
  std::uint64_t received = 0;
  bool intact = true;
  std::size_t peakRssKiB = 0;
  std::uint64_t peakSpoolBytes = 0;
  bool sawSpoolFile = false;
};

// Reads body bytes at about `bytesPerSecond` (0: as fast as they come) until `stop` holds, the
// body is complete, or `bound` passes; checks every byte and samples the server meanwhile.
template <class Stop>
void readBody(Client& c, pid_t server, std::uint64_t total, std::uint64_t bytesPerSecond,
              Stop stop, std::chrono::milliseconds bound, Download& d) {
  constexpr auto kTick = 10ms;
  const auto start = Clock::now();
  auto sample = [&] {
    d.peakRssKiB = std::max(d.peakRssKiB, abuse::residentKiB(server));
    for (std::uint64_t s : deletedFiles(server)) {
      d.sawSpoolFile = true;
      d.peakSpoolBytes = std::max(d.peakSpoolBytes, s);
    }
  };
  auto nextSample = start;
  while (d.received < total && !stop() && Clock::now() - start < bound) {
    std::size_t want = bytesPerSecond ? static_cast<std::size_t>(bytesPerSecond / 100) : 1 << 20;
    std::string got = c.recvSome(std::min<std::uint64_t>(want, total - d.received));
    if (got.empty()) break;  // closed
    d.intact = d.intact && BulkUpstream::isBody(got, d.received);
    d.received += got.size();
    if (Clock::now() >= nextSample) {
      nextSample = Clock::now() + 100ms;
      sample();
    }
    if (bytesPerSecond) std::this_thread::sleep_for(kTick);
  }
  // Once more at the end: an upstream that finished between two samples (a fast run) has its
  // spool file open now, and a loop that stopped on `stop` would otherwise never see it.
  sample();
}

struct BulkProxy {
  BulkUpstream upstream;
  TempRoot files;
  ServerProcess server;
  std::size_t idleRssKiB;

  BulkProxy(BulkUpstream::Options o, std::vector<std::string> args)
      : upstream(std::move(o)),
        files(),
        server(files.root(), withProxy(std::move(args), upstream.port())),
        idleRssKiB(abuse::residentKiB(server.pid())) {}

  static std::vector<std::string> withProxy(std::vector<std::string> args, std::uint16_t port) {
    args.push_back("--proxy");
    args.push_back("/big/=http://127.0.0.1:" + std::to_string(port));
    return args;
  }

  // A client with a small receive buffer, its request sent and the response head read.
  Client get(std::uint64_t expectLength, HttpResponse* head = nullptr) const {
    Client c(server.port(), "127.0.0.1", 64 * 1024);
    c.send(requestHead("GET", "/big/file"));
    HttpResponse h = c.readHead();
    CHECK(h.status == 200);
    CHECK(h.header("Content-Length") == std::to_string(expectLength));
    if (head) *head = h;
    return c;
  }
};

// ASan's shadow memory and allocator caches move RSS by a few MiB on their own.
constexpr std::size_t kRssSlackKiB = 48 * 1024;

TEST_CASE("proxy: a 1 GiB response to a 5 MiB/s client is spooled: the upstream is done in "
          "seconds, RSS stays flat, no temporary file is left") {
  BulkUpstream::Options o;
  o.bodyBytes = 1ULL << 30;
  BulkProxy p(o, {});
  Client c = p.get(o.bodyBytes);
  Download d;
  readBody(c, p.server.pid(), o.bodyBytes, 5 * kMiB, [&] { return p.upstream.done(); }, 60s, d);
  CHECK(p.upstream.done());
  CHECK(d.received < o.bodyBytes / 4);  // the client is still far behind
  CHECK(d.sawSpoolFile);
  CHECK(d.intact);
  readBody(c, p.server.pid(), o.bodyBytes, 0, [] { return false; }, 100s, d);
  CHECK(d.received == o.bodyBytes);
  CHECK(d.intact);
  CHECK(d.peakRssKiB < p.idleRssKiB + kRssSlackKiB);
  MESSAGE("idle RSS " << p.idleRssKiB << " KiB, peak " << d.peakRssKiB << " KiB, spool file peak "
                      << d.peakSpoolBytes / kMiB << " MiB");
  CHECK(abuse::eventually([&] { return deletedFiles(p.server.pid()).empty(); }, 5s));
  // The connection is still good for the next request.
  c.send(requestHead("GET", "/", ""));
  CHECK(c.readResponse().status == 200);
}

TEST_CASE("proxy: with --proxy-buffering off a slow client holds the upstream back, RSS flat, "
          "no temporary file") {
  BulkUpstream::Options o;
  o.bodyBytes = 1ULL << 30;
  BulkProxy p(o, {"--proxy-buffering", "off"});
  Client c = p.get(o.bodyBytes);
  Download d;
  readBody(c, p.server.pid(), o.bodyBytes, 5 * kMiB, [] { return false; }, 2s, d);
  CHECK_FALSE(p.upstream.done());
  // What the client read, plus socket buffers and epserve's 64 KiB high-water mark.
  CHECK(p.upstream.written() < d.received + 32 * kMiB);
  readBody(c, p.server.pid(), o.bodyBytes, 0, [] { return false; }, 100s, d);
  CHECK(d.received == o.bodyBytes);
  CHECK(d.intact);
  CHECK_FALSE(d.sawSpoolFile);
  CHECK(d.peakRssKiB < p.idleRssKiB + kRssSlackKiB);
  MESSAGE("idle RSS " << p.idleRssKiB << " KiB, peak " << d.peakRssKiB << " KiB");
}

TEST_CASE("proxy: the upstream's X-Accel-Buffering and server-sent events choose streaming") {
  constexpr std::uint64_t kBody = 128 * kMiB;
  struct Case {
    const char* name;
    const char* header;
    std::vector<std::string> args;
    bool spooled;
  };
  const Case cases[] = {
      {"X-Accel-Buffering: no", "X-Accel-Buffering: no\r\n", {}, false},
      {"text/event-stream", "Content-Type: text/event-stream; charset=utf-8\r\n", {}, false},
      {"X-Accel-Buffering: yes with --proxy-buffering off", "X-Accel-Buffering: yes\r\n",
       {"--proxy-buffering", "off"}, true},
  };
  for (const Case& k : cases) {
    SUBCASE(k.name) {
      BulkUpstream::Options o;
      o.bodyBytes = kBody;
      o.extraHeaders = k.header;
      BulkProxy p(o, k.args);
      HttpResponse head;
      Client c = p.get(kBody, &head);
      CHECK_FALSE(head.has("X-Accel-Buffering"));  // a word to the proxy, not the client
      Download d;
      readBody(c, p.server.pid(), kBody, 5 * kMiB, [&] { return p.upstream.done(); }, 3s, d);
      CHECK(p.upstream.done() == k.spooled);
      CHECK(d.sawSpoolFile == k.spooled);
      readBody(c, p.server.pid(), kBody, 0, [] { return false; }, 60s, d);
      CHECK(d.received == kBody);
      CHECK(d.intact);
    }
  }
}

TEST_CASE("proxy: --proxy-max-temp-file bounds the spool file, beyond it the upstream waits") {
  constexpr std::uint64_t kBody = 128 * kMiB;
  constexpr std::uint64_t kMaxFile = 8 * kMiB;
  BulkUpstream::Options o;
  o.bodyBytes = kBody;
  BulkProxy p(o, {"--proxy-max-temp-file", std::to_string(kMaxFile)});
  Client c = p.get(kBody);
  Download d;
  readBody(c, p.server.pid(), kBody, 5 * kMiB, [] { return false; }, 2s, d);
  CHECK_FALSE(p.upstream.done());
  CHECK(d.sawSpoolFile);
  CHECK(p.upstream.written() < d.received + kMaxFile + 32 * kMiB);
  readBody(c, p.server.pid(), kBody, 0, [] { return false; }, 60s, d);
  CHECK(d.received == kBody);
  CHECK(d.intact);
  // One staging write may pass the limit before the reads stop.
  CHECK(d.peakSpoolBytes <= kMaxFile + 256 * 1024);
}

TEST_CASE("proxy: pipelined spooled responses reach the client whole and in order") {
  constexpr std::uint64_t kBody = 16 * kMiB;
  BulkUpstream::Options o;
  o.bodyBytes = kBody;
  BulkProxy p(o, {});
  Client c(p.server.port(), "127.0.0.1", 64 * 1024);
  c.send(requestHead("GET", "/big/1") + requestHead("GET", "/big/2") + requestHead("GET", "/big/3"));
  for (int i = 0; i < 3; ++i) {
    HttpResponse h = c.readHead();
    REQUIRE(h.status == 200);
    Download d;
    // The first body slowly, so that the ones behind it are spooled while it is read.
    readBody(c, p.server.pid(), kBody, i == 0 ? 20 * kMiB : 0, [] { return false; }, 30s, d);
    CHECK(d.received == kBody);
    CHECK(d.intact);
  }
  CHECK(p.upstream.responses() == 3);
}

}  // namespace
}  // namespace epserve::e2e
