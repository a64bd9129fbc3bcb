// A unix-domain socket address for a Connector to dial, printable as "unix:/run/app.sock".
// Not folded into SocketAddress: every connection embeds one, and sun_path would grow it 84 B.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace epserve::reactor {

struct UnixAddress {
  sockaddr_un addr{};
  socklen_t length = sizeof(addr);

  // "unix:" and the path; "unix:@name" for the abstract namespace, bare "unix:" for an
  // unnamed socket (what getpeername reports for a socketpair end or an unbound client).
  std::string toString() const;
  // Writes the same into buf (NUL-terminated, truncated to size); returns the length.
  std::size_t format(char* buf, std::size_t size) const;

  // A filesystem path; false if it is empty, holds a NUL or does not fit sun_path (107 bytes
  // and the terminator).
  static bool parse(std::string_view path, UnixAddress& out);
};

}  // namespace epserve::reactor
