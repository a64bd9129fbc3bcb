// Tests for Resolver against a real temporary document root: files, index and redirect rules,
// symlinks in and out of the root, special files, permissions, and hostile request targets.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "fs/Resolver.h"
#include "fs/UrlPath.h"

namespace epserve::fs::detail {
// Defined in Resolver.cpp: forces the no-openat2 fallback walk (true) or restores probing.
void forceOpenatFallback(bool on);
}  // namespace epserve::fs::detail

using epserve::fs::encodeLocation;
using epserve::fs::normalizeUrlPath;
using epserve::fs::Resolved;
using epserve::fs::Resolver;
using epserve::fs::UrlPath;
using epserve::http::Status;
using epserve::reactor::Fd;
namespace stdfs = std::filesystem;

namespace {

void writeFile(const std::string& path, std::string_view content, mode_t mode = 0644) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), path);
  const ssize_t n = ::write(fd, content.data(), content.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(content.size())) throw std::runtime_error("short write " + path);
  ::chmod(path.c_str(), mode);  // not subject to the umask
}

void makeDir(const std::string& path, mode_t mode = 0755) {
  if (::mkdir(path.c_str(), mode) != 0) throw std::system_error(errno, std::generic_category(), path);
  ::chmod(path.c_str(), mode);
}

void makeLink(const std::string& target, const std::string& path) {
  if (::symlink(target.c_str(), path.c_str()) != 0) {
    throw std::system_error(errno, std::generic_category(), path);
  }
}

// Everything the fd would read, via pread so the offset is untouched.
std::string readAll(int fd) {
  std::string out;
  char buf[4096];
  for (off_t off = 0;;) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, off);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    off += n;
  }
  return out;
}

std::pair<dev_t, ino_t> idOf(int fd) {
  struct stat st {};
  REQUIRE(::fstat(fd, &st) == 0);
  return {st.st_dev, st.st_ino};
}

std::pair<dev_t, ino_t> idOf(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return {st.st_dev, st.st_ino};
}

// base/ holds files outside the root; base/root/ is the document root.
struct TempTree {
  std::string base;
  std::string root;

