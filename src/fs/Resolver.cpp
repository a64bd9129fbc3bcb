// Opens request paths beneath the document root with openat2(RESOLVE_BENEATH), so the kernel,
// not string checks, guarantees nothing outside the root is ever opened.
#include "fs/Resolver.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <system_error>
#include <utility>

namespace epserve::fs {

namespace detail {
// Test hook (declared by the tests, not in the header): forces the per-component fallback
// that old kernels without openat2 get, or goes back to probing openat2.
void forceOpenatFallback(bool on);
}  // namespace detail

namespace {

using http::Status;
using reactor::Fd;

// O_NONBLOCK: opening a FIFO must never block the event loop (it is then rejected by fstat);
// it has no effect on regular files. O_NOCTTY: a terminal device must not become ours.
constexpr int kOpenFlags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
// Only used to tell "a directory we may not read" from other EACCES cases.
constexpr int kProbeDirFlags = O_PATH | O_DIRECTORY | O_CLOEXEC;

// Set once openat2 has returned ENOSYS; every later open takes the per-component walk.
std::atomic<bool> gWalkFallback{false};

// The one errno -> status mapping. ENXIO: open(2) of a UNIX socket; ENODEV: a device node
// without a driver. Both are "not a file we serve", as is anything escaping the root (EXDEV).
Status statusForErrno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
    case EXDEV:
    case ELOOP:
    case ENXIO:
    case ENODEV:
      return Status::NotFound;
    case EACCES:
    case EPERM:
      return Status::Forbidden;
    default:
      return Status::InternalServerError;
  }
}

int openat2Beneath(int rootFd, const char* path, int flags) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags);
  // Symlinks are followed while they stay beneath the root; absolute ones and those that climb
  // out fail with EXDEV. Magic links (/proc/self/fd/...) are refused outright.
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  // EAGAIN: the kernel saw a concurrent rename while resolving ".." and could not prove the
  // walk stayed beneath the root (openat2(2)); retrying is the documented answer.
  for (int attempt = 0;; ++attempt) {
    const long fd = ::syscall(SYS_openat2, rootFd, path, &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    if ((errno != EAGAIN && errno != EINTR) || attempt == 2) return -1;
  }
}

// Fallback without openat2: one openat per component, O_NOFOLLOW everywhere, so every symlink
// is refused (ELOOP/ENOTDIR) rather than resolved in user space, and ".." is refused (EXDEV).
int openWalk(int rootFd, const char* path, int flags) {
  std::string_view rest(path);
  if (!rest.empty() && rest.front() == '/') {
    errno = EXDEV;
    return -1;
  }
  const bool mustBeDir = !rest.empty() && rest.back() == '/';
  Fd dir;  // the directory reached so far; empty = the root itself
  char name[NAME_MAX + 1];
  for (;;) {
    // Find the next real component; `last` when nothing but separators/"." follow it.
    std::size_t end = rest.find('/');
    std::string_view comp = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (comp.empty() || comp == ".") {
      if (!rest.empty()) continue;
      comp = ".";  // the path named the directory reached so far
    } else if (comp == "..") {
      errno = EXDEV;
      return -1;
    }
    if (comp.size() > NAME_MAX) {
      errno = ENAMETOOLONG;
      return -1;
    }
    std::memcpy(name, comp.data(), comp.size());
    name[comp.size()] = '\0';
    bool last = true;
    for (std::size_t i = 0; i < rest.size();) {
      const std::size_t e = rest.find('/', i);
      const std::string_view c = rest.substr(i, e == std::string_view::npos ? e : e - i);
      if (!c.empty() && c != ".") {
        last = false;
        break;
      }
      if (e == std::string_view::npos) break;
      i = e + 1;
    }
    const int at = dir ? dir.get() : rootFd;
    if (last) {
      // "." is the directory we already hold, not a link; O_NOFOLLOW refuses a final symlink.
      return ::openat(at, name, flags | O_NOFOLLOW | (mustBeDir ? O_DIRECTORY : 0));
    }
    // O_PATH|O_NOFOLLOW on a symlink yields the link itself, which O_DIRECTORY then rejects
    // with ENOTDIR: a symlinked directory is never entered.
    const int next = ::openat(at, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) return -1;
    dir.reset(next);
  }
}

