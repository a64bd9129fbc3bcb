// Unit tests for the listening socket (reactor/Listener): options accepted sockets inherit.
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include "reactor/Fd.h"
#include "reactor/Listener.h"
#include "reactor/SocketAddress.h"

using epserve::reactor::Fd;
using epserve::reactor::SocketAddress;

namespace {

// Listens on 127.0.0.1 with `lowat`, connects over loopback, returns the accepted socket
// (bounded waits); `client` keeps the other end open.
Fd acceptOne(unsigned lowat, Fd& client) {
  SocketAddress any;
  REQUIRE(SocketAddress::parse("127.0.0.1", 0, any));
  Fd listener = epserve::reactor::listenTcp(any, 16, false, lowat);
  SocketAddress bound = SocketAddress::local(listener.get());
  client = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(client);
  timeval tv{2, 0};
  ::setsockopt(client.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  REQUIRE(::connect(client.get(), &bound.addr.any, bound.length) == 0);
  // TCP_DEFER_ACCEPT holds the connection back until data arrives.
  REQUIRE(::send(client.get(), "x", 1, MSG_NOSIGNAL) == 1);
  pollfd p{listener.get(), POLLIN, 0};
  REQUIRE(::poll(&p, 1, 3000) == 1);
  Fd accepted(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  REQUIRE(accepted);
  return accepted;
}

int notSentLowat(const Fd& fd) {
  int v = -1;
  socklen_t len = sizeof(v);
  REQUIRE(::getsockopt(fd.get(), IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, &len) == 0);
  return v;
}

}  // namespace

TEST_CASE("listener: accepted sockets inherit TCP_NOTSENT_LOWAT and TCP_NODELAY") {
  Fd client;
  Fd accepted = acceptOne(16384, client);
  CHECK(notSentLowat(accepted) == 16384);
  int nodelay = 0;
  socklen_t len = sizeof(nodelay);
  REQUIRE(::getsockopt(accepted.get(), IPPROTO_TCP, TCP_NODELAY, &nodelay, &len) == 0);
  CHECK(nodelay != 0);
}

TEST_CASE("listener: notSentLowat 0 leaves the system default") {
  Fd client;
  Fd accepted = acceptOne(0, client);
  CHECK(notSentLowat(accepted) == 0);  // 0: the socket follows the net.ipv4 sysctl
}

TEST_CASE("listener: setListenerOptions gives a socket listening already the same options") {
  // What socket activation hands over: bound and listening by someone else, no options set.
  Fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(listener);
  SocketAddress any;
  REQUIRE(SocketAddress::parse("127.0.0.1", 0, any));
  REQUIRE(::bind(listener.get(), &any.addr.any, any.length) == 0);
  REQUIRE(::listen(listener.get(), 16) == 0);
  epserve::reactor::setListenerOptions(listener.get(), 8192);
  CHECK(notSentLowat(listener) == 8192);
  int v = 0;
  socklen_t len = sizeof(v);
  REQUIRE(::getsockopt(listener.get(), IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0);
  CHECK(v != 0);
  REQUIRE(::getsockopt(listener.get(), IPPROTO_TCP, TCP_DEFER_ACCEPT, &v, &len) == 0);
  CHECK(v > 0);
}