  TempTree() {
    char tmpl[] = "/tmp/epserve-resolver-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::system_error(errno, std::generic_category(), tmpl);
    base = tmpl;
    ::chmod(base.c_str(), 0755);  // so the unprivileged child can reach the root
    root = base + "/root";

    writeFile(base + "/secret.txt", "outside secret\n");
    makeDir(base + "/outdir");
    writeFile(base + "/outdir/inner.txt", "outside inner\n");
    writeFile(base + "/outdir/index.html", "outside index\n");

    makeDir(root);
    writeFile(root + "/index.html", "root index\n");
    writeFile(root + "/hello.txt", "hello world\n");
    writeFile(root + "/empty.txt", "");
    writeFile(root + "/\xc3\xa9t\xc3\xa9.html", "accent\n");
    writeFile(root + "/back\\slash.txt", "backslash\n");
    writeFile(root + "/%2e%2e", "percent name\n");
    makeDir(root + "/docs");
    writeFile(root + "/docs/index.html", "docs index\n");
    writeFile(root + "/docs/page.html", "docs page\n");
    makeDir(root + "/docs/sub");
    writeFile(root + "/docs/sub/index.html", "sub index\n");
    makeLink("../hello.txt", root + "/docs/up_link");
    makeDir(root + "/noindex");
    writeFile(root + "/noindex/file.txt", "no index file\n");
    makeDir(root + "/dirindex");
    makeDir(root + "/dirindex/index.html");
    makeDir(root + "/.git");
    writeFile(root + "/.git/config", "git config\n");
    makeDir(root + "/.well-known");
    writeFile(root + "/.well-known/security.txt", "contact\n");

    makeLink("hello.txt", root + "/link_in");
    makeLink("docs", root + "/link_in_dir");
    makeLink(root + "/hello.txt", root + "/link_abs_in");
    makeLink("../secret.txt", root + "/link_out");
    makeLink("/etc/passwd", root + "/link_abs_out");
    makeLink("/proc/self/root/etc/passwd", root + "/link_proc");
    makeLink("../outdir", root + "/dirlink_out");
    makeLink("..", root + "/dirlink_up");
    makeLink("link_loop", root + "/link_loop");
    makeLink("does-not-exist", root + "/link_dangling");

    if (::mkfifo((root + "/fifo").c_str(), 0644) != 0) {
      throw std::system_error(errno, std::generic_category(), "mkfifo");
    }
    const int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string sockPath = root + "/sock";
    std::memcpy(addr.sun_path, sockPath.c_str(), sockPath.size() + 1);
    const int rc = ::bind(s, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    ::close(s);
    if (rc != 0) throw std::system_error(errno, std::generic_category(), "bind");

    writeFile(root + "/locked.txt", "locked\n", 0);
    makeDir(root + "/lockeddir");
    writeFile(root + "/lockeddir/f.txt", "in locked dir\n");
    ::chmod((root + "/lockeddir").c_str(), 0);
    makeDir(root + "/searchonly");
    writeFile(root + "/searchonly/index.html", "search only index\n");
    ::chmod((root + "/searchonly").c_str(), 0711);
  }

  ~TempTree() {
    ::chmod((root + "/lockeddir").c_str(), 0755);
    std::error_code ec;
    stdfs::remove_all(base, ec);  // does not follow symlinks
  }

  Resolver resolver(std::string index = "index.html") const {
    return Resolver(Resolver::openRoot(root), std::move(index));
  }
};

// Restores openat2 probing even when a check throws.
struct FallbackGuard {
  FallbackGuard() { epserve::fs::detail::forceOpenatFallback(true); }
  ~FallbackGuard() { epserve::fs::detail::forceOpenatFallback(false); }
};

void checkServed(const Resolver& r, std::string_view rel, bool slash, std::string_view path,
                 std::string_view content) {
  CAPTURE(rel);
  CAPTURE(slash);
  const Resolved res = r.resolve(rel, slash);
  REQUIRE(static_cast<int>(res.status) == static_cast<int>(Status::Ok));
  REQUIRE(res.file.valid());
  CHECK(res.path == path);
  CHECK(res.info.size == content.size());
  CHECK(readAll(res.file.get()) == content);
}

void checkStatus(const Resolver& r, std::string_view rel, bool slash, Status expected) {
  CAPTURE(rel);
  CAPTURE(slash);
  const Resolved res = r.resolve(rel, slash);
  CHECK(static_cast<int>(res.status) == static_cast<int>(expected));
  CHECK(res.file.valid() == (expected == Status::Ok));
}

// Resolves the FIFO `fifo` (at "<root>/fifo") on a thread so a regression that blocks in open()
// fails the test instead of hanging it.
void checkFifoDoesNotBlock(const Resolver& r, const std::string& fifoPath) {
  auto pending = std::async(std::launch::async, [&r] { return r.resolve("fifo", false).status; });
  if (pending.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    // A blocking open waits for a writer: become one so the thread (and the test) can end.
    const int unblock = ::open(fifoPath.c_str(), O_RDWR | O_CLOEXEC);
    FAIL_CHECK("resolve() blocked opening a FIFO");
    pending.wait();
    if (unblock >= 0) ::close(unblock);
  }
  CHECK(pending.get() == Status::NotFound);
}

}  // namespace

TEST_CASE("Resolver: openRoot opens an O_PATH directory fd or names the path and cause") {
  TempTree t;
  const Fd fd = Resolver::openRoot(t.root);
  REQUIRE(fd.valid());
  CHECK((::fcntl(fd.get(), F_GETFL) & O_PATH) == O_PATH);
  CHECK((::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC) != 0);

  const std::string missing = t.base + "/no-such-dir";
  try {
    (void)Resolver::openRoot(missing);
    FAIL("openRoot of a missing directory did not throw");
  } catch (const std::system_error& e) {
    const std::string what = e.what();
    CHECK(what.find(missing) != std::string::npos);
    CHECK(what.find(std::strerror(ENOENT)) != std::string::npos);
    CHECK(e.code().value() == ENOENT);
  }
  try {
    (void)Resolver::openRoot(t.base + "/secret.txt");
    FAIL("openRoot of a file did not throw");
  } catch (const std::system_error& e) {
    CHECK(std::string(e.what()).find("secret.txt") != std::string::npos);
    CHECK(e.code().value() == ENOTDIR);
  }
  CHECK_THROWS_AS((void)Resolver::openRoot(t.root + std::string("\0/x", 3)), std::system_error);
}

