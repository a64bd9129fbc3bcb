// The per-loop shared state and its hooks into the loop: see LoopContext.h.
#include "server/LoopContext.h"

#include <sys/epoll.h>

namespace epserve::server {

namespace {

constexpr reactor::Millis kLingerMillis = 2000;
// The open-file cache: how many files stay open, which are served from memory, and how often
// an entry is rechecked on disk even when inotify reported nothing.
constexpr std::size_t kCachedFiles = 1024;
constexpr std::size_t kInlineFileLimit = 16 * 1024;
constexpr reactor::Millis kRevalidateMillis = 1000;

}  // namespace

LoopContext::LoopContext(reactor::EventLoop& eventLoop, const Config& cfg, fs::Resolver resolver)
    : loop(eventLoop),
      config(cfg),
      limits(),
      accessLog(cfg.accessLog),
      resolver_(std::move(resolver)),
      watcher_(cfg.root),
      files_(resolver_, kCachedFiles, kInlineFileLimit, kRevalidateMillis,
             watcher_.available() ? &watcher_ : nullptr),
      handler_(config, files_, resolver_),
      request_(std::make_unique<http::Request>()),
      timeouts_{reactor::TimeoutList(cfg.headerTimeoutSec * 1000LL),
                reactor::TimeoutList(cfg.keepAliveTimeoutSec * 1000LL),
                reactor::TimeoutList(cfg.sendTimeoutSec * 1000LL),
                reactor::TimeoutList(kLingerMillis)} {
  for (auto& list : timeouts_) loop.addTimeoutList(&list);
  if (watcher_.available()) {
    loop.add(watcher_.fd(), EPOLLIN, this);
    // Change events are handled before the requests that arrive with them.
    loop.addPriorityHandler(this);
  }
  flushHook_ = loop.addBeforeSleep([this] { accessLog.flush(); });
}

LoopContext::~LoopContext() {
  loop.removeBeforeSleep(flushHook_);
  if (watcher_.available()) {
    loop.removePriorityHandler(this);
    loop.remove(watcher_.fd());
  }
  for (auto& list : timeouts_) loop.removeTimeoutList(&list);
  accessLog.flush();
}

void LoopContext::onEvents(std::uint32_t) { files_.processChanges(); }

}  // namespace epserve::server
