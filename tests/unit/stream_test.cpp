// Unit tests for reactor/Stream over a real loopback TCP connection: reads, EOF, a full
// buffer, pausing, partial writes under EAGAIN, half-close both ways, discarding, resets.
#include <doctest/doctest.h>

#include <sys/epoll.h>
#include <sys/socket.h>

#include <string>

#include "LoopbackPair.h"
#include "reactor/Buffer.h"
#include "reactor/EventLoop.h"
#include "reactor/Stream.h"

using epserve::reactor::BufferPool;
using epserve::reactor::EventLoop;
using epserve::reactor::IoHandler;
using epserve::reactor::OutputQueue;
using epserve::reactor::Stream;
using epserve::testing::LoopbackPair;

namespace {

// Records the stream's events, as a session would before driving it.
struct Recorder final : IoHandler {
  Stream* stream = nullptr;
  int events = 0;
  void onEvents(std::uint32_t mask) override {
    ++events;
    stream->onEvents(mask);
  }
};

struct Fixture {
  BufferPool pool;
  EventLoop loop;
  LoopbackPair pair;
  Stream stream{pool};
  Recorder recorder;

  Fixture() { recorder.stream = &stream; }
  void open() { stream.open(std::move(pair.near), loop, &recorder); }
  // Runs loop iterations until `done` or 200 of them (each waits at most 20 ms).
  template <typename Pred>
  bool runUntil(Pred done) {
    for (int i = 0; i < 200 && !done(); ++i) loop.runOnce(20);
    return done();
  }
  // Reads until `pred` says stop or the stream has nothing more to give, bounded.
  Stream::ReadResult readUntilQuiet() {
    Stream::ReadResult r = Stream::ReadResult::Again;
    for (int i = 0; i < 1000; ++i) {
      r = stream.readSome();
      if (r != Stream::ReadResult::Data) break;
    }
    return r;
  }
};

}  // namespace

TEST_CASE("stream: reads what arrives, then Again clears readable until the next event") {
  Fixture f;
  f.open();
  CHECK(f.stream.wantsRead());  // an accepted socket is assumed ready
  CHECK(f.stream.readSome() == Stream::ReadResult::Again);
  CHECK_FALSE(f.stream.readable());

  f.pair.send("hello");
  REQUIRE(f.runUntil([&] { return f.stream.readable(); }));
  CHECK(f.readUntilQuiet() == Stream::ReadResult::Again);
  CHECK(f.stream.input().view() == "hello");
  CHECK_FALSE(f.stream.eof());
}

TEST_CASE("stream: the peer's FIN is Eof after the last bytes, and stops wanting reads") {
  Fixture f;
  f.open();
  f.pair.send("last words");
  ::shutdown(f.pair.far.get(), SHUT_WR);
  REQUIRE(f.runUntil([&] { return f.stream.readable(); }));
  CHECK(f.readUntilQuiet() == Stream::ReadResult::Eof);
  CHECK(f.stream.input().view() == "last words");
  CHECK(f.stream.eof());
  CHECK_FALSE(f.stream.wantsRead());
}

TEST_CASE("stream: a full input buffer is reported, not overrun") {
  Fixture f;
  f.open();
  std::string big(BufferPool::kBlockSize + 100, 'x');
  f.pair.send(big);
  REQUIRE(f.runUntil([&] { return f.stream.readable(); }));
  Stream::ReadResult r = Stream::ReadResult::Data;
  for (int i = 0; i < 1000 && r != Stream::ReadResult::Full; ++i) {
    r = f.stream.readSome();
    if (r == Stream::ReadResult::Again) f.loop.runOnce(20);  // the rest raises a new edge
  }
  CHECK(r == Stream::ReadResult::Full);
  CHECK(f.stream.input().size() == BufferPool::kBlockSize);
  f.stream.input().consume(BufferPool::kBlockSize);
  CHECK(f.readUntilQuiet() == Stream::ReadResult::Again);
  CHECK(f.stream.input().size() == 100);
}

TEST_CASE("stream: paused reading keeps readiness and resumes where it left off") {
  Fixture f;
  f.open();
  f.stream.pauseReading();
  f.pair.send("while paused");
  REQUIRE(f.runUntil([&] { return f.stream.readable(); }));
  CHECK(f.stream.readingPaused());
  CHECK_FALSE(f.stream.wantsRead());
  f.stream.resumeReading();
  CHECK(f.stream.wantsRead());
  CHECK(f.readUntilQuiet() == Stream::ReadResult::Again);
  CHECK(f.stream.input().view() == "while paused");
}