TEST_CASE("Resolver: serves regular files with metadata and a non-blocking cloexec fd") {
  TempTree t;
  const Resolver r = t.resolver();
  const Resolved res = r.resolve("hello.txt", false);
  REQUIRE(res.status == Status::Ok);
  CHECK(res.path == "hello.txt");
  CHECK(readAll(res.file.get()) == "hello world\n");

  struct stat st {};
  REQUIRE(::stat((t.root + "/hello.txt").c_str(), &st) == 0);
  CHECK(res.info.size == 12);
  CHECK(res.info.inode == st.st_ino);
  CHECK(res.info.mtimeSec == st.st_mtim.tv_sec);
  CHECK(res.info.mtimeNsec == st.st_mtim.tv_nsec);

  const int fl = ::fcntl(res.file.get(), F_GETFL);
  CHECK((fl & O_ACCMODE) == O_RDONLY);
  CHECK((fl & O_NONBLOCK) != 0);
  CHECK((::fcntl(res.file.get(), F_GETFD) & FD_CLOEXEC) != 0);

  checkServed(r, "empty.txt", false, "empty.txt", "");
  checkServed(r, "\xc3\xa9t\xc3\xa9.html", false, "\xc3\xa9t\xc3\xa9.html", "accent\n");
  checkServed(r, "back\\slash.txt", false, "back\\slash.txt", "backslash\n");
  checkServed(r, "%2e%2e", false, "%2e%2e", "percent name\n");
  checkServed(r, "docs/page.html", false, "docs/page.html", "docs page\n");
  // A root fd opened O_RDONLY (not O_PATH) works the same.
  const Resolver r2(Fd(::open(t.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)), "index.html");
  checkServed(r2, "hello.txt", false, "hello.txt", "hello world\n");
}

TEST_CASE("Resolver: directories redirect without the slash and serve only their index") {
  TempTree t;
  const Resolver r = t.resolver();
  // The root is served from its index with or without the slash.
  checkServed(r, "", true, "index.html", "root index\n");
  checkServed(r, "", false, "index.html", "root index\n");
  checkServed(r, "docs", true, "docs/index.html", "docs index\n");
  checkServed(r, "docs/sub", true, "docs/sub/index.html", "sub index\n");

  const Resolved moved = r.resolve("docs", false);
  CHECK(moved.status == Status::MovedPermanently);
  CHECK_FALSE(moved.file.valid());
  CHECK(moved.path == "docs");
  CHECK(encodeLocation(moved.path, true) == "/docs/");
  const Resolved movedSub = r.resolve("docs/sub", false);
  CHECK(movedSub.status == Status::MovedPermanently);
  CHECK(movedSub.path == "docs/sub");

  // No listings: redirect first, then 404 for the missing index.
  checkStatus(r, "noindex", false, Status::MovedPermanently);
  checkStatus(r, "noindex", true, Status::NotFound);
  checkServed(r, "noindex/file.txt", false, "noindex/file.txt", "no index file\n");
  // An "index" that is a directory is not a file to serve.
  checkStatus(r, "dirindex", true, Status::NotFound);
  // A file asked for as a directory: ENOTDIR, as in POSIX path resolution.
  checkStatus(r, "hello.txt", true, Status::NotFound);
  checkStatus(r, "hello.txt/x", false, Status::NotFound);
  checkStatus(r, "missing", false, Status::NotFound);
  checkStatus(r, "missing", true, Status::NotFound);
  checkStatus(r, "docs/missing/x.html", false, Status::NotFound);

  // A root without an index: 404, no listing.
  const Resolver noIndex = t.resolver("nope.html");
  checkStatus(noIndex, "", true, Status::NotFound);
  checkStatus(noIndex, "docs", true, Status::NotFound);
  checkStatus(noIndex, "docs", false, Status::MovedPermanently);
  // An empty or hostile index name cannot serve a directory or escape.
  checkStatus(t.resolver(""), "", true, Status::NotFound);
  checkStatus(t.resolver(""), "docs", true, Status::NotFound);
  checkStatus(t.resolver("../secret.txt"), "", true, Status::NotFound);
  checkStatus(t.resolver("../../secret.txt"), "docs", true, Status::NotFound);
  checkStatus(t.resolver("/etc/passwd"), "", true, Status::NotFound);
}

