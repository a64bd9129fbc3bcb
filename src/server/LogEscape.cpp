// Log-line escaping for the combined and JSON formats: see LogEscape.h.
#include "server/LogEscape.h"

#include <cstddef>
#include <cstdint>

namespace epserve::server {

namespace {

constexpr char kHex[] = "0123456789ABCDEF";

// Printable ASCII that needs no escape in either format.
bool plain(unsigned char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; }

void appendUnicodeEscape(std::string& out, unsigned char c) {
  const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
  out.append(esc, sizeof(esc));
}

// The length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), or 0 if the bytes there are not one.
std::size_t utf8Length(std::string_view s, std::size_t i) {
  auto at = [&s](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](std::size_t k) { return k < s.size() && (at(k) & 0xc0) == 0x80; };
  unsigned char c = at(i);
  if (c >= 0xc2 && c <= 0xdf) return cont(i + 1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    unsigned char c1 = at(i + 1);
    if (c == 0xe0 && c1 < 0xa0) return 0;  // overlong
    if (c == 0xed && c1 >= 0xa0) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    unsigned char c1 = at(i + 1);
    if (c == 0xf0 && c1 < 0x90) return 0;  // overlong
    if (c == 0xf4 && c1 >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;  // a continuation byte on its own, 0xc0, 0xc1 or 0xf5..0xff
}

// Copies the bytes from `i` that need no escape, in one append; returns where they end (the
// next byte to escape, or s.size()).
std::size_t appendPlainRun(std::string& out, std::string_view s, std::size_t i) {
  std::size_t run = i;
  while (run < s.size() && plain(static_cast<unsigned char>(s[run]))) ++run;
  out.append(s.data() + i, run - i);
  return run;
}

}  // namespace

void appendCombinedEscaped(std::string& out, std::string_view s) {
  if (s.empty()) {
    out.push_back('-');
    return;
  }
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t run = appendPlainRun(out, s, i);
    if (run == s.size()) break;
    auto c = static_cast<unsigned char>(s[run]);
    const char esc[4] = {'\\', 'x', kHex[c >> 4], kHex[c & 15]};
    out.append(esc, sizeof(esc));
    i = run + 1;
  }
}

void appendJsonEscaped(std::string& out, std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t run = appendPlainRun(out, s, i);
    if (run == s.size()) break;
    auto c = static_cast<unsigned char>(s[run]);
    i = run + 1;
    switch (c) {
      case '"': out.append("\\\""); continue;
      case '\\': out.append("\\\\"); continue;
      case '\n': out.append("\\n"); continue;
      case '\r': out.append("\\r"); continue;
      case '\t': out.append("\\t"); continue;
      case '\b': out.append("\\b"); continue;
      case '\f': out.append("\\f"); continue;
      default: break;
    }
    if (c >= 0x80) {
      if (std::size_t n = utf8Length(s, run); n > 0) {
        out.append(s.data() + run, n);
        i = run + n;
        continue;
      }
    }
    appendUnicodeEscape(out, c);
  }
}

}  // namespace epserve::server
