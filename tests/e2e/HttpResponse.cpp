// Header lookups on a parsed response; kept apart from the socket code in Client.cpp.
// Connection is a comma-separated list of tokens (RFC 9110 §7.6.1), so it is split, not searched.
#include "HttpResponse.h"

#include <cctype>

namespace epserve::e2e {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool HttpResponse::has(std::string_view name) const { return headerCount(name) > 0; }

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (equalsIgnoreCase(key, name)) return value;
  }
  return {};
}

std::size_t HttpResponse::headerCount(std::string_view name) const {
  std::size_t count = 0;
  for (const auto& field : headers) count += equalsIgnoreCase(field.first, name) ? 1 : 0;
  return count;
}

bool HttpResponse::connectionHas(std::string_view option) const {
  for (const auto& [key, value] : headers) {
    if (!equalsIgnoreCase(key, "Connection")) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      std::string_view token = rest.substr(0, comma);
      while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) {
        token.remove_prefix(1);
      }
      while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) {
        token.remove_suffix(1);
      }
      if (equalsIgnoreCase(token, option)) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

}  // namespace epserve::e2e