TEST_CASE("Resolver: symlinks are followed only while they stay beneath the root") {
  TempTree t;
  const Resolver r = t.resolver();
  checkServed(r, "link_in", false, "link_in", "hello world\n");
  checkServed(r, "docs/up_link", false, "docs/up_link", "hello world\n");
  checkServed(r, "link_in_dir", true, "link_in_dir/index.html", "docs index\n");
  checkServed(r, "link_in_dir/page.html", false, "link_in_dir/page.html", "docs page\n");
  checkStatus(r, "link_in_dir", false, Status::MovedPermanently);

  checkStatus(r, "link_out", false, Status::NotFound);
  checkStatus(r, "link_abs_out", false, Status::NotFound);
  checkStatus(r, "link_proc", false, Status::NotFound);
  // RESOLVE_BENEATH refuses absolute symlinks even when they point inside the root.
  checkStatus(r, "link_abs_in", false, Status::NotFound);
  checkStatus(r, "dirlink_out", false, Status::NotFound);
  checkStatus(r, "dirlink_out", true, Status::NotFound);
  checkStatus(r, "dirlink_out/inner.txt", false, Status::NotFound);
  checkStatus(r, "dirlink_up", true, Status::NotFound);
  checkStatus(r, "dirlink_up/secret.txt", false, Status::NotFound);
  checkStatus(r, "dirlink_up/root/hello.txt", false, Status::NotFound);
  checkStatus(r, "link_loop", false, Status::NotFound);
  checkStatus(r, "link_dangling", false, Status::NotFound);
}

TEST_CASE("Resolver: un-normalized input still cannot leave the root") {
  TempTree t;
  const Resolver r = t.resolver();
  checkStatus(r, "../secret.txt", false, Status::NotFound);
  checkStatus(r, "docs/../../secret.txt", false, Status::NotFound);
  checkStatus(r, "/etc/passwd", false, Status::NotFound);
  checkStatus(r, t.base + "/secret.txt", false, Status::NotFound);
  checkStatus(r, "..", true, Status::NotFound);
  // ".." that stays beneath the root is the kernel's to resolve, and harmless.
  checkServed(r, "docs/../hello.txt", false, "docs/../hello.txt", "hello world\n");
  // An embedded NUL must not open the truncated "hello.txt".
  checkStatus(r, std::string_view("hello.txt\0/../../secret.txt", 27), false, Status::NotFound);
  checkStatus(r, std::string(300, 'a'), false, Status::NotFound);      // ENAMETOOLONG (name)
  checkStatus(r, std::string(5000, 'a'), false, Status::NotFound);     // ENAMETOOLONG (path)
}

TEST_CASE("Resolver: FIFOs and sockets are 404 and opening a FIFO never blocks") {
  TempTree t;
  const Resolver r = t.resolver();
  checkFifoDoesNotBlock(r, t.root + "/fifo");
  checkStatus(r, "fifo", true, Status::NotFound);
  checkStatus(r, "sock", false, Status::NotFound);
  checkStatus(r, "sock", true, Status::NotFound);
}

