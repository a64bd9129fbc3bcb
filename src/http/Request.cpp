// Header lookup and the ASCII case-insensitive comparison HTTP uses for names and tokens
// (RFC 9110 §5.1: field names are case-insensitive; so are most tokens, e.g. §7.6.1 Connection).
#include "http/Request.h"

namespace epserve::http {

namespace {

// Folding only A-Z keeps the comparison locale-free and leaves obs-text bytes alone.
constexpr unsigned char asciiLower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c | 0x20) : c;
}

}  // namespace

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    if (x != y && asciiLower(x) != asciiLower(y)) return false;
  }
  return true;
}

std::string_view Request::find(std::string_view name) const {
  for (std::size_t i = 0; i < headerCount; ++i) {
    if (equalsIgnoreCase(headers[i].name, name)) return headers[i].value;
  }
  return {};
}

}  // namespace epserve::http
