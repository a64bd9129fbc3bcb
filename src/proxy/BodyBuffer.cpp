// Request body spooling: see BodyBuffer.h.
#include "proxy/BodyBuffer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace epserve::proxy {

void BodyBuffer::reset() {
  memory_.clear();
  if (memory_.capacity() > kMemoryLimit) memory_.shrink_to_fit();
  file_.reset();
  size_ = 0;
}

bool BodyBuffer::spill() {
  // O_TMPFILE: the file has no name, so it cannot outlive the exchange, even after a crash.
  int fd = ::open(tempDir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  file_ = std::make_shared<reactor::Fd>(fd);
  std::string_view pending = memory_;
  while (!pending.empty()) {
    ssize_t n = ::write(fd, pending.data(), pending.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    pending.remove_prefix(static_cast<std::size_t>(n));
  }
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
  // A regular file: writes complete unless the disk is full (a 500, like nginx's).
  while (!data.empty()) {
    ssize_t n = ::write(file_->get(), data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void BodyBuffer::queueInto(reactor::OutputQueue& out) const {
  if (!file_) {
    out.append(memory_);
    return;
  }
  out.appendFile(file_->get(), 0, size_, file_);
}

}  // namespace epserve::proxy