TEST_CASE("Resolver: permission denied maps to 403 for unprivileged processes") {
  TempTree t;
  const Resolver r = t.resolver();
  if (::geteuid() == 0) {
    // CAP_DAC_OVERRIDE (capabilities(7)): root reads mode-000 files and searches mode-000
    // directories, so there is no EACCES to map in this process.
    checkServed(r, "locked.txt", false, "locked.txt", "locked\n");
    checkServed(r, "lockeddir/f.txt", false, "lockeddir/f.txt", "in locked dir\n");
  } else {
    checkStatus(r, "locked.txt", false, Status::Forbidden);
    checkStatus(r, "lockeddir/f.txt", false, Status::Forbidden);
  }
  checkStatus(r, "searchonly", false, Status::MovedPermanently);
  checkServed(r, "searchonly", true, "searchonly/index.html", "search only index\n");

  if (::geteuid() != 0) return;
  // As root, observe the unprivileged behaviour in a child that drops to nobody; it reports
  // the number of the first failed expectation as its exit status.
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const uid_t nobody = 65534;
    if (::setgroups(0, nullptr) != 0 || ::setresgid(nobody, nobody, nobody) != 0 ||
        ::setresuid(nobody, nobody, nobody) != 0) {
      ::_exit(100);
    }
    const std::pair<std::string_view, bool> reqs[] = {
        {"hello.txt", false}, {"locked.txt", false}, {"lockeddir/f.txt", false},
        {"lockeddir", true},  {"lockeddir", false},  {"searchonly", false},
        {"searchonly", true}};
    const Status expected[] = {Status::Ok,        Status::Forbidden,        Status::Forbidden,
                               Status::Forbidden, Status::MovedPermanently, Status::MovedPermanently,
                               Status::Ok};
    for (int i = 0; i < 7; ++i) {
      if (r.resolve(reqs[i].first, reqs[i].second).status != expected[i]) ::_exit(i + 1);
    }
    ::_exit(0);
  }
  int wstatus = 0;
  REQUIRE(::waitpid(pid, &wstatus, 0) == pid);
  REQUIRE(WIFEXITED(wstatus));
  const int code = WEXITSTATUS(wstatus);
  if (code == 100) {
    MESSAGE("cannot drop privileges here; unprivileged 403 behaviour not observed");
  } else {
    CHECK_MESSAGE(code == 0, "unprivileged expectation #", code, " failed");
  }
}

TEST_CASE("Resolver: without openat2 the fallback walk serves files and refuses every symlink") {
  TempTree t;
  const Resolver r = t.resolver();
  FallbackGuard fallback;
  checkServed(r, "hello.txt", false, "hello.txt", "hello world\n");
  checkServed(r, "", true, "index.html", "root index\n");
  checkServed(r, "docs/sub", true, "docs/sub/index.html", "sub index\n");
  checkServed(r, "\xc3\xa9t\xc3\xa9.html", false, "\xc3\xa9t\xc3\xa9.html", "accent\n");
  checkStatus(r, "docs", false, Status::MovedPermanently);
  checkStatus(r, "noindex", true, Status::NotFound);
  checkStatus(r, "dirindex", true, Status::NotFound);
  checkStatus(r, "hello.txt", true, Status::NotFound);
  checkStatus(r, "hello.txt/x", false, Status::NotFound);
  checkStatus(r, "missing", false, Status::NotFound);
  // Every symlink, even one staying inside, and every "..".
  checkStatus(r, "link_in", false, Status::NotFound);
  checkStatus(r, "link_in_dir", true, Status::NotFound);
  checkStatus(r, "link_in_dir/page.html", false, Status::NotFound);
  checkStatus(r, "docs/up_link", false, Status::NotFound);
  checkStatus(r, "link_out", false, Status::NotFound);
  checkStatus(r, "link_abs_out", false, Status::NotFound);
  checkStatus(r, "dirlink_out/inner.txt", false, Status::NotFound);
  checkStatus(r, "dirlink_up/secret.txt", false, Status::NotFound);
  checkStatus(r, "docs/../hello.txt", false, Status::NotFound);
  checkStatus(r, "../secret.txt", false, Status::NotFound);
  checkStatus(r, "/etc/passwd", false, Status::NotFound);
  checkStatus(r, std::string(300, 'a'), false, Status::NotFound);
  checkStatus(t.resolver("../secret.txt"), "", true, Status::NotFound);
  checkFifoDoesNotBlock(r, t.root + "/fifo");  // O_NONBLOCK on this path too
  checkStatus(r, "sock", false, Status::NotFound);
}

