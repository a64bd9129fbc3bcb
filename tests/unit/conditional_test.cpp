// Unit tests for ETags and conditional requests: tag format and sensitivity, If-None-Match and
// If-Match list parsing, and the RFC 9110 §13.2.2 evaluation order over every combination.
#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <utility>

#include "fs/FileInfo.h"
#include "http/Conditional.h"
#include "http/HttpDate.h"

using epserve::fs::FileInfo;
using epserve::http::evaluatePreconditions;
using epserve::http::ifMatchMatches;
using epserve::http::ifNoneMatchMatches;
using epserve::http::kMaxEtagLength;
using epserve::http::makeEtag;
using epserve::http::Method;
using epserve::http::Request;
using epserve::http::Status;

namespace {

std::string etagOf(const FileInfo& info) {
  char buf[kMaxEtagLength];
  std::size_t n = makeEtag(info.size, info.mtimeSec, info.mtimeNsec, buf);
  REQUIRE(n <= kMaxEtagLength);
  return std::string(buf, n);
}

Request makeRequest(Method m, std::initializer_list<std::pair<std::string_view, std::string_view>>
                                  headers) {
  Request r;
  r.method = m;
  for (const auto& [name, value] : headers) r.headers[r.headerCount++] = {name, value};
  return r;
}

std::string httpDate(std::time_t t) {
  char buf[epserve::http::kHttpDateLength];
  epserve::http::formatHttpDate(t, buf);
  return std::string(buf, sizeof buf);
}

constexpr std::string_view kTag = "\"5f5e1000.1a-1234\"";

}  // namespace

TEST_CASE("conditional: makeEtag format is quoted hex mtime.nsec-size") {
  FileInfo info;
  info.size = 0x1234;
  info.mtimeSec = 0x5f5e1000;
  info.mtimeNsec = 0x1a;
  CHECK(etagOf(info) == kTag);
  CHECK(etagOf(FileInfo{}) == "\"0.0-0\"");
}

TEST_CASE("conditional: makeEtag changes with size, mtime seconds and nanoseconds") {
  FileInfo base;
  base.size = 1000;
  base.mtimeSec = 1700000000;
  base.mtimeNsec = 123456789;
  FileInfo bigger = base;
  bigger.size = 1001;
  FileInfo later = base;
  later.mtimeSec += 1;
  FileInfo laterNs = base;
  laterNs.mtimeNsec += 1;
  std::string a = etagOf(base);
  CHECK(a != etagOf(bigger));
  CHECK(a != etagOf(later));
  CHECK(a != etagOf(laterNs));
  CHECK(etagOf(later) != etagOf(laterNs));
  CHECK(a == etagOf(base));  // deterministic
  // The inode is not part of the validator (a copy with the same size and mtime matches).
  FileInfo otherInode = base;
  otherInode.inode = 77;
  CHECK(a == etagOf(otherInode));
}

TEST_CASE("conditional: the longest possible ETag fits and is a valid entity-tag") {
  FileInfo worst;
  worst.size = std::numeric_limits<std::uint64_t>::max();
  worst.mtimeSec = std::numeric_limits<std::int64_t>::min();  // 16 hex digits once unsigned
  worst.mtimeNsec = 999999999;
  std::string tag = etagOf(worst);
  CHECK(tag == "\"8000000000000000.3b9ac9ff-ffffffffffffffff\"");
  CHECK(tag.size() <= kMaxEtagLength);
  CHECK(ifMatchMatches(tag, tag));
  CHECK(ifNoneMatchMatches(tag, tag));
}

TEST_CASE("conditional: If-None-Match star and single tags") {
  CHECK(ifNoneMatchMatches("*", kTag));
  CHECK(ifNoneMatchMatches(kTag, kTag));
  CHECK_FALSE(ifNoneMatchMatches("\"other\"", kTag));
  CHECK_FALSE(ifNoneMatchMatches("\"5f5e1000.1a-1235\"", kTag));
  CHECK_FALSE(ifNoneMatchMatches("", kTag));
  CHECK_FALSE(ifNoneMatchMatches("\"\"", kTag));
}

TEST_CASE("conditional: If-None-Match uses weak comparison") {
  CHECK(ifNoneMatchMatches("W/\"5f5e1000.1a-1234\"", kTag));
  CHECK(ifNoneMatchMatches(kTag, "W/\"5f5e1000.1a-1234\""));
  CHECK(ifNoneMatchMatches("W/\"x\"", "W/\"x\""));
  CHECK_FALSE(ifNoneMatchMatches("W/\"y\"", "W/\"x\""));
}

