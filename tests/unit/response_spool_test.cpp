// Unit tests for proxy/ResponseSpool: memory while the client keeps up, a temporary file once it
// falls behind, back-pressure once that file is full, the bytes in order throughout.
#include <doctest/doctest.h>

#include <string>

#include "QueueDrain.h"
#include "proxy/ResponseSpool.h"

using epserve::proxy::ResponseSpool;
using epserve::reactor::BufferPool;
using epserve::testing::drainQueue;
using epserve::reactor::OutputQueue;

namespace {

std::string piece(char c, std::size_t n) { return std::string(n, c); }

}  // namespace

TEST_CASE("response spool: below the high-water mark everything stays in memory") {
  BufferPool pool;
  OutputQueue q(pool);
  ResponseSpool s(q, "/tmp", 1 << 20);
  s.write("head|");
  s.write(piece('a', 1000));
  s.commit();
  CHECK(s.mayRead(true));
  CHECK_FALSE(s.spooling());
  CHECK(q.pendingSegments() == 0);
}

TEST_CASE("response spool: a client behind moves the rest to a file, in order") {
  BufferPool pool;
  OutputQueue q(pool);
  ResponseSpool s(q, "/tmp", 1 << 20);
  s.write(piece('a', ResponseSpool::kHighWater));
  s.commit();
  CHECK(s.mayRead(true));  // buffering: a file takes over
  CHECK(s.spooling());
  s.write(piece('b', 3000));
  s.write("\r\n");
  s.commit();
  s.write(piece('c', 100000));  // past the staging size: written before commit()
  s.commit();
  CHECK(q.pendingSegments() == 1);  // one growing file, one segment
  CHECK(s.spooledBytes() == 103002);
  std::string expect = piece('a', ResponseSpool::kHighWater) + piece('b', 3000) + "\r\n" +
                       piece('c', 100000);
  CHECK(drainQueue(q) == expect);
  s.drained();
  CHECK_FALSE(s.spooling());  // the client caught up: back to memory
  s.write("tail");
  s.release();
  CHECK(drainQueue(q) == "tail");
}

TEST_CASE("response spool: without buffering, or with a zero limit, a client behind stops the reads") {
  BufferPool pool;
  OutputQueue q(pool);
  SUBCASE("buffering off") {
    ResponseSpool s(q, "/tmp", 1 << 20);
    s.write(piece('a', ResponseSpool::kHighWater));
    CHECK_FALSE(s.mayRead(false));
    CHECK_FALSE(s.spooling());
  }
  SUBCASE("--proxy-max-temp-file 0") {
    ResponseSpool s(q, "/tmp", 0);
    s.write(piece('a', ResponseSpool::kHighWater));
    CHECK_FALSE(s.mayRead(true));
  }
}

TEST_CASE("response spool: a full file holds the reads back until the client drains") {
  BufferPool pool;
  OutputQueue q(pool);
  ResponseSpool s(q, "/tmp", 10000);
  s.write(piece('a', ResponseSpool::kHighWater));
  REQUIRE(s.mayRead(true));
  s.write(piece('b', 10000));
  s.commit();
  CHECK_FALSE(s.mayRead(true));  // the file is at its limit
  std::string got = drainQueue(q);
  CHECK(got.size() == ResponseSpool::kHighWater + 10000);
  s.drained();
  CHECK_FALSE(s.spooling());
  CHECK(s.mayRead(true));
  s.write("more");
  s.commit();
  CHECK(drainQueue(q) == "more");
}

TEST_CASE("response spool: an unusable temp directory streams instead") {
  BufferPool pool;
  OutputQueue q(pool);
  ResponseSpool s(q, "/nonexistent-epserve-dir", 1 << 20);
  s.write(piece('a', ResponseSpool::kHighWater));
  CHECK_FALSE(s.mayRead(true));
  CHECK_FALSE(s.spooling());
}
