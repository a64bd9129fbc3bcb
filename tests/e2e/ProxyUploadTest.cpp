// End-to-end tests of proxied uploads: 1 GiB buffered and streamed with epserve's memory and
// temporary files watched, and --proxy-request-buffering off on its own (re-chunking, lengths,
// 100-continue, the size limit mid-stream, early answers, vanishing clients, smuggling).
#include <dirent.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "AbuseSupport.h"
#include "MeteredUpstream.h"
#include "ProxySupport.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kMiB = 1024 * 1024;
constexpr std::uint64_t kGiB = 1024 * kMiB;

// A directory of the test's own for --temp-dir, removed afterwards.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/epserve-upload-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::size_t entries() const {
    return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(path),
                                                  std::filesystem::directory_iterator()));
  }
};

std::uint64_t rssKiB(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

// Whether `pid` holds an unlinked file under `dir` open (O_TMPFILE shows as "(deleted)").
bool holdsTempFile(pid_t pid, const std::string& dir) {
  const std::string fds = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(fds.c_str());
  if (d == nullptr) return false;
  bool found = false;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    char target[4096];
    const ssize_t n = ::readlink((fds + "/" + e->d_name).c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    const std::string_view link(target, static_cast<std::size_t>(n));
    found = found || (link.find(dir) == 0 && link.find("(deleted)") != std::string_view::npos);
  }
  ::closedir(d);
  return found;
}

// Samples a process's VmRSS and its open temporary files until stopped.
class Watcher {
 public:
  Watcher(pid_t pid, std::string tempDir) : pid_(pid), dir_(std::move(tempDir)) {
    thread_ = std::thread([this] {
      while (!stop_) {
        peak_ = std::max<std::uint64_t>(peak_, rssKiB(pid_));
        if (holdsTempFile(pid_, dir_)) sawTempFile_ = true;
        std::this_thread::sleep_for(10ms);
      }
    });
  }
  ~Watcher() { stop(); }
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::uint64_t peakKiB() const { return peak_; }
  bool sawTempFile() const { return sawTempFile_; }

 private:
  pid_t pid_;
  std::string dir_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> peak_{0};
  std::atomic<bool> sawTempFile_{false};
  std::thread thread_;
};

std::string pattern(std::uint64_t offset, std::size_t n) {
  std::string s(n, '\0');
  uploadPattern(offset, s.data(), n);
  return s;
}

// Sends `n` pattern bytes from `offset`, 1 MiB at a time.
void sendPattern(Client& c, std::uint64_t offset, std::uint64_t n) {
  std::string piece(kMiB, '\0');
  for (std::uint64_t at = 0; at < n; at += piece.size()) {
    const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(piece.size(), n - at));
    uploadPattern(offset + at, piece.data(), len);
    c.send(std::string_view(piece).substr(0, len));
  }
}

// The chunked encoding of `n` pattern bytes from `offset` in chunks of `chunk` bytes, each
// size line carrying an extension; the last chunk and the trailers are not included.
std::string chunks(std::uint64_t offset, std::size_t n, std::size_t chunk) {
  std::string out;
  for (std::size_t at = 0; at < n; at += chunk) {
    const std::size_t len = std::min(chunk, n - at);
    char line[32];
    std::snprintf(line, sizeof line, "%zx;at=%zu\r\n", len, at);
    out += line;
    out += pattern(offset + at, len);
    out += "\r\n";
  }
  return out;
}

// SIGTERM: a clean exit with no sanitizer report (the test build has ASan and UBSan).
void stopClean(ServerProcess& server) {
  CHECK(server.terminate() == 0);
  CHECK_FALSE(abuse::sanitizerReported(server.err()));
}

struct UploadSetup {
  TempDir temp;
  TempRoot files;
  MeteredUpstream upstream;
  ServerProcess server;

  UploadSetup(MeteredUpstream::Options options, std::vector<std::string> args)
      : upstream(options), server(files.root(), withArgs(std::move(args))) {}
  std::vector<std::string> withArgs(std::vector<std::string> args) {
    args.insert(args.end(), {"--proxy", "/up/=" + upstream.url(), "--temp-dir", temp.path});
    return args;
  }
  Client connect() const { return Client(server.port()); }
};

