// Fuzzes normalizeUrlPath and encodeLocation on "/" + data: the safety properties of an Ok path,
// agreement with an independent normalizer, and Location values that round-trip.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "FuzzSupport.h"
#include "fs/UrlPath.h"
#include "http/Status.h"

namespace {

using epserve::fs::encodeLocation;
using epserve::fs::normalizeUrlPath;
using epserve::fs::UrlPath;
using epserve::http::Status;

// Decodes one UTF-8 scalar value at s[i] by computing the code point and checking its range,
// the opposite approach to a table of allowed lead/continuation bytes; -1 when ill-formed.
long nextScalar(std::string_view s, std::size_t& i) {
  const auto lead = static_cast<unsigned char>(s[i]);
  std::size_t len;
  long cp;
  if (lead < 0x80) {
    ++i;
    return lead;
  } else if ((lead & 0xE0) == 0xC0) {
    len = 2;
    cp = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    len = 3;
    cp = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    len = 4;
    cp = lead & 0x07;
  } else {
    return -1;
  }
  if (s.size() - i < len) return -1;
  for (std::size_t k = 1; k < len; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return -1;
    cp = cp << 6 | (c & 0x3F);
  }
  static constexpr long kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  i += len;
  return cp;
}

bool validUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    if (nextScalar(s, i) < 0) return false;
  }
  return true;
}

// The documented behaviour written the plain way: decode, split into a segment stack, then
// judge hidden names.
UrlPath reference(std::string_view path) {
  UrlPath out;
  auto fail = [&out](Status s) {
    out.status = s;
    out.relative.clear();
    out.trailingSlash = false;
    return out;
  };
  if (path.empty() || path[0] != '/') return fail(Status::BadRequest);
  path = path.substr(0, path.find_first_of("?#"));
  std::string decoded;
  for (std::size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '%') {
      auto hex = [&](std::size_t k) -> int {
        if (k >= path.size()) return -1;
        const char h = path[k];
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      const int hi = hex(i + 1);
      const int lo = hex(i + 2);
      if (hi < 0 || lo < 0) return fail(Status::BadRequest);
      c = static_cast<char>(hi << 4 | lo);
      i += 2;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return fail(Status::BadRequest);
    decoded.push_back(c);
  }
  if (!validUtf8(decoded)) return fail(Status::BadRequest);

  std::vector<std::string> segments;
  bool trailing = false;
  std::size_t start = 1;
  for (;;) {
    const std::size_t slash = decoded.find('/', start);
    const std::string seg = decoded.substr(start, slash - start);
    if (seg.empty() || seg == ".") {
      trailing = true;
    } else if (seg == "..") {
      if (segments.empty()) return fail(Status::BadRequest);
      segments.pop_back();
      trailing = true;
    } else {
      segments.push_back(seg);
      trailing = false;
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  for (std::size_t k = 0; k < segments.size(); ++k) {
    if (segments[k][0] == '.' && !(k == 0 && segments[k] == ".well-known")) {
      return fail(Status::NotFound);
    }
    if (k > 0) out.relative.push_back('/');
    out.relative += segments[k];
  }
  out.status = Status::Ok;
  out.trailingSlash = trailing;
  return out;
}

bool locationSafe(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("-._~!$&'()*+,;=:@/").find(static_cast<char>(c)) !=
             std::string_view::npos;
}

bool isUpperHex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

void checkLocation(const std::string& loc) {
  FUZZ_CHECK(!loc.empty() && loc[0] == '/');
  FUZZ_CHECK(loc.size() < 2 || loc[1] != '/');  // "//host" would be an open redirect
  for (std::size_t i = 0; i < loc.size(); ++i) {
    if (loc[i] == '%') {
      FUZZ_CHECK(i + 2 < loc.size() && isUpperHex(loc[i + 1]) && isUpperHex(loc[i + 2]));
      i += 2;
    } else {
      FUZZ_CHECK(locationSafe(static_cast<unsigned char>(loc[i])));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::string path = "/" + std::string(bytes);

  static UrlPath out;  // reused across inputs, as a connection reuses it
  normalizeUrlPath(path, out);
  const UrlPath want = reference(path);
  FUZZ_CHECK(out.status == want.status);
  FUZZ_CHECK(out.relative == want.relative);
  FUZZ_CHECK(out.trailingSlash == want.trailingSlash);
  FUZZ_CHECK(out.status == Status::Ok || out.status == Status::BadRequest ||
             out.status == Status::NotFound);

  if (out.status == Status::Ok) {
    const std::string& rel = out.relative;
    FUZZ_CHECK(rel.empty() || rel.front() != '/');
    FUZZ_CHECK(rel.empty() || rel.back() != '/');
    FUZZ_CHECK(rel.find("//") == std::string::npos);
    for (char c : rel) {
      const auto u = static_cast<unsigned char>(c);
      FUZZ_CHECK(u >= 0x20 && u != 0x7F);  // no NUL or other control byte
    }
    std::size_t start = 0;
    while (start <= rel.size() && !rel.empty()) {
      std::size_t end = rel.find('/', start);
      if (end == std::string::npos) end = rel.size();
      const std::string_view seg(rel.data() + start, end - start);
      FUZZ_CHECK(!seg.empty());
      FUZZ_CHECK(seg != "." && seg != "..");
      FUZZ_CHECK(seg.front() != '.' || (start == 0 && seg == ".well-known"));
      start = end + 1;
    }
    FUZZ_CHECK(validUtf8(rel));

    // The redirect for this path leads back to it: decoding the Location gives the same path.
    const std::string loc = encodeLocation(rel, out.trailingSlash);
    checkLocation(loc);
    UrlPath again;
    normalizeUrlPath(loc, again);
    FUZZ_CHECK(again.status == Status::Ok);
    FUZZ_CHECK(again.relative == rel);
    FUZZ_CHECK(again.trailingSlash == (out.trailingSlash || rel.empty()));
  }

  // encodeLocation is also safe on bytes normalizeUrlPath would never produce.
  checkLocation(encodeLocation(bytes, (size & 1) != 0));
  return 0;
}
