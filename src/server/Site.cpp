// A served directory and its cache: see Site.h.
#include "server/Site.h"

#include <sys/epoll.h>

namespace epserve::server {

namespace {

// The open-file cache: how many files stay open, which are served from memory, and how often
// an entry is rechecked on disk even when inotify reported nothing.
constexpr std::size_t kCachedFiles = 1024;
constexpr std::size_t kInlineFileLimit = 16 * 1024;
constexpr reactor::Millis kRevalidateMillis = 1000;

}  // namespace

Site::Site(reactor::EventLoop& loop, const std::string& dir, fs::Resolver resolver)
    : loop_(loop),
      resolver_(std::move(resolver)),
      watcher_(dir),
      files_(resolver_, kCachedFiles, kInlineFileLimit, kRevalidateMillis,
             watcher_.available() ? &watcher_ : nullptr) {
  if (watcher_.available()) {
    loop_.add(watcher_.fd(), EPOLLIN, this);
    // Change events are handled before the requests that arrive with them.
    loop_.addPriorityHandler(this);
  }
}

Site::~Site() {
  if (watcher_.available()) {
    loop_.removePriorityHandler(this);
    loop_.remove(watcher_.fd());
  }
}

void Site::onEvents(std::uint32_t) { files_.processChanges(); }

}  // namespace epserve::server