TEST_CASE("conditional: If-None-Match lists with OWS and empty elements") {
  CHECK(ifNoneMatchMatches("\"a\", \"5f5e1000.1a-1234\"", kTag));
  CHECK(ifNoneMatchMatches("\"5f5e1000.1a-1234\",\"a\"", kTag));
  CHECK(ifNoneMatchMatches(" \t\"a\" ,\tW/\"5f5e1000.1a-1234\" , \"b\" ", kTag));
  CHECK(ifNoneMatchMatches(", ,\"a\",,\"5f5e1000.1a-1234\",", kTag));
  CHECK_FALSE(ifNoneMatchMatches("\"a\", \"b\", W/\"c\"", kTag));
  CHECK_FALSE(ifNoneMatchMatches(" , ,", kTag));
  // obs-text is allowed in an opaque-tag.
  CHECK(ifNoneMatchMatches("\"caf\xc3\xa9\"", "\"caf\xc3\xa9\""));
}

TEST_CASE("conditional: malformed If-None-Match matches nothing, even with a matching member") {
  std::string t(kTag);
  CHECK_FALSE(ifNoneMatchMatches("5f5e1000.1a-1234", kTag));  // unquoted
  CHECK_FALSE(ifNoneMatchMatches(t + " \"a\"", kTag));        // missing comma
  CHECK_FALSE(ifNoneMatchMatches(t + ", \"a", kTag));         // unterminated
  CHECK_FALSE(ifNoneMatchMatches(t + ", a", kTag));           // bare token
  CHECK_FALSE(ifNoneMatchMatches("w/" + t, kTag));            // W/ is case-sensitive
  CHECK_FALSE(ifNoneMatchMatches("W/ " + t, kTag));
  CHECK_FALSE(ifNoneMatchMatches("W" + t, kTag));
  CHECK_FALSE(ifNoneMatchMatches("*, " + t, kTag));  // "*" must stand alone
  CHECK_FALSE(ifNoneMatchMatches(t + ", *", kTag));
  CHECK_FALSE(ifNoneMatchMatches(" * ", kTag));
  CHECK_FALSE(ifNoneMatchMatches("\"a b\", " + t, kTag));  // SP is not etagc
  CHECK_FALSE(ifNoneMatchMatches("\"a\x7f\", " + t, kTag));
  CHECK_FALSE(ifNoneMatchMatches("\"a\tb\", " + t, kTag));
  CHECK_FALSE(ifNoneMatchMatches(t + "x", kTag));
  CHECK_FALSE(ifNoneMatchMatches(t + ";", kTag));
}

TEST_CASE("conditional: If-Match uses strong comparison") {
  CHECK(ifMatchMatches("*", kTag));
  CHECK(ifMatchMatches(kTag, kTag));
  CHECK(ifMatchMatches("\"a\", \"5f5e1000.1a-1234\"", kTag));
  CHECK_FALSE(ifMatchMatches("W/\"5f5e1000.1a-1234\"", kTag));
  CHECK_FALSE(ifMatchMatches("\"a\", W/\"5f5e1000.1a-1234\"", kTag));
  CHECK_FALSE(ifMatchMatches("W/\"x\"", "W/\"x\""));  // weak tags never match strongly
  CHECK_FALSE(ifMatchMatches("\"other\"", kTag));
  CHECK_FALSE(ifMatchMatches("", kTag));
  CHECK_FALSE(ifMatchMatches(std::string(kTag) + " junk", kTag));
}

namespace {

// The four preconditions a test case may send, each in one of a few states.
enum class Tag { Absent, Match, NoMatch };
enum class Date { Absent, Before, Same, After, Invalid };  // relative to the file's mtime

constexpr std::int64_t kMtime = 1700000000;

// Straight transcription of RFC 9110 §13.2.2 as the expected answer.
Status expected(Method m, Tag ifMatch, Date ius, Tag inm, Date ims) {
  bool getOrHead = m == Method::Get || m == Method::Head;
  bool iusValid = ius != Date::Absent && ius != Date::Invalid;
  bool imsValid = ims != Date::Absent && ims != Date::Invalid;
  // 1. If-Match present: false -> 412.
  if (ifMatch == Tag::NoMatch) return Status::PreconditionFailed;
  // 2. If-Match absent and If-Unmodified-Since present: false (modified after it) -> 412.
  if (ifMatch == Tag::Absent && iusValid && ius == Date::Before) {
    return Status::PreconditionFailed;
  }
  // 3. If-None-Match present: false (a tag matches) -> 304 for GET/HEAD, else 412.
  if (inm == Tag::Match) return getOrHead ? Status::NotModified : Status::PreconditionFailed;
  // 4. GET/HEAD, If-None-Match absent, If-Modified-Since present: false (not modified) -> 304.
  if (inm == Tag::Absent && getOrHead && imsValid && ims != Date::Before) {
    return Status::NotModified;
  }
  return Status::Ok;
}

}  // namespace