// Opens `path` (relative, NUL-terminated) beneath the root; -1 with errno on failure.
int openBeneath(int rootFd, const char* path, int flags) {
  if (!gWalkFallback.load(std::memory_order_relaxed)) {
    const int fd = openat2Beneath(rootFd, path, flags);
    if (fd >= 0 || errno != ENOSYS) return fd;
    if (!gWalkFallback.exchange(true)) {
      spdlog::warn("openat2 is not available (kernel < 5.6?): resolving paths one component at "
                   "a time; symlinks inside the document root will not be served");
    }
  }
  return openWalk(rootFd, path, flags);
}

}  // namespace

void detail::forceOpenatFallback(bool on) { gWalkFallback.store(on); }

Resolver::Resolver(Fd root, std::string indexName)
    : root_(std::move(root)), indexName_(std::move(indexName)) {}

Fd Resolver::openRoot(const std::string& rootPath) {
  // An embedded NUL would silently open a different (shorter) path.
  if (rootPath.find('\0') != std::string::npos) {
    throw std::system_error(EINVAL, std::generic_category(),
                            "document root path contains a NUL byte");
  }
  const int fd = ::open(rootPath.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    throw std::system_error(errno, std::generic_category(),
                            "cannot open document root \"" + rootPath + "\"");
  }
  return Fd(fd);
}

Fd Resolver::openDirectory(std::string_view relative) const {
  std::string path(relative.empty() ? std::string_view(".") : relative);
  if (path.find('\0') != std::string::npos) {
    errno = ENOENT;
    return Fd();
  }
  return Fd(openBeneath(root_.get(), path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

// One openat2 and one fstat per request, whatever the outcome. A request for a directory with
// its trailing slash (or the root) opens "<dir>/<index>" directly: if <dir> is in fact a file the
// kernel answers ENOTDIR (so "/file.txt/" is 404, as POSIX path resolution says), and a missing
// index is a plain ENOENT. Without the slash the path itself is opened and a directory redirects.
Resolved Resolver::resolve(std::string_view relative, bool trailingSlash) const {
  Resolved r;
  // normalizeUrlPath never lets a NUL through; a raw caller must not open a truncated path.
  if (relative.find('\0') != std::string_view::npos) {
    r.status = Status::NotFound;
    return r;
  }
  const bool wantIndex = trailingSlash || relative.empty();
  r.path.reserve(relative.size() + 1 + indexName_.size());
  r.path.assign(relative);
  if (wantIndex) {
    if (!r.path.empty()) r.path.push_back('/');
    r.path.append(indexName_);
  }
  // "." is the root itself (openat2 has no AT_EMPTY_PATH); only reached with an empty index.
  const char* const name = r.path.empty() ? "." : r.path.c_str();

  const int fd = openBeneath(root_.get(), name, kOpenFlags);
  if (fd < 0) {
    const int err = errno;
    // A directory with search but not read permission cannot be opened O_RDONLY, yet is still
    // a directory to redirect to (its index needs only search permission). Error path only.
    if (err == EACCES && !wantIndex) {
      if (const Fd probe(openBeneath(root_.get(), name, kProbeDirFlags)); probe) {
        r.status = Status::MovedPermanently;
        return r;
      }
    }
    r.status = statusForErrno(err);
    return r;
  }
  r.file.reset(fd);

  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    r.status = statusForErrno(errno);
    r.file.reset();
    return r;
  }
  if (S_ISREG(st.st_mode)) {
    r.status = Status::Ok;
    r.info.size = static_cast<std::uint64_t>(st.st_size);
    r.info.mtimeSec = st.st_mtim.tv_sec;
    r.info.mtimeNsec = st.st_mtim.tv_nsec;
    r.info.inode = st.st_ino;
    return r;
  }
  r.file.reset();
  // A directory without its slash is redirected (RFC 9110 §15.4.2) so relative links in its
  // index resolve against the directory. An index that is itself a directory, a FIFO, socket
  // or device is never served: there are no listings and no special files.
  r.status = S_ISDIR(st.st_mode) && !wantIndex ? Status::MovedPermanently : Status::NotFound;
  return r;
}

}  // namespace epserve::fs
