// Unit tests for ordered output (reactor/OutputQueue) over a real socketpair.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "LoopbackPair.h"
#include "reactor/OutputQueue.h"

using epserve::reactor::BufferPool;
using epserve::reactor::Fd;
using epserve::reactor::OutputQueue;

namespace {

struct Pair {
  Fd writer, reader;
  Pair() {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
    writer.reset(sv[0]);
    reader.reset(sv[1]);
  }
  std::string drain() {
    std::string out;
    char buf[65536];
    for (int i = 0; i < 100000; ++i) {
      ssize_t n = ::read(reader.get(), buf, sizeof(buf));
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
};

std::shared_ptr<Fd> tempFile(const std::string& content) {
  char path[] = "/tmp/epserve-oq-XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::unlink(path);
  REQUIRE(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
  return std::make_shared<Fd>(fd);
}

void appendFile(OutputQueue& q, std::shared_ptr<Fd> f, off_t offset, std::uint64_t length) {
  int fd = f->get();
  q.appendFile(fd, offset, length, std::move(f));
}

}  // namespace

TEST_CASE("output queue: bytes and file bodies leave in the order queued") {
  BufferPool pool;
  OutputQueue q(pool);
  Pair p;
  q.append("HEAD1|");
  appendFile(q, tempFile("0123456789"), 2, 5);
  q.append("|HEAD2|");
  appendFile(q, tempFile("abcdef"), 0, 6);
  q.append("|END");
  CHECK(q.pendingBytes() == 6 + 5 + 7 + 6 + 4);
  CHECK(q.flush(p.writer.get()) == OutputQueue::FlushResult::Drained);
  CHECK(q.empty());
  CHECK(p.drain() == "HEAD1|23456|HEAD2|abcdef|END");
}

TEST_CASE("output queue: held output waits for release, truncate drops it") {
  BufferPool pool;
  OutputQueue q(pool);
  Pair p;
  q.append("first|");
  auto m = q.mark();
  q.hold(m);
  q.append("held");
  appendFile(q, tempFile("FILE"), 0, 4);
  CHECK(q.flush(p.writer.get()) == OutputQueue::FlushResult::Drained);
  CHECK(p.drain() == "first|");
  CHECK_FALSE(q.empty());
  q.truncate(m);
  CHECK(q.empty());
  q.append("second");
  auto m2 = q.mark();
  q.hold(m2);
  q.append("|third");
  q.flush(p.writer.get());
  CHECK(p.drain() == "second");
  q.release();
  q.flush(p.writer.get());
  CHECK(p.drain() == "|third");
}

TEST_CASE("output queue: a full socket blocks, and the rest follows after draining") {
  BufferPool pool;
  OutputQueue q(pool);
  Pair p;
  std::string big(4 * 1024 * 1024, 'x');
  q.append("H");
  appendFile(q, tempFile(big), 0, big.size());
  CHECK(q.flush(p.writer.get()) == OutputQueue::FlushResult::Blocked);
  std::string got;
  for (int i = 0; i < 10000 && got.size() < big.size() + 1; ++i) {
    got += p.drain();
    q.flush(p.writer.get());
  }
  CHECK(got.size() == big.size() + 1);
  CHECK(got.front() == 'H');
  CHECK(q.empty());
}

TEST_CASE("output queue: a file shorter than announced fails the flush") {
  BufferPool pool;
  OutputQueue q(pool);
  Pair p;
  appendFile(q, tempFile("short"), 0, 100);
  CHECK(q.flush(p.writer.get()) == OutputQueue::FlushResult::Failed);
}

TEST_CASE("output queue: a closed peer fails the flush") {
  BufferPool pool;
  OutputQueue q(pool);
  Pair p;
  p.reader.reset();
  q.append("nobody listens");
  CHECK(q.flush(p.writer.get()) == OutputQueue::FlushResult::Failed);
}

TEST_CASE("output queue: a file appended at its growing end stays one segment") {
  BufferPool pool;
  OutputQueue q(pool);
  Pair p;
  auto f = tempFile("abcdefghij");
  q.append("H|");
  appendFile(q, f, 0, 4);
  appendFile(q, f, 4, 3);  // contiguous: merged
  CHECK(q.pendingSegments() == 1);
  appendFile(q, f, 8, 2);  // a gap: a segment of its own
  CHECK(q.pendingSegments() == 2);
  q.append("|T");
  CHECK(q.pendingBytes() == 2 + 7 + 2 + 2);
  CHECK(q.flush(p.writer.get()) == OutputQueue::FlushResult::Drained);
  CHECK(p.drain() == "H|abcdefgij|T");
}

namespace {

// Flushes like the event loop does: on Blocked, waits (bounded) for the socket to take more.
bool flushUntilDrained(OutputQueue& q, int sock) {
  for (int i = 0; i < 1000; ++i) {
    OutputQueue::FlushResult r = q.flush(sock);
    if (r == OutputQueue::FlushResult::Drained) return true;
    if (r == OutputQueue::FlushResult::Failed) return false;
    pollfd p{sock, POLLOUT, 0};
    if (::poll(&p, 1, 2000) <= 0) return false;  // never writable again: output is stuck
  }
  return false;
}

std::string receiveExactly(const epserve::testing::LoopbackPair& pair, std::size_t n) {
  std::string got;
  for (int i = 0; i < 1000 && got.size() < n; ++i) {
    std::string more = pair.receiveAvailable(2000);
    if (more.empty()) break;
    got += more;
  }
  return got;
}

}  // namespace

TEST_CASE("output queue: over TCP, a head and its small file body arrive whole, in order") {
  BufferPool pool;
  OutputQueue q(pool);
  epserve::testing::LoopbackPair pair;
  std::string body(64 * 1024, 'b');
  body.front() = '<';
  body.back() = '>';
  auto file = tempFile(body);
  for (int round = 0; round < 3; ++round) {  // the held head must not wait for the next response
    std::string head = "HEAD " + std::to_string(round) + "\r\n\r\n";
    q.append(head);
    appendFile(q, file, 0, body.size());
    REQUIRE(flushUntilDrained(q, pair.near.get()));
    CHECK(receiveExactly(pair, head.size() + body.size()) == head + body);
  }
}

TEST_CASE("output queue: a head sent with MSG_MORE is never stranded when the socket fills") {
  BufferPool pool;
  OutputQueue q(pool);
  epserve::testing::LoopbackPair pair;
  // The lowest send threshold: any unsent byte makes the socket unwritable, so a head left
  // corked with nothing in flight would never be sent and never let the body follow.
  unsigned lowat = 1;
  REQUIRE(::setsockopt(pair.near.get(), IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof lowat) == 0);
  pair.shrinkBuffers();
  std::string body(16 * 1024, 'x');
  auto file = tempFile(body);
  std::string expected;
  for (int i = 0; i < 20; ++i) {
    std::string head = "H" + std::to_string(i) + "|";
    q.append(head);
    appendFile(q, file, 0, body.size());
    expected += head + body;
  }
  std::string got;
  bool stuck = false;
  for (int i = 0; i < 10000 && got.size() < expected.size() && !stuck; ++i) {
    OutputQueue::FlushResult r = q.flush(pair.near.get());
    REQUIRE(r != OutputQueue::FlushResult::Failed);
    got += pair.receiveAvailable(r == OutputQueue::FlushResult::Drained ? 2000 : 0);
    if (r == OutputQueue::FlushResult::Blocked) {
      // As the loop does: wait for writability, reading whatever arrives meanwhile.
      pollfd out{pair.near.get(), POLLOUT, 0};
      int waited = 0;
      while (::poll(&out, 1, 10) == 0 && waited < 2000) {
        got += pair.receiveAvailable(0);
        waited += 10;
      }
      stuck = waited >= 2000;
    }
  }
  CHECK_FALSE(stuck);
  CHECK(got.size() == expected.size());
  CHECK(got == expected);
}
