// Header lookup and the ASCII case-insensitive comparison HTTP uses for names and tokens
// (RFC 9110 §5.1: field names are case-insensitive; so are most tokens, e.g. §7.6.1 Connection).
#include "http/Request.h"

namespace epserve::http {

std::string_view Request::find(std::string_view name) const {
  for (std::size_t i = 0; i < headerCount; ++i) {
    if (equalsIgnoreCase(headers[i].name, name)) return headers[i].value;
  }
  return {};
}

}  // namespace epserve::http