std::string uploadHead(std::uint64_t length, std::string_view extra = {}) {
  return requestHead("POST", "/up/file",
                     "Content-Length: " + std::to_string(length) + "\r\n" + std::string(extra));
}

std::string chunkedHead(std::string_view extra = {}) {
  return requestHead("PUT", "/up/file", "Transfer-Encoding: chunked\r\n" + std::string(extra));
}

// epserve's RSS may grow this much over its idle RSS while a 1 GiB upload passes through.
// Measured under ASan (the test build): +60 KiB streamed, +150 KiB buffered; the bound leaves
// room for allocator noise and stays below what holding 2 % of the body would cost.
constexpr std::uint64_t kRssHeadroomKiB = 16 * 1024;

// The same 1 GiB upload through a fresh epserve, buffered or streamed; returns the watcher's
// verdict on temporary files.
bool uploadOneGiB(bool streamed, std::uint64_t upstreamRate) {
  MeteredUpstream::Options o;
  o.bytesPerSecond = upstreamRate;
  std::vector<std::string> args = {"--max-body-size", std::to_string(2 * kGiB),
                                   "--header-timeout", "120", "--access-log", "off"};
  if (streamed) args.insert(args.end(), {"--proxy-request-buffering", "off"});
  UploadSetup s(o, args);
  Client c = s.connect();
  // Warm up (a small upload) so the idle figure includes what any upload allocates once.
  c.send(uploadHead(4096));
  sendPattern(c, 0, 4096);
  REQUIRE(c.readResponse().status == 200);
  const std::uint64_t idle = rssKiB(s.server.pid());
  REQUIRE(idle > 0);

  Watcher watch(s.server.pid(), s.temp.path);
  const auto started = Clock::now();
  c.send(uploadHead(kGiB));
  sendPattern(c, 0, kGiB);
  REQUIRE(s.upstream.waitForUploads(2, 90s));
  HttpResponse r = c.readResponse();
  watch.stop();
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  MESSAGE((streamed ? "streamed" : "buffered") << ": 1 GiB in " << seconds << " s, RSS idle "
                                               << idle << " KiB, peak " << watch.peakKiB()
                                               << " KiB");

  CHECK(r.status == 200);
  CHECK(r.body == "bytes=" + std::to_string(kGiB) + " mismatch=-1");
  MeteredUpstream::Upload u = s.upstream.uploads().at(1);
  CHECK(u.complete);
  CHECK(u.bytes == kGiB);
  CHECK(u.firstMismatch == -1);
  CHECK(u.header("Content-Length") == std::to_string(kGiB));
  CHECK_FALSE(u.chunked);
  CHECK(watch.peakKiB() < idle + kRssHeadroomKiB);
  // Afterwards nothing is left: no temporary file open, none in the directory.
  CHECK_FALSE(holdsTempFile(s.server.pid(), s.temp.path));
  CHECK(s.temp.entries() == 0);
  stopClean(s.server);
  return watch.sawTempFile();
}

TEST_CASE("upload: 1 GiB buffered arrives exactly, in flat memory, its temp file gone after") {
  // The watcher must see the temporary file, or its "never" in the streamed test means nothing.
  CHECK(uploadOneGiB(false, 0));
}

TEST_CASE("upload: 1 GiB streamed to a slow upstream, in flat memory, with no temp file") {
  CHECK_FALSE(uploadOneGiB(true, 50 * kMiB));
}

const std::vector<std::string> kStreaming = {"--proxy-request-buffering", "off",
                                             "--max-body-size", "67108864"};

