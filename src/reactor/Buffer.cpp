// Pooled byte buffers: see Buffer.h.
#include "reactor/Buffer.h"

#include <cstring>
#include <memory>

namespace epserve::reactor {

BufferPool::~BufferPool() {
  for (char* b : free_) delete[] b;
}

char* BufferPool::acquire() {
  if (free_.empty()) return new char[kBlockSize];
  char* b = free_.back();
  free_.pop_back();
  return b;
}

void BufferPool::release(char* block) {
  if (free_.size() < maxFree_) {
    free_.push_back(block);
  } else {
    delete[] block;
  }
}

std::size_t Buffer::prepareWrite() {
  if (!data_) {
    data_ = pool_->acquire();
    capacity_ = BufferPool::kBlockSize;
    begin_ = end_ = 0;
  } else if (begin_ == end_) {
    begin_ = end_ = 0;
  } else if (begin_ > 0 && capacity_ - end_ < capacity_ / 4) {
    // Little room left behind the unread bytes: move them to the front.
    std::memmove(data_, data_ + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  return capacity_ - end_;
}

char* Buffer::reserve(std::size_t n) {
  prepareWrite();
  if (capacity_ - end_ < n) {
    if (size() + n <= capacity_) {
      // It fits once the unread bytes move to the front: a queue that stays within its block
      // never leaves it for the heap.
      std::memmove(data_, data_ + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    } else {
      grow(size() + n);
    }
  }
  return data_ + end_;
}

void Buffer::append(std::string_view bytes) {
  char* p = reserve(bytes.size());
  if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
  end_ += bytes.size();
}

void Buffer::consume(std::size_t n) {
  begin_ += n;
  if (begin_ >= end_) begin_ = end_ = 0;
}

void Buffer::grow(std::size_t needed) {
  std::size_t cap = capacity_ ? capacity_ : BufferPool::kBlockSize;
  while (cap < needed) cap *= 2;
  auto* bigger = new char[cap];
  std::size_t n = size();
  if (n) std::memcpy(bigger, data_ + begin_, n);
  releaseStorage();
  data_ = bigger;
  capacity_ = cap;
  begin_ = 0;
  end_ = n;
}

void Buffer::releaseStorage() {
  if (!data_) return;
  if (capacity_ == BufferPool::kBlockSize) {
    pool_->release(data_);
  } else {
    delete[] data_;
  }
  data_ = nullptr;
  capacity_ = begin_ = end_ = 0;
}

}  // namespace epserve::reactor
