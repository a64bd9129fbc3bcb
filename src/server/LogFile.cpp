// Append-only, reopenable log destinations: see LogFile.h.
#include "server/LogFile.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace epserve::server {

namespace {

reactor::Fd openForAppend(const std::string& path) {
  return reactor::Fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
}

}  // namespace

LogFile::LogFile(std::string path, int stdFd, std::string_view role)
    : path_(std::move(path)), fd_(stdFd) {
  if (path_.empty()) return;
  file_ = openForAppend(path_);
  if (!file_) {
    throw std::system_error(errno, std::generic_category(),
                            "cannot open " + std::string(role) + " " + path_);
  }
  fd_ = file_.get();
}

int LogFile::reopen() {
  if (path_.empty()) return 0;
  reactor::Fd fresh = openForAppend(path_);
  if (!fresh) return errno;
  file_ = std::move(fresh);
  fd_ = file_.get();
  return 0;
}

void LogFile::write(std::string_view data) const {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return;
    }
  }
}

}  // namespace epserve::server
