// Hop-by-hop field selection and the end-to-end field writer: see HopByHop.h.
#include "http/HopByHop.h"

#include <cstring>

#include "http/Syntax.h"

namespace epserve::http {

namespace {

// RFC 9110 §7.6.1's list of fields to remove whether or not Connection names them, plus
// Connection itself and Trailer, which announces trailer fields of this hop's chunked framing.
// Proxy-Connection was never standard, but old clients still send it (RFC 9112 Appendix C.2.2).
constexpr std::array<std::string_view, 7> kAlwaysHopByHop = {
    "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
};

bool isConnection(const Header& h) { return equalsIgnoreCase(h.name, "connection"); }

bool listHas(std::string_view list, std::string_view name) {
  bool found = false;
  forEachListElement(list, [&](std::string_view option) {
    found = equalsIgnoreCase(option, name);
    return !found;
  });
  return found;
}

}  // namespace

HopByHopFilter::HopByHopFilter(std::span<const Header> fields) : fields_(fields) {
  for (const Header& h : fields_) {
    if (!isConnection(h)) continue;
    forEachListElement(h.value, [&](std::string_view option) {
      // connection-option = token (RFC 9110 §7.6.1); anything else names no field, and empty
      // elements are allowed in any list (§5.6.1).
      if (!isToken(option)) return true;
      if (keptCount_ == kept_.size()) {
        overflow_ = true;
        return false;
      }
      kept_[keptCount_++] = option;
      return true;
    });
    if (overflow_) return;
  }
}

bool HopByHopFilter::namedByConnection(std::string_view name) const {
  if (overflow_) {
    for (const Header& h : fields_) {
      if (isConnection(h) && listHas(h.value, name)) return true;
    }
    return false;
  }
  for (std::size_t i = 0; i < keptCount_; ++i) {
    if (equalsIgnoreCase(kept_[i], name)) return true;
  }
  return false;
}

bool HopByHopFilter::isHopByHop(std::string_view name) const {
  return isOneOfIgnoreCase(kAlwaysHopByHop, name) || namedByConnection(name);
}

std::size_t endToEndSize(std::span<const Header> fields) {
  std::size_t n = 0;
  for (const Header& h : fields) n += h.name.size() + h.value.size() + 4;  // ": " and CRLF
  return n;
}

std::size_t writeEndToEnd(std::span<const Header> fields, const HopByHopFilter& hop, char* out,
                          std::span<const std::string_view> alsoDrop) {
  char* p = out;
  auto put = [&p](std::string_view s) {
    if (s.empty()) return;  // memcpy from an empty view's nullptr is undefined
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  };
  for (const Header& h : fields) {
    if (hop.isHopByHop(h.name)) continue;
    bool dropped = false;
    for (std::string_view d : alsoDrop) dropped = dropped || equalsIgnoreCase(d, h.name);
    if (dropped) continue;
    put(h.name);
    put(": ");
    put(h.value);
    put("\r\n");
  }
  return static_cast<std::size_t>(p - out);
}

}  // namespace epserve::http
