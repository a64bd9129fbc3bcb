// The peers whose X-Forwarded-For and Forwarded fields are believed (--trusted-proxies): a list
// of IPv4/IPv6 CIDR blocks and the membership test run for each proxied request. Pure.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "reactor/SocketAddress.h"

namespace epserve::proxy {

class TrustedProxies {
 public:
  // Appends one entry: "10.0.0.0/8", "127.0.0.1" (= /32), "::1/128", "fd00::/8", "::1" (= /128).
  // Throws std::invalid_argument (one line) for anything else, and for an address with bits set
  // past its prefix ("10.0.0.1/8"): that is a typo for either "10.0.0.1" or "10.0.0.0/8", and
  // guessing which (nginx masks it and warns) would widen the trust silently.
  void add(std::string_view cidr);

  // Appends a comma-separated list of entries (spaces around them allowed), none of them empty.
  void addList(std::string_view list);

  // A new set from such a list.
  static TrustedProxies parse(std::string_view list);

  // Whether the peer's address lies in one of the blocks. An IPv4-mapped IPv6 peer
  // (::ffff:a.b.c.d, what a dual-stack listener reports) matches IPv4 entries like a.b.c.d does:
  // every address is compared in its IPv6 form, IPv4 ones as ::ffff:a.b.c.d. So an IPv6 block
  // that covers ::ffff:0:0/96 (e.g. ::/0) matches IPv4 peers too. Other families never match.
  bool contains(const reactor::SocketAddress& peer) const;

  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }

  // The entries, canonical and comma-separated ("10.0.0.0/8, ::1/128"), for the start-up log.
  std::string toString() const;

 private:
  struct Entry {
    std::array<std::uint8_t, 16> bytes{};  // IPv6 form; IPv4 entries as ::ffff:a.b.c.d
    std::uint8_t bits = 0;                 // prefix length over those 128 bits
    bool v4 = false;                       // written as IPv4, printed as IPv4
  };
  std::vector<Entry> entries_;
};

}  // namespace epserve::proxy
