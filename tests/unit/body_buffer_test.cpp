// Unit tests for proxy/BodyBuffer: memory below the limit, an unlinked temporary file above
// it, and the whole body queued for sending either way.
#include <doctest/doctest.h>

#include <dirent.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "QueueDrain.h"
#include "proxy/BodyBuffer.h"
#include "reactor/Buffer.h"
#include "reactor/OutputQueue.h"

using epserve::proxy::BodyBuffer;
using epserve::reactor::BufferPool;
using epserve::reactor::OutputQueue;

namespace {

std::string sent(const BodyBuffer& body) {
  BufferPool pool;
  OutputQueue q(pool);
  body.queueInto(q);
  return epserve::testing::drainQueue(q);
}

int entries(const std::string& dir) {
  int n = 0;
  DIR* d = ::opendir(dir.c_str());
  REQUIRE(d != nullptr);
  while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
  ::closedir(d);
  return n;
}

std::string tempDir() {
  char tmpl[] = "/tmp/epserve-body-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  return tmpl;
}

}  // namespace

TEST_CASE("body buffer: a small body stays in memory and is sent as it came") {
  std::string dir = tempDir();
  BodyBuffer b(dir);
  CHECK(b.append("hello "));
  CHECK(b.append("world"));
  CHECK(b.size() == 11);
  CHECK_FALSE(b.inFile());
  CHECK(sent(b) == "hello world");
  ::rmdir(dir.c_str());
}

TEST_CASE("body buffer: past the memory limit it moves to a file with no name") {
  std::string dir = tempDir();
  BodyBuffer b(dir);
  std::string expected;
  for (int i = 0; expected.size() <= BodyBuffer::kMemoryLimit * 3; ++i) {
    std::string piece(1000 + i % 7, static_cast<char>('a' + i % 26));
    CHECK(b.append(piece));
    expected += piece;
  }
  CHECK(b.inFile());
  CHECK(b.size() == expected.size());
  CHECK(entries(dir) == 0);  // O_TMPFILE: nothing to clean up, ever
  CHECK(sent(b) == expected);
  b.reset();
  CHECK(b.size() == 0);
  CHECK_FALSE(b.inFile());
  CHECK(b.append("again"));
  CHECK(sent(b) == "again");
  ::rmdir(dir.c_str());
}

TEST_CASE("body buffer: a temporary directory that does not exist fails the append") {
  BodyBuffer b("/nonexistent-epserve-dir");
  CHECK(b.append(std::string(BodyBuffer::kMemoryLimit, 'x')));  // still in memory
  CHECK_FALSE(b.append("y"));
}
