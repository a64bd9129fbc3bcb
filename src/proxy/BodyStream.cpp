// Streamed request-body framing: see BodyStream.h.
#include "proxy/BodyStream.h"

#include <span>

#include "http/ChunkedEncoder.h"

namespace epserve::proxy {

void BodyStream::write(std::string_view data, reactor::OutputQueue& out) {
  if (data.empty()) return;  // an empty chunk would read as the last one
  bytes_ += data.size();
  if (!chunked_) {
    out.append(data);
    return;
  }
  // One chunk per decoded piece, framed in place: no copy beyond the one into the queue.
  char* p = out.reserve(http::kMaxChunkHeader);
  out.commit(http::writeChunkHeader(data.size(), std::span<char>(p, http::kMaxChunkHeader)));
  out.append(data);
  out.append(http::kChunkDataEnd);
}

void BodyStream::end(reactor::OutputQueue& out) {
  if (ended_) return;
  ended_ = true;
  if (chunked_) out.append(http::kLastChunk);
}

}  // namespace epserve::proxy
