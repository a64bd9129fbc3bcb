// Unit tests for Accept-Encoding: q-value grammar, "*", identity, aliases and case, tolerance of
// bad members, and the choice between br, gzip and identity sidecars.
#include <doctest/doctest.h>

#include <string>

#include "http/AcceptEncoding.h"

using epserve::http::AcceptedCodings;
using epserve::http::chooseCoding;
using epserve::http::parseAcceptEncoding;

namespace {

// "br=q gzip=q identity=q" in thousandths, with the bools checked for consistency.
std::string show(std::string_view header) {
  AcceptedCodings a = parseAcceptEncoding(header);
  std::string s = "br=" + std::to_string(a.qBr) + " gzip=" + std::to_string(a.qGzip) +
                  " identity=" + std::to_string(a.qIdentity);
  if (a.br != (a.qBr > 0) || a.gzip != (a.qGzip > 0) || a.identity != (a.qIdentity > 0)) {
    s += " (inconsistent flags)";
  }
  return s;
}

std::string_view choose(std::string_view header, bool haveBr = true, bool haveGzip = true) {
  return chooseCoding(parseAcceptEncoding(header), haveBr, haveGzip);
}

}  // namespace

TEST_CASE("accept-encoding: absent or empty means identity only") {
  CHECK(show(std::string_view{}) == "br=0 gzip=0 identity=1");
  CHECK(show("") == "br=0 gzip=0 identity=1");
  CHECK(show("  ") == "br=0 gzip=0 identity=1");
  CHECK(choose(std::string_view{}) == "");
  CHECK(choose("") == "");
  const AcceptedCodings defaults;
  CHECK(defaults.identity);
  CHECK_FALSE(defaults.br);
  CHECK_FALSE(defaults.gzip);
}

TEST_CASE("accept-encoding: plain lists, case and the x-gzip alias") {
  CHECK(show("gzip") == "br=0 gzip=1000 identity=1");
  CHECK(show("gzip, deflate, br") == "br=1000 gzip=1000 identity=1");
  CHECK(show("GZIP") == "br=0 gzip=1000 identity=1");
  CHECK(show("Br") == "br=1000 gzip=0 identity=1");
  CHECK(show("x-gzip") == "br=0 gzip=1000 identity=1");
  CHECK(show("X-GZip;Q=0.7") == "br=0 gzip=700 identity=1");
  CHECK(show("deflate, compress, zstd") == "br=0 gzip=0 identity=1");
  CHECK(show("gzipx, xgzip, brotli") == "br=0 gzip=0 identity=1");
}

TEST_CASE("accept-encoding: valid q-values in thousandths") {
  CHECK(show("gzip;q=0") == "br=0 gzip=0 identity=1");
  CHECK(show("gzip;q=0.") == "br=0 gzip=0 identity=1");
  CHECK(show("gzip;q=0.5") == "br=0 gzip=500 identity=1");
  CHECK(show("gzip;q=0.05") == "br=0 gzip=50 identity=1");
  CHECK(show("gzip;q=0.001") == "br=0 gzip=1 identity=1");
  CHECK(show("gzip;q=0.999") == "br=0 gzip=999 identity=1");
  CHECK(show("gzip;q=1") == "br=0 gzip=1000 identity=1");
  CHECK(show("gzip;q=1.") == "br=0 gzip=1000 identity=1");
  CHECK(show("gzip;q=1.000") == "br=0 gzip=1000 identity=1");
  CHECK(show("gzip ; q=0.5") == "br=0 gzip=500 identity=1");
  CHECK(show("gzip;\tq=0.5") == "br=0 gzip=500 identity=1");
}

TEST_CASE("accept-encoding: an invalid weight or parameter drops only that member") {
  for (std::string_view h :
       {"gzip;q=2", "gzip;q=0.1234", "gzip;q=1.001", "gzip;q=1.5", "gzip;q=", "gzip;q=.5",
        "gzip;q=-1", "gzip;q =0.5", "gzip;q= 0.5", "gzip;q=0.5x", "gzip;level=9",
        "gzip;q=0.5;x=1", "gzip;", "gzip q=0.5", "g zip", "gzip;q=0 .5", "\"gzip\""}) {
    CAPTURE(h);
    CHECK(show(h) == "br=0 gzip=0 identity=1");
  }
  CHECK(show("gzip;q=2, br") == "br=1000 gzip=0 identity=1");
  CHECK(show("br;q=0.1234, gzip;q=0.3") == "br=0 gzip=300 identity=1");
}

