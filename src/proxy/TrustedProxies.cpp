// CIDR parsing and matching for --trusted-proxies: see TrustedProxies.h. Addresses are kept in
// their 16-byte IPv6 form so one comparison serves IPv4, IPv6 and IPv4-mapped peers alike.
#include "proxy/TrustedProxies.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <stdexcept>

#include "http/Syntax.h"

namespace epserve::proxy {

namespace {

// The ::ffff:0:0/96 prefix of IPv4-mapped addresses (RFC 4291 §2.5.5.2).
constexpr std::array<std::uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};

[[noreturn]] void refuse(std::string_view cidr, const std::string& why) {
  throw std::invalid_argument("'" + std::string(cidr) + "' is not a CIDR block: " + why);
}

std::string formatAddress(const std::array<std::uint8_t, 16>& bytes, bool v4) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (v4) {
    ::inet_ntop(AF_INET, bytes.data() + 12, buf, sizeof(buf));
  } else {
    ::inet_ntop(AF_INET6, bytes.data(), buf, sizeof(buf));
  }
  return buf;
}

// True when a and b agree on their first `bits` bits.
bool samePrefix(const std::uint8_t* a, const std::uint8_t* b, unsigned bits) {
  const unsigned whole = bits / 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  const unsigned rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xFF00U >> rest);
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

void TrustedProxies::add(std::string_view cidr) {
  if (cidr.empty()) refuse(cidr, "empty entry");
  const std::size_t slash = cidr.find('/');
  const std::string addr(cidr.substr(0, slash));
  Entry e;
  unsigned maxBits = 128;
  in_addr a4{};
  in6_addr a6{};
  if (::inet_pton(AF_INET, addr.c_str(), &a4) == 1) {
    e.v4 = true;
    maxBits = 32;
    std::memcpy(e.bytes.data(), kMappedPrefix.data(), kMappedPrefix.size());
    std::memcpy(e.bytes.data() + 12, &a4, 4);
  } else if (::inet_pton(AF_INET6, addr.c_str(), &a6) == 1) {
    std::memcpy(e.bytes.data(), &a6, 16);
  } else {
    refuse(cidr, "expected an IPv4 or IPv6 address, optionally with /PREFIX");
  }

  unsigned bits = maxBits;
  if (slash != std::string_view::npos) {
    const std::string_view len = cidr.substr(slash + 1);
    std::uint64_t v = 0;
    if (len.size() > 3 || !http::parseDecimal(len, v) || v > maxBits) {
      refuse(cidr, "prefix length must be 0.." + std::to_string(maxBits));
    }
    bits = static_cast<unsigned>(v);
  }
  const unsigned total = e.v4 ? bits + 96 : bits;
  // Every bit past the prefix must be zero (see the header for why this is not masked).
  std::array<std::uint8_t, 16> masked{};
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned from = i * 8;
    std::uint8_t keep = 0;
    if (total >= from + 8) {
      keep = 0xFF;
    } else if (total > from) {
      keep = static_cast<std::uint8_t>(0xFF00U >> (total - from));
    }
    masked[i] = static_cast<std::uint8_t>(e.bytes[i] & keep);
  }
  if (masked != e.bytes) {
    refuse(cidr, "address bits set beyond the /" + std::to_string(bits) + " prefix (did you mean " +
                     formatAddress(masked, e.v4) + "/" + std::to_string(bits) + "?)");
  }
  e.bits = static_cast<std::uint8_t>(total);
  entries_.push_back(e);
}

void TrustedProxies::addList(std::string_view list) {
  http::forEachListElement(list, [this](std::string_view element) {
    add(element);
    return true;
  });
}

TrustedProxies TrustedProxies::parse(std::string_view list) {
  TrustedProxies t;
  t.addList(list);
  return t;
}

bool TrustedProxies::contains(const reactor::SocketAddress& peer) const {
  std::array<std::uint8_t, 16> bytes{};
  if (peer.addr.any.sa_family == AF_INET) {
    std::memcpy(bytes.data(), kMappedPrefix.data(), kMappedPrefix.size());
    std::memcpy(bytes.data() + 12, &peer.addr.v4.sin_addr, 4);
  } else if (peer.addr.any.sa_family == AF_INET6) {
    std::memcpy(bytes.data(), &peer.addr.v6.sin6_addr, 16);
  } else {
    return false;
  }
  for (const Entry& e : entries_) {
    if (samePrefix(bytes.data(), e.bytes.data(), e.bits)) return true;
  }
  return false;
}

std::string TrustedProxies::toString() const {
  std::string out;
  for (const Entry& e : entries_) {
    if (!out.empty()) out += ", ";
    out += formatAddress(e.bytes, e.v4);
    out += '/';
    out += std::to_string(e.v4 ? e.bits - 96 : e.bits);
  }
  return out;
}

}  // namespace epserve::proxy