TEST_CASE("Resolver: hostile targets never open anything outside the root") {
  TempTree t;
  // Every regular file placed inside the root, by identity (symlinks not followed).
  std::set<std::pair<dev_t, ino_t>> inside;
  for (const auto& e : stdfs::recursive_directory_iterator(t.root)) {
    if (e.is_symlink() || !e.is_regular_file()) continue;
    inside.insert(idOf(e.path().string()));
  }
  REQUIRE(inside.size() >= 12);
  std::set<std::pair<dev_t, ino_t>> outside = {idOf(t.base + "/secret.txt"),
                                               idOf(t.base + "/outdir/inner.txt"),
                                               idOf(t.base + "/outdir/index.html")};
  if (::access("/etc/passwd", F_OK) == 0) outside.insert(idOf("/etc/passwd"));
  for (const auto& id : outside) REQUIRE(inside.count(id) == 0);

  const std::vector<std::string> steps = {
      "..",   "%2e%2e", "%2E%2E", ".%2e", "%2e.", "..%2f", "%2e%2e%2f", "..%5c", "..\\", ".",
      "%c0%ae%c0%ae", "%252e%252e", "", "%2f", "docs", "link_in_dir", "dirlink_out",
      "dirlink_up", "noindex", ".git", "....", "%00"};
  const std::vector<std::string> targets = {
      "secret.txt", "outdir/inner.txt", "etc/passwd", "hello.txt", "link_out", "link_abs_out",
      "link_proc", "dirlink_out/inner.txt", "dirlink_up/secret.txt", "dirlink_up/outdir/",
      "", "index.html", "docs/up_link", "%2e%2e", "root/hello.txt", "link_abs_in"};
  std::vector<std::string> hostile;
  for (const auto& a : steps) {
    for (const auto& tg : targets) hostile.push_back("/" + a + "/" + tg);
    for (const auto& b : steps) {
      for (const auto& tg : targets) hostile.push_back("/" + a + "/" + b + "/" + tg);
      for (const auto& c : {std::string(".."), std::string("%2e%2e"), std::string("dirlink_up")}) {
        for (const auto& tg : targets) hostile.push_back("/" + a + "/" + b + "/" + c + "/" + tg);
      }
    }
  }
  for (const char* extra :
       {"/../etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd", "//etc/passwd", "/%2f%2fetc/passwd",
        "/dirlink_out/", "/dirlink_out", "/link_out?x", "/.git/config", "/.well-known/../hello.txt",
        "/docs/sub/../../../secret.txt", "/docs/%2e%2e/%2e%2e/secret.txt"}) {
    hostile.emplace_back(extra);
  }

  auto run = [&](std::string_view mode) {
    CAPTURE(mode);
    const Resolver r = t.resolver();
    UrlPath url;
    std::size_t served = 0;
    std::size_t badRequest = 0;
    for (const std::string& target : hostile) {
      normalizeUrlPath(target, url);
      if (url.status == Status::BadRequest) ++badRequest;
      if (url.status != Status::Ok) continue;
      const Resolved res = r.resolve(url.relative, url.trailingSlash);
      if (res.status != Status::Ok) {
        CHECK_FALSE(res.file.valid());
        continue;
      }
      ++served;
      const auto id = idOf(res.file.get());
      if (inside.count(id) == 0) {
        CAPTURE(target);
        FAIL_CHECK("opened a file that is not inside the root");
      }
    }
    // Both outcomes must be exercised for the check above to mean anything.
    CHECK(served > 100);
    CHECK(badRequest > 1000);
    MESSAGE(mode, ": ", hostile.size(), " targets, ", served, " served inside the root");
  };
  run("openat2");
  {
    FallbackGuard fallback;
    run("fallback walk");
  }
}
