// Spooling a relayed response to disk when the client is slower than the upstream: see
// ResponseSpool.h.
#include "proxy/ResponseSpool.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

namespace epserve::proxy {

namespace {
// The relay writes chunk headers, data and CRLFs as separate pieces; they reach the file in
// writes of about this size.
constexpr std::size_t kStageSize = 64 * 1024;
}  // namespace

void ResponseSpool::write(std::string_view bytes) {
  if (!file_) {
    out_.append(bytes);
    return;
  }
  staged_.append(bytes);
  if (staged_.size() >= kStageSize) commit();
}

void ResponseSpool::commit() {
  if (staged_.empty()) return;
  std::uint64_t at = file_->size();
  if (file_->append(staged_)) {
    out_.appendFile(file_->fd(), static_cast<off_t>(at), staged_.size(), file_);
    spooled_ += staged_.size();
  } else {
    // A full disk: these bytes go to memory after what the file holds, and reading is
    // throttled from now on as without buffering.
    spdlog::warn("proxy: cannot write a temporary file in {}: {}; streaming instead", tempDir_,
                 std::strerror(errno));
    out_.append(staged_);
    file_.reset();
    failed_ = true;
  }
  staged_.clear();
}

bool ResponseSpool::begin() {
  if (failed_ || maxFile_ == 0) return false;
  file_ = fs::TempFile::create(tempDir_);
  if (!file_) {
    spdlog::warn("proxy: cannot make a temporary file in {}: {}; streaming instead", tempDir_,
                 std::strerror(errno));
    failed_ = true;
    return false;
  }
  if (staged_.capacity() < kStageSize) staged_.reserve(kStageSize);
  return true;
}

bool ResponseSpool::mayRead(bool buffering) {
  if (file_) return file_->size() < maxFile_;
  if (out_.pendingBytes() < kHighWater) return true;
  return buffering && begin();
}

void ResponseSpool::drained() {
  commit();
  if (file_ && (file_->size() >= maxFile_ || out_.empty())) file_.reset();
}

void ResponseSpool::release() {
  commit();
  file_.reset();
  failed_ = false;
  spooled_ = 0;
}

}  // namespace epserve::proxy
