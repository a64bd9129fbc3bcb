// Response head serialization: see Response.h.
#include "http/Response.h"

#include <cstring>

#include "http/HttpDate.h"

namespace epserve::http {

namespace {

struct Writer {
  char* p;
  void put(std::string_view s) {
    if (s.empty()) return;  // memcpy from an empty view's nullptr is undefined
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  }
  void field(std::string_view name, std::string_view value) {
    put(name);
    put(": ");
    put(value);
    put("\r\n");
  }
  void number(std::uint64_t v) {
    char tmp[20];
    int n = 0;
    do {
      tmp[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v);
    while (n) *p++ = tmp[--n];
  }
};

}  // namespace

std::size_t maxHeadSize(const ResponseHead& h) {
  // Fixed parts (status line with the longest table phrase, names, separators, numbers, dates)
  // stay well under 320 bytes.
  return 400 + h.reason.size() + h.server.size() + h.date.size() + h.lastModifiedText.size() +
         h.contentType.size() + h.contentRange.size() + h.contentEncoding.size() + h.vary.size() +
         h.cacheControl.size() + h.etag.size() + h.location.size() + h.allow.size() +
         h.passThrough.size() + h.extraHeaders.size();
}

std::size_t writeResponseHead(const ResponseHead& h, char* out) {
  Writer w{out};
  w.put("HTTP/1.1 ");
  w.number(static_cast<std::uint64_t>(code(h.status)));
  w.put(" ");
  w.put(h.reason.empty() ? defaultReasonPhrase(h.status) : h.reason);
  w.put("\r\n");
  if (!h.server.empty()) w.field("Server", h.server);
  w.field("Date", h.date);
  if (!h.contentType.empty()) w.field("Content-Type", h.contentType);
  if (!forbidsContent(h.status)) {
    switch (h.framing) {
      case ContentFraming::ContentLength:
        w.put("Content-Length: ");
        w.number(h.contentLength);
        w.put("\r\n");
        break;
      case ContentFraming::Chunked: w.put("Transfer-Encoding: chunked\r\n"); break;
      case ContentFraming::UntilClose:
      case ContentFraming::None: break;
    }
  }
  if (!h.lastModifiedText.empty()) {
    w.field("Last-Modified", h.lastModifiedText);
  } else if (h.lastModified >= 0) {
    char date[kHttpDateLength];
    formatHttpDate(h.lastModified, date);
    w.field("Last-Modified", std::string_view(date, kHttpDateLength));
  }
  if (!h.etag.empty()) w.field("ETag", h.etag);
  if (!h.contentEncoding.empty()) w.field("Content-Encoding", h.contentEncoding);
  if (!h.contentRange.empty()) w.field("Content-Range", h.contentRange);
  if (!h.vary.empty()) w.field("Vary", h.vary);
  if (!h.cacheControl.empty()) w.field("Cache-Control", h.cacheControl);
  if (h.acceptRanges) w.put("Accept-Ranges: bytes\r\n");
  if (!h.location.empty()) w.field("Location", h.location);
  if (!h.allow.empty()) w.field("Allow", h.allow);
  // A close-delimited body ends only with the connection: say so, so that no client waits to
  // reuse it (RFC 9112 §9.6).
  if (h.connection == ConnectionHeader::Close || h.framing == ContentFraming::UntilClose) {
    w.put("Connection: close\r\n");
  } else if (h.connection == ConnectionHeader::KeepAlive) {
    w.put("Connection: keep-alive\r\n");
  }
  w.put(h.passThrough);
  w.put(h.extraHeaders);
  w.put("\r\n");
  return static_cast<std::size_t>(w.p - out);
}

}  // namespace epserve::http
