// Unit tests for log-line escaping (server/LogEscape): the combined format's \xHH escapes and
// JSON string escapes, over every byte value, so no request byte can break a line or the JSON.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "server/LogEscape.h"

using epserve::server::appendCombinedEscaped;
using epserve::server::appendJsonEscaped;

namespace {

std::string combined(std::string_view s) {
  std::string out;
  appendCombinedEscaped(out, s);
  return out;
}

std::string json(std::string_view s) {
  std::string out;
  appendJsonEscaped(out, s);
  return out;
}

}  // namespace

TEST_CASE("log escape: combined keeps printable ASCII and escapes the rest as \\xHH") {
  CHECK(combined("/index.html?a=b&c=d") == "/index.html?a=b&c=d");
  CHECK(combined("") == "-");
  CHECK(combined("say \"hi\"") == "say \\x22hi\\x22");
  CHECK(combined("a\\b") == "a\\x5Cb");
  CHECK(combined("line\r\nInjected: 1") == "line\\x0D\\x0AInjected: 1");
  CHECK(combined(std::string_view("\0\t\x7f", 3)) == "\\x00\\x09\\x7F");
  CHECK(combined("caf\xc3\xa9") == "caf\\xC3\\xA9");
}

TEST_CASE("log escape: no byte value survives into a combined line unescaped if it could break it") {
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    std::string out = combined(std::string_view(&c, 1));
    CAPTURE(b);
    for (char o : out) {
      auto u = static_cast<unsigned char>(o);
      CHECK(u >= 0x20);
      CHECK(u < 0x7f);
      CHECK(o != '"');
    }
    if (b >= 0x20 && b < 0x7f && c != '"' && c != '\\') {
      CHECK(out == std::string(1, c));
    } else {
      CHECK(out.size() == 4);
      CHECK(out.substr(0, 2) == "\\x");
    }
  }
}

TEST_CASE("log escape: JSON escapes quotes, backslashes and control bytes") {
  CHECK(json("/a b?c=1") == "/a b?c=1");
  CHECK(json("") == "");
  CHECK(json("say \"hi\"") == "say \\\"hi\\\"");
  CHECK(json("a\\b") == "a\\\\b");
  CHECK(json("\r\n\t\b\f") == "\\r\\n\\t\\b\\f");
  CHECK(json(std::string_view("\0\x01\x1f\x7f", 4)) == "\\u0000\\u0001\\u001F\\u007F");
}

TEST_CASE("log escape: JSON keeps well-formed UTF-8 and escapes every byte of a malformed one") {
  CHECK(json("caf\xc3\xa9") == "caf\xc3\xa9");                        // U+00E9
  CHECK(json("\xe2\x82\xac") == "\xe2\x82\xac");                      // U+20AC
  CHECK(json("\xf0\x9f\x98\x80") == "\xf0\x9f\x98\x80");              // U+1F600
  CHECK(json("\xf4\x8f\xbf\xbf") == "\xf4\x8f\xbf\xbf");              // U+10FFFF
  CHECK(json("\xc3") == "\\u00C3");                                   // truncated
  CHECK(json("\xc3(") == "\\u00C3(");                                 // bad continuation
  CHECK(json("\xa9") == "\\u00A9");                                   // lone continuation
  CHECK(json("\xc0\xaf") == "\\u00C0\\u00AF");                        // overlong '/'
  CHECK(json("\xe0\x80\xaf") == "\\u00E0\\u0080\\u00AF");             // overlong '/'
  CHECK(json("\xed\xa0\x80") == "\\u00ED\\u00A0\\u0080");             // surrogate U+D800
  CHECK(json("\xf4\x90\x80\x80") == "\\u00F4\\u0090\\u0080\\u0080");  // above U+10FFFF
  CHECK(json("\xff\xfe") == "\\u00FF\\u00FE");
}

TEST_CASE("log escape: every single byte value gives a valid JSON string body") {
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    std::string out = json(std::string_view(&c, 1));
    CAPTURE(b);
    for (char o : out) {
      auto u = static_cast<unsigned char>(o);
      CHECK(u >= 0x20);
      CHECK(u < 0x7f);  // a lone byte >= 0x80 is never well-formed UTF-8
    }
    if (out.size() == 2) {
      CHECK(out[0] == '\\');
    } else if (out.size() == 6) {
      CHECK(out.substr(0, 4) == "\\u00");
    } else {
      CHECK(out.size() == 1);
      CHECK(out != "\"");
      CHECK(out != "\\");
    }
  }
}
