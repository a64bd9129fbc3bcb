// What the resolver knows about a file it opened: enough to build response headers
// (length, validators, type) without another syscall.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <string>

namespace epserve::fs {

struct FileInfo {
  std::uint64_t size = 0;
  std::int64_t mtimeSec = 0;   // st_mtim.tv_sec
  std::int64_t mtimeNsec = 0;  // st_mtim.tv_nsec
  ino_t inode = 0;
};

}  // namespace epserve::fs
