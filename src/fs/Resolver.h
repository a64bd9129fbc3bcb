// Maps a normalized URL path to an open file beneath the document root, never outside it:
// every open goes through openat2(RESOLVE_BENEATH) on the root's directory fd.
#pragma once

#include <string>
#include <string_view>

#include "fs/FileInfo.h"
#include "http/Status.h"
#include "reactor/Fd.h"

namespace epserve::fs {

struct Resolved {
  // Ok: `file` is an open regular file (O_RDONLY|O_NONBLOCK|O_CLOEXEC), `info` its metadata,
  //     `path` the relative path that was opened (after any index file was appended).
  // MovedPermanently: a directory asked for without its trailing slash; `path` is the
  //     relative directory path (the caller builds Location with encodeLocation(path, true)).
  // NotFound: missing, not a regular file or directory, a symlink leaving the root, a
  //     directory without an index file. Forbidden: permission denied. InternalServerError: other.
  http::Status status = http::Status::NotFound;
  epserve::reactor::Fd file;
  FileInfo info;
  std::string path;
};

class Resolver {
 public:
  // `root` is an open directory fd (O_PATH or O_RDONLY); `indexName` is served for directories.
  Resolver(epserve::reactor::Fd root, std::string indexName);

  // Opens the document root directory; throws std::system_error naming the path on failure.
  static epserve::reactor::Fd openRoot(const std::string& rootPath);

  // `relative` and `trailingSlash` as produced by normalizeUrlPath (relative "" = the root).
  Resolved resolve(std::string_view relative, bool trailingSlash) const;

  // Opens a directory beneath the root for listing (O_RDONLY|O_DIRECTORY); an invalid Fd with
  // errno set when it is missing, not a directory, or outside the root.
  epserve::reactor::Fd openDirectory(std::string_view relative) const;

 private:
  epserve::reactor::Fd root_;
  std::string indexName_;
};

}  // namespace epserve::fs
