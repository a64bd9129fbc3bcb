// Unit tests for mimeTypeFor: table lookups, case folding, which dot counts, and the fallback
// for names without an extension.
#include <doctest/doctest.h>

#include <string>

#include "http/Mime.h"

using epserve::http::mimeTypeFor;

namespace {
constexpr std::string_view kOctet = "application/octet-stream";
}

TEST_CASE("mime: common web types") {
  CHECK(mimeTypeFor("/index.html") == "text/html; charset=utf-8");
  CHECK(mimeTypeFor("/index.htm") == "text/html; charset=utf-8");
  CHECK(mimeTypeFor("/s/site.css") == "text/css; charset=utf-8");
  CHECK(mimeTypeFor("/app.js") == "text/javascript; charset=utf-8");
  CHECK(mimeTypeFor("/mod.mjs") == "text/javascript; charset=utf-8");
  CHECK(mimeTypeFor("/data.json") == "application/json; charset=utf-8");
  CHECK(mimeTypeFor("/app.js.map") == "application/json; charset=utf-8");
  CHECK(mimeTypeFor("/readme.txt") == "text/plain; charset=utf-8");
  CHECK(mimeTypeFor("/README.md") == "text/markdown; charset=utf-8");
  CHECK(mimeTypeFor("/t.csv") == "text/csv; charset=utf-8");
  CHECK(mimeTypeFor("/feed.xml") == "application/xml; charset=utf-8");
  CHECK(mimeTypeFor("/logo.svg") == "image/svg+xml; charset=utf-8");
  CHECK(mimeTypeFor("/site.webmanifest") == "application/manifest+json; charset=utf-8");
  CHECK(mimeTypeFor("/cal.ics") == "text/calendar; charset=utf-8");
  CHECK(mimeTypeFor("/c.yaml") == "application/yaml");
  CHECK(mimeTypeFor("/c.yml") == "application/yaml");
}

TEST_CASE("mime: binary types carry no charset") {
  CHECK(mimeTypeFor("/a.png") == "image/png");
  CHECK(mimeTypeFor("/a.jpg") == "image/jpeg");
  CHECK(mimeTypeFor("/a.jpeg") == "image/jpeg");
  CHECK(mimeTypeFor("/a.gif") == "image/gif");
  CHECK(mimeTypeFor("/a.webp") == "image/webp");
  CHECK(mimeTypeFor("/a.avif") == "image/avif");
  CHECK(mimeTypeFor("/a.apng") == "image/apng");
  CHECK(mimeTypeFor("/a.jxl") == "image/jxl");
  CHECK(mimeTypeFor("/favicon.ico") == "image/vnd.microsoft.icon");
  CHECK(mimeTypeFor("/a.bmp") == "image/bmp");
  CHECK(mimeTypeFor("/a.wasm") == "application/wasm");
  CHECK(mimeTypeFor("/a.pdf") == "application/pdf");
  CHECK(mimeTypeFor("/a.zip") == "application/zip");
  CHECK(mimeTypeFor("/a.gz") == "application/gzip");
  CHECK(mimeTypeFor("/a.br") == "application/x-brotli");
  CHECK(mimeTypeFor("/a.tar") == "application/x-tar");
  CHECK(mimeTypeFor("/a.mp4") == "video/mp4");
  CHECK(mimeTypeFor("/a.webm") == "video/webm");
  CHECK(mimeTypeFor("/a.ogv") == "video/ogg");
  CHECK(mimeTypeFor("/a.ogg") == "audio/ogg");
  CHECK(mimeTypeFor("/a.oga") == "audio/ogg");
  CHECK(mimeTypeFor("/a.opus") == "audio/ogg");
  CHECK(mimeTypeFor("/a.mp3") == "audio/mpeg");
  CHECK(mimeTypeFor("/a.m4a") == "audio/mp4");
  CHECK(mimeTypeFor("/a.wav") == "audio/wav");
  CHECK(mimeTypeFor("/a.flac") == "audio/flac");
  CHECK(mimeTypeFor("/a.woff") == "font/woff");
  CHECK(mimeTypeFor("/a.woff2") == "font/woff2");
  CHECK(mimeTypeFor("/a.ttf") == "font/ttf");
  CHECK(mimeTypeFor("/a.otf") == "font/otf");
  CHECK(mimeTypeFor("/a.eot") == "application/vnd.ms-fontobject");
}

TEST_CASE("mime: extension is compared case-insensitively") {
  CHECK(mimeTypeFor("/INDEX.HTML") == "text/html; charset=utf-8");
  CHECK(mimeTypeFor("/photo.JpG") == "image/jpeg");
  CHECK(mimeTypeFor("/site.WebManifest") == "application/manifest+json; charset=utf-8");
  CHECK(mimeTypeFor("/font.WOFF2") == "font/woff2");
}

TEST_CASE("mime: only the last extension of the last segment counts") {
  CHECK(mimeTypeFor("/archive.tar.gz") == "application/gzip");
  CHECK(mimeTypeFor("/page.html.txt") == "text/plain; charset=utf-8");
  CHECK(mimeTypeFor("/notes.txt.bak") == kOctet);
  CHECK(mimeTypeFor("/a.b/c") == kOctet);  // the dot is in a directory name
  CHECK(mimeTypeFor("/a.html/c") == kOctet);
  CHECK(mimeTypeFor("/v1.2/app.css") == "text/css; charset=utf-8");
  CHECK(mimeTypeFor("relative/dir.d/x.png") == "image/png");
  CHECK(mimeTypeFor("x.png") == "image/png");  // no slash at all
}

TEST_CASE("mime: missing, empty, unknown or dotfile extensions are octet-stream") {
  CHECK(mimeTypeFor("") == kOctet);
  CHECK(mimeTypeFor("/") == kOctet);
  CHECK(mimeTypeFor("/Makefile") == kOctet);
  CHECK(mimeTypeFor("/dir/") == kOctet);
  CHECK(mimeTypeFor("/file.") == kOctet);
  CHECK(mimeTypeFor("/file.exe") == kOctet);
  CHECK(mimeTypeFor("/a/..") == kOctet);
  // A leading dot hides a file; it is not an extension.
  CHECK(mimeTypeFor("/a/.txt") == kOctet);
  CHECK(mimeTypeFor("/.htaccess") == kOctet);
  // ...but a dotfile can still have an extension of its own.
  CHECK(mimeTypeFor("/.config.json") == "application/json; charset=utf-8");
  // Longer than any known extension, and a prefix of a known one, both miss.
  CHECK(mimeTypeFor("/x.webmanifestx") == kOctet);
  CHECK(mimeTypeFor("/x.htmlx") == kOctet);
  CHECK(mimeTypeFor("/x.ht") == kOctet);
  CHECK(mimeTypeFor("/x." + std::string(300, 'a')) == kOctet);
}

TEST_CASE("mime: non-ASCII bytes in the extension do not match anything") {
  CHECK(mimeTypeFor("/x.\xc3\xa9") == kOctet);
  CHECK(mimeTypeFor(std::string_view("/x.ht\0ml", 8)) == kOctet);
}