TEST_CASE("upload: streamed, a Content-Length body goes on as it arrives, with its length") {
  UploadSetup s({}, kStreaming);
  Client c = s.connect();
  c.send(uploadHead(2 * kMiB));
  sendPattern(c, 0, kMiB);
  // Half the body is upstream while the client still holds the other half.
  CHECK(s.upstream.waitForBodyBytes(kMiB, 5s));
  sendPattern(c, kMiB, kMiB);
  HttpResponse r = c.readResponse();
  CHECK(r.status == 200);
  CHECK(r.body == "bytes=" + std::to_string(2 * kMiB) + " mismatch=-1");
  REQUIRE(s.upstream.waitForUploads(1, 5s));
  MeteredUpstream::Upload u = s.upstream.uploads()[0];
  CHECK(u.header("Content-Length") == std::to_string(2 * kMiB));
  CHECK(u.header("Transfer-Encoding").empty());

  // The connections carry on: the next upload (on the same client connection) reuses the
  // upstream connection, whose request ended where its length said.
  c.send(uploadHead(1000));
  sendPattern(c, 0, 1000);
  CHECK(c.readResponse().body == "bytes=1000 mismatch=-1");
  REQUIRE(s.upstream.waitForUploads(2, 5s));
  CHECK(s.upstream.uploads()[1].connection == 0);
  CHECK(s.upstream.connectionsAccepted() == 1);
  stopClean(s.server);
}

TEST_CASE("upload: buffered (the default), nothing goes upstream before the body is whole") {
  UploadSetup s({}, {"--max-body-size", "67108864"});
  Client c = s.connect();
  c.send(uploadHead(2 * kMiB));
  sendPattern(c, 0, kMiB);
  CHECK_FALSE(s.upstream.waitForHeads(1, 500ms));
  sendPattern(c, kMiB, kMiB);
  CHECK(c.readResponse().body == "bytes=" + std::to_string(2 * kMiB) + " mismatch=-1");
}

TEST_CASE("upload: streamed, a chunked body is re-chunked: same bytes, no extensions or trailers") {
  UploadSetup s({}, kStreaming);
  Client c = s.connect();
  const std::size_t size = 700 * 1024 + 3;
  c.send(chunkedHead());
  c.send(chunks(0, 20 * 1024, 1));  // a run of 1-byte chunks, then larger ones
  c.send(chunks(20 * 1024, size - 20 * 1024, 40000));
  c.send("0\r\nX-Checksum: 1\r\n\r\n");
  HttpResponse r = c.readResponse();
  CHECK(r.status == 200);
  CHECK(r.body == "bytes=" + std::to_string(size) + " mismatch=-1");
  REQUIRE(s.upstream.waitForUploads(1, 5s));
  MeteredUpstream::Upload u = s.upstream.uploads()[0];
  CHECK(u.chunked);
  CHECK(u.complete);
  CHECK(u.header("Content-Length").empty());
  CHECK_FALSE(u.extensions);
  CHECK(u.trailers.empty());
  CHECK(u.header("X-Checksum").empty());
  stopClean(s.server);
}

TEST_CASE("upload: streamed, Expect 100-continue is answered by epserve, the head goes on at once") {
  UploadSetup s({}, kStreaming);
  Client c = s.connect();
  c.send(uploadHead(64 * 1024, "Expect: 100-continue\r\n"));
  HttpResponse interim = c.readResponse(false, true);
  CHECK(interim.status == 100);
  CHECK(s.upstream.waitForHeads(1, 5s));  // before a byte of the body was sent
  sendPattern(c, 0, 64 * 1024);
  CHECK(c.readResponse().status == 200);
  REQUIRE(s.upstream.waitForUploads(1, 5s));
  CHECK(s.upstream.uploads()[0].header("Expect").empty());
  CHECK(s.upstream.uploads()[0].bytes == 64 * 1024);
  // A length over --max-body-size is a 413 with no 100 before it, and no upstream at all.
  Client d = s.connect();
  HttpResponse big = d.request(uploadHead(128 * kMiB, "Expect: 100-continue\r\n"));
  CHECK(big.status == 413);
  CHECK(big.interimStatuses.empty());
  CHECK(s.upstream.headsSeen() == 1);
}

TEST_CASE("upload: streamed, a chunked body growing over --max-body-size is a 413 mid-stream") {
  UploadSetup s({}, {"--proxy-request-buffering", "off", "--max-body-size", "1048576"});
  Client c = s.connect();
  c.send(chunkedHead());
  try {
    // epserve answers and lingers while this is still going: it may be cut off.
    c.send(chunks(0, 4 * kMiB, 64 * 1024));
  } catch (const std::exception&) {
  }
  HttpResponse r = c.readResponse();
  CHECK(r.status == 413);
  CHECK(c.waitForClose(5s));
  REQUIRE(s.upstream.waitForUploads(1, 5s));
  MeteredUpstream::Upload u = s.upstream.uploads()[0];
  CHECK(u.cutShort);  // the upstream connection was closed mid-body
  CHECK(u.bytes <= kMiB);
  CHECK(u.firstMismatch == -1);
  stopClean(s.server);
}