TEST_CASE("accept-encoding: the star covers every coding not listed") {
  CHECK(show("*") == "br=1000 gzip=1000 identity=1000");
  CHECK(show("*;q=0") == "br=0 gzip=0 identity=0");
  CHECK(show("*;q=0, identity") == "br=0 gzip=0 identity=1000");
  CHECK(show("*;q=0.5, gzip;q=0") == "br=500 gzip=0 identity=500");
  CHECK(show("gzip, *;q=0") == "br=0 gzip=1000 identity=0");
  CHECK(show("identity;q=0") == "br=0 gzip=0 identity=0");
  CHECK(show("identity;q=0.2, br") == "br=1000 gzip=0 identity=200");
}

TEST_CASE("accept-encoding: whitespace, empty members and quoted commas") {
  CHECK(show(" , gzip ,, br ;q=0.1 ,") == "br=100 gzip=1000 identity=1");
  CHECK(show("\tgzip\t,\tbr\t") == "br=1000 gzip=1000 identity=1");
  // The comma inside the quoted string must not make " br" a member of its own.
  CHECK(show("foo;x=\", br,\", gzip") == "br=0 gzip=1000 identity=1");
  CHECK(show("foo;x=\"a\\\", br\", gzip") == "br=0 gzip=1000 identity=1");
  CHECK(show("gzip, foo;x=\"unterminated, br") == "br=0 gzip=1000 identity=1");
}

TEST_CASE("accept-encoding: a coding listed twice takes its highest weight") {
  CHECK(show("gzip;q=0, gzip") == "br=0 gzip=1000 identity=1");
  CHECK(show("gzip, gzip;q=0") == "br=0 gzip=1000 identity=1");
  CHECK(show("gzip;q=0.3, x-gzip;q=0.6") == "br=0 gzip=600 identity=1");
}

TEST_CASE("accept-encoding: chooseCoding prefers higher q, then br, then gzip, then identity") {
  CHECK(choose("gzip, br") == "br");
  CHECK(choose("br, gzip") == "br");
  CHECK(choose("gzip, br", false, true) == "gzip");
  CHECK(choose("gzip, br", true, false) == "br");
  CHECK(choose("gzip, br", false, false) == "");
  CHECK(choose("gzip") == "gzip");
  CHECK(choose("gzip", true, false) == "");
  CHECK(choose("br;q=0.5, gzip") == "gzip");
  CHECK(choose("br;q=0.5, gzip;q=0.5") == "br");
  CHECK(choose("gzip;q=0.8, br;q=0.9") == "br");
  CHECK(choose("gzip;q=0.9, br;q=0.8") == "gzip");
  CHECK(choose("gzip;q=0") == "");
  CHECK(choose("*;q=0") == "");
  CHECK(choose("*") == "br");
  CHECK(choose("*", false, true) == "gzip");
  CHECK(choose("gzip;q=0.5, identity") == "");  // identity explicitly preferred
  CHECK(choose("gzip;q=0.5, identity;q=0.5") == "gzip");
  CHECK(choose("gzip;q=0.5, identity;q=0.6") == "");
  CHECK(choose("gzip;q=0.001, identity;q=0") == "gzip");
}

TEST_CASE("accept-encoding: identity excluded with nothing else leaves the caller to decide") {
  const AcceptedCodings a = parseAcceptEncoding("identity;q=0");
  CHECK_FALSE(a.identity);
  CHECK(chooseCoding(a, true, true) == "");  // no acceptable variant: 406 or identity anyway
  const AcceptedCodings b = parseAcceptEncoding("identity;q=0, gzip");
  CHECK(chooseCoding(b, true, true) == "gzip");
  CHECK(chooseCoding(b, true, false) == "");
}
