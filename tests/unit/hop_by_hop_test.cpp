// Unit tests for the hop-by-hop field filter and the end-to-end field writer (http/HopByHop):
// the fixed names, the options of one or several Connection fields, and the bounded fallback.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "http/HopByHop.h"

using epserve::http::endToEndSize;
using epserve::http::Header;
using epserve::http::HopByHopFilter;
using epserve::http::writeEndToEnd;

namespace {

std::string endToEnd(const std::vector<Header>& fields,
                     std::span<const std::string_view> alsoDrop = {}) {
  const HopByHopFilter hop(fields);
  std::vector<char> out(endToEndSize(fields) + 1);
  const std::size_t n = writeEndToEnd(fields, hop, out.data(), alsoDrop);
  REQUIRE(n <= endToEndSize(fields));
  return std::string(out.data(), n);
}

}  // namespace

TEST_CASE("hop-by-hop: the fixed names, in any case, whole names only") {
  const HopByHopFilter hop;
  for (std::string_view name : {"Connection", "Keep-Alive", "TE", "Trailer", "Transfer-Encoding",
                                "Upgrade", "Proxy-Connection"}) {
    CAPTURE(name);
    CHECK(hop.isHopByHop(name));
    std::string lower(name);
    for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    CHECK(hop.isHopByHop(lower));
    std::string upper(name);
    for (char& c : upper) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    CHECK(hop.isHopByHop(upper));
  }
  CHECK(hop.isHopByHop("tE"));
  CHECK_FALSE(hop.isHopByHop("TE-Foo"));
  CHECK_FALSE(hop.isHopByHop("Connections"));
  CHECK_FALSE(hop.isHopByHop("Upgrade-Insecure-Requests"));
  CHECK_FALSE(hop.isHopByHop("Trailers"));
  CHECK_FALSE(hop.isHopByHop("Content-Length"));
  CHECK_FALSE(hop.isHopByHop("Host"));
  CHECK_FALSE(hop.isHopByHop(""));
}

TEST_CASE("hop-by-hop: Connection names custom fields") {
  const std::vector<Header> fields = {{"Connection", "close, X-Foo"}, {"X-Foo", "1"}, {"X-Bar", "2"}};
  const HopByHopFilter hop(fields);
  CHECK(hop.isHopByHop("X-Foo"));
  CHECK(hop.isHopByHop("x-foo"));
  CHECK(hop.isHopByHop("close"));  // an option names a field, should one exist
  CHECK_FALSE(hop.isHopByHop("X-Bar"));
  CHECK_FALSE(hop.isHopByHop("X-Fo"));
  CHECK(endToEnd(fields) == "X-Bar: 2\r\n");
}

TEST_CASE("hop-by-hop: every Connection field counts") {
  const std::vector<Header> fields = {{"connection", "X-A"}, {"Host", "h"},
                                      {"CONNECTION", "x-b, keep-alive"}, {"X-A", "a"},
                                      {"X-B", "b"}, {"X-C", "c"}};
  const HopByHopFilter hop(fields);
  CHECK(hop.isHopByHop("X-A"));
  CHECK(hop.isHopByHop("X-B"));
  CHECK_FALSE(hop.isHopByHop("X-C"));
  CHECK(endToEnd(fields) == "Host: h\r\nX-C: c\r\n");
}

TEST_CASE("hop-by-hop: lists with OWS, empty elements and non-tokens") {
  const std::vector<Header> fields = {{"Connection", ",\t, X-A ,,\tX-B\t, , \"X-Q\", a b,"}};
  const HopByHopFilter hop(fields);
  CHECK(hop.isHopByHop("X-A"));
  CHECK(hop.isHopByHop("X-B"));
  CHECK_FALSE(hop.isHopByHop("X-Q"));  // a quoted string is no connection-option
  CHECK_FALSE(hop.isHopByHop("\"X-Q\""));
  CHECK_FALSE(hop.isHopByHop("a"));
  CHECK_FALSE(hop.isHopByHop(""));
  const std::vector<Header> empty = {{"Connection", ""}};
  CHECK_FALSE(HopByHopFilter(empty).isHopByHop(""));
}

TEST_CASE("hop-by-hop: more options than are kept still all count") {
  std::string list;
  for (int i = 0; i < 40; ++i) list += "X-" + std::to_string(i) + ", ";
  const std::vector<Header> fields = {{"Connection", list}, {"Connection", "X-Last"},
                                      {"X-39", "v"}, {"X-Kept", "k"}};
  static_assert(HopByHopFilter::kMaxKept < 40);
  const HopByHopFilter hop(fields);
  for (int i = 0; i < 40; ++i) CHECK(hop.isHopByHop("x-" + std::to_string(i)));
  CHECK(hop.isHopByHop("X-Last"));
  CHECK(hop.isHopByHop("Keep-Alive"));
  CHECK_FALSE(hop.isHopByHop("X-40"));
  CHECK_FALSE(hop.isHopByHop("X-Kept"));
  CHECK(endToEnd(fields) == "X-Kept: k\r\n");

  // Exactly as many as are kept: no fallback needed, none lost.
  std::string exact;
  for (std::size_t i = 0; i < HopByHopFilter::kMaxKept; ++i) exact += "X-" + std::to_string(i) + ",";
  const std::vector<Header> full = {{"Connection", exact}};
  const HopByHopFilter fullHop(full);
  for (std::size_t i = 0; i < HopByHopFilter::kMaxKept; ++i) {
    CHECK(fullHop.isHopByHop("X-" + std::to_string(i)));
  }
  CHECK_FALSE(fullHop.isHopByHop("X-" + std::to_string(HopByHopFilter::kMaxKept)));
}

TEST_CASE("hop-by-hop: the writer keeps order, case and values, and drops what it is told") {
  const std::vector<Header> fields = {
      {"Content-Type", "text/plain"}, {"Transfer-Encoding", "chunked"}, {"set-cookie", "a=1"},
      {"Keep-Alive", "timeout=5"},    {"Content-Length", "12"},         {"Set-Cookie", "b=2"},
      {"X-Empty", ""},                {"Upgrade", "h2c"},               {"TE-Foo", "bar"}};
  CHECK(endToEnd(fields) ==
        "Content-Type: text/plain\r\nset-cookie: a=1\r\nContent-Length: 12\r\nSet-Cookie: b=2\r\n"
        "X-Empty: \r\nTE-Foo: bar\r\n");
  const std::string_view drop[] = {"content-length", "X-EMPTY"};
  CHECK(endToEnd(fields, drop) ==
        "Content-Type: text/plain\r\nset-cookie: a=1\r\nSet-Cookie: b=2\r\nTE-Foo: bar\r\n");
  CHECK(endToEnd({}).empty());
  CHECK(endToEndSize({}) == 0);
}
