// inotify-based change detection: see DirectoryWatcher.h.
#include "fs/DirectoryWatcher.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

namespace epserve::fs {

namespace {
constexpr std::uint32_t kMask = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE |
                                IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF |
                                IN_ONLYDIR;
// Past this many watched directories the cache relies on periodic revalidation alone.
constexpr std::size_t kMaxWatches = 4096;
}  // namespace

DirectoryWatcher::DirectoryWatcher(std::string rootPath)
    : root_(std::move(rootPath)), fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  if (!fd_) spdlog::warn("inotify unavailable ({}): cached files are rechecked every second",
                         std::strerror(errno));
}

bool DirectoryWatcher::watch(std::string_view relativeDir) {
  if (!fd_) return false;
  std::string key(relativeDir);
  if (watched_.count(key)) return true;
  if (watched_.size() >= kMaxWatches) return false;
  std::string full = key.empty() ? root_ : root_ + "/" + key;
  int wd = ::inotify_add_watch(fd_.get(), full.c_str(), kMask);
  if (wd < 0) return false;
  dirs_[wd] = key;
  watched_[key] = wd;
  return true;
}

void DirectoryWatcher::drain(
    const std::function<void(std::string_view path, bool everything)>& changed) {
  alignas(inotify_event) char buf[16 * 1024];
  for (;;) {
    ssize_t n = ::read(fd_.get(), buf, sizeof(buf));
    if (n <= 0) return;  // EAGAIN: drained
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      p += sizeof(inotify_event) + ev->len;
      if (ev->mask & IN_Q_OVERFLOW) {
        changed("", true);
        continue;
      }
      auto it = dirs_.find(ev->wd);
      if (it == dirs_.end()) continue;
      const std::string& dir = it->second;
      if (ev->mask & IN_IGNORED) {  // the directory is gone: forget the watch
        changed(dir, dir.empty());
        watched_.erase(dir);
        dirs_.erase(it);
        continue;
      }
      if (ev->len == 0) {  // the watched directory itself changed
        changed(dir, dir.empty());
        continue;
      }
      std::string_view name(ev->name);
      std::string path = dir.empty() ? std::string(name) : dir + "/" + std::string(name);
      changed(path, false);
    }
  }
}

}  // namespace epserve::fs
