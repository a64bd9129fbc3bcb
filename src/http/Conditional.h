// Validators and conditional requests (RFC 9110 §8.8, §13): the ETag of a file and the
// precondition evaluation that turns a GET/HEAD into 304. Pure functions over header values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/Request.h"
#include "http/Status.h"

namespace epserve::http {

inline constexpr std::size_t kMaxEtagLength = 48;

// Writes a strong ETag (with its quotes) for a file of `size` bytes last modified at
// mtimeSec.mtimeNsec into `out`, returns its length. Changes whenever size or mtime (to the
// nanosecond) changes. Takes the numbers, not fs::FileInfo: http code never depends on fs.
std::size_t makeEtag(std::uint64_t size, std::int64_t mtimeSec, std::int64_t mtimeNsec,
                     char (&out)[kMaxEtagLength]);

// Weak comparison of `etag` against an If-None-Match value: "*", or a comma list of
// entity-tags (W/ prefixes ignored). A malformed list matches nothing.
bool ifNoneMatchMatches(std::string_view headerValue, std::string_view etag);

// Strong comparison against an If-Match value ("*" or a list; weak tags never match).
bool ifMatchMatches(std::string_view headerValue, std::string_view etag);

// RFC 9110 §13.2.2 for a GET or HEAD of an existing file: Ok to serve, NotModified for a 304,
// PreconditionFailed for a 412 (If-Match / If-Unmodified-Since failing).
Status evaluatePreconditions(const Request& req, std::string_view etag, std::int64_t mtimeSec);

}  // namespace epserve::http
