// Unit tests for pooled byte buffers (reactor/Buffer).
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "reactor/Buffer.h"

using epserve::reactor::Buffer;
using epserve::reactor::BufferPool;

TEST_CASE("buffer: holds no storage until written, returns it to the pool when empty") {
  BufferPool pool;
  Buffer b(pool);
  CHECK_FALSE(b.hasStorage());
  b.append("hello");
  CHECK(b.hasStorage());
  CHECK(b.view() == "hello");
  b.consume(5);
  CHECK(b.empty());
  b.releaseIfEmpty();
  CHECK_FALSE(b.hasStorage());
  CHECK(pool.freeBlocks() == 1);
  Buffer c(pool);
  c.append("x");
  CHECK(pool.freeBlocks() == 0);  // reused the pooled block
}

TEST_CASE("buffer: reads land in free space and unread bytes survive compaction") {
  BufferPool pool;
  Buffer b(pool);
  std::size_t room = b.prepareWrite();
  REQUIRE(room == BufferPool::kBlockSize);
  std::memset(b.writePtr(), 'a', room);
  b.commit(room);
  b.consume(room - 3);  // three unread bytes at the very end
  room = b.prepareWrite();
  CHECK(room == BufferPool::kBlockSize - 3);
  CHECK(b.view() == "aaa");
  std::memcpy(b.writePtr(), "bc", 2);
  b.commit(2);
  CHECK(b.view() == "aaabc");
}

TEST_CASE("buffer: append grows past a block and truncate drops the tail") {
  BufferPool pool;
  Buffer b(pool);
  std::string big(BufferPool::kBlockSize * 2 + 17, 'z');
  b.append("head");
  b.append(big);
  CHECK(b.size() == big.size() + 4);
  CHECK(b.view().substr(0, 4) == "head");
  b.truncate(4);
  CHECK(b.view() == "head");
  b.consume(4);
  b.releaseIfEmpty();
  // The first block went back to the pool when the buffer grew; the grown storage goes back
  // to the heap, so the pool still holds exactly that one block.
  CHECK(pool.freeBlocks() == 1);
}

TEST_CASE("buffer: an append that fits once unread bytes move to the front stays in its block") {
  BufferPool pool;
  Buffer b(pool);
  const std::size_t block = BufferPool::kBlockSize;
  b.append(std::string(block * 5 / 8, 'a'));
  b.consume(block / 2);  // 1/8 left unread, 1/2 free in front, 3/8 behind
  const std::string more(block / 2, 'b');
  b.append(more);  // fits the block, not the space behind: growing would free the block
  CHECK(pool.freeBlocks() == 0);
  CHECK(b.size() == block / 8 + more.size());
  CHECK(b.view() == std::string(block / 8, 'a') + more);
}
