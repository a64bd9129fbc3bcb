// One HTTP/1.x response as the test client parsed it off the wire (RFC 9112 §2.1, §4, §6).
// Header lookup is case-insensitive because field names are (RFC 9110 §5.1).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace epserve::e2e {

struct HttpResponse {
  std::string version;  // e.g. "HTTP/1.1"
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::vector<int> interimStatuses;  // 1xx responses that preceded this one, in order

  bool has(std::string_view name) const;
  // The first value of `name`, or "" if absent.
  std::string header(std::string_view name) const;
  std::size_t headerCount(std::string_view name) const;
  // True if the Connection header lists `option` (case-insensitive token match).
  bool connectionHas(std::string_view option) const;
};

bool equalsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace epserve::e2e
