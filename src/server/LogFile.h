// Where log lines go: standard output or error, or a file opened for appending (created 0640)
// that reopen() opens again by its name, for logrotate. Writes are whole buffers of whole lines.
#pragma once

#include <string>
#include <string_view>

#include "reactor/Fd.h"

namespace epserve::server {

class LogFile {
 public:
  // `path` empty: the standard stream `stdFd` (not owned; reopen() keeps it). Otherwise the file
  // is opened O_APPEND|O_CLOEXEC, created 0640; throws std::system_error ("cannot open `role`
  // PATH: reason").
  LogFile(std::string path, int stdFd, std::string_view role);

  const std::string& path() const { return path_; }
  // Opens the file again by name (after logrotate renamed it) and writes there from now on.
  // When that fails, the old file stays in use and the errno is returned (0 on success).
  int reopen();
  // Writes all of `data`, or drops what cannot be written (a closed or full stdout, a full
  // disk): a log never stalls the loop. O_APPEND writes are atomic, so whole lines written by
  // several workers to one file never interleave.
  void write(std::string_view data) const;

 private:
  std::string path_;
  reactor::Fd file_;
  int fd_;  // file_ or the standard stream
};

}  // namespace epserve::server
