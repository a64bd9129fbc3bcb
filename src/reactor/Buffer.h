// A byte buffer with read and write cursors whose storage is borrowed from a BufferPool only
// while it holds bytes: an idle keep-alive connection owns no buffer memory at all.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace epserve::reactor {

// Free list of fixed-size blocks. Single-threaded (one per event loop).
class BufferPool {
 public:
  static constexpr std::size_t kBlockSize = 32 * 1024;

  explicit BufferPool(std::size_t maxFree = 256) : maxFree_(maxFree) {}
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;
  ~BufferPool();

  char* acquire();
  void release(char* block);
  std::size_t freeBlocks() const { return free_.size(); }

 private:
  std::size_t maxFree_;
  std::vector<char*> free_;
};

class Buffer {
 public:
  explicit Buffer(BufferPool& pool) : pool_(&pool) {}
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { releaseStorage(); }

  std::size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  const char* data() const { return data_ + begin_; }
  std::string_view view() const { return {data_ + begin_, end_ - begin_}; }

  // Free space after the readable bytes, taking storage from the pool if there is none and
  // moving unread bytes to the front when that makes room. Never grows past one block.
  char* writePtr() { return data_ + end_; }
  std::size_t prepareWrite();
  void commit(std::size_t n) { end_ += n; }

  // Appends, growing beyond a pool block if needed (such storage goes back to the heap).
  void append(std::string_view bytes);
  void append(const char* p, std::size_t n) { append(std::string_view(p, n)); }
  // Makes room for `n` more bytes and returns where they go; follow with commit(written).
  char* reserve(std::size_t n);

  void consume(std::size_t n);
  // Drops bytes from the end so that size() == n.
  void truncate(std::size_t n) { end_ = begin_ + n; }
  void clear() { begin_ = end_ = 0; }

  // Returns the storage when the buffer is empty (call when a connection goes idle).
  void releaseIfEmpty() {
    if (empty()) releaseStorage();
  }
  // The same for pooled storage only: storage grown on the heap for a run of large writes (a
  // streamed proxy response) is kept until releaseIfEmpty(), not reallocated on every drain.
  void returnBlockIfEmpty() {
    if (empty() && capacity_ == BufferPool::kBlockSize) releaseStorage();
  }
  bool hasStorage() const { return data_ != nullptr; }

 private:
  void releaseStorage();
  void grow(std::size_t needed);

  BufferPool* pool_;
  char* data_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace epserve::reactor
