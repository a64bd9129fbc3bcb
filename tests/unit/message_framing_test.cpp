// Unit tests for the shared reading of Connection options (http/MessageFraming): the bare
// single-option fast path must agree with the list walk on every spelling.
#include <doctest/doctest.h>

#include <string_view>

#include "http/MessageFraming.h"

using epserve::http::FramingFields;
using epserve::http::readConnection;

namespace {
FramingFields connection(std::string_view value) {
  FramingFields f;
  readConnection(value, f);
  return f;
}
}  // namespace

TEST_CASE("message framing: Connection options in any case, alone or in a list") {
  for (std::string_view v :
       {"keep-alive", "Keep-Alive", "KEEP-ALIVE", "x, keep-alive", "keep-alive ,x"}) {
    CAPTURE(v);
    FramingFields f = connection(v);
    CHECK(f.keepAlive);
    CHECK_FALSE(f.close);
  }
  for (std::string_view v : {"close", "Close", "CLOSE", "upgrade, close", ",close,"}) {
    CAPTURE(v);
    FramingFields f = connection(v);
    CHECK(f.close);
    CHECK_FALSE(f.keepAlive);
  }
  FramingFields both = connection("close, keep-alive");
  CHECK(both.close);
  CHECK(both.keepAlive);
  for (std::string_view v : {"", "keep-alivex", "closed", "keep alive", "upgrade", "\"close\""}) {
    CAPTURE(v);
    FramingFields f = connection(v);
    CHECK_FALSE(f.close);
    CHECK_FALSE(f.keepAlive);
  }
}
