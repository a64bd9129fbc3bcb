// Files replaced, truncated and deleted while clients fetch them: the server must not crash,
// every body must agree with its Content-Length (or end the connection early, never overrun),
// and a change must be visible on the very next request (the inotify-invalidated cache).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
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
namespace fs = std::filesystem;

// Every version of every file starts with "v=XXXXXXXX\n" (its version number in hex) and goes
// on with bytes computed from (version, offset), so any body prefix names its version and can
// be checked without keeping the versions around.
constexpr std::size_t kTagLength = 11;

char versionByte(std::uint32_t version, std::size_t offset) {
  std::uint32_t x = version * 0x9E3779B1u ^ static_cast<std::uint32_t>(offset) * 0x85EBCA6Bu;
  x ^= x >> 15;
  x *= 0x2C1B3C6Du;
  x ^= x >> 12;
  return static_cast<char>(x);
}

std::string versionContent(std::uint32_t version, std::size_t size) {
  std::string bytes(size, '\0');
  char tag[kTagLength + 1];
  std::snprintf(tag, sizeof tag, "v=%08x\n", version);
  for (std::size_t i = 0; i < size; ++i) {
    bytes[i] = i < kTagLength ? tag[i] : versionByte(version, i);
  }
  return bytes;
}

// The version named by the tag at the start of `bytes`, if there is one.
std::optional<std::uint32_t> versionTag(std::string_view bytes) {
  unsigned version = 0;
  if (bytes.size() < kTagLength ||
      std::sscanf(std::string(bytes.substr(0, kTagLength)).c_str(), "v=%08x\n", &version) != 1) {
    return std::nullopt;
  }
  return version;
}

struct FileClass {
  const char* name;
  std::size_t minSize;
  std::size_t maxSize;
};
// Small files are served from memory, the others with sendfile from an open descriptor.
constexpr FileClass kFiles[] = {
    {"small.txt", 100, 12 * 1024},
    {"mid.bin", 20 * 1024, 300 * 1024},
    {"big.bin", 512 * 1024, 2 * 1024 * 1024},
};

// What each version legitimately looked like: the lengths it had (as written, and after each
// in-place truncation) and the lowest offset it was ever truncated at.
class VersionBook {
 public:
  void written(std::uint32_t version, std::size_t size) {
    std::lock_guard lock(mutex_);
    book_[version].sizes.insert(size);
  }
  // Recorded before the truncation happens, so a reader never sees an unrecorded length.
  void truncated(std::uint32_t version, std::size_t size) {
    std::lock_guard lock(mutex_);
    Entry& e = book_[version];
    e.sizes.insert(size);
    e.truncatedAt = std::min(e.truncatedAt, size);
  }
  bool knows(std::uint32_t version, std::size_t size) const {
    std::lock_guard lock(mutex_);
    auto it = book_.find(version);
    return it != book_.end() && it->second.sizes.count(size) > 0;
  }
  std::size_t truncatedAt(std::uint32_t version) const {
    std::lock_guard lock(mutex_);
    auto it = book_.find(version);
    return it == book_.end() ? SIZE_MAX : it->second.truncatedAt;
  }

 private:
  struct Entry {
    std::set<std::size_t> sizes;
    std::size_t truncatedAt = SIZE_MAX;
  };
  mutable std::mutex mutex_;
  std::map<std::uint32_t, Entry> book_;
};

// Checks a (possibly short) 200 body against the version its tag names. Bytes the version had
// are either its own or, at or past an offset it was truncated at in place, zeros: sendfile
// hands the socket references to page-cache pages (zero-copy), and truncate(2) zeroes the
// cut-off part of the last folio even when those pages are still queued on the socket. That
// is the kernel's, not the server's, doing (and why sites are deployed by rename); anything
// else (another version's bytes, shifted bytes) is a failure. Returns a description of the
// first bad byte, or "" if the body is good; `zeroed` is set if kernel zeros were seen.
std::string checkBody(std::string_view body, const VersionBook& book, bool& zeroed) {
  const auto version = versionTag(body);
  if (!version) return "no version tag: starts '" + std::string(body.substr(0, 16)) + "'";
  const std::size_t zeroFrom = book.truncatedAt(*version);
  for (std::size_t i = kTagLength; i < body.size(); ++i) {
    if (body[i] == versionByte(*version, i)) continue;
    if (body[i] == 0 && i >= zeroFrom) {
      zeroed = true;
      continue;
    }
    return "tag v" + std::to_string(*version) + " but byte " + std::to_string(i) +
           " differs (truncated at " +
           (zeroFrom == SIZE_MAX ? std::string("never") : std::to_string(zeroFrom)) + ")";
  }
  return {};
}

struct FetchStats {
  std::size_t full = 0;     // 200 with every announced byte
  std::size_t cut = 0;      // 200 ended early by the server (the file shrank), then EOF
  std::size_t missing = 0;  // 404
  std::size_t zeroed = 0;   // bodies with page-cache zeros past an in-place truncation
  std::vector<std::string> failures;
};

