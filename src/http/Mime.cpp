// Content-Type lookup: a compile-time sorted extension table, binary-searched after the
// extension is lowercased into a stack buffer (no allocation on the request path).
#include "http/Mime.h"

#include <algorithm>
#include <array>
#include <cstddef>

namespace epserve::http {

namespace {

struct MimeEntry {
  std::string_view extension;  // lowercase, without the dot
  std::string_view type;       // full Content-Type field value
};

constexpr std::string_view kOctetStream = "application/octet-stream";

// Sorted by extension (checked below). Types are the IANA registrations where one exists;
// textual types carry "; charset=utf-8" so browsers never fall back to sniffing a legacy
// encoding. JavaScript is text/javascript per RFC 9239 §6. YAML (RFC 9512) defines no charset
// parameter, so it gets none.
constexpr std::array kTable = {
    MimeEntry{"aac", "audio/aac"},
    MimeEntry{"apng", "image/apng"},
    MimeEntry{"avif", "image/avif"},
    MimeEntry{"bmp", "image/bmp"},
    MimeEntry{"br", "application/x-brotli"},
    MimeEntry{"css", "text/css; charset=utf-8"},
    MimeEntry{"csv", "text/csv; charset=utf-8"},
    MimeEntry{"eot", "application/vnd.ms-fontobject"},
    MimeEntry{"flac", "audio/flac"},
    MimeEntry{"gif", "image/gif"},
    MimeEntry{"gz", "application/gzip"},
    MimeEntry{"htm", "text/html; charset=utf-8"},
    MimeEntry{"html", "text/html; charset=utf-8"},
    MimeEntry{"ico", "image/vnd.microsoft.icon"},
    MimeEntry{"ics", "text/calendar; charset=utf-8"},
    MimeEntry{"jpeg", "image/jpeg"},
    MimeEntry{"jpg", "image/jpeg"},
    MimeEntry{"js", "text/javascript; charset=utf-8"},
    MimeEntry{"json", "application/json; charset=utf-8"},
    MimeEntry{"jxl", "image/jxl"},
    MimeEntry{"m4a", "audio/mp4"},
    MimeEntry{"map", "application/json; charset=utf-8"},  // source maps are JSON
    MimeEntry{"md", "text/markdown; charset=utf-8"},
    MimeEntry{"mjs", "text/javascript; charset=utf-8"},
    MimeEntry{"mp3", "audio/mpeg"},
    MimeEntry{"mp4", "video/mp4"},
    MimeEntry{"oga", "audio/ogg"},
    MimeEntry{"ogg", "audio/ogg"},  // RFC 5334 §10: .ogg is audio unless known otherwise
    MimeEntry{"ogv", "video/ogg"},
    MimeEntry{"opus", "audio/ogg"},  // RFC 7845 §9: Ogg Opus files use audio/ogg
    MimeEntry{"otf", "font/otf"},
    MimeEntry{"pdf", "application/pdf"},
    MimeEntry{"png", "image/png"},
    MimeEntry{"svg", "image/svg+xml; charset=utf-8"},
    MimeEntry{"tar", "application/x-tar"},
    MimeEntry{"ttf", "font/ttf"},
    MimeEntry{"txt", "text/plain; charset=utf-8"},
    MimeEntry{"wasm", "application/wasm"},  // must be exact for WebAssembly streaming compile
    MimeEntry{"wav", "audio/wav"},
    MimeEntry{"webm", "video/webm"},
    MimeEntry{"webmanifest", "application/manifest+json; charset=utf-8"},
    MimeEntry{"webp", "image/webp"},
    MimeEntry{"woff", "font/woff"},
    MimeEntry{"woff2", "font/woff2"},
    MimeEntry{"xml", "application/xml; charset=utf-8"},
    MimeEntry{"yaml", "application/yaml"},
    MimeEntry{"yml", "application/yaml"},
    MimeEntry{"zip", "application/zip"},
};

constexpr bool isSortedAndLowercase() {
  for (std::size_t i = 0; i < kTable.size(); ++i) {
    for (char c : kTable[i].extension) {
      if (c >= 'A' && c <= 'Z') return false;
    }
    if (i > 0 && !(kTable[i - 1].extension < kTable[i].extension)) return false;
  }
  return true;
}
static_assert(isSortedAndLowercase(), "kTable must be sorted, unique and lowercase");

constexpr std::size_t maxExtensionLength() {
  std::size_t n = 0;
  for (const auto& e : kTable) n = std::max(n, e.extension.size());
  return n;
}
constexpr std::size_t kMaxExtension = maxExtensionLength();

}  // namespace

std::string_view mimeTypeFor(std::string_view path) {
  // Only the final path segment names the file: "/a.b/c" has no extension.
  std::size_t slash = path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  std::size_t dot = name.rfind('.');
  // A leading dot marks a hidden file (".txt", ".htaccess"), not an extension, matching how
  // POSIX tools treat dotfiles; such names are served as opaque bytes.
  if (dot == std::string_view::npos || dot == 0) return kOctetStream;
  std::string_view ext = name.substr(dot + 1);
  if (ext.empty() || ext.size() > kMaxExtension) return kOctetStream;

  char lower[kMaxExtension];
  for (std::size_t i = 0; i < ext.size(); ++i) {
    char c = ext[i];
    lower[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  std::string_view key(lower, ext.size());

  auto byExtension = [](const MimeEntry& e, std::string_view k) { return e.extension < k; };
  auto it = std::lower_bound(kTable.begin(), kTable.end(), key, byExtension);
  if (it != kTable.end() && it->extension == key) return it->type;
  return kOctetStream;
}

}  // namespace epserve::http
