// Unit tests for proxy/BodyStream: a Content-Length body passed as is, a chunked one
// re-chunked so that BodyDecoder reads back the same content, and the room rule that keeps
// the upstream's queue within one pool block whatever the client's chunking.
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>

#include "http/BodyDecoder.h"
#include "QueueDrain.h"
#include "proxy/BodyStream.h"
#include "reactor/Buffer.h"
#include "reactor/OutputQueue.h"

using epserve::http::BodyDecoder;
using epserve::http::ResponseFraming;
using epserve::proxy::BodyStream;
using epserve::reactor::BufferPool;
using epserve::reactor::OutputQueue;

namespace {

// Everything queued, as the upstream would receive it.
std::string sent(OutputQueue& q) { return epserve::testing::drainQueue(q); }

std::string decodeChunked(std::string_view wire, bool& done) {
  BodyDecoder d(ResponseFraming::Chunked);
  std::string content;
  std::size_t used = 0;
  auto r = d.feed(wire, used, [&](std::string_view s) { content += s; });
  done = r == BodyDecoder::Result::Done && used == wire.size();
  return content;
}

}  // namespace

TEST_CASE("body stream: a Content-Length body goes as it came, nothing added at its end") {
  BufferPool pool;
  OutputQueue q(pool);
  BodyStream s;
  s.reset(false);
  s.write("hello ", q);
  s.write("", q);
  s.write("world", q);
  CHECK_FALSE(s.ended());
  s.end(q);
  CHECK(s.ended());
  CHECK(s.bytes() == 11);
  CHECK(sent(q) == "hello world");
}

TEST_CASE("body stream: a chunked body is re-chunked, one chunk per piece, then the last chunk") {
  BufferPool pool;
  OutputQueue q(pool);
  BodyStream s;
  s.reset(true);
  s.write("hello", q);
  s.write("", q);  // no empty chunk: it would end the body early
  s.write(std::string(300, 'x'), q);
  s.end(q);
  s.end(q);  // once only
  std::string wire = sent(q);
  CHECK(wire == "5\r\nhello\r\n12c\r\n" + std::string(300, 'x') + "\r\n0\r\n\r\n");
  bool done = false;
  CHECK(decodeChunked(wire, done) == "hello" + std::string(300, 'x'));
  CHECK(done);
  // reset() starts the next body afresh.
  s.reset(true);
  CHECK_FALSE(s.ended());
  CHECK(s.bytes() == 0);
}

TEST_CASE("body stream: room is 0 over half a block, and what fills it stays within the block") {
  BufferPool pool;
  OutputQueue q(pool);
  CHECK(BodyStream::room(q) == BodyStream::kQueueLimit - BodyStream::kFramingSlack);
  q.append(std::string(BodyStream::kQueueLimit / 2 + 1, 'q'));
  CHECK(BodyStream::room(q) == 0);
}

TEST_CASE("body stream: client chunking of any shape, decoded slice by slice, never overfills") {
  // Client chunks with leading zeros, extensions and sizes from 1 byte to several blocks; the
  // input is taken in slices of room() bytes, as the client connection does, with the queue
  // partly drained in between. The queue never exceeds its limit and the content survives.
  std::mt19937 rng(7);
  std::string client;
  std::string content;
  for (int i = 0; i < 400; ++i) {
    std::size_t len = i % 3 == 0 ? 1 + rng() % 8 : 1 + rng() % (3 * BufferPool::kBlockSize);
    char line[64];
    std::snprintf(line, sizeof line, i % 2 ? "%06zx;e=%d\r\n" : "%zx\r\n", len, i);
    client += line;
    std::string data(len, static_cast<char>('a' + i % 26));
    client += data;
    client += "\r\n";
    content += data;
  }
  client += "0\r\nT: 1\r\n\r\n";

  BufferPool pool;
  OutputQueue q(pool);
  BodyStream s;
  s.reset(true);
  BodyDecoder d(ResponseFraming::Chunked);
  std::string wire;
  std::string_view input = client;
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
  char buf[65536];
  BodyDecoder::Result r = BodyDecoder::Result::NeedMore;
  for (int round = 0; round < 1000000 && r == BodyDecoder::Result::NeedMore; ++round) {
    std::size_t room = BodyStream::room(q);
    if (room > 0) {
      std::size_t used = 0;
      r = d.feed(input.substr(0, room), used, [&](std::string_view piece) { s.write(piece, q); });
      input.remove_prefix(used);
      if (r == BodyDecoder::Result::Done) s.end(q);
      REQUIRE(q.pendingBytes() <= BodyStream::kQueueLimit);
    }
    q.flush(sv[0]);
    // Drain part of what the "upstream" has, at an irregular pace.
    ssize_t n = ::read(sv[1], buf, 1 + rng() % sizeof buf);
    if (n > 0) wire.append(buf, static_cast<std::size_t>(n));
  }
  CHECK(r == BodyDecoder::Result::Done);
  for (int i = 0; i < 100000; ++i) {
    q.flush(sv[0]);
    ssize_t n = ::read(sv[1], buf, sizeof buf);
    if (n > 0) {
      wire.append(buf, static_cast<std::size_t>(n));
    } else if (q.empty()) {
      break;
    }
  }
  ::close(sv[0]);
  ::close(sv[1]);
  bool done = false;
  CHECK(decodeChunked(wire, done) == content);
  CHECK(done);
  CHECK(wire.find(";e=") == std::string::npos);
  CHECK(wire.find("T: 1") == std::string::npos);
}
