// An open-file cache: files recently served stay open with their metadata, their validator
// strings and (when small) their bytes, so a hot file costs no openat2/fstat per request.
// Each entry is checked against the disk at most once a second; LRU-bounded; closed on eviction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "fs/DirectoryWatcher.h"
#include "fs/Resolver.h"
#include "http/HttpDate.h"
#include "reactor/Counter.h"

namespace epserve::fs {

// What a path resolved to, shareable: responses in flight keep it (and its fd) alive even
// after the cache has replaced or evicted it.
struct OpenFile {
  http::Status status = http::Status::NotFound;  // as Resolved::status
  reactor::Fd fd;                                // open for Ok
  FileInfo info;
  std::string path;  // the relative path opened (index appended), or the redirect target
  std::string_view contentType;
  std::string etag;  // with quotes
  char lastModified[http::kHttpDateLength] = {};
  std::string content;  // the whole file, when it is small enough to serve from memory
  bool inMemory = false;
  // Precompressed sidecars found beside the file (FILE.br, FILE.gz), loaded with it so that
  // content negotiation costs no lookups per request.
  std::shared_ptr<const OpenFile> brotli;
  std::shared_ptr<const OpenFile> gzip;

  std::string_view lastModifiedText() const { return {lastModified, http::kHttpDateLength}; }
};

// Lookups answered from an entry (fresh or revalidated) and from the disk, for the metrics.
// Written by the cache's loop only; on a cache line of its own, so no other worker's writes
// share it (the metrics thread only reads).
struct alignas(64) CacheStats {
  reactor::Counter hits;
  reactor::Counter misses;
};

class FileCache {
 public:
  // `maxEntries` bounds the open files; files up to `inlineLimit` bytes are kept in memory.
  // With a watcher, entries are dropped as soon as inotify reports a change beneath the root
  // (entries whose directory cannot be watched are not cached); the periodic check remains
  // for what inotify cannot see (a symlink's target changing in another directory).
  FileCache(const Resolver& resolver, std::size_t maxEntries, std::size_t inlineLimit,
            std::int64_t revalidateMillis = 1000, DirectoryWatcher* watcher = nullptr);

  // Drops the entry for `path` and every entry beneath it (everything if `all`).
  void invalidate(std::string_view path, bool all);
  // Reads the watcher's pending events and invalidates what they name.
  void processChanges();

  // The file for a normalized path (see Resolver::resolve), from the cache when it was checked
  // within the last revalidateMillis, else from the disk.
  std::shared_ptr<const OpenFile> get(std::string_view relative, bool trailingSlash,
                                      std::int64_t nowMillis);

  std::size_t size() const { return lru_.size(); }
  const CacheStats& stats() const { return stats_; }

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const OpenFile> file;
    std::int64_t checkedAt;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Lru = std::list<Entry>;

  std::shared_ptr<const OpenFile> load(std::string_view relative, bool trailingSlash) const;
  std::shared_ptr<OpenFile> open(Resolved resolved) const;
  static bool sameFile(const OpenFile& a, const OpenFile& b);

  bool watchFor(std::string_view key, bool trailingSlash);

  const Resolver& resolver_;
  DirectoryWatcher* watcher_;
  std::size_t maxEntries_;
  std::size_t inlineLimit_;
  std::int64_t revalidateMillis_;
  Lru lru_;  // most recently used first
  std::unordered_map<std::string_view, Lru::iterator, Hash, std::equal_to<>> index_;
  std::string key_;  // scratch, so lookups do not allocate
  CacheStats stats_;
};

}  // namespace epserve::fs
