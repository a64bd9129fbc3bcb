// The request-target sent upstream: the client's as it came, or, when the upstream URL has a
// path, that path in place of the route prefix (nginx's proxy_pass with a URI). Pure.
#pragma once

#include <string>
#include <string_view>

namespace epserve::proxy {

// rawTarget: the client's path[?query] as sent. normalizedPath: its routing path
// (server::routingPath), which starts with `prefix` (the matched route's). upstreamPath: the
// upstream URL's path, kept as written.
//   upstreamPath "" -> rawTarget unchanged (escapes and all: the upstream sees what the client
//                      sent), unless its path has "." / ".." segments or "//" (also as %2e and
//                      %2f): then normalizedPath, encoded as below, and the raw query, so that the
//                      upstream never resolves the path to one epserve did not route.
//   otherwise       -> upstreamPath + (normalizedPath minus prefix), the remainder percent-
//                      encoded except RFC 3986 pchar and '/', then "?" + the raw query when it is
//                      not empty. Like nginx the two parts are joined as they are: prefix "/app/"
//                      with "http://h/v1" sends "/app/x" as "/v1x"; give both a trailing '/'.
// If normalizedPath does not start with prefix (a caller's mistake), all of it is the remainder.
std::string upstreamTarget(std::string_view rawTarget, std::string_view normalizedPath,
                           std::string_view prefix, std::string_view upstreamPath);

// The same, appended to `out`, whose capacity a warm caller reuses.
void appendUpstreamTarget(std::string_view rawTarget, std::string_view normalizedPath,
                          std::string_view prefix, std::string_view upstreamPath,
                          std::string& out);

}  // namespace epserve::proxy
