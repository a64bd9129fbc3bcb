// HTTP dates (RFC 9110 §5.6.7): formatting IMF-fixdate, parsing all three accepted formats.
#pragma once

#include <cstddef>
#include <ctime>
#include <optional>
#include <string_view>

namespace epserve::http {

inline constexpr std::size_t kHttpDateLength = 29;  // "Sun, 06 Nov 1994 08:49:37 GMT"

// Writes exactly kHttpDateLength bytes (no NUL) for `t` (seconds since the epoch, UTC).
void formatHttpDate(std::time_t t, char* out);

// IMF-fixdate, obsolete RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime
// ("Sun Nov  6 08:49:37 1994"); nullopt for anything else, including invalid calendar values.
std::optional<std::time_t> parseHttpDate(std::string_view s);

// Caches the formatted Date header value, reformatting only when the second changes.
class DateCache {
 public:
  std::string_view get(std::time_t now);

 private:
  std::time_t cachedFor_ = 0;
  bool valid_ = false;  // -1 is a valid time, so no value of cachedFor_ can mean "empty"
  char text_[kHttpDateLength] = {};
};

}  // namespace epserve::http