TEST_CASE("conditional: evaluatePreconditions follows RFC 9110 13.2.2 for every combination") {
  const std::string before = httpDate(kMtime - 1);  // the file is newer than this date
  const std::string same = httpDate(kMtime);
  const std::string after = httpDate(kMtime + 1);
  const std::string invalid = "Sun, 06 Nov 1994 08:49:37 GMT junk";
  auto dateText = [&](Date d) -> std::string_view {
    switch (d) {
      case Date::Before: return before;
      case Date::Same: return same;
      case Date::After: return after;
      case Date::Invalid: return invalid;
      case Date::Absent: break;
    }
    return {};
  };
  auto tagText = [](Tag t) -> std::string_view {
    return t == Tag::Match ? std::string_view("\"zz\", W/\"5f5e1000.1a-1234\"") : "\"zz\"";
  };
  auto ifMatchText = [](Tag t) -> std::string_view {
    return t == Tag::Match ? kTag : std::string_view("\"zz\"");
  };

  int combinations = 0;
  for (Method m : {Method::Get, Method::Head, Method::Post, Method::Put}) {
    for (Tag im : {Tag::Absent, Tag::Match, Tag::NoMatch}) {
      for (Date ius : {Date::Absent, Date::Before, Date::Same, Date::After, Date::Invalid}) {
        for (Tag inm : {Tag::Absent, Tag::Match, Tag::NoMatch}) {
          for (Date ims : {Date::Absent, Date::Before, Date::Same, Date::After, Date::Invalid}) {
            Request r;
            r.method = m;
            auto add = [&](std::string_view name, std::string_view value) {
              r.headers[r.headerCount++] = {name, value};
            };
            add("Host", "localhost");
            if (im != Tag::Absent) add("If-Match", ifMatchText(im));
            if (ius != Date::Absent) add("If-Unmodified-Since", dateText(ius));
            if (inm != Tag::Absent) add("If-None-Match", tagText(inm));
            if (ims != Date::Absent) add("If-Modified-Since", dateText(ims));
            CAPTURE(static_cast<int>(m));
            CAPTURE(static_cast<int>(im));
            CAPTURE(static_cast<int>(ius));
            CAPTURE(static_cast<int>(inm));
            CAPTURE(static_cast<int>(ims));
            CHECK(evaluatePreconditions(r, kTag, kMtime) == expected(m, im, ius, inm, ims));
            ++combinations;
          }
        }
      }
    }
  }
  CHECK(combinations == 4 * 3 * 5 * 3 * 5);
}

