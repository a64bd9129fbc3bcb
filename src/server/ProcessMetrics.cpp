// /proc/self for the process_* metrics: see ProcessMetrics.h.
#include "server/ProcessMetrics.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <string_view>

namespace epserve::server {

namespace {

// A small /proc file whole (these are a few hundred bytes); empty when it cannot be read.
std::string_view readSmallFile(const char* path, char* buf, std::size_t size) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  ssize_t n = ::read(fd, buf, size);
  ::close(fd);
  return n > 0 ? std::string_view(buf, static_cast<std::size_t>(n)) : std::string_view();
}

// The `index`-th space-separated field (0-based) of `text`.
std::uint64_t fieldAt(std::string_view text, std::size_t index) {
  for (std::size_t i = 0; i < index; ++i) {
    std::size_t space = text.find(' ');
    if (space == std::string_view::npos) return 0;
    text.remove_prefix(space + 1);
  }
  std::uint64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::uint64_t bootTimeSeconds() {
  char buf[8192];
  std::string_view stat = readSmallFile("/proc/stat", buf, sizeof buf);
  std::size_t at = stat.find("\nbtime ");
  if (at == std::string_view::npos) return 0;
  return fieldAt(stat.substr(at + 1), 1);
}

std::uint64_t countOpenFds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return 0;
  std::uint64_t n = 0;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n > 0 ? n - 1 : 0;  // opendir's own descriptor is listed too
}

}  // namespace

ProcessFigures readProcessFigures() {
  ProcessFigures f;
  const long ticks = ::sysconf(_SC_CLK_TCK);
  const long page = ::sysconf(_SC_PAGESIZE);
  char buf[1024];
  std::string_view stat = readSmallFile("/proc/self/stat", buf, sizeof buf);
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  std::size_t paren = stat.rfind(')');
  if (paren != std::string_view::npos && paren + 2 < stat.size() && ticks > 0) {
    std::string_view rest = stat.substr(paren + 2);  // starts at field 3, the state
    const double perTick = 1.0 / static_cast<double>(ticks);
    f.cpuSeconds = static_cast<double>(fieldAt(rest, 11) + fieldAt(rest, 12)) * perTick;
    const std::uint64_t boot = bootTimeSeconds();
    if (boot > 0) {
      f.startTimeSeconds = static_cast<double>(boot) +
                           static_cast<double>(fieldAt(rest, 19)) * perTick;
    }
  }
  char statm[256];
  std::string_view mem = readSmallFile("/proc/self/statm", statm, sizeof statm);
  if (!mem.empty() && page > 0) f.residentBytes = fieldAt(mem, 1) * static_cast<std::uint64_t>(page);
  f.openFds = countOpenFds();
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) f.maxFds = lim.rlim_cur;
  return f;
}

}  // namespace epserve::server
