// Unit tests for --trusted-proxies CIDR lists (proxy/TrustedProxies): parsing, refusals with
// their reasons, IPv4 / IPv6 / IPv4-mapped membership at prefix boundaries.
#include <doctest/doctest.h>

#include <netinet/in.h>

#include <stdexcept>
#include <string>
#include <string_view>

#include "proxy/TrustedProxies.h"
#include "reactor/SocketAddress.h"

using epserve::proxy::TrustedProxies;
using epserve::reactor::SocketAddress;

namespace {

SocketAddress addr(const std::string& ip) {
  SocketAddress a;
  REQUIRE(SocketAddress::parse(ip, 4242, a));
  return a;
}

bool trusts(const TrustedProxies& t, const std::string& ip) { return t.contains(addr(ip)); }

std::string refusal(std::string_view list) {
  try {
    (void)TrustedProxies::parse(list);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("trusted proxies: an empty set trusts nobody") {
  const TrustedProxies t;
  CHECK(t.empty());
  CHECK(t.size() == 0);
  CHECK_FALSE(trusts(t, "127.0.0.1"));
  CHECK_FALSE(trusts(t, "::1"));
  CHECK(t.toString().empty());
}

TEST_CASE("trusted proxies: IPv4 blocks and single addresses") {
  const TrustedProxies t = TrustedProxies::parse("10.0.0.0/8, 127.0.0.1,192.168.1.128/25");
  CHECK(t.size() == 3);
  CHECK(t.toString() == "10.0.0.0/8, 127.0.0.1/32, 192.168.1.128/25");
  CHECK(trusts(t, "10.0.0.0"));
  CHECK(trusts(t, "10.255.255.255"));
  CHECK(trusts(t, "10.1.2.3"));
  CHECK_FALSE(trusts(t, "11.0.0.0"));
  CHECK_FALSE(trusts(t, "9.255.255.255"));
  CHECK(trusts(t, "127.0.0.1"));
  CHECK_FALSE(trusts(t, "127.0.0.2"));
  CHECK_FALSE(trusts(t, "127.0.0.0"));
  CHECK(trusts(t, "192.168.1.128"));
  CHECK(trusts(t, "192.168.1.255"));
  CHECK_FALSE(trusts(t, "192.168.1.127"));
  CHECK_FALSE(trusts(t, "192.168.0.200"));
  // An IPv4 block says nothing about IPv6 peers.
  CHECK_FALSE(trusts(t, "::1"));
  CHECK_FALSE(trusts(t, "::a00:1"));  // the IPv4-compatible (not mapped) form of 10.0.0.1
}

TEST_CASE("trusted proxies: IPv4-mapped IPv6 peers match IPv4 entries") {
  const TrustedProxies t = TrustedProxies::parse("10.0.0.0/8,127.0.0.1");
  CHECK(trusts(t, "::ffff:10.20.30.40"));
  CHECK(trusts(t, "::ffff:127.0.0.1"));
  CHECK(trusts(t, "::FFFF:7f00:1"));
  CHECK_FALSE(trusts(t, "::ffff:11.0.0.1"));
  CHECK_FALSE(trusts(t, "::ffff:127.0.0.2"));
  CHECK_FALSE(trusts(t, "::fffe:127.0.0.1"));
  CHECK_FALSE(trusts(t, "64:ff9b::127.0.0.1"));  // NAT64 is another address
}

TEST_CASE("trusted proxies: IPv6 blocks") {
  const TrustedProxies t = TrustedProxies::parse("::1/128,fd00::/8,2001:db8:abcd:12::/63");
  CHECK(t.toString() == "::1/128, fd00::/8, 2001:db8:abcd:12::/63");
  CHECK(trusts(t, "::1"));
  CHECK_FALSE(trusts(t, "::2"));
  CHECK_FALSE(trusts(t, "::"));
  CHECK(trusts(t, "fd00::1"));
  CHECK(trusts(t, "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
  CHECK_FALSE(trusts(t, "fc00::1"));
  CHECK_FALSE(trusts(t, "fe00::1"));
  CHECK(trusts(t, "2001:db8:abcd:12::1"));
  CHECK(trusts(t, "2001:db8:abcd:13:ffff::1"));
  CHECK_FALSE(trusts(t, "2001:db8:abcd:14::"));
  CHECK_FALSE(trusts(t, "2001:db8:abcd:11:ffff:ffff:ffff:ffff"));
  // No IPv6 entry here covers ::ffff:0:0/96, so IPv4 peers are not trusted.
  CHECK_FALSE(trusts(t, "127.0.0.1"));
  CHECK_FALSE(trusts(t, "::ffff:127.0.0.1"));
  // A bare IPv6 address is a /128.
  CHECK(TrustedProxies::parse("2001:db8::5").toString() == "2001:db8::5/128");
}

TEST_CASE("trusted proxies: /0 and the mapped range") {
  const TrustedProxies all4 = TrustedProxies::parse("0.0.0.0/0");
  CHECK(trusts(all4, "1.2.3.4"));
  CHECK(trusts(all4, "::ffff:1.2.3.4"));
  CHECK_FALSE(trusts(all4, "::1"));
  const TrustedProxies all6 = TrustedProxies::parse("::/0");
  CHECK(trusts(all6, "::1"));
  CHECK(trusts(all6, "2001:db8::1"));
  CHECK(trusts(all6, "1.2.3.4"));  // ::/0 covers ::ffff:1.2.3.4 too (see the header)
  const TrustedProxies mapped = TrustedProxies::parse("::ffff:10.0.0.0/104");
  CHECK(mapped.toString() == "::ffff:10.0.0.0/104");
  CHECK(trusts(mapped, "10.9.9.9"));
  CHECK(trusts(mapped, "::ffff:10.9.9.9"));
  CHECK_FALSE(trusts(mapped, "11.0.0.0"));
}

TEST_CASE("trusted proxies: every prefix length splits where it should") {
  // 0.0.0.0/n contains 2^(32-n) addresses starting at 0: its last one is in, the next one out.
  for (unsigned bits = 1; bits <= 32; ++bits) {
    CAPTURE(bits);
    const TrustedProxies t = TrustedProxies::parse("0.0.0.0/" + std::to_string(bits));
    const std::uint64_t size = 1ULL << (32 - bits);
    auto ip = [](std::uint64_t v) {
      return std::to_string((v >> 24) & 255) + "." + std::to_string((v >> 16) & 255) + "." +
             std::to_string((v >> 8) & 255) + "." + std::to_string(v & 255);
    };
    CHECK(trusts(t, ip(0)));
    CHECK(trusts(t, ip(size - 1)));
    CHECK_FALSE(trusts(t, ip(size)));
  }
  for (unsigned bits = 1; bits <= 128; ++bits) {
    CAPTURE(bits);
    // The block ::/bits, then the first address past it: bit number `bits` (from the top) set.
    const TrustedProxies t = TrustedProxies::parse("::/" + std::to_string(bits));
    SocketAddress in = addr("::");
    CHECK(t.contains(in));
    SocketAddress out = addr("::");
    const unsigned bit = bits - 1;
    out.addr.v6.sin6_addr.s6_addr[bit / 8] = static_cast<std::uint8_t>(0x80U >> (bit % 8));
    CHECK_FALSE(t.contains(out));
    if (bits < 128) {
      SocketAddress last = addr("::");
      last.addr.v6.sin6_addr.s6_addr[15] = 1;  // a low bit, inside every block but /128
      CHECK(t.contains(last));
    }
  }
}

TEST_CASE("trusted proxies: refusals say why, host bits included") {
  CHECK(refusal("") == "'' is not a CIDR block: empty entry");
  CHECK(refusal("10.0.0.0/8,") == "'' is not a CIDR block: empty entry");
  CHECK(refusal("10.0.0.0/8,,::1") == "'' is not a CIDR block: empty entry");
  CHECK(refusal("localhost") ==
        "'localhost' is not a CIDR block: expected an IPv4 or IPv6 address, optionally with "
        "/PREFIX");
  CHECK(refusal("10.0.0") ==
        "'10.0.0' is not a CIDR block: expected an IPv4 or IPv6 address, optionally with /PREFIX");
  CHECK(refusal("[::1]") ==
        "'[::1]' is not a CIDR block: expected an IPv4 or IPv6 address, optionally with /PREFIX");
  CHECK(refusal("10.0.0.0 /8") ==
        "'10.0.0.0 /8' is not a CIDR block: expected an IPv4 or IPv6 address, optionally with "
        "/PREFIX");
  CHECK(refusal("10.0.0.0/33") == "'10.0.0.0/33' is not a CIDR block: prefix length must be 0..32");
  CHECK(refusal("10.0.0.0/") == "'10.0.0.0/' is not a CIDR block: prefix length must be 0..32");
  CHECK(refusal("10.0.0.0/-1") == "'10.0.0.0/-1' is not a CIDR block: prefix length must be 0..32");
  CHECK(refusal("10.0.0.0/8/8") == "'10.0.0.0/8/8' is not a CIDR block: prefix length must be 0..32");
  CHECK(refusal("10.0.0.0/0008") ==
        "'10.0.0.0/0008' is not a CIDR block: prefix length must be 0..32");
  CHECK(refusal("::/129") == "'::/129' is not a CIDR block: prefix length must be 0..128");
  CHECK(refusal("10.0.0.1/8") ==
        "'10.0.0.1/8' is not a CIDR block: address bits set beyond the /8 prefix (did you mean "
        "10.0.0.0/8?)");
  CHECK(refusal("192.168.1.1/24") ==
        "'192.168.1.1/24' is not a CIDR block: address bits set beyond the /24 prefix (did you "
        "mean 192.168.1.0/24?)");
  CHECK(refusal("1.2.3.4/0") ==
        "'1.2.3.4/0' is not a CIDR block: address bits set beyond the /0 prefix (did you mean "
        "0.0.0.0/0?)");
  CHECK(refusal("fd00::1/8") ==
        "'fd00::1/8' is not a CIDR block: address bits set beyond the /8 prefix (did you mean "
        "fd00::/8?)");
  CHECK(refusal("::1/127") ==
        "'::1/127' is not a CIDR block: address bits set beyond the /127 prefix (did you mean "
        "::/127?)");
  // The boundary bit itself is inside the prefix.
  CHECK(refusal("10.128.0.0/9").empty());
  CHECK(refusal("10.64.0.0/9") ==
        "'10.64.0.0/9' is not a CIDR block: address bits set beyond the /9 prefix (did you mean "
        "10.0.0.0/9?)");
}

TEST_CASE("trusted proxies: lists with spaces and several calls add up") {
  TrustedProxies t = TrustedProxies::parse(" 10.0.0.0/8 ,\t::1 ");
  CHECK(t.size() == 2);
  t.add("172.16.0.0/12");
  t.addList("192.0.2.1, 198.51.100.0/24");
  CHECK(t.size() == 5);
  CHECK(trusts(t, "172.31.255.255"));
  CHECK_FALSE(trusts(t, "172.32.0.0"));
  CHECK(trusts(t, "192.0.2.1"));
  CHECK(trusts(t, "198.51.100.77"));
  CHECK(trusts(t, "::1"));
  // A failed add leaves what was there.
  CHECK_THROWS_AS(t.add("bogus"), std::invalid_argument);
  CHECK(t.size() == 5);
}

TEST_CASE("trusted proxies: a peer of no IP family never matches") {
  const TrustedProxies t = TrustedProxies::parse("0.0.0.0/0,::/0");
  SocketAddress none;  // zeroed: AF_UNSPEC
  CHECK_FALSE(t.contains(none));
  SocketAddress unixish;
  unixish.addr.any.sa_family = AF_UNIX;
  CHECK_FALSE(t.contains(unixish));
}