TEST_CASE("conditional: precedence table, spelled out") {
  const std::string older = httpDate(kMtime - 60);
  const std::string newer = httpDate(kMtime + 60);
  const std::string exact = httpDate(kMtime);
  struct Row {
    Method method;
    std::initializer_list<std::pair<std::string_view, std::string_view>> headers;
    Status want;
  };
  const Row rows[] = {
      {Method::Get, {}, Status::Ok},
      {Method::Get, {{"If-None-Match", kTag}}, Status::NotModified},
      {Method::Head, {{"If-None-Match", "*"}}, Status::NotModified},
      {Method::Post, {{"If-None-Match", "*"}}, Status::PreconditionFailed},
      {Method::Get, {{"If-None-Match", "\"old\""}}, Status::Ok},
      {Method::Get, {{"If-Modified-Since", exact}}, Status::NotModified},
      {Method::Get, {{"If-Modified-Since", newer}}, Status::NotModified},
      {Method::Get, {{"If-Modified-Since", older}}, Status::Ok},
      {Method::Post, {{"If-Modified-Since", newer}}, Status::Ok},  // ignored for POST
      // If-None-Match present (even not matching) makes If-Modified-Since irrelevant.
      {Method::Get, {{"If-None-Match", "\"old\""}, {"If-Modified-Since", newer}}, Status::Ok},
      {Method::Get, {{"If-None-Match", kTag}, {"If-Modified-Since", older}}, Status::NotModified},
      // A malformed If-None-Match is present but matches nothing: still suppresses IMS.
      {Method::Get, {{"If-None-Match", "bogus"}, {"If-Modified-Since", newer}}, Status::Ok},
      {Method::Get, {{"If-Match", "\"old\""}}, Status::PreconditionFailed},
      {Method::Get, {{"If-Match", "W/\"5f5e1000.1a-1234\""}}, Status::PreconditionFailed},
      {Method::Get, {{"If-Match", "*"}}, Status::Ok},
      {Method::Get, {{"If-Match", kTag}}, Status::Ok},
      // If-Match wins over If-None-Match: a failing If-Match is 412 even when INM matches.
      {Method::Get, {{"If-Match", "\"old\""}, {"If-None-Match", kTag}}, Status::PreconditionFailed},
      {Method::Get, {{"If-Match", kTag}, {"If-None-Match", kTag}}, Status::NotModified},
      {Method::Get, {{"If-Unmodified-Since", older}}, Status::PreconditionFailed},
      {Method::Get, {{"If-Unmodified-Since", exact}}, Status::Ok},
      {Method::Get, {{"If-Unmodified-Since", "not a date"}}, Status::Ok},
      // If-Match present: If-Unmodified-Since is not evaluated at all.
      {Method::Get, {{"If-Match", kTag}, {"If-Unmodified-Since", older}}, Status::Ok},
      {Method::Get, {{"If-Unmodified-Since", older}, {"If-Modified-Since", newer}},
       Status::PreconditionFailed},
      {Method::Get, {{"If-Unmodified-Since", newer}, {"If-Modified-Since", newer}},
       Status::NotModified},
      // Header names are case-insensitive.
      {Method::Get, {{"if-none-match", kTag}}, Status::NotModified},
      {Method::Get, {{"IF-MODIFIED-SINCE", exact}}, Status::NotModified},
      // Obsolete date formats are valid dates too.
      {Method::Get, {{"If-Modified-Since", "Tue Nov 14 22:13:20 2023"}}, Status::NotModified},
      {Method::Get, {{"If-Modified-Since", "Tue Nov 14 22:13:19 2023"}}, Status::Ok},
  };
  for (const Row& row : rows) {
    Request r = makeRequest(row.method, row.headers);
    std::string desc;
    for (const auto& [n, v] : row.headers) desc += std::string(n) + ": " + std::string(v) + "; ";
    CAPTURE(desc);
    CHECK(evaluatePreconditions(r, kTag, kMtime) == row.want);
  }
}

TEST_CASE("conditional: list fields may span several lines, date fields may not") {
  // The lines of a list field form one list (RFC 9110 §5.3).
  Request split = makeRequest(Method::Get, {{"If-None-Match", "\"a\""}, {"If-None-Match", kTag}});
  CHECK(evaluatePreconditions(split, kTag, kMtime) == Status::NotModified);
  Request splitBad =
      makeRequest(Method::Get, {{"If-None-Match", kTag}, {"If-None-Match", "garbage"}});
  CHECK(evaluatePreconditions(splitBad, kTag, kMtime) == Status::Ok);
  Request starTwice = makeRequest(Method::Get, {{"If-None-Match", "*"}, {"If-None-Match", kTag}});
  CHECK(evaluatePreconditions(starTwice, kTag, kMtime) == Status::Ok);  // "*, ..." is malformed
  Request ifMatchSplit = makeRequest(Method::Get, {{"If-Match", "\"a\""}, {"If-Match", kTag}});
  CHECK(evaluatePreconditions(ifMatchSplit, kTag, kMtime) == Status::Ok);

  // Two If-Modified-Since lines are a list of dates, which is not a valid HTTP-date.
  const std::string newer = httpDate(kMtime + 60);
  const std::string older = httpDate(kMtime - 60);
  Request twoDates =
      makeRequest(Method::Get, {{"If-Modified-Since", newer}, {"If-Modified-Since", newer}});
  CHECK(evaluatePreconditions(twoDates, kTag, kMtime) == Status::Ok);
  Request twoIus =
      makeRequest(Method::Get, {{"If-Unmodified-Since", older}, {"If-Unmodified-Since", older}});
  CHECK(evaluatePreconditions(twoIus, kTag, kMtime) == Status::Ok);
}
