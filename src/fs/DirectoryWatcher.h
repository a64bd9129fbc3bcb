// Watches directories beneath the document root with inotify and reports which relative
// paths changed, so the file cache can drop stale entries before the next request uses them.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "reactor/Fd.h"

namespace epserve::fs {

class DirectoryWatcher {
 public:
  // `rootPath` is the document root as given on the command line.
  explicit DirectoryWatcher(std::string rootPath);

  // False when inotify is unavailable (the cache then relies on its periodic revalidation).
  bool available() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }

  // Watches the directory `relativeDir` ("" = the root); true if it is (now) watched.
  bool watch(std::string_view relativeDir);

  // Reads pending events. `changed(path)` gets the relative path of each changed name (a file
  // or a directory: everything beneath it is stale too); `changed("")` with `everything`
  // set means events were lost and nothing cached can be trusted.
  void drain(const std::function<void(std::string_view path, bool everything)>& changed);

 private:
  std::string root_;
  reactor::Fd fd_;
  std::unordered_map<int, std::string> dirs_;        // watch descriptor -> relative dir
  std::unordered_map<std::string, int> watched_;     // relative dir -> watch descriptor
};

}  // namespace epserve::fs
