// HTTP-date formatting and parsing (RFC 9110 §5.6.7) with our own proleptic Gregorian
// arithmetic: no strftime/strptime, so no locale, no TZ lookup and no allocation.
#include "http/HttpDate.h"

#include <algorithm>
#include <cstdint>

namespace epserve::http {

namespace {

constexpr std::int64_t kSecondsPerDay = 86400;
constexpr std::int64_t kDaysPer400Years = 146097;
// The Gregorian calendar repeats every 400 years, so shifting every year by 400 keeps the
// arithmetic on non-negative numbers for years 0000..9999 without changing any date.
constexpr std::int64_t kYearShift = 400;

constexpr std::string_view kShortDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::string_view kLongDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                          "Thursday", "Friday", "Saturday"};
constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
// Days before the first of each month in a common year.
constexpr int kDaysBeforeMonth[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};

constexpr bool isLeap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

constexpr int daysInMonth(std::int64_t y, int month) {  // month 1..12
  constexpr int kLengths[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && isLeap(y) ? 29 : kLengths[month - 1];
}

// Days from 0001-01-01 to the first of January of year y (y >= 1).
constexpr std::int64_t daysBeforeYear(std::int64_t y) {
  std::int64_t p = y - 1;
  return 365 * p + p / 4 - p / 100 + p / 400;
}

constexpr std::int64_t kEpochOrdinal = daysBeforeYear(1970 + kYearShift);

// Days since 1970-01-01 for a valid date with year in 0..9999.
constexpr std::int64_t daysFromCivil(std::int64_t y, int month, int day) {
  std::int64_t doy = kDaysBeforeMonth[month - 1] + (month > 2 && isLeap(y) ? 1 : 0) + day - 1;
  return daysBeforeYear(y + kYearShift) - kEpochOrdinal + doy;
}

struct Civil {
  std::int64_t year;
  int month;  // 1..12
  int day;    // 1..31
};

// Inverse of daysFromCivil: peel off 400-, 100-, 4- and 1-year cycles. The last year of the
// 100- and 1-year cycles is one day longer, which the min() calls account for.
constexpr Civil civilFromDays(std::int64_t days) {
  std::int64_t z = days + kEpochOrdinal;  // days since 0001-01-01 of the shifted calendar
  std::int64_t n400 = z / kDaysPer400Years;
  std::int64_t r = z % kDaysPer400Years;
  std::int64_t n100 = std::min<std::int64_t>(r / 36524, 3);
  r -= n100 * 36524;
  std::int64_t n4 = r / 1461;
  r %= 1461;
  std::int64_t n1 = std::min<std::int64_t>(r / 365, 3);
  r -= n1 * 365;
  std::int64_t year = 400 * n400 + 100 * n100 + 4 * n4 + n1 + 1 - kYearShift;
  int doy = static_cast<int>(r);
  int month = 12;
  while (month > 1) {
    int start = kDaysBeforeMonth[month - 1] + (month > 2 && isLeap(year) ? 1 : 0);
    if (doy >= start) {
      doy -= start;
      break;
    }
    --month;
  }
  return Civil{year, month, doy + 1};
}

static_assert(daysFromCivil(1970, 1, 1) == 0);
static_assert(daysFromCivil(2000, 3, 1) == 11017);
static_assert(civilFromDays(11016).month == 2 && civilFromDays(11016).day == 29);

// HTTP-date has a four-digit year, so times outside 0000-01-01..9999-12-31 are clamped.
constexpr std::time_t kMinTime = static_cast<std::time_t>(daysFromCivil(0, 1, 1) * kSecondsPerDay);
constexpr std::time_t kMaxTime =
    static_cast<std::time_t>(daysFromCivil(9999, 12, 31) * kSecondsPerDay + kSecondsPerDay - 1);

inline void put2(char* p, int v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

inline void copy3(char* p, std::string_view s) {
  p[0] = s[0];
  p[1] = s[1];
  p[2] = s[2];
}

// Reads exactly two ASCII digits at s[pos]; -1 if they are not digits.
int read2(std::string_view s, std::size_t pos) {
  char a = s[pos], b = s[pos + 1];
  if (a < '0' || a > '9' || b < '0' || b > '9') return -1;
  return (a - '0') * 10 + (b - '0');
}

int read4(std::string_view s, std::size_t pos) {
  int hi = read2(s, pos), lo = read2(s, pos + 2);
  return hi < 0 || lo < 0 ? -1 : hi * 100 + lo;
}

// Index of a name in a table (case-sensitive: RFC 9110 §5.6.7 says HTTP-date is), or -1.
template <std::size_t N>
int indexOf(const std::string_view (&table)[N], std::string_view name) {
  for (std::size_t i = 0; i < N; ++i) {
    if (table[i] == name) return static_cast<int>(i);
  }
  return -1;
}

// "HH:MM:SS" at s[pos]; seconds of the day or -1.
std::int64_t readTimeOfDay(std::string_view s, std::size_t pos) {
  if (s[pos + 2] != ':' || s[pos + 5] != ':') return -1;
  int h = read2(s, pos), m = read2(s, pos + 3), sec = read2(s, pos + 6);
  if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 60) return -1;
  // A leap second (23:59:60) does not exist in time_t; treating it as :59 keeps a file
  // modified at the following midnight newer than the date, which is what it was.
  if (sec == 60) sec = 59;
  return h * 3600 + m * 60 + sec;
}

std::optional<std::time_t> assemble(std::int64_t year, int month, int day, std::int64_t tod) {
  if (year < 0 || year > 9999 || month < 1 || month > 12 || tod < 0) return std::nullopt;
  if (day < 1 || day > daysInMonth(year, month)) return std::nullopt;
  return static_cast<std::time_t>(daysFromCivil(year, month, day) * kSecondsPerDay + tod);
}

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" (exactly 29 bytes).
std::optional<std::time_t> parseImfFixdate(std::string_view s) {
  if (s.size() != kHttpDateLength) return std::nullopt;
  if (indexOf(kShortDays, s.substr(0, 3)) < 0) return std::nullopt;
  if (s.substr(3, 2) != ", " || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s.substr(25) != " GMT") {
    return std::nullopt;
  }
  int day = read2(s, 5);
  int month = indexOf(kMonths, s.substr(8, 3)) + 1;
  int year = read4(s, 12);
  return assemble(year, month, day, readTimeOfDay(s, 17));
}

// The year a two-digit RFC 850 year stands for: RFC 9110 §5.6.7 says one that appears more
// than 50 years in the future means the most recent past year with the same last two digits.
// We compare whole years against the current UTC year.
std::int64_t expandTwoDigitYear(int yy) {
  std::time_t now = std::time(nullptr);
  std::int64_t days = static_cast<std::int64_t>(now) / kSecondsPerDay;
  std::int64_t current = civilFromDays(days).year;
  std::int64_t year = current - current % 100 + yy;
  if (year > current + 50) year -= 100;
  if (year + 100 <= current + 50) year += 100;
  return year;
}

// RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" (full weekday name, then 24 fixed bytes).
std::optional<std::time_t> parseRfc850(std::string_view s) {
  constexpr std::size_t kTail = 24;  // ", 06-Nov-94 08:49:37 GMT"
  if (s.size() <= kTail) return std::nullopt;
  std::string_view name = s.substr(0, s.size() - kTail);
  std::string_view t = s.substr(name.size());
  if (indexOf(kLongDays, name) < 0) return std::nullopt;
  if (t.substr(0, 2) != ", " || t[4] != '-' || t[8] != '-' || t[11] != ' ' ||
      t.substr(20) != " GMT") {
    return std::nullopt;
  }
  int day = read2(t, 2);
  int month = indexOf(kMonths, t.substr(5, 3)) + 1;
  int yy = read2(t, 9);
  if (yy < 0) return std::nullopt;
  return assemble(expandTwoDigitYear(yy), month, day, readTimeOfDay(t, 12));
}

// asctime: "Sun Nov  6 08:49:37 1994" (24 bytes; the day is "SP DIGIT" or 2DIGIT).
std::optional<std::time_t> parseAsctime(std::string_view s) {
  if (s.size() != 24) return std::nullopt;
  if (indexOf(kShortDays, s.substr(0, 3)) < 0) return std::nullopt;
  if (s[3] != ' ' || s[7] != ' ' || s[10] != ' ' || s[19] != ' ') return std::nullopt;
  int month = indexOf(kMonths, s.substr(4, 3)) + 1;
  int day;
  if (s[8] == ' ') {
    char d = s[9];
    day = d >= '0' && d <= '9' ? d - '0' : -1;
  } else {
    day = read2(s, 8);
  }
  int year = read4(s, 20);
  return assemble(year, month, day, readTimeOfDay(s, 11));
}

}  // namespace

void formatHttpDate(std::time_t t, char* out) {
  t = std::clamp(t, kMinTime, kMaxTime);
  std::int64_t v = static_cast<std::int64_t>(t);
  // Floor division so times before 1970 land on the right day.
  std::int64_t days = v / kSecondsPerDay;
  std::int64_t sod = v % kSecondsPerDay;
  if (sod < 0) {
    sod += kSecondsPerDay;
    --days;
  }
  Civil c = civilFromDays(days);
  int weekday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
  int year = static_cast<int>(c.year);
  int tod = static_cast<int>(sod);

  copy3(out, kShortDays[weekday]);
  out[3] = ',';
  out[4] = ' ';
  put2(out + 5, c.day);
  out[7] = ' ';
  copy3(out + 8, kMonths[c.month - 1]);
  out[11] = ' ';
  put2(out + 12, year / 100);
  put2(out + 14, year % 100);
  out[16] = ' ';
  put2(out + 17, tod / 3600);
  out[19] = ':';
  put2(out + 20, tod / 60 % 60);
  out[22] = ':';
  put2(out + 23, tod % 60);
  copy3(out + 25, " GM");
  out[28] = 'T';
}

std::optional<std::time_t> parseHttpDate(std::string_view s) {
  if (s.size() < 4) return std::nullopt;
  if (s[3] == ',') return parseImfFixdate(s);
  if (s[3] == ' ') return parseAsctime(s);
  return parseRfc850(s);
}

std::string_view DateCache::get(std::time_t now) {
  if (!valid_ || now != cachedFor_) {
    formatHttpDate(now, text_);
    cachedFor_ = now;
    valid_ = true;
  }
  return std::string_view(text_, kHttpDateLength);
}

}  // namespace epserve::http
