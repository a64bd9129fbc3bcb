// Unit tests for HTTP-date formatting and parsing, checked against the C library's gmtime_r
// over many random instants, plus the RFC 850 year window and the Date header cache.
#include <doctest/doctest.h>

#include <cstdio>
#include <ctime>
#include <random>
#include <string>

#include "http/HttpDate.h"

using epserve::http::DateCache;
using epserve::http::formatHttpDate;
using epserve::http::kHttpDateLength;
using epserve::http::parseHttpDate;

namespace {

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kLongDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                     "Thursday", "Friday", "Saturday"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

constexpr std::time_t kLast9999 = 253402300799;  // 9999-12-31 23:59:59 UTC

std::string format(std::time_t t) {
  char buf[kHttpDateLength];
  formatHttpDate(t, buf);
  return std::string(buf, kHttpDateLength);
}

std::tm utc(std::time_t t) {
  std::tm tm{};
  REQUIRE(gmtime_r(&t, &tm) != nullptr);
  return tm;
}

// The same three formats built independently from gmtime_r's broken-down time.
std::string imfReference(std::time_t t) {
  std::tm tm = utc(t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::string asctimeReference(std::time_t t) {
  std::tm tm = utc(t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s %s %2d %02d:%02d:%02d %04d", kDays[tm.tm_wday],
                kMonths[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                tm.tm_year + 1900);
  return buf;
}

std::string rfc850Reference(std::time_t t) {
  std::tm tm = utc(t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d-%s-%02d %02d:%02d:%02d GMT", kLongDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], (tm.tm_year + 1900) % 100, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  return buf;
}

int currentUtcYear() { return utc(std::time(nullptr)).tm_year + 1900; }

std::time_t instant(int year, int month, int day, int h, int m, int s) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = s;
  return timegm(&tm);
}

}  // namespace

TEST_CASE("http date: formats the RFC 9110 example and fixed points") {
  CHECK(format(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK(format(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
  CHECK(format(951782400) == "Tue, 29 Feb 2000 00:00:00 GMT");  // 400-year leap day
  CHECK(format(4107542400) == "Mon, 01 Mar 2100 00:00:00 GMT");  // 2100 is not leap
  CHECK(format(kLast9999) == "Fri, 31 Dec 9999 23:59:59 GMT");
  CHECK(format(-1) == "Wed, 31 Dec 1969 23:59:59 GMT");
}

TEST_CASE("http date: clamps outside the four-digit-year range") {
  CHECK(format(kLast9999 + 1) == format(kLast9999));
  CHECK(format(kLast9999 * 100) == format(kLast9999));
  CHECK(format(-62167219200) == "Sat, 01 Jan 0000 00:00:00 GMT");
  CHECK(format(-62167219200 - 86400 * 1000LL) == "Sat, 01 Jan 0000 00:00:00 GMT");
}

TEST_CASE("http date: format matches gmtime_r for random instants 1970..9999") {
  std::mt19937_64 rng(0x5eed'da7e);
  std::uniform_int_distribution<std::int64_t> any(0, kLast9999);
  std::uniform_int_distribution<std::int64_t> near(0, 4102444800);  // up to 2100
  for (int i = 0; i < 200000; ++i) {
    std::time_t t = static_cast<std::time_t>(i % 2 == 0 ? any(rng) : near(rng));
    std::string got = format(t);
    std::string want = imfReference(t);
    if (got != want) {
      FAIL_CHECK("t=" << t << " got '" << got << "' want '" << want << "'");
      break;
    }
  }
}

TEST_CASE("http date: format matches gmtime_r at every day boundary around leap years") {
  // Every midnight and last second of the day from 1999 to 2004 and 2096 to 2104.
  for (std::time_t start : {instant(1999, 1, 1, 0, 0, 0), instant(2096, 1, 1, 0, 0, 0)}) {
    for (int d = 0; d < 366 * 8; ++d) {
      std::time_t t = start + d * 86400;
      REQUIRE(format(t) == imfReference(t));
      REQUIRE(format(t + 86399) == imfReference(t + 86399));
    }
  }
}

TEST_CASE("http date: parse inverts format, all three formats") {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::int64_t> any(0, kLast9999);
  for (int i = 0; i < 50000; ++i) {
    std::time_t t = static_cast<std::time_t>(any(rng));
    auto imf = parseHttpDate(format(t));
    REQUIRE(imf.has_value());
    REQUIRE(*imf == t);
    auto asc = parseHttpDate(asctimeReference(t));
    REQUIRE(asc.has_value());
    REQUIRE(*asc == t);
  }
  // RFC 850 only round-trips inside the two-digit-year window around now.
  std::time_t now = std::time(nullptr);
  std::uniform_int_distribution<std::int64_t> window(now - 40LL * 365 * 86400,
                                                     now + 40LL * 365 * 86400);
  for (int i = 0; i < 20000; ++i) {
    std::time_t t = static_cast<std::time_t>(window(rng));
    auto r = parseHttpDate(rfc850Reference(t));
    REQUIRE(r.has_value());
    REQUIRE(*r == t);
  }
}

TEST_CASE("http date: the RFC 9110 examples parse to the same instant") {
  CHECK(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT") == std::time_t{784111777});
  CHECK(parseHttpDate("Sun Nov  6 08:49:37 1994") == std::time_t{784111777});
  CHECK(parseHttpDate("Sun Nov 06 08:49:37 1994") == std::time_t{784111777});  // 2DIGIT day
  if (currentUtcYear() < 2044) {  // "94" means 1994 until 2044 makes it more than 50 years ago
    CHECK(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT") == std::time_t{784111777});
  }
}

TEST_CASE("http date: RFC 850 two-digit years use the 50-year window relative to now") {
  int year = currentUtcYear();
  auto parsedYear = [](int yy) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "Monday, 01-Jan-%02d 00:00:00 GMT", yy);
    auto t = parseHttpDate(buf);
    REQUIRE(t.has_value());
    return utc(*t).tm_year + 1900;
  };
  // Exactly 50 years ahead is not "more than 50 years in the future": kept in the future.
  CHECK(parsedYear((year + 50) % 100) == year + 50);
  // 51 years ahead is: it becomes the most recent past year with those digits.
  CHECK(parsedYear((year + 51) % 100) == year - 49);
  CHECK(parsedYear(year % 100) == year);
  CHECK(parsedYear((year + 1) % 100) == year + 1);
  CHECK(parsedYear((year + 99) % 100) == year - 1);
  for (int yy = 0; yy < 100; ++yy) {
    int y = parsedYear(yy);
    CHECK(y % 100 == yy);
    CHECK(y <= year + 50);
    CHECK(y > year + 50 - 100);
  }
}

TEST_CASE("http date: weekday names must be valid but need not match the date") {
  // RFC 9110 §5.6.7 makes the weekday redundant; a client that gets it wrong still sent a
  // usable date, so we accept it rather than drop its validator.
  CHECK(parseHttpDate("Mon, 06 Nov 1994 08:49:37 GMT") == std::time_t{784111777});
  CHECK(parseHttpDate("Fri Nov  6 08:49:37 1994") == std::time_t{784111777});
  // Unknown names, the wrong length of name for the format, or wrong case are rejected.
  CHECK_FALSE(parseHttpDate("Xyz, 06 Nov 1994 08:49:37 GMT"));
  CHECK_FALSE(parseHttpDate("sun, 06 Nov 1994 08:49:37 GMT"));
  CHECK_FALSE(parseHttpDate("SUN, 06 Nov 1994 08:49:37 GMT"));
  CHECK_FALSE(parseHttpDate("Sun, 06-Nov-94 08:49:37 GMT"));
  CHECK_FALSE(parseHttpDate("Sundae, 06-Nov-94 08:49:37 GMT"));
  CHECK_FALSE(parseHttpDate("Sunday Nov  6 08:49:37 1994"));
}

TEST_CASE("http date: invalid calendar values are rejected") {
  CHECK_FALSE(parseHttpDate("Sun, 00 Nov 1994 08:49:37 GMT"));
  CHECK_FALSE(parseHttpDate("Sun, 31 Nov 1994 08:49:37 GMT"));
  CHECK_FALSE(parseHttpDate("Sun, 32 Jan 1994 08:49:37 GMT"));
  CHECK_FALSE(parseHttpDate("Sun, 29 Feb 1900 08:49:37 GMT"));  // 1900 is not leap
  CHECK(parseHttpDate("Tue, 29 Feb 2000 08:49:37 GMT"));        // 2000 is
  CHECK_FALSE(parseHttpDate("Sun, 06 Nox 1994 08:49:37 GMT"));
  CHECK_FALSE(parseHttpDate("Sun, 06 nov 1994 08:49:37 GMT"));
  CHECK_FALSE(parseHttpDate("Sun, 06 Nov 1994 24:00:00 GMT"));
  CHECK_FALSE(parseHttpDate("Sun, 06 Nov 1994 08:60:37 GMT"));
  CHECK_FALSE(parseHttpDate("Sun, 06 Nov 1994 08:49:61 GMT"));
  CHECK_FALSE(parseHttpDate("Sun Nov  0 08:49:37 1994"));
  CHECK_FALSE(parseHttpDate("Sun Nov 31 08:49:37 1994"));
  CHECK_FALSE(parseHttpDate("Sunday, 31-Apr-94 08:49:37 GMT"));
  CHECK_FALSE(parseHttpDate("Sunday, 06-Nov-94 25:49:37 GMT"));
}

TEST_CASE("http date: a leap second is read as the last ordinary second of the minute") {
  CHECK(parseHttpDate("Sat, 31 Dec 2016 23:59:60 GMT") == instant(2016, 12, 31, 23, 59, 59));
}

TEST_CASE("http date: syntax errors, other zones and trailing garbage are rejected") {
  CHECK_FALSE(parseHttpDate(""));
  CHECK_FALSE(parseHttpDate("Sun"));
  CHECK_FALSE(parseHttpDate("yesterday"));
  CHECK_FALSE(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT "));
  CHECK_FALSE(parseHttpDate(" Sun, 06 Nov 1994 08:49:37 GMT"));
  CHECK_FALSE(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMTX"));
  CHECK_FALSE(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT; length=123"));
  CHECK_FALSE(parseHttpDate("Sun, 06 Nov 1994 08:49:37 UTC"));
  CHECK_FALSE(parseHttpDate("Sun, 06 Nov 1994 08:49:37 gmt"));
  CHECK_FALSE(parseHttpDate("Sun, 06 Nov 1994 08:49:37 +0000"));
  CHECK_FALSE(parseHttpDate("Sun, 06 Nov 1994 08:49:37"));
  CHECK_FALSE(parseHttpDate("Sun, 6 Nov 1994 08:49:37 GMT"));
  CHECK_FALSE(parseHttpDate("Sun, 06 Nov 94 08:49:37 GMT"));
  CHECK_FALSE(parseHttpDate("Sun, 06 Nov 1994 8:49:37 GMT"));
  CHECK_FALSE(parseHttpDate("Sun, 06 Nov 1994 08.49.37 GMT"));
  CHECK_FALSE(parseHttpDate("Sun, 06 Nov 1994 08:49:3x GMT"));
  CHECK_FALSE(parseHttpDate("Sun, 06 Nov 199x 08:49:37 GMT"));
  CHECK_FALSE(parseHttpDate("Sun,  06 Nov 1994 08:49:37GMT"));
  CHECK_FALSE(parseHttpDate("Sun, 06-Nov-1994 08:49:37 GMT"));
  CHECK_FALSE(parseHttpDate("Sunday, 06-Nov-94 08:49:37"));
  CHECK_FALSE(parseHttpDate("Sunday, 06-Nov-94 08:49:37 UTC"));
  CHECK_FALSE(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT "));
  CHECK_FALSE(parseHttpDate("Sunday, 06 Nov 94 08:49:37 GMT"));
  CHECK_FALSE(parseHttpDate("Sunday, 06-Nov-1994 08:49:37 GMT"));
  CHECK_FALSE(parseHttpDate("Sunday,06-Nov-94 08:49:37 GMT"));
  CHECK_FALSE(parseHttpDate("Sun Nov  6 08:49:37 1994 "));
  CHECK_FALSE(parseHttpDate("Sun Nov  6 08:49:37 94"));
  CHECK_FALSE(parseHttpDate("Sun Nov 6 08:49:37 1994"));
  CHECK_FALSE(parseHttpDate("Sun Nov 6  08:49:37 1994"));
  CHECK_FALSE(parseHttpDate("Sun Nov  6 08:49:37 GMT 1994"));
  CHECK_FALSE(parseHttpDate(std::string_view("Sun, 06 Nov 1994 08:49:37 GM\0", 29)));
}

TEST_CASE("http date: DateCache keeps the same bytes within a second, new ones after") {
  DateCache cache;
  std::time_t t = 784111777;
  std::string_view a = cache.get(t);
  CHECK(a == "Sun, 06 Nov 1994 08:49:37 GMT");
  std::string_view b = cache.get(t);
  CHECK(b.data() == a.data());
  CHECK(b == "Sun, 06 Nov 1994 08:49:37 GMT");
  std::string_view c = cache.get(t + 1);
  CHECK(c.data() == a.data());  // same buffer, rewritten
  CHECK(c == "Sun, 06 Nov 1994 08:49:38 GMT");
  CHECK(cache.get(t) == "Sun, 06 Nov 1994 08:49:37 GMT");  // going back also reformats
  CHECK(cache.get(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
}
