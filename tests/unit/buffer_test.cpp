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

TEST_CASE("buffer: reserve moves unread bytes forward rather than grow when they then fit") {
  BufferPool pool;
  Buffer b(pool);
  const std::string first(20 * 1024, 'a');
  b.append(first);
  const char* block = b.data();
  b.consume(16 * 1024);
  // 4 KiB unread at offset 16 KiB, 12 KiB free behind them: 20 KiB more fit in the block
  // once the 4 KiB move to its front.
  char* p = b.reserve(20 * 1024);
  CHECK(b.data() == block);
  CHECK(p == block + 4 * 1024);
  std::memset(p, 'b', 20 * 1024);
  b.commit(20 * 1024);
  CHECK(b.view() == std::string(4 * 1024, 'a') + std::string(20 * 1024, 'b'));
  // More than a block holds still grows.
  b.reserve(BufferPool::kBlockSize);
  CHECK(b.data() != block);
  CHECK(b.view().substr(0, 4 * 1024) == std::string(4 * 1024, 'a'));
}
