// Request-target rewriting for upstreams with a path: see TargetRewrite.h. The remainder is
// re-encoded because it was decoded for routing; the query was never decoded and goes as sent.
#include "proxy/TargetRewrite.h"

#include <array>
#include <cstddef>

namespace epserve::proxy {

namespace {

// RFC 3986 §3.3 pchar minus pct-encoded, plus '/': unreserved / sub-delims / ":" / "@" / "/".
// '%' is not in it: a decoded '%' is a literal one and goes as "%25".
constexpr std::array<bool, 256> makeSafe() {
  std::array<bool, 256> safe{};
  for (int c = 'a'; c <= 'z'; ++c) safe[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) safe[static_cast<std::size_t>(c)] = true;
  for (int c = '0'; c <= '9'; ++c) safe[static_cast<std::size_t>(c)] = true;
  for (const char c : std::string_view("-._~!$&'()*+,;=:@/")) {
    safe[static_cast<unsigned char>(c)] = true;
  }
  return safe;
}
constexpr std::array<bool, 256> kSafe = makeSafe();

}  // namespace

void appendUpstreamTarget(std::string_view rawTarget, std::string_view normalizedPath,
                          std::string_view prefix, std::string_view upstreamPath,
                          std::string& out) {
  if (upstreamPath.empty()) {
    out.append(rawTarget);
    return;
  }
  const std::string_view rest =
      normalizedPath.starts_with(prefix) ? normalizedPath.substr(prefix.size()) : normalizedPath;
  // The parser never lets '#' into a target; cut there anyway, a fragment is never sent.
  std::string_view query;
  if (const std::size_t q = rawTarget.find('?'); q != std::string_view::npos) {
    query = rawTarget.substr(q + 1);
    query = query.substr(0, query.find('#'));
  }

  std::size_t size = upstreamPath.size() + (query.empty() ? 0 : query.size() + 1);
  for (char c : rest) size += kSafe[static_cast<unsigned char>(c)] ? 1 : 3;
  out.reserve(out.size() + size);

  static constexpr char kHex[] = "0123456789ABCDEF";
  out.append(upstreamPath);
  for (char c : rest) {
    const auto u = static_cast<unsigned char>(c);
    if (kSafe[u]) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0x0F]);
    }
  }
  if (!query.empty()) {
    out.push_back('?');
    out.append(query);
  }
}

std::string upstreamTarget(std::string_view rawTarget, std::string_view normalizedPath,
                           std::string_view prefix, std::string_view upstreamPath) {
  std::string out;
  appendUpstreamTarget(rawTarget, normalizedPath, prefix, upstreamPath, out);
  return out;
}

}  // namespace epserve::proxy
