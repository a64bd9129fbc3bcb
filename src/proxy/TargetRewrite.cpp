// Request-target rewriting for upstreams with a path: see TargetRewrite.h. The remainder is
// re-encoded because it was decoded for routing; the query was never decoded and goes as sent.
#include "proxy/TargetRewrite.h"

#include "http/Syntax.h"

namespace epserve::proxy {

namespace {

// Whether the path, read with "%2e" as '.' and "%2f" as '/' (as routing decodes them), has a
// "." or ".." segment or an empty one ("//"): routing then removed or merged something.
bool routingChanges(std::string_view path) {
  std::size_t length = 0, dots = 0;  // of the segment being read
  bool started = false;              // a '/' has opened a segment
  auto dotOrEmpty = [&] { return length == 0 || (dots == length && length <= 2); };
  for (std::size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '%' && i + 2 < path.size() && path[i + 1] == '2') {
      const char lo = static_cast<char>(path[i + 2] | 0x20);
      if (lo == 'e' || lo == 'f') {
        c = lo == 'e' ? '.' : '/';
        i += 2;
      }
    }
    if (c == '/') {
      if (started && dotOrEmpty()) return true;
      started = true;
      length = dots = 0;
      continue;
    }
    ++length;
    if (c == '.') ++dots;
  }
  return started && length > 0 && dots == length && length <= 2;
}

}  // namespace

void appendUpstreamTarget(std::string_view rawTarget, std::string_view normalizedPath,
                          std::string_view prefix, std::string_view upstreamPath,
                          std::string& out) {
  const std::string_view rawPath = rawTarget.substr(0, rawTarget.find('?'));
  if (upstreamPath.empty() && !routingChanges(rawPath)) {
    out.append(rawTarget);
    return;
  }
  // Either the prefix is replaced, or the client's path has dot or empty segments: then the
  // upstream gets the path epserve routed by, never one it could resolve somewhere else.
  const bool keepPrefix = upstreamPath.empty();
  const std::string_view rest = !keepPrefix && normalizedPath.starts_with(prefix)
                                    ? normalizedPath.substr(prefix.size())
                                    : normalizedPath;
  // The parser never lets '#' into a target; cut there anyway, a fragment is never sent.
  std::string_view query;
  if (const std::size_t q = rawTarget.find('?'); q != std::string_view::npos) {
    query = rawTarget.substr(q + 1);
    query = query.substr(0, query.find('#'));
  }

  out.append(upstreamPath);
  // '%' is not a path char: a decoded '%' is a literal one and goes as "%25".
  http::appendPathEncoded(rest, out);
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
