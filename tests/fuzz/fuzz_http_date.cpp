// Fuzzes parseHttpDate and formatHttpDate: accepted dates round-trip, and both directions agree
// with the C library's gmtime_r on every calendar field, weekday included.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <optional>
#include <string_view>

#include "FuzzSupport.h"
#include "http/HttpDate.h"

namespace {

using epserve::http::DateCache;
using epserve::http::formatHttpDate;
using epserve::http::kHttpDateLength;
using epserve::http::parseHttpDate;

// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range a four-digit year can spell.
constexpr std::int64_t kMinTime = -62167219200LL;
constexpr std::int64_t kMaxTime = 253402300799LL;

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kLongDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                     "Thursday", "Friday", "Saturday"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::tm utc(std::int64_t t) {
  std::tm tm{};
  const auto tt = static_cast<std::time_t>(t);
  FUZZ_CHECK(::gmtime_r(&tt, &tm) != nullptr);
  return tm;
}

int num(std::string_view s) {
  int v = 0;
  for (char c : s) {
    FUZZ_CHECK(c >= '0' && c <= '9');
    v = v * 10 + (c - '0');
  }
  return v;
}

int monthIndex(std::string_view m) {
  for (int i = 0; i < 12; ++i) {
    if (m == kMonths[i]) return i;
  }
  return -1;
}

// A formatted date must be the IMF-fixdate gmtime_r gives for the same instant.
void checkFormatted(std::string_view f, std::int64_t t) {
  FUZZ_CHECK(f.size() == kHttpDateLength);
  const std::tm tm = utc(t);
  FUZZ_CHECK(f.substr(0, 3) == kDays[tm.tm_wday]);
  FUZZ_CHECK(f.substr(3, 2) == ", " && f[7] == ' ' && f[11] == ' ' && f[16] == ' ');
  FUZZ_CHECK(f[19] == ':' && f[22] == ':' && f.substr(25) == " GMT");
  FUZZ_CHECK(num(f.substr(5, 2)) == tm.tm_mday);
  FUZZ_CHECK(monthIndex(f.substr(8, 3)) == tm.tm_mon);
  FUZZ_CHECK(num(f.substr(12, 4)) == tm.tm_year + 1900);
  FUZZ_CHECK(num(f.substr(17, 2)) == tm.tm_hour);
  FUZZ_CHECK(num(f.substr(20, 2)) == tm.tm_min);
  FUZZ_CHECK(num(f.substr(23, 2)) == tm.tm_sec);
}

// The fields written in an accepted date are those of the instant it parsed to (a leap second
// 60 counts as 59). The weekday name is not checked against the date: the parser, like most,
// does not cross-check it.
void checkFields(const std::tm& tm, int year, int yearModulo, std::string_view month, int day,
                 std::string_view time) {
  FUZZ_CHECK(monthIndex(month) == tm.tm_mon);
  FUZZ_CHECK(day == tm.tm_mday);
  FUZZ_CHECK((tm.tm_year + 1900) % yearModulo == year % yearModulo);
  FUZZ_CHECK(num(time.substr(0, 2)) == tm.tm_hour && time[2] == ':');
  FUZZ_CHECK(num(time.substr(3, 2)) == tm.tm_min && time[5] == ':');
  const int sec = num(time.substr(6, 2));
  FUZZ_CHECK((sec == 60 ? 59 : sec) == tm.tm_sec);
}

void checkParsed(std::string_view s, std::int64_t t) {
  FUZZ_CHECK(t >= kMinTime && t <= kMaxTime);
  const std::tm tm = utc(t);
  if (s.size() == 29 && s[3] == ',') {  // "Sun, 06 Nov 1994 08:49:37 GMT"
    FUZZ_CHECK(s.substr(25) == " GMT");
    checkFields(tm, num(s.substr(12, 4)), 10000, s.substr(8, 3), num(s.substr(5, 2)),
                s.substr(17, 8));
  } else if (s.size() == 24 && s[3] == ' ') {  // "Sun Nov  6 08:49:37 1994"
    const int day = s[8] == ' ' ? num(s.substr(9, 1)) : num(s.substr(8, 2));
    checkFields(tm, num(s.substr(20, 4)), 10000, s.substr(4, 3), day, s.substr(11, 8));
  } else {  // "Sunday, 06-Nov-94 08:49:37 GMT": the century comes from the clock
    FUZZ_CHECK(s.size() > 24);
    const std::string_view name = s.substr(0, s.size() - 24);
    bool known = false;
    for (const char* d : kLongDays) known = known || name == d;
    FUZZ_CHECK(known);
    const std::string_view tail = s.substr(name.size());
    FUZZ_CHECK(tail.substr(20) == " GMT");
    checkFields(tm, num(tail.substr(9, 2)), 100, tail.substr(5, 3), num(tail.substr(2, 2)),
                tail.substr(12, 8));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view s(reinterpret_cast<const char*>(data), size);

  // Text -> time: anything accepted re-formats to a date that parses to the same instant.
  if (const std::optional<std::time_t> t = parseHttpDate(s)) {
    checkParsed(s, static_cast<std::int64_t>(*t));
    char text[kHttpDateLength];
    formatHttpDate(*t, text);
    const std::string_view f(text, sizeof text);
    checkFormatted(f, static_cast<std::int64_t>(*t));
    const std::optional<std::time_t> back = parseHttpDate(f);
    FUZZ_CHECK(back.has_value() && *back == *t);
  }

  // Time -> text: any time_t (clamped to four-digit years) formats as gmtime_r says and parses
  // back to itself.
  if (size >= sizeof(std::int64_t)) {
    std::int64_t raw;
    std::memcpy(&raw, data, sizeof raw);
    const std::int64_t clamped = raw < kMinTime ? kMinTime : raw > kMaxTime ? kMaxTime : raw;
    char text[kHttpDateLength];
    formatHttpDate(static_cast<std::time_t>(raw), text);
    const std::string_view f(text, sizeof text);
    checkFormatted(f, clamped);
    const std::optional<std::time_t> back = parseHttpDate(f);
    FUZZ_CHECK(back.has_value() && static_cast<std::int64_t>(*back) == clamped);

    DateCache cache;
    FUZZ_CHECK(cache.get(static_cast<std::time_t>(raw)) == f);
    FUZZ_CHECK(cache.get(static_cast<std::time_t>(raw)) == f);
  }
  return 0;
}
