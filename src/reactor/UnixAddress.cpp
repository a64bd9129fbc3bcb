// Unix-domain socket address parsing and printing: see UnixAddress.h.
#include "reactor/UnixAddress.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace epserve::reactor {

std::size_t UnixAddress::format(char* buf, std::size_t size) const {
  // sun_path is not NUL-terminated when the path fills it: `length` bounds it.
  constexpr std::size_t pathOffset = offsetof(sockaddr_un, sun_path);
  std::size_t pathBytes = length > pathOffset ? length - pathOffset : 0;
  pathBytes = std::min(pathBytes, sizeof(addr.sun_path));
  const char* path = addr.sun_path;
  const char* prefix = "unix:";
  if (pathBytes > 0 && path[0] == '\0') {  // abstract: the name is the bytes after the NUL
    prefix = "unix:@";
    ++path;
    --pathBytes;
  } else {
    pathBytes = ::strnlen(path, pathBytes);
  }
  int n = std::snprintf(buf, size, "%s%.*s", prefix, static_cast<int>(pathBytes), path);
  if (n < 0 || size == 0) return 0;
  return static_cast<std::size_t>(n) < size ? static_cast<std::size_t>(n) : size - 1;
}

std::string UnixAddress::toString() const {
  char buf[sizeof("unix:@") + sizeof(sockaddr_un::sun_path)];
  std::size_t n = format(buf, sizeof(buf));
  return std::string(buf, n);
}

bool UnixAddress::parse(std::string_view path, UnixAddress& out) {
  out = UnixAddress{};
  if (path.empty() || path.size() >= sizeof(out.addr.sun_path) ||
      path.find('\0') != std::string_view::npos) {
    return false;
  }
  out.addr.sun_family = AF_UNIX;
  std::memcpy(out.addr.sun_path, path.data(), path.size());
  out.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return true;
}

}  // namespace epserve::reactor
