// One directory served over HTTP, the document root or a --static PREFIX=DIR alias: its
// resolver (nothing outside DIR), its open-file cache and the inotify watcher that keeps it true.
#pragma once

#include <string>

#include "fs/DirectoryWatcher.h"
#include "fs/FileCache.h"
#include "fs/Resolver.h"
#include "reactor/EventLoop.h"

namespace epserve::server {

class Site final : private reactor::IoHandler {
 public:
  // `resolver` is rooted at `dir`.
  Site(reactor::EventLoop& loop, const std::string& dir, fs::Resolver resolver);
  ~Site();
  Site(const Site&) = delete;
  Site& operator=(const Site&) = delete;

  fs::FileCache& files() { return files_; }
  const fs::FileCache& files() const { return files_; }
  const fs::Resolver& resolver() const { return resolver_; }

 private:
  void onEvents(std::uint32_t events) override;  // files changed beneath the directory

  reactor::EventLoop& loop_;
  fs::Resolver resolver_;
  fs::DirectoryWatcher watcher_;
  fs::FileCache files_;
};

}  // namespace epserve::server