TEST_CASE("upload: streamed, an early upstream answer is relayed and the rest of the body dropped") {
  MeteredUpstream::Options o;
  o.answerAfter = 256 * 1024;
  UploadSetup s(o, kStreaming);
  Client c = s.connect();
  c.send(uploadHead(8 * kMiB));
  // Socket buffers let epserve run megabytes ahead of what the upstream has read, so the
  // answer is awaited before the rest is sent: then the upstream cannot have had it all.
  sendPattern(c, 0, 512 * 1024);
  HttpResponse r = c.readResponse();
  CHECK(r.status == 200);
  CHECK(r.body == "early");
  sendPattern(c, 512 * 1024, 8 * kMiB - 512 * 1024);
  REQUIRE(s.upstream.waitForUploads(1, 5s));
  MeteredUpstream::Upload u = s.upstream.uploads()[0];
  CHECK(u.answeredEarly);
  CHECK(u.cutShort);  // that upstream connection is not reused: closed mid-body
  CHECK(u.bytes <= 512 * 1024);
  // The client's connection read and dropped the rest, and goes on.
  HttpResponse next = c.request(requestHead("GET", "/up/next"));
  CHECK(next.body == "bytes=0 mismatch=-1");
  CHECK(s.upstream.connectionsAccepted() == 2);
  stopClean(s.server);
}

TEST_CASE("upload: streamed, a body over the limit after an early answer closes the connection") {
  MeteredUpstream::Options o;
  o.answerAfter = 64 * 1024;
  UploadSetup s(o, {"--proxy-request-buffering", "off", "--max-body-size", "1048576"});
  Client c = s.connect();
  c.send(chunkedHead());
  c.send(chunks(0, 128 * 1024, 64 * 1024));
  HttpResponse r = c.readResponse();  // before the rest, as in the test above
  CHECK(r.body == "early");
  try {
    c.send(chunks(128 * 1024, 4 * kMiB, 64 * 1024));
  } catch (const std::exception&) {
  }
  CHECK(c.waitForClose(5s));  // the answer stands; no 413 can follow it
  CHECK(c.pending().empty());
  stopClean(s.server);
}

TEST_CASE("upload: streamed, an upstream that stops reading is a 504 after --proxy-send-timeout") {
  MeteredUpstream::Options o;
  o.bytesPerSecond = 1;  // takes the head, then next to nothing
  UploadSetup s(o, {"--proxy-request-buffering", "off", "--max-body-size", "67108864",
                    "--proxy-send-timeout", "1"});
  Client c = s.connect();
  c.send(uploadHead(32 * kMiB));
  try {
    // The socket buffers fill, then epserve stops reading this client until it gives up.
    sendPattern(c, 0, 32 * kMiB);
  } catch (const std::exception&) {
  }
  CHECK(c.readResponse().status == 504);
  CHECK(s.server.waitForOut("\"POST /up/file HTTP/1.1\" 504 ", 5s));
  stopClean(s.server);
}

TEST_CASE("upload: an upstream that answers early and resets still has its answer relayed") {
  MeteredUpstream::Options o;
  o.answerAfter = 256 * 1024;
  o.closeAfterAnswer = true;  // with the body unread, the close is a reset
  for (bool streamed : {true, false}) {
    CAPTURE(streamed);
    UploadSetup s(o, {"--proxy-request-buffering", streamed ? "off" : "on", "--max-body-size",
                      "67108864"});
    Client c = s.connect();
    c.send(uploadHead(8 * kMiB));
    sendPattern(c, 0, 8 * kMiB);
    HttpResponse r = c.readResponse();
    CHECK(r.status == 200);  // not a 502 for the failed write
    CHECK(r.body == "early");
    stopClean(s.server);
  }
}

