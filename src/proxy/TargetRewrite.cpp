// Request-target rewriting for upstreams with a path: see TargetRewrite.h. The remainder is
// re-encoded because it was decoded for routing; the query was never decoded and goes as sent.
#include "proxy/TargetRewrite.h"

#include "http/Syntax.h"

namespace epserve::proxy {

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
