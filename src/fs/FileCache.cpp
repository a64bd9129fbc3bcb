// The open-file cache: see FileCache.h.
#include "fs/FileCache.h"

#include <unistd.h>

#include <cerrno>

#include "http/Conditional.h"
#include "http/Mime.h"

namespace epserve::fs {

FileCache::FileCache(const Resolver& resolver, std::size_t maxEntries, std::size_t inlineLimit,
                     std::int64_t revalidateMillis, DirectoryWatcher* watcher)
    : resolver_(resolver),
      watcher_(watcher),
      maxEntries_(maxEntries ? maxEntries : 1),
      inlineLimit_(inlineLimit),
      revalidateMillis_(revalidateMillis) {}

std::shared_ptr<const OpenFile> FileCache::load(std::string_view relative,
                                                bool trailingSlash) const {
  auto f = open(resolver_.resolve(relative, trailingSlash));
  if (f->status != http::Status::Ok) return f;
  std::string_view path = f->path;
  if (path.ends_with(".br") || path.ends_with(".gz")) return f;  // no sidecars of sidecars
  for (auto [suffix, slot] : {std::pair{".br", &f->brotli}, std::pair{".gz", &f->gzip}}) {
    auto variant = open(resolver_.resolve(std::string(path) + suffix, false));
    if (variant->status == http::Status::Ok) *slot = std::move(variant);
  }
  return f;
}

std::shared_ptr<OpenFile> FileCache::open(Resolved r) const {
  auto f = std::make_shared<OpenFile>();
  f->status = r.status;
  f->path = std::move(r.path);
  if (r.status != http::Status::Ok) return f;
  f->fd = std::move(r.file);
  f->info = r.info;
  f->contentType = http::mimeTypeFor(f->path);
  char etag[http::kMaxEtagLength];
  f->etag.assign(etag, http::makeEtag(f->info.size, f->info.mtimeSec, f->info.mtimeNsec, etag));
  http::formatHttpDate(static_cast<std::time_t>(f->info.mtimeSec), f->lastModified);
  if (f->info.size <= inlineLimit_) {
    // A small read from the page cache, at most once per revalidation: cheaper than a
    // sendfile() per response, and lets pipelined responses leave in one write.
    f->content.resize(f->info.size);
    std::size_t got = 0;
    while (got < f->content.size()) {
      ssize_t n = ::pread(f->fd.get(), f->content.data() + got, f->content.size() - got,
                          static_cast<off_t>(got));
      if (n > 0) {
        got += static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        break;
      }
    }
    // A file that shrank while we read it is served from the fd (sendfile notices the end).
    f->inMemory = got == f->content.size();
    if (f->inMemory) {
      f->fd.reset();  // the bytes are all we need: do not hold a descriptor for them
    } else {
      f->content.clear();
    }
  }
  return f;
}

bool FileCache::watchFor(std::string_view relative, bool trailingSlash) {
  // A name changes in its parent directory; a directory's index changes inside it.
  auto slash = relative.rfind('/');
  std::string_view parent = slash == std::string_view::npos ? "" : relative.substr(0, slash);
  if (!watcher_->watch(parent)) return false;
  if (trailingSlash || relative.empty()) return watcher_->watch(relative);
  return true;
}

void FileCache::invalidate(std::string_view path, bool all) {
  if (all || path.empty()) {
    index_.clear();
    lru_.clear();
    return;
  }
  // The directory's own entry ("dir/", "/" for the root) serves its index file: a change to
  // any name in it may be a change to that index.
  auto slash = path.rfind('/');
  std::string dirKey = slash == std::string_view::npos ? "/" : std::string(path.substr(0, slash + 1));
  if (auto it = index_.find(std::string_view(dirKey)); it != index_.end()) {
    lru_.erase(it->second);
    index_.erase(it);
  }
  // A sidecar (FILE.gz) is part of its original's entry.
  if (path.ends_with(".br") || path.ends_with(".gz")) {
    invalidate(path.substr(0, path.size() - 3), false);
  }
  // O(entries) per change: changes are rare next to requests, and the cache is bounded.
  for (auto it = lru_.begin(); it != lru_.end();) {
    std::string_view key = it->key;
    bool stale = key.size() >= path.size() && key.compare(0, path.size(), path) == 0 &&
                 (key.size() == path.size() || key[path.size()] == '/');
    if (stale) {
      index_.erase(key);
      it = lru_.erase(it);
    } else {
      ++it;
    }
  }
}

void FileCache::processChanges() {
  if (!watcher_ || !watcher_->available()) return;
  watcher_->drain([this](std::string_view path, bool all) { invalidate(path, all); });
}

bool FileCache::sameFile(const OpenFile& a, const OpenFile& b) {
  auto sameVariant = [](const std::shared_ptr<const OpenFile>& x,
                        const std::shared_ptr<const OpenFile>& y) {
    return (!x && !y) || (x && y && sameFile(*x, *y));
  };
  return a.status == b.status && a.path == b.path && a.info.inode == b.info.inode &&
         a.info.size == b.info.size && a.info.mtimeSec == b.info.mtimeSec &&
         a.info.mtimeNsec == b.info.mtimeNsec && sameVariant(a.brotli, b.brotli) &&
         sameVariant(a.gzip, b.gzip);
}

std::shared_ptr<const OpenFile> FileCache::get(std::string_view relative, bool trailingSlash,
                                               std::int64_t nowMillis) {
  key_.assign(relative);
  if (trailingSlash) key_.push_back('/');

  auto it = index_.find(std::string_view(key_));
  if (it != index_.end()) {
    stats_.hits.add();
    Entry& e = *it->second;
    lru_.splice(lru_.begin(), lru_, it->second);
    if (nowMillis - e.checkedAt < revalidateMillis_) return e.file;
    auto fresh = load(relative, trailingSlash);
    // Keep the old entry (and its bytes) when nothing changed; else serve the new file while
    // responses already in flight finish with the old one.
    if (!sameFile(*fresh, *e.file)) e.file = std::move(fresh);
    e.checkedAt = nowMillis;
    return e.file;
  }

  stats_.misses.add();
  auto file = load(relative, trailingSlash);
  if (watcher_ && !watchFor(relative, trailingSlash)) return file;  // cannot see changes
  lru_.push_front(Entry{key_, file, nowMillis});
  index_.emplace(std::string_view(lru_.front().key), lru_.begin());
  if (lru_.size() > maxEntries_) {
    index_.erase(std::string_view(lru_.back().key));
    lru_.pop_back();  // the fd closes when the last response using it is done
  }
  return file;
}

}  // namespace epserve::fs
