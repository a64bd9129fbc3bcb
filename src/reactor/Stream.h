// One non-blocking socket under edge-triggered epoll: its readiness, the bytes read from it,
// the bytes still owed to it (OutputQueue), half-close, lingering and pausable reading.
#pragma once

#include <cstdint>

#include "reactor/Buffer.h"
#include "reactor/EventLoop.h"
#include "reactor/Fd.h"
#include "reactor/OutputQueue.h"

namespace epserve::reactor {

class Stream {
 public:
  enum class ReadResult : std::uint8_t {
    Data,    // bytes were appended to input()
    Full,    // input() has no room left: the owner must consume before reading on
    Eof,     // the peer will send nothing more (eof() is now true)
    Again,   // nothing to read now (readable() is now false)
    Failed,  // the connection is broken (reset): close it
  };
  enum class DiscardResult : std::uint8_t { Again, Done };
  // What a new socket is assumed to hold: an accepted one usually has its request already; an
  // outbound one that just connected cannot have an answer to a request not yet sent.
  enum class Origin : std::uint8_t { Accepted, Connected };

  explicit Stream(BufferPool& pool) : in_(pool), out_(pool) {}
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Takes a connected socket and watches it (in, peer hang-up) on `loop` for `handler`, which
  // passes what fires to onEvents(). It starts writable, and readable when Accepted: edge
  // triggering reports only changes. EPOLLOUT is watched only from the first write that
  // blocks on: until then every ACK or peer read would wake the loop for nothing.
  void open(Fd fd, EventLoop& loop, IoHandler* handler, Origin origin = Origin::Accepted);
  // Closes the socket (which also leaves epoll) and drops every byte in both directions.
  void close();
  bool isOpen() const { return static_cast<bool>(fd_); }
  int fd() const { return fd_.get(); }

  // Records an epoll event mask.
  void onEvents(std::uint32_t events);

  // Reads once into input(). A short read means the socket is empty, unless the peer hung
  // up: then the next read finds the EOF.
  ReadResult readSome();
  // Reads once, at most `max` (> 0) bytes, into `dst` rather than input(); `got` says how
  // many. For relays that read straight into another stream's output.
  ReadResult readInto(char* dst, std::size_t max, std::size_t& got);
  bool readable() const { return readable_; }
  bool eof() const { return eof_; }
  // The peer shut down its side (EPOLLRDHUP, an error, or a read of EOF), read or not yet.
  bool hungUp() const { return hangup_ || eof_; }
  // Whether readSome() may find something: readable, not at EOF and not paused.
  bool wantsRead() const { return readable_ && !eof_ && !paused_; }

  // Back-pressure: while paused the owner is told there is nothing to read, and the kernel's
  // receive window fills up and stops the peer. No epoll_ctl either way: readiness stays
  // remembered, so resuming reads what arrived meanwhile.
  void pauseReading() { paused_ = true; }
  void resumeReading() { paused_ = false; }
  bool readingPaused() const { return paused_; }

  // Sends what output() can send now; a Blocked flush waits for the next EPOLLOUT.
  OutputQueue::FlushResult flush();
  bool writable() const { return writable_; }
  // Whether flushing may make progress: output is queued and the socket took the last write.
  bool wantsWrite() const { return writable_ && !out_.empty(); }

  // Sends FIN after what has been written: the peer sees EOF, we can still read.
  void shutdownWrite();
  // Reads and throws away whatever the peer still sends. Done: EOF or an error (close now);
  // Again: the socket is empty, wait for more.
  DiscardResult discardInput();

  Buffer& input() { return in_; }
  const Buffer& input() const { return in_; }
  OutputQueue& output() { return out_; }
  const OutputQueue& output() const { return out_; }

  // Gives buffer storage back to the pool while the connection has nothing in it.
  void releaseIdleBuffers() {
    in_.releaseIfEmpty();
    out_.releaseIfEmpty();
  }

 private:
  Fd fd_;
  EventLoop* loop_ = nullptr;
  IoHandler* handler_ = nullptr;
  bool watchingOut_ = false;  // EPOLLOUT is in the epoll mask (since a write blocked)
  bool readable_ = false;  // edge-triggered: input may be waiting in the kernel
  bool writable_ = false;  // edge-triggered: the socket took our last write
  bool hangup_ = false;    // EPOLLRDHUP seen: read to EOF, a short read proves nothing
  bool eof_ = false;       // recv() returned 0
  bool paused_ = false;
  Buffer in_;
  OutputQueue out_;
};

}  // namespace epserve::reactor
