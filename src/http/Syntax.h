// The lexical rules of HTTP/1.1 and URI syntax, written once (RFC 9110 §5.5, §5.6; RFC 3986):
// character classes, OWS, tokens, lists, hex digits, decimals. Every parser in src/http uses these.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace epserve::http {

enum CharClass : std::uint8_t {
  kTchar = 1,       // token characters (RFC 9110 §5.6.2)
  kTarget = 2,      // bytes allowed anywhere in a request-target
  kFieldVchar = 4,  // field-value bytes: SP, HTAB, VCHAR, obs-text (RFC 9110 §5.5)
  kRegName = 8,     // unreserved / sub-delims (RFC 3986 §3.2.2 reg-name, minus pct-encoded)
  kHexDigit = 16,
  kPathChar = 32,   // RFC 3986 pchar minus pct-encoded, plus '/': what a path may carry unescaped
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
    if ((m & kRegName) || oneOf(c, ":@/")) m |= kPathChar;
    t[c] = m;
  }
  return t;
}

inline constexpr std::array<std::uint8_t, 256> kClass = makeClasses();

inline bool has(unsigned char c, CharClass cls) { return (kClass[c] & cls) != 0; }

// Appends a decoded path to `out`, percent-encoding every byte that is not kPathChar (so '%'
// itself goes as "%25", and the result decodes back to exactly `path`).
inline void appendPathEncoded(std::string_view path, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::size_t size = out.size();
  for (char c : path) size += has(static_cast<unsigned char>(c), kPathChar) ? 1 : 3;
  out.reserve(size);
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (has(u, kPathChar)) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0x0F]);
    }
  }
}
inline bool isOws(char c) { return c == ' ' || c == '\t'; }

// HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 §2.3): eight bytes, the same
// in a request line and a status line, so both parsers read it with these two functions.
inline constexpr std::size_t kHttpVersionLength = 8;

// Whether `c` may be byte `i` (0..7) of an HTTP-version.
constexpr bool isHttpVersionByte(std::size_t i, unsigned char c) {
  constexpr std::string_view kShape = "HTTP/#.#";
  return kShape[i] == '#' ? isDigitChar(c) : c == static_cast<unsigned char>(kShape[i]);
}

// The minor version an HTTP/1.1 implementation handles the well-formed HTTP-version `v` as:
// 0 or 1 for major version 1, where a higher minor (HTTP/1.5) is handled as 1.1 (RFC 9110
// §2.5), and -1 for any other major version (HTTP/0.9, HTTP/2.0), which it does not speak.
constexpr int http1Minor(std::string_view v) {
  if (v[5] != '1') return -1;
  return v[7] == '0' ? 0 : 1;
}

// ASCII case-insensitive equality, the comparison HTTP uses for field names and tokens.
// Inline: it runs for every header lookup, and the length check alone settles most calls.
// Folding only A-Z keeps it locale-free and leaves obs-text bytes alone.
inline bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    if (x != y) {
      const auto lx = (x >= 'A' && x <= 'Z') ? (x | 0x20) : x;
      const auto ly = (y >= 'A' && y <= 'Z') ? (y | 0x20) : y;
      if (lx != ly) return false;
    }
  }
  return true;
}

// Whether `name` is one of the field names `names`, in any case (the fixed lists of fields a
// writer drops or replaces).
template <std::size_t N>
bool isOneOfIgnoreCase(const std::array<std::string_view, N>& names, std::string_view name) {
  for (std::string_view n : names) {
    if (equalsIgnoreCase(n, name)) return true;
  }
  return false;
}

// `v` without leading and trailing OWS (RFC 9110 §5.6.3).
constexpr std::string_view trimOws(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// Calls f(element) for each OWS-trimmed element of a comma-separated list (RFC 9110 §5.6.1),
// empty elements included (callers decide whether those matter); f returns false to stop early.
template <typename F>
void forEachListElement(std::string_view v, F&& f) {
  for (;;) {
    const std::size_t comma = v.find(',');
    if (!f(trimOws(v.substr(0, comma)))) return;
    if (comma == std::string_view::npos) return;
    v.remove_prefix(comma + 1);
  }
}

// token = 1*tchar (RFC 9110 §5.6.2).
inline bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!has(static_cast<unsigned char>(c), kTchar)) return false;
  }
  return true;
}

// The value of a hex digit, or -1.
constexpr int hexValue(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// 1*DIGIT into `out`; false when empty, not all digits, or above 2^64-1.
constexpr bool parseDecimal(std::string_view v, std::uint64_t& out) {
  if (v.empty()) return false;
  std::uint64_t n = 0;
  for (char ch : v) {
    if (!isDigitChar(static_cast<unsigned char>(ch))) return false;
    const auto d = static_cast<std::uint64_t>(ch - '0');
    if (n > (UINT64_MAX - d) / 10) return false;
    n = n * 10 + d;
  }
  out = n;
  return true;
}

}  // namespace epserve::http
