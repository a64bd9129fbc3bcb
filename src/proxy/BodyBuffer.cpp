// Request body spooling: see BodyBuffer.h.
#include "proxy/BodyBuffer.h"

namespace epserve::proxy {

void BodyBuffer::reset() {
  memory_.clear();
  if (memory_.capacity() > kMemoryLimit) memory_.shrink_to_fit();
  file_.reset();
  size_ = 0;
}

bool BodyBuffer::spill() {
  file_ = fs::TempFile::create(tempDir_);
  if (!file_ || !file_->append(memory_)) return false;
  memory_.clear();
  return true;
}

bool BodyBuffer::append(std::string_view data) {
  if (data.empty()) return true;
  if (!file_ && memory_.size() + data.size() > kMemoryLimit && !spill()) return false;
  size_ += data.size();
  if (!file_) {
    memory_.append(data);
    return true;
  }
  return file_->append(data);  // fails only when the disk is full: a 500, like nginx's
}

void BodyBuffer::queueInto(reactor::OutputQueue& out) const {
  if (!file_) {
    out.append(memory_);
    return;
  }
  out.appendFile(file_->fd(), 0, size_, file_);
}

}  // namespace epserve::proxy
