// Unlinked temporary files: see TempFile.h.
#include "fs/TempFile.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace epserve::fs {

std::shared_ptr<TempFile> TempFile::create(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) return nullptr;
  return std::make_shared<TempFile>(reactor::Fd(fd));
}

bool TempFile::append(std::string_view data) {
  // pwrite at our own size: a write cut short by a full disk is overwritten by the next try.
  auto at = static_cast<off_t>(size_);
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd_.get(), data.data(), data.size(), at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = ENOSPC;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
    at += n;
  }
  size_ = static_cast<std::uint64_t>(at);
  return true;
}

}  // namespace epserve::fs
