// Unit tests for unix-domain socket addresses (reactor/UnixAddress): parsing and the log form.
#include <doctest/doctest.h>

#include <sys/un.h>

#include <cstddef>
#include <string>

#include "reactor/UnixAddress.h"

using epserve::reactor::UnixAddress;

TEST_CASE("unix address: paths parse and print as unix:/path") {
  UnixAddress a;
  REQUIRE(UnixAddress::parse("/run/app.sock", a));
  CHECK(a.addr.sun_family == AF_UNIX);
  CHECK(a.toString() == "unix:/run/app.sock");
  CHECK_FALSE(UnixAddress::parse("", a));
  CHECK_FALSE(UnixAddress::parse(std::string("a\0b", 3), a));
  constexpr std::size_t room = sizeof(sockaddr_un::sun_path);
  CHECK_FALSE(UnixAddress::parse(std::string(room, 'x'), a));
  REQUIRE(UnixAddress::parse(std::string(room - 1, 'x'), a));
  CHECK(a.toString() == "unix:" + std::string(room - 1, 'x'));
  char small[10];
  CHECK(a.format(small, sizeof(small)) == 9);
  CHECK(std::string(small) == "unix:xxxx");
}

TEST_CASE("unix address: what the kernel reports for unnamed and abstract sockets prints too") {
  UnixAddress unnamed;
  unnamed.addr.sun_family = AF_UNIX;
  unnamed.length = sizeof(sa_family_t);
  CHECK(unnamed.toString() == "unix:");

  UnixAddress abstract;
  abstract.addr.sun_family = AF_UNIX;
  abstract.addr.sun_path[1] = 'u';
  abstract.addr.sun_path[2] = 'p';
  abstract.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 3);
  CHECK(abstract.toString() == "unix:@up");

  // A path filling sun_path has no terminator: `length` bounds it.
  UnixAddress full;
  full.addr.sun_family = AF_UNIX;
  for (char& c : full.addr.sun_path) c = 'y';
  full.length = sizeof(sockaddr_un);
  CHECK(full.toString() == "unix:" + std::string(sizeof(sockaddr_un::sun_path), 'y'));
}