// One client thread: fetches the files in a loop on a keep-alive connection and checks framing
// and content strictly; reconnects when the server ends the connection.
void fetchLoop(std::uint16_t port, const VersionBook& book, const std::string& notFoundBody,
               std::uint32_t seed, const std::atomic<bool>& stop, FetchStats& stats) {
  std::mt19937 random(seed);
  Socket socket;
  std::string pending;  // bytes received and not yet consumed
  char chunk[64 * 1024];
  auto fail = [&](const std::string& why) {
    if (stats.failures.size() < 5) stats.failures.push_back(why);
    socket.close();
    pending.clear();
  };
  bool timedOut = false;
  // Reads more into `pending`; false on EOF, reset or a 5 s silence (SO_RCVTIMEO: timedOut).
  auto fill = [&]() -> bool {
    const ssize_t n = ::recv(socket.fd(), chunk, sizeof chunk, 0);
    if (n > 0) {
      pending.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    timedOut = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    return false;
  };
  while (!stop) {
    if (!socket.valid()) {
      socket = Socket::connect(port);
      pending.clear();
      if (!socket.valid()) {
        fail("connect failed");
        return;
      }
    }
    const char* name = kFiles[random() % std::size(kFiles)].name;
    timedOut = false;
    if (!socket.sendAll(requestHead("GET", std::string("/") + name))) {
      fail(std::string("the server closed a keep-alive connection before GET /") + name);
      continue;
    }
    HttpResponse response;
    std::optional<std::size_t> headLength;
    try {
      while (!(headLength = abuse::parseHead(pending, response))) {
        if (!fill()) break;
      }
    } catch (const std::exception& e) {
      fail(std::string("framing: ") + e.what());
      continue;
    }
    if (!headLength && timedOut) {
      fail(std::string("no response to GET /") + name + " within 5 s");
      continue;
    }
    if (!headLength) {
      // Nothing here lets the server end a connection before answering its request.
      fail(std::string("connection closed after ") + std::to_string(pending.size()) +
           " bytes of the response head to GET /" + name);
      continue;
    }
    pending.erase(0, *headLength);
    const std::size_t length = std::stoull(response.header("Content-Length"));
    while (pending.size() < length && fill()) {
    }
    const bool short_ = pending.size() < length;
    if (timedOut) {
      fail(std::string("the server stalled inside the body of ") + name);
      continue;
    }
    const std::string body = pending.substr(0, std::min(pending.size(), length));
    pending.erase(0, body.size());
    if (response.status == 404) {
      if (body != notFoundBody) fail("404 body is not the not-found page");
      ++stats.missing;
      continue;
    }
    if (response.status != 200) {
      fail("unexpected status " + std::to_string(response.status) + " for " + name);
      continue;
    }
    if (short_ && body.empty()) {
      ++stats.cut;  // the file shrank to nothing we had not sent: EOF at once
      socket.close();
      continue;
    }
    bool zeroed = false;
    const std::string bad = checkBody(body, book, zeroed);
    if (!bad.empty()) {
      fail(std::string("body of ") + name + " (" + std::to_string(body.size()) + " of " +
           std::to_string(length) + " bytes): " + bad);
      continue;
    }
    const std::uint32_t version = *versionTag(body);
    if (!book.knows(version, length)) {
      fail(std::string("Content-Length ") + std::to_string(length) + " of " + name +
           " matches no size version " + std::to_string(version) + " ever had");
      continue;
    }
    stats.zeroed += zeroed;
    if (short_) {
      // Fewer bytes than announced: the server must have ended the connection (EOF or RST),
      // which is how a shrunken file is signalled without breaking the framing.
      ++stats.cut;
      socket.close();
      continue;
    }
    ++stats.full;
  }
}

void writeVersion(const fs::path& staging, const fs::path& target, std::uint32_t version,
                  std::size_t size) {
  writeWholeFile(staging, versionContent(version, size));
  fs::rename(staging, target);  // atomic replace: a reader has the old inode or the new one
}

TEST_CASE("abuse: files replaced / truncated / deleted under load never break framing") {
  ServedRoot served({"--access-log", "off"});
  const std::string notFound = served.files.readFile("noIndex.html");
  VersionBook book;
  std::mt19937 random(20261125);
  std::uint32_t nextVersion = 1;
  for (const FileClass& f : kFiles) {
    const std::size_t size = f.maxSize;
    book.written(nextVersion, size);
    writeVersion(served.files.base() / "staging", served.files.root() / f.name, nextVersion++,
                 size);
  }

  std::atomic<bool> stop{false};
  constexpr int kFetchers = 4;
  std::vector<FetchStats> stats(kFetchers);
  std::vector<std::thread> fetchers;
  for (int i = 0; i < kFetchers; ++i) {
    fetchers.emplace_back(fetchLoop, served.server.port(), std::cref(book), std::cref(notFound),
                          static_cast<std::uint32_t>(i + 1), std::cref(stop), std::ref(stats[i]));
  }

  std::size_t replaced = 0;
  std::size_t truncated = 0;
  std::size_t deleted = 0;
  const auto until = Clock::now() + 8s;
  while (Clock::now() < until) {
    const FileClass& f = kFiles[random() % std::size(kFiles)];
    const fs::path target = served.files.root() / f.name;
    const unsigned op = random() % 4;
    std::error_code ec;
    if (op <= 1 || !fs::exists(target, ec)) {
      const std::size_t size = f.minSize + random() % (f.maxSize - f.minSize + 1);
      book.written(nextVersion, size);
      writeVersion(served.files.base() / "staging", target, nextVersion++, size);
      ++replaced;
    } else if (op == 2) {
      // In place, to between half and all of its size; recorded before it happens.
      const std::string current = readWholeFile(target);
      const auto version = versionTag(current);
      REQUIRE(version.has_value());
      const std::size_t size = current.size() / 2 + random() % (current.size() / 2);
      book.truncated(*version, size);
      fs::resize_file(target, size);
      ++truncated;
    } else {
      fs::remove(target);
      ++deleted;
    }
    std::this_thread::sleep_for(10ms);  // pacing: about a hundred changes a second
  }
  stop = true;
  for (std::thread& t : fetchers) t.join();

  FetchStats total;
  for (const FetchStats& s : stats) {
    total.full += s.full;
    total.cut += s.cut;
    total.missing += s.missing;
    total.zeroed += s.zeroed;
    for (const std::string& f : s.failures) total.failures.push_back(f);
  }
  MESSAGE("disk changes: " << replaced << " replaced, " << truncated << " truncated, " << deleted
                           << " deleted; responses: " << total.full << " complete 200, "
                           << total.cut << " cut short then closed, " << total.missing
                           << " 404; " << total.zeroed
                           << " with page-cache zeros after an in-place truncation; "
                           << total.failures.size() << " failures");
  for (const std::string& f : total.failures) MESSAGE("failure: " << f);
  CHECK(total.failures.empty());
  CHECK(total.full > 100);
  CHECK(total.missing > 0);
  CHECK_FALSE(served.server.waitExit(0ms).has_value());
  CHECK_FALSE(abuse::sanitizerReported(served.server.err()));
}

TEST_CASE("abuse: a file changed on disk is served fresh on the very next request") {
  ServedRoot served({"--access-log", "off"});
  const fs::path target = served.files.root() / "fresh.bin";
  const fs::path staging = served.files.base() / "staging";
  Client client = served.connect();  // one keep-alive connection throughout: no reconnect delay
  std::string previousEtag;
  std::size_t sameSizeEtagRepeats = 0;
  // Sizes cross the in-memory limit (16 KiB) both ways; every step changes the size.
  const std::size_t sizes[] = {100, 20000, 5000, 300000, 16384, 16385, 1, 70000, 9000, 400};
  std::uint32_t version = 1;
  for (int round = 0; round < 4; ++round) {
    for (std::size_t size : sizes) {
      const std::string content = versionContent(version, std::max<std::size_t>(size, 12));
      CAPTURE(round);
      CAPTURE(content.size());
      if ((version & 1) != 0) {
        writeWholeFile(staging, content);
        fs::rename(staging, target);  // a new inode
      } else {
        writeWholeFile(target, content);  // in place: O_TRUNC and write, same inode
      }
      ++version;
      const HttpResponse response = client.request(requestHead("GET", "/fresh.bin"));
      REQUIRE(response.status == 200);
      CHECK(response.header("Content-Length") == std::to_string(content.size()));
      CHECK(sameBytes(response.body, content));
      CHECK(response.header("ETag") != previousEtag);
      previousEtag = response.header("ETag");
    }
    // Deleted: 404 at once. Recreated with the same size as before: the new bytes at once.
    fs::remove(target);
    CHECK(client.request(requestHead("GET", "/fresh.bin")).status == 404);
    const std::string again = versionContent(version++, 400);
    writeWholeFile(target, again);
    const HttpResponse recreated = client.request(requestHead("GET", "/fresh.bin"));
    CHECK(recreated.status == 200);
    CHECK(sameBytes(recreated.body, again));
    // Same size, rewritten in place: only the content (and mtime) differ.
    const std::string sameSize = versionContent(version++, 400);
    writeWholeFile(target, sameSize);
    const HttpResponse rewritten = client.request(requestHead("GET", "/fresh.bin"));
    CHECK(sameBytes(rewritten.body, sameSize));
    sameSizeEtagRepeats += rewritten.header("ETag") == recreated.header("ETag");
    previousEtag = rewritten.header("ETag");
  }
  MESSAGE("same-size in-place rewrites that kept the old ETag: " << sameSizeEtagRepeats
                                                                 << " of 4");
  CHECK_FALSE(served.server.waitExit(0ms).has_value());
  CHECK_FALSE(abuse::sanitizerReported(served.server.err()));
}

}  // namespace
}  // namespace epserve::e2e
