// Fuzzes Resolver::resolve over a small fixed tree with symlinks leading in and out: whatever the
// path, an opened file is one placed inside the root, and plain paths resolve as expected.
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "FuzzSupport.h"
#include "fs/Resolver.h"
#include "fs/UrlPath.h"
#include "http/Status.h"
#include "reactor/Fd.h"

namespace epserve::fs::detail {
// Test hook defined in Resolver.cpp: the per-component walk used on kernels without openat2.
void forceOpenatFallback(bool on);
}  // namespace epserve::fs::detail

namespace {

using epserve::fs::normalizeUrlPath;
using epserve::fs::Resolved;
using epserve::fs::Resolver;
using epserve::fs::UrlPath;
using epserve::http::Status;
using FileId = std::pair<dev_t, ino_t>;

constexpr const char* kIndex = "index.html";

// What a path made only of real directories and files (no symlink on the way) must give.
struct Expected {
  Status status;
  FileId file;  // when Ok
};

struct Tree {
  std::string base;  // holds root/ and outside/
  std::string root;
  std::set<FileId> inside;   // every regular file placed beneath the root
  std::set<FileId> outside;  // files a symlink out of the root points at
  std::map<std::pair<std::string, bool>, Expected> plain;  // (relative, trailingSlash) -> result
  std::set<FileId> insideDirs;   // the root and every real directory beneath it
  std::set<FileId> outsideDirs;
  std::unique_ptr<Resolver> resolver;
};

Tree* gTree = nullptr;

[[noreturn]] void setupFailed(const std::string& what) {
  std::perror(what.c_str());
  std::abort();
}

FileId idOf(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) setupFailed("lstat " + path);
  return {st.st_dev, st.st_ino};
}

void writeFile(const std::string& path, std::string_view text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) setupFailed("create " + path);
  if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    setupFailed("write " + path);
  }
  ::close(fd);
}

void makeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0) setupFailed("mkdir " + path);
}

void makeLink(const std::string& target, const std::string& path) {
  if (::symlink(target.c_str(), path.c_str()) != 0) setupFailed("symlink " + path);
}

int removeEntry(const char* path, const struct stat*, int, struct FTW*) {
  ::remove(path);
  return 0;
}

void removeTree() {
  if (gTree != nullptr) ::nftw(gTree->base.c_str(), removeEntry, 16, FTW_DEPTH | FTW_PHYS);
}

int lowestFreeFd() {
  const int fd = ::dup(2);
  if (fd >= 0) ::close(fd);
  return fd;
}

void buildTree(Tree& t) {
  // $TMPDIR lets scripts/fuzz.sh sweep up the trees of runs that crashed before atexit().
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                     "/epserve-fuzz-resolver-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) setupFailed("mkdtemp " + tmpl);
  t.base = tmpl;
  t.root = t.base + "/root";
  const std::string out = t.base + "/outside";
  makeDir(t.root);
  makeDir(out);
  t.insideDirs.insert(idOf(t.root));
  t.outsideDirs = {idOf(t.base), idOf(out)};
  writeFile(out + "/secret.txt", "outside the root\n");
  writeFile(out + "/index.html", "outside index\n");
  t.outside = {idOf(out + "/secret.txt"), idOf(out + "/index.html")};

  const std::string r = t.root + "/";
  for (const char* dir : {"sub", "sub/deeper", "emptydir", ".well-known", "dirindex",
                          "dirindex/index.html", "sp ace"}) {
    makeDir(r + dir);
    t.insideDirs.insert(idOf(r + dir));
  }
  // Regular files, with the names a request can reach by escapes ("%41.txt" needs "%2541").
  const char* files[] = {"index.html",     "a.txt",      "sp ace.txt",         "%41.txt",
                         "\xC3\xA9.txt",   ".hidden",    ".well-known/x.txt",  "sub/index.html",
                         "sub/b.txt",      "sub/deeper/c.txt", "sp ace/index.html", "x..y"};
  for (const char* f : files) {
    writeFile(r + f, f);
    t.inside.insert(idOf(r + f));
  }
  // Symlinks that stay inside (served through openat2, refused by the fallback walk)...
  makeLink("a.txt", r + "link-in");
  makeLink("../a.txt", r + "sub/link-up");
  makeLink("sub", r + "link-dir");
  makeLink(t.root + "/a.txt", r + "link-abs-in");  // absolute: refused though it lands inside
  // ...and ones that leave the root, relatively, absolutely or via a directory.
  makeLink("../outside/secret.txt", r + "link-out");
  makeLink("../../outside/secret.txt", r + "sub/link-out2");
  makeLink(out + "/secret.txt", r + "link-abs");
  makeLink("../outside", r + "dir-out");
  makeLink("/proc/self/root" + out + "/secret.txt", r + "link-proc");
  makeLink("loop", r + "loop");
  makeLink("missing.txt", r + "dangling");
  // A FIFO must be refused without blocking: no writer ever opens it.
  if (::mkfifo((r + "fifo").c_str(), 0644) != 0) setupFailed("mkfifo");

  // Expected results for every plain path, with and without a trailing slash.
  auto expect = [&t](const std::string& rel, bool slash, Status s, FileId id = {}) {
    t.plain[{rel, slash}] = Expected{s, id};
  };
  const char* plainDirs[] = {"", "sub", "sub/deeper", "emptydir", ".well-known", "dirindex",
                             "sp ace"};
  for (const char* d : plainDirs) {
    const std::string dir = d;
    const std::string index = r + (dir.empty() ? "" : dir + "/") + kIndex;
    struct stat st {};
    const bool hasIndex = ::lstat(index.c_str(), &st) == 0 && S_ISREG(st.st_mode);
    expect(dir, true, hasIndex ? Status::Ok : Status::NotFound,
           hasIndex ? FileId{st.st_dev, st.st_ino} : FileId{});
    if (!dir.empty()) expect(dir, false, Status::MovedPermanently);
  }
  expect("", false, Status::Ok, idOf(r + kIndex));
  for (const char* f : files) {
    expect(f, false, Status::Ok, idOf(r + f));
    expect(f, true, Status::NotFound);  // "a.txt/" names a directory that is not there
  }
  for (const char* missing : {"nope", "sub/nope", "fifo", "loop", "dangling"}) {
    expect(missing, false, Status::NotFound);
    expect(missing, true, Status::NotFound);
  }
}

