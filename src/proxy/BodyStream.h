// A request body passed upstream as it arrives (--proxy-request-buffering off): each decoded
// piece framed for the upstream (as is under a Content-Length, re-chunked otherwise) and queued.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/ChunkedEncoder.h"
#include "reactor/Buffer.h"
#include "reactor/OutputQueue.h"

namespace epserve::proxy {

class BodyStream {
 public:
  // The upstream's queue stays within one pool block, so a body of any length costs one
  // block and no allocation, and the client is read only as fast as the upstream takes it.
  static constexpr std::uint64_t kQueueLimit = reactor::BufferPool::kBlockSize;
  // What re-chunking may add to the client bytes it frames: decoded pieces are never longer
  // framed than they came (sizes without leading zeros, no extensions, no trailers), except
  // the two that a slice of input can cut out of longer chunks, each framed anew.
  static constexpr std::uint64_t kFramingSlack = 2 * (http::kMaxChunkHeader + 2);

  // `chunked`: the length is unknown (a chunked upload), so the body goes re-chunked.
  void reset(bool chunked) {
    chunked_ = chunked;
    ended_ = false;
    bytes_ = 0;
  }
  // Only the decoded content is passed on: the client's chunk sizes, extensions and trailers
  // never reach the upstream, so its framing cannot be smuggled through.
  void write(std::string_view data, reactor::OutputQueue& out);
  // The body is complete: queues the last chunk (chunked).
  void end(reactor::OutputQueue& out);

  bool ended() const { return ended_; }
  std::uint64_t bytes() const { return bytes_; }
  // How many client bytes may be decoded into `out` now; 0 while it is over half full, so
  // that bytes go in runs of at least half a block.
  static std::size_t room(const reactor::OutputQueue& out) {
    std::uint64_t pending = out.pendingBytes();
    if (pending > kQueueLimit / 2) return 0;
    return static_cast<std::size_t>(kQueueLimit - pending - kFramingSlack);
  }

 private:
  bool chunked_ = false;
  bool ended_ = false;
  std::uint64_t bytes_ = 0;
};

}  // namespace epserve::proxy
