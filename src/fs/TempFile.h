// An unlinked temporary file (O_TMPFILE) that grows at its end: request and response bodies
// spooled to disk. It has no name, so it cannot outlive its last owner, even after a crash.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "reactor/Fd.h"

namespace epserve::fs {

class TempFile {
 public:
  // A new empty file in `dir`; nullptr, with errno set, when it cannot be made.
  static std::shared_ptr<TempFile> create(const std::string& dir);

  // Writes all of `data` at the end. False (errno set, e.g. ENOSPC) leaves size() where it was:
  // bytes a failed write left behind are not counted as written.
  bool append(std::string_view data);
  int fd() const { return fd_.get(); }
  std::uint64_t size() const { return size_; }

  explicit TempFile(reactor::Fd fd) : fd_(std::move(fd)) {}

 private:
  reactor::Fd fd_;
  std::uint64_t size_ = 0;
};

}  // namespace epserve::fs