void checkOne(const Tree& t, std::string_view rel, bool slash, bool normalized, bool fallback) {
  epserve::fs::detail::forceOpenatFallback(fallback);
  const Resolved res = t.resolver->resolve(rel, slash);

  FUZZ_CHECK(res.status == Status::Ok || res.status == Status::MovedPermanently ||
             res.status == Status::NotFound || res.status == Status::Forbidden);
  FUZZ_CHECK(res.file.valid() == (res.status == Status::Ok));
  if (res.status == Status::Ok) {
    struct stat st {};
    FUZZ_CHECK(::fstat(res.file.get(), &st) == 0);
    FUZZ_CHECK(S_ISREG(st.st_mode));
    const FileId id{st.st_dev, st.st_ino};
    FUZZ_CHECK(t.outside.count(id) == 0);  // the point of RESOLVE_BENEATH
    FUZZ_CHECK(t.inside.count(id) == 1);
    FUZZ_CHECK(res.info.inode == st.st_ino);
    FUZZ_CHECK(res.info.size == static_cast<std::uint64_t>(st.st_size));
    // The header promises O_RDONLY|O_NONBLOCK|O_CLOEXEC.
    const int flags = ::fcntl(res.file.get(), F_GETFL);
    FUZZ_CHECK((flags & O_ACCMODE) == O_RDONLY);
    FUZZ_CHECK((flags & O_NONBLOCK) != 0);
    FUZZ_CHECK((::fcntl(res.file.get(), F_GETFD) & FD_CLOEXEC) != 0);
  }
  if (normalized && (res.status == Status::Ok || res.status == Status::MovedPermanently)) {
    const bool wantIndex = slash || rel.empty();
    std::string path(rel);
    if (wantIndex) path += std::string(path.empty() ? "" : "/") + kIndex;
    FUZZ_CHECK(res.path == path);
    if (res.status == Status::MovedPermanently) FUZZ_CHECK(!wantIndex);
  }

  // The listing entry point: a directory fd, and only for one beneath the root.
  const epserve::reactor::Fd dir = t.resolver->openDirectory(rel);
  if (dir.valid()) {
    struct stat st {};
    FUZZ_CHECK(::fstat(dir.get(), &st) == 0);
    FUZZ_CHECK(S_ISDIR(st.st_mode));
    FUZZ_CHECK(t.outsideDirs.count({st.st_dev, st.st_ino}) == 0);
    FUZZ_CHECK(t.insideDirs.count({st.st_dev, st.st_ino}) == 1);
  }

  const auto it = t.plain.find({std::string(rel), slash});
  if (it != t.plain.end()) {
    FUZZ_CHECK(res.status == it->second.status);
    if (res.status == Status::Ok) {
      struct stat st {};
      FUZZ_CHECK(::fstat(res.file.get(), &st) == 0);
      FUZZ_CHECK((FileId{st.st_dev, st.st_ino}) == it->second.file);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  static Tree tree;
  buildTree(tree);
  gTree = &tree;
  std::atexit(removeTree);
  tree.resolver = std::make_unique<Resolver>(Resolver::openRoot(tree.root), kIndex);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Tree& t = *gTree;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // A leaked fd would take the lowest free number (libFuzzer itself opens none during a run).
  const int firstFreeFd = lowestFreeFd();

  // As the server does it: the request path normalized first.
  UrlPath norm;
  normalizeUrlPath("/" + std::string(bytes), norm);
  if (norm.status == Status::Ok) {
    for (bool fallback : {false, true}) {
      checkOne(t, norm.relative, norm.trailingSlash, true, fallback);
    }
  }
  // Defence in depth: raw bytes ("..", "/etc/passwd", NULs) must not get out either.
  for (bool fallback : {false, true}) {
    checkOne(t, bytes, (size & 1) != 0, false, fallback);
  }
  epserve::fs::detail::forceOpenatFallback(false);

  FUZZ_CHECK(lowestFreeFd() == firstFreeFd);  // every fd opened for a request was closed
  return 0;
}