TEST_CASE("stream: output larger than the socket takes goes out in pieces on EPOLLOUT") {
  Fixture f;
  f.pair.shrinkBuffers(16384);
  f.open();
  std::string body;
  for (int i = 0; i < 200000; ++i) body.push_back(static_cast<char>('a' + i % 26));
  f.stream.output().append(body);
  CHECK(f.stream.wantsWrite());
  CHECK(f.stream.flush() == OutputQueue::FlushResult::Blocked);
  CHECK_FALSE(f.stream.writable());
  CHECK_FALSE(f.stream.wantsWrite());

  std::string received;
  int blocked = 1;
  for (int i = 0; i < 5000 && received.size() < body.size(); ++i) {
    received += f.pair.receiveAvailable(5);
    f.loop.runOnce(0);
    if (f.stream.wantsWrite()) {
      if (f.stream.flush() == OutputQueue::FlushResult::Blocked) ++blocked;
    }
  }
  CHECK(received == body);
  CHECK(blocked > 1);  // it really was partial, several times
  CHECK(f.stream.output().empty());
}

TEST_CASE("stream: half-close either way leaves the other direction working") {
  Fixture f;
  f.open();
  // Our FIN: the peer reads EOF after our bytes and can still send to us.
  f.stream.output().append("bye");
  CHECK(f.stream.flush() == OutputQueue::FlushResult::Drained);
  f.stream.shutdownWrite();
  CHECK(f.pair.receiveAvailable(1000) == "bye");
  CHECK(f.pair.farSeesEnd(1000));
  f.pair.send("still talking");
  REQUIRE(f.runUntil([&] { return f.stream.readable(); }));
  CHECK(f.readUntilQuiet() == Stream::ReadResult::Again);
  CHECK(f.stream.input().view() == "still talking");
}

TEST_CASE("stream: after the peer's FIN we can still answer") {
  Fixture f;
  f.open();
  ::shutdown(f.pair.far.get(), SHUT_WR);
  REQUIRE(f.runUntil([&] { return f.stream.readable(); }));
  CHECK(f.readUntilQuiet() == Stream::ReadResult::Eof);
  f.stream.output().append("answer");
  CHECK(f.stream.flush() == OutputQueue::FlushResult::Drained);
  CHECK(f.pair.receiveAvailable(1000) == "answer");
}

TEST_CASE("stream: discarding input waits for more, then ends at the peer's close") {
  Fixture f;
  f.open();
  f.pair.send(std::string(100000, 'j'));
  REQUIRE(f.runUntil([&] { return f.stream.readable(); }));
  Stream::DiscardResult r = Stream::DiscardResult::Again;
  for (int i = 0; i < 100; ++i) {
    r = f.stream.discardInput();
    f.loop.runOnce(5);
  }
  CHECK(r == Stream::DiscardResult::Again);
  CHECK(f.stream.input().empty());  // thrown away, not buffered
  f.pair.far.reset();
  REQUIRE(f.runUntil([&] { return f.stream.readable(); }));
  for (int i = 0; i < 100 && r == Stream::DiscardResult::Again; ++i) {
    r = f.stream.discardInput();
    f.loop.runOnce(5);
  }
  CHECK(r == Stream::DiscardResult::Done);
}

TEST_CASE("stream: a reset peer is Failed") {
  Fixture f;
  f.open();
  linger hard{1, 0};
  ::setsockopt(f.pair.far.get(), SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
  f.pair.far.reset();  // RST
  REQUIRE(f.runUntil([&] { return f.stream.readable(); }));
  CHECK(f.readUntilQuiet() == Stream::ReadResult::Failed);
}

TEST_CASE("stream: close drops queued bytes in both directions and the socket") {
  Fixture f;
  f.open();
  f.stream.output().append("never sent");
  f.stream.input().append("never read");
  f.stream.close();
  CHECK_FALSE(f.stream.isOpen());
  CHECK(f.stream.output().empty());
  CHECK(f.stream.input().empty());
  CHECK(f.pair.farSeesEnd(1000));
}
