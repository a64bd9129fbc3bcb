// Character classes of HTTP/1.1 and URI syntax (RFC 9110 §5.5, §5.6.2; RFC 3986), as one
// constexpr table shared by the request parser and the field-semantics checks.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace epserve::http {

enum CharClass : std::uint8_t {
  kTchar = 1,       // token characters (RFC 9110 §5.6.2)
  kTarget = 2,      // bytes allowed anywhere in a request-target
  kFieldVchar = 4,  // field-value bytes: SP, HTAB, VCHAR, obs-text (RFC 9110 §5.5)
  kRegName = 8,     // unreserved / sub-delims (RFC 3986 §3.2.2 reg-name, minus pct-encoded)
  kHexDigit = 16,
};

constexpr bool isAlpha(unsigned c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool isDigitChar(unsigned c) { return c >= '0' && c <= '9'; }

constexpr bool oneOf(unsigned c, std::string_view set) {
  for (char x : set) {
    if (static_cast<unsigned char>(x) == c) return true;
  }
  return false;
}

constexpr std::array<std::uint8_t, 256> makeClasses() {
  std::array<std::uint8_t, 256> t{};
  for (unsigned c = 0; c < 256; ++c) {
    std::uint8_t m = 0;
    const bool alnum = isAlpha(c) || isDigitChar(c);
    if (alnum || oneOf(c, "!#$%&'*+-.^_`|~")) {
      m |= kTchar;
    }
    // Visible ASCII minus what RFC 3986 never allows unescaped in a path or query: '"' '<' '>'
    // '\' '^' '`' '{' '|' '}', and '#' (a fragment is not part of a request-target). '[' and ']'
    // are kept: absolute-form needs them for IPv6 literals and clients send them raw in queries.
    if (c > 0x20 && c < 0x7F && !oneOf(c, "\"#<>\\^`{|}")) {
      m |= kTarget;
    }
    if (c == '\t' || (c >= 0x20 && c != 0x7F)) m |= kFieldVchar;
    if (alnum || oneOf(c, "-._~!$&'()*+,;=")) {
      m |= kRegName;
    }
    if (isDigitChar(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) m |= kHexDigit;
    t[c] = m;
  }
  return t;
}

inline constexpr std::array<std::uint8_t, 256> kClass = makeClasses();

inline bool has(unsigned char c, CharClass cls) { return (kClass[c] & cls) != 0; }
inline bool isOws(char c) { return c == ' ' || c == '\t'; }

}  // namespace epserve::http
