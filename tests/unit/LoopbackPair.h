// Two ends of a real TCP connection on 127.0.0.1 (non-blocking), for unit tests that drive a
// Stream or a Connection without the binary: `near` is handed to the code under test.
#pragma once

#include <doctest/doctest.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <string_view>

#include "reactor/Fd.h"
#include "reactor/SocketAddress.h"

namespace epserve::testing {

struct LoopbackPair {
  reactor::Fd near;  // the accepted end: what a server would own
  reactor::Fd far;   // the client's end, driven by the test
  reactor::SocketAddress farAddress;

  LoopbackPair() {
    reactor::Fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(listener.valid());
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    REQUIRE(::listen(listener.get(), 1) == 0);
    socklen_t len = sizeof(a);
    REQUIRE(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&a), &len) == 0);
    far.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(::connect(far.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    farAddress.length = sizeof(farAddress.addr);
    near.reset(::accept4(listener.get(), &farAddress.addr.any, &farAddress.length,
                         SOCK_NONBLOCK | SOCK_CLOEXEC));
    REQUIRE(near.valid());
    timeval tv{5, 0};  // every blocking call of the test's end gives up after 5 s
    ::setsockopt(far.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(far.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  }

  // Small kernel buffers on both ends, so a few hundred KiB already fill them (EAGAIN).
  void shrinkBuffers(int bytes = 4096) {
    for (int fd : {near.get(), far.get()}) {
      ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
    }
  }

  void send(std::string_view s) const {
    REQUIRE(::send(far.get(), s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size()));
  }

  // Whatever the far end can read within `waitMillis` (non-blocking after the first byte).
  std::string receiveAvailable(int waitMillis = 0) const {
    std::string out;
    pollfd p{far.get(), POLLIN, 0};
    if (::poll(&p, 1, waitMillis) <= 0) return out;
    char buf[65536];
    for (int i = 0; i < 10000; ++i) {
      ssize_t n = ::recv(far.get(), buf, sizeof(buf), MSG_DONTWAIT);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

  // True when the far end sees EOF (or a reset) within `waitMillis`, after reading what is left.
  bool farSeesEnd(int waitMillis) const {
    for (int i = 0; i < 100; ++i) {
      pollfd p{far.get(), POLLIN, 0};
      if (::poll(&p, 1, waitMillis) <= 0) return false;
      char buf[65536];
      ssize_t n = ::recv(far.get(), buf, sizeof(buf), MSG_DONTWAIT);
      if (n <= 0) return true;
    }
    return false;
  }
};

}  // namespace epserve::testing
