// Request path normalization: percent-decoding, UTF-8 validation and dot-segment removal
// (RFC 3986 §2.1, §5.2.4, RFC 3629 §4), and the reverse encoding for Location headers.
#include "fs/UrlPath.h"

#include <cstddef>
#include <cstdint>

#include "http/Syntax.h"

namespace epserve::fs {

namespace {

using http::Status;

// RFC 3629 §4 well-formed sequences: rejects overlong forms (C0, C1, E0 80..9F, F0 80..8F),
// UTF-16 surrogates (ED A0..BF) and code points above U+10FFFF (F4 90.., F5..FF).
bool isValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  auto cont = [&](const unsigned char* q, unsigned char lo, unsigned char hi) {
    return q < end && *q >= lo && *q <= hi;
  };
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
    } else if (c >= 0xC2 && c <= 0xDF) {
      if (!cont(p + 1, 0x80, 0xBF)) return false;
      p += 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      const unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;
      const unsigned char hi = c == 0xED ? 0x9F : 0xBF;
      if (!cont(p + 1, lo, hi) || !cont(p + 2, 0x80, 0xBF)) return false;
      p += 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      const unsigned char lo = c == 0xF0 ? 0x90 : 0x80;
      const unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;
      if (!cont(p + 1, lo, hi) || !cont(p + 2, 0x80, 0xBF) || !cont(p + 3, 0x80, 0xBF)) {
        return false;
      }
      p += 4;
    } else {
      return false;  // 80..C1 (continuation or overlong lead) or F5..FF
    }
  }
  return true;
}

// A segment that names a hidden file (".git", ".env", "...") is never served; ".well-known" is
// the one exception, and only as the first segment, where RFC 8615 §3 puts it.
bool hasHiddenSegment(std::string_view rel) {
  std::size_t start = 0;
  while (start < rel.size()) {
    std::size_t end = rel.find('/', start);
    if (end == std::string_view::npos) end = rel.size();
    const std::string_view seg = rel.substr(start, end - start);
    if (!seg.empty() && seg.front() == '.' && !(start == 0 && seg == ".well-known")) return true;
    start = end + 1;
  }
  return false;
}


}  // namespace

// Order of the steps matters for safety: decoding happens exactly once and before dot-segment
// removal, so "%2e%2e" is ".." (RFC 3986 §6.2.2.2 makes them equivalent) and cannot slip past
// it, while "%252e" decodes to the literal name "%2e". A decoded "%2F" is a separator like '/':
// a Linux file name cannot contain '/', so there is no file it could otherwise name, and
// treating it as a separator before dot removal means "..%2f" is caught like "../".
// trailingSlash follows RFC 3986 §5.2.4: a last segment of "." or ".." leaves a trailing '/'
// ("/a/." and "/a/b/.." both name the directory "/a/").
void normalizeUrlPath(std::string_view path, UrlPath& out, HiddenNames hidden) {
  std::string& rel = out.relative;
  rel.clear();  // keeps the capacity
  out.trailingSlash = false;
  out.status = Status::Ok;
  auto fail = [&out](Status s) {
    out.status = s;
    out.relative.clear();
    out.trailingSlash = false;
  };

  // Only origin-form reaches a file (RFC 9112 §3.2.1).
  if (path.empty() || path.front() != '/') return fail(Status::BadRequest);
  // '#' never legitimately appears in a request target (RFC 9112 §3.2); drop it with the query.
  // One pass for both bytes: find_first_of("?#") calls memchr once per byte of the path
  // (callgrind: ~280 instructions per request for "/index.html").
  std::size_t cut = 0;
  while (cut < path.size() && path[cut] != '?' && path[cut] != '#') ++cut;
  path = path.substr(0, cut);

  // Fast path for the common "/dir/file.ext": printable ASCII without escapes, without a
  // segment starting with '.', without repeated slashes. Such a path is already normalized:
  // the general passes below would return it unchanged, minus the leading '/'.
  bool plain = true;
  bool afterSlash = true;
  for (std::size_t i = 1; i < path.size(); ++i) {
    const auto u = static_cast<unsigned char>(path[i]);
    if (u == '%' || u < 0x21 || u >= 0x7F || (afterSlash && (u == '.' || u == '/'))) {
      plain = false;
      break;
    }
    afterSlash = u == '/';
  }
  if (plain) {
    out.trailingSlash = afterSlash;
    rel.assign(path.substr(1, path.size() - (afterSlash && path.size() > 1 ? 2 : 1)));
    return;
  }

  // Pass 1: decode once into `rel`, rejecting control bytes however they were spelled.
  rel.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '%') {
      if (path.size() - i < 3) return fail(Status::BadRequest);
      const int hi = http::hexValue(static_cast<unsigned char>(path[i + 1]));
      const int lo = http::hexValue(static_cast<unsigned char>(path[i + 2]));
      if (hi < 0 || lo < 0) return fail(Status::BadRequest);
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return fail(Status::BadRequest);
    rel.push_back(c);
  }
  if (!isValidUtf8(rel)) return fail(Status::BadRequest);

  // Pass 2: split on '/' and remove dot segments in place. The output (no leading '/') is
  // always shorter than what has been read, so writing at `w` never overtakes reading at `r`.
  std::size_t w = 0;
  std::size_t r = 1;  // past the leading '/'
  bool trailing = false;
  for (;;) {
    std::size_t end = rel.find('/', r);
    const bool last = end == std::string::npos;
    if (last) end = rel.size();
    const std::string_view seg(rel.data() + r, end - r);
    if (seg.empty() || seg == ".") {
      trailing = true;
    } else if (seg == "..") {
      if (w == 0) return fail(Status::BadRequest);  // above the root
      const std::size_t slash = std::string_view(rel.data(), w).rfind('/');
      w = slash == std::string_view::npos ? 0 : slash;
      trailing = true;
    } else {
      if (w > 0) rel[w++] = '/';
      for (std::size_t k = r; k < end; ++k) rel[w++] = rel[k];
      trailing = false;
    }
    if (last) break;
    r = end + 1;
  }
  rel.resize(w);

  if (hidden == HiddenNames::Refuse && hasHiddenSegment(rel)) return fail(Status::NotFound);
  out.trailingSlash = trailing;
}

std::string encodeLocation(std::string_view relative, bool trailingSlash) {
  std::string out = "/";
  const bool slashAfter = trailingSlash && !relative.empty();
  // A leading '/' would make "//host/..." (a protocol-relative URL: an open redirect).
  // normalizeUrlPath never produces one; encode it anyway so no caller can.
  if (!relative.empty() && relative.front() == '/') {
    out += "%2F";
    relative.remove_prefix(1);
  }
  http::appendPathEncoded(relative, out);
  if (slashAfter) out.push_back('/');
  return out;
}

}  // namespace epserve::fs