TEST_CASE("upload: --proxy-send-timeout counts a stall, not a long upload that keeps moving") {
  MeteredUpstream::Options o;
  o.bytesPerSecond = 4 * kMiB;  // 12 MiB take ~3 s, three send timeouts
  UploadSetup s(o, {"--max-body-size", "67108864", "--proxy-send-timeout", "1"});
  Client c = s.connect();
  c.send(uploadHead(12 * kMiB));
  sendPattern(c, 0, 12 * kMiB);
  REQUIRE(s.upstream.waitForUploads(1, 20s));
  HttpResponse r = c.readResponse();
  CHECK(r.status == 200);
  CHECK(r.body == "bytes=" + std::to_string(12 * kMiB) + " mismatch=-1");
  stopClean(s.server);
}

TEST_CASE("upload: streamed, a client that vanishes mid-upload closes the upstream, logged 499") {
  UploadSetup s({}, kStreaming);
  {
    Client c = s.connect();
    c.send(uploadHead(8 * kMiB));
    sendPattern(c, 0, kMiB);
    REQUIRE(s.upstream.waitForBodyBytes(kMiB, 5s));
  }  // closed here
  REQUIRE(s.upstream.waitForUploads(1, 5s));
  MeteredUpstream::Upload u = s.upstream.uploads()[0];
  CHECK(u.cutShort);
  CHECK(u.firstMismatch == -1);
  CHECK(s.server.waitForOut("\"POST /up/file HTTP/1.1\" 499 ", 5s));
  stopClean(s.server);
}

TEST_CASE("upload: streamed, a stalled client gets 408 and the upstream connection is closed") {
  UploadSetup s({}, {"--proxy-request-buffering", "off", "--header-timeout", "1"});
  Client c = s.connect();
  c.send(uploadHead(kMiB));
  sendPattern(c, 0, 1000);
  CHECK(c.readResponse().status == 408);
  REQUIRE(s.upstream.waitForUploads(1, 5s));
  CHECK(s.upstream.uploads()[0].cutShort);
  CHECK(s.upstream.uploads()[0].bytes == 1000);
  stopClean(s.server);
}

// The smuggling vectors of ProxyRequestTest.cpp, with streaming: refused before any upstream.
TEST_CASE("upload: streamed, CL.TE, TE.CL and TE.TE smuggling attempts are never forwarded") {
  ProxiedRoot p(kStreaming);
  const char* vectors[] = {
      "POST /app/ HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\nG",
      "POST /app/ HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
      "8\r\nSMUGGLED\r\n0\r\n\r\n",
      "POST /app/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n"
      "0\r\n\r\n",
      "POST /app/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
      "POST /app/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
      "POST /app/ HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
  };
  for (const char* v : vectors) {
    CAPTURE(v);
    Client c = p.connect();
    c.send(v);
    HttpResponse r = c.readResponse();
    CHECK(r.status >= 400);
    CHECK(c.waitForClose(2s));
  }
  CHECK_FALSE(p.upstream.waitForRequests(1, 300ms));
}

TEST_CASE("upload: streamed, a request hidden in a body stays body, re-chunked or not") {
  ProxiedRoot p(kStreaming);
  std::string inner = "0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n";
  char size[16];
  std::snprintf(size, sizeof(size), "%zx", inner.size());
  Client c = p.connect();
  CHECK(c.request(requestHead("POST", "/app/a",
                              "Content-Length: " + std::to_string(inner.size()) + "\r\n") +
                  inner)
            .status == 200);
  CHECK(c.request(requestHead("POST", "/app/b", "Transfer-Encoding: chunked\r\n") + size +
                  "\r\n" + inner + "\r\n0\r\n\r\n")
            .status == 200);
  REQUIRE(p.upstream.waitForRequests(2, 2s));
  CHECK_FALSE(p.upstream.waitForRequests(3, 300ms));
  auto got = p.upstream.received();
  CHECK(got[0].body == inner);
  CHECK(got[0].header("Content-Length") == std::to_string(inner.size()));
  CHECK(got[1].body == inner);
  CHECK(got[1].chunked);
  CHECK(got[1].headerCount("Content-Length") == 0);
}

}  // namespace
}  // namespace epserve::e2e
