// The bytes a connection still owes its client, in order: response heads and small bodies in
// one pooled buffer, file bodies as (fd, offset, length) segments sent with sendfile.
// Responses queued back to back (pipelining) leave in one send() where no file lies between.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "reactor/Buffer.h"
#include "reactor/Fd.h"

namespace epserve::reactor {

class OutputQueue {
 public:
  enum class FlushResult { Drained, Blocked, Failed };

  explicit OutputQueue(BufferPool& pool) : bytes_(pool) {}

  void append(std::string_view s) { bytes_.append(s); appended_ += s.size(); }
  // Space for `n` bytes; follow with commit(written).
  char* reserve(std::size_t n) { return bytes_.reserve(n); }
  void commit(std::size_t n) { bytes_.commit(n); appended_ += n; }
  // Queues `length` bytes of the file open as `fd`, from `offset`, after everything appended
  // so far; `owner` keeps the fd open until the segment is sent or dropped.
  void appendFile(int fd, off_t offset, std::uint64_t length, std::shared_ptr<const void> owner);

  // A mark is a position in the queue. hold(mark) keeps everything queued at or after it from
  // being sent until release(); truncate(mark) drops it (e.g. a response replaced by an error).
  struct Mark {
    std::uint64_t byte;
    std::size_t segment;
  };
  Mark mark() const { return {appended_, segments_.size()}; }
  void hold(Mark m) { held_ = true; hold_ = m; }
  void release() { held_ = false; }
  void truncate(Mark m);

  // Sends what it can to `sock`. Drained: nothing sendable is left (held output may remain).
  // Blocked: the socket is full (EAGAIN). Failed: the peer is gone or a file shrank under us
  // (its Content-Length can no longer be honoured, so the connection must close).
  FlushResult flush(int sock);

  bool empty() const { return bytes_.empty() && segments_.empty(); }
  // Bytes queued but not yet sent (file bodies included): used for back-pressure.
  std::uint64_t pendingBytes() const;
  std::size_t pendingSegments() const { return segments_.size() - segmentHead_; }
  // Bytes and segments written since the last call (for progress-based timeouts).
  bool takeProgress() { bool p = progress_; progress_ = false; return p; }
  void clear();
  void releaseIfEmpty() { if (empty()) bytes_.releaseIfEmpty(); }

 private:
  struct Segment {
    std::uint64_t at;  // logical byte position (in the appended stream) the body follows
    int fd;
    std::shared_ptr<const void> owner;
    off_t offset;
    std::uint64_t remaining;
  };

  Buffer bytes_;
  std::uint64_t appended_ = 0;  // logical bytes ever appended (buffer start = appended_ - size)
  std::vector<Segment> segments_;
  std::size_t segmentHead_ = 0;  // first unsent segment
  bool held_ = false;
  Mark hold_{};
  bool progress_ = false;
};

}  // namespace epserve::reactor
