// Turns a request path (the path[?query] part of a request target) into a safe relative path
// under the document root: percent-decoded once, dot segments removed. Pure: no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/Status.h"

namespace epserve::fs {

struct UrlPath {
  // Ok: `relative` is set. BadRequest: bad escape, decoded NUL or control byte, invalid UTF-8,
  // not origin-form, or ".." climbing above the root. NotFound: a dot-segment name (".git",
  // ".env", ...) other than ".well-known" (RFC 8615), which is never served (HiddenNames::Refuse,
  // the default; with Keep such a path is Ok).
  http::Status status = http::Status::Ok;
  // Decoded path relative to the root without a leading '/', "" for the root itself; repeated
  // slashes merged. Never contains "." or ".." segments.
  std::string relative;
  // The decoded path ended in '/' (a directory was asked for explicitly).
  bool trailingSlash = false;
};

// What to do with a dot-segment name (".git", ".env"): refusing them (NotFound) is a rule for
// files under the root; a route to an upstream keeps them (Ok), since the upstream decides.
enum class HiddenNames : std::uint8_t { Refuse, Keep };

// `path` must start with '/'. The query ('?...') is dropped, and with it any fragment.
// `out` is reused (its capacity survives) so the request path need not allocate.
void normalizeUrlPath(std::string_view path, UrlPath& out,
                      HiddenNames hidden = HiddenNames::Refuse);

// Percent-encodes a decoded relative path for a Location header ("/" + encoded + optional "/").
// Bytes outside RFC 3986 unreserved / sub-delims / ":@/" are encoded.
std::string encodeLocation(std::string_view relative, bool trailingSlash);

}  // namespace epserve::fs
