// The upstream request head: see RequestHead.h. One pass copies the client's end-to-end fields;
// the joined X-Forwarded-For and Via are written from a second scan, so nothing is collected.
#include "proxy/RequestHead.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <charconv>
#include <span>

#include "http/HopByHop.h"
#include "http/Syntax.h"

namespace epserve::proxy {

namespace {

using http::equalsIgnoreCase;
using http::Header;

// Fields the writer replaces or answers itself; the client's never pass, whoever sent them.
constexpr std::array<std::string_view, 8> kReplaced = {
    "Host", "Content-Length", "Transfer-Encoding", "Expect", "Proxy",
    "X-Forwarded-Proto", "X-Forwarded-Host", "Via",
};

// Claims about the client's address, port or scheme that only a trusted peer may make: each is
// read by some framework or middleware (Rack's X-Forwarded-Ssl and Front-End-Https, Django's
// SECURE_PROXY_SSL_HEADER set to any of them, USE_X_FORWARDED_PORT, X-Real-IP behind nginx's
// usual `proxy_set_header`), so passing a client's own would let it pose as a secure or
// another client. X-Forwarded-For is joined apart, below.
constexpr std::array<std::string_view, 8> kPeerClaims = {
    "Forwarded",          "X-Real-IP",           "X-Forwarded-Port", "X-Forwarded-Ssl",
    "X-Forwarded-Scheme", "X-Forwarded-Protocol", "X-Url-Scheme",     "Front-End-Https",
};

// inet_ntop formats with sprintf: about 1,700 instructions, a tenth of a proxied request's.
std::size_t formatIpv4(const unsigned char* octets, char* buf, std::size_t size) {
  if (size < 16) return 0;
  char* p = buf;
  for (int i = 0; i < 4; ++i) {
    unsigned v = octets[i];
    if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
    if (i < 3) *p++ = '.';
  }
  *p = '\0';
  return static_cast<std::size_t>(p - buf);
}

}  // namespace

std::size_t formatClientIp(const reactor::SocketAddress& peer, char* buf, std::size_t size) {
  if (peer.addr.any.sa_family == AF_INET) {
    return formatIpv4(reinterpret_cast<const unsigned char*>(&peer.addr.v4.sin_addr), buf, size);
  }
  if (peer.addr.any.sa_family != AF_INET6) return 0;
  const in6_addr& a = peer.addr.v6.sin6_addr;
  if (IN6_IS_ADDR_V4MAPPED(&a)) return formatIpv4(a.s6_addr + 12, buf, size);
  const char* ok = ::inet_ntop(AF_INET6, &a, buf, static_cast<socklen_t>(size));
  return ok == nullptr ? 0 : std::string_view(buf).size();
}

namespace {

class HeadWriter {
 public:
  explicit HeadWriter(std::string& out) : out_(out) {}
  void field(std::string_view name, std::string_view value) {
    out_.append(name);
    out_.append(": ");
    out_.append(value);
    out_.append("\r\n");
  }
  // Appends the values of every field named `name` that `hop` lets through and that is not
  // empty, ", "-separated; returns whether it wrote any.
  bool joined(std::span<const Header> fields, const http::HopByHopFilter& hop,
              std::string_view name) {
    bool any = false;
    for (const Header& h : fields) {
      if (h.value.empty() || !equalsIgnoreCase(h.name, name) || hop.isHopByHop(h.name)) continue;
      if (any) out_.append(", ");
      out_.append(h.value);
      any = true;
    }
    return any;
  }

 private:
  std::string& out_;
};

}  // namespace

void writeUpstreamRequestHead(const http::Request& req, const ForwardInfo& f, std::string& out) {
  const std::span<const Header> fields(req.headers.data(), req.headerCount);
  const http::HopByHopFilter hop(fields);

  char peerIp[INET6_ADDRSTRLEN] = {};
  const std::size_t peerLen = f.peer ? formatClientIp(*f.peer, peerIp, sizeof(peerIp)) : 0;
  const std::string_view host = req.host.empty() ? f.fallbackHost : req.host;

  // One reservation: the client's fields bound everything copied or joined from them, and the
  // fields written here are short.
  constexpr std::size_t kOwnFields = 256;
  out.reserve(out.size() + req.methodText.size() + f.target.size() + host.size() * 2 +
              http::endToEndSize(fields) + peerLen + kOwnFields);

  HeadWriter w(out);
  out.append(req.methodText);
  out.push_back(' ');
  out.append(f.target);
  out.append(" HTTP/1.1\r\n");
  w.field("Host", host);

  bool upgradeWritten = false;
  for (const Header& h : fields) {
    if (h.name.find('_') != std::string_view::npos) continue;
    // Upgrade is hop-by-hop, so a tunnel request re-sends it for this hop (RFC 9110 §7.8).
    if (f.upgrade && equalsIgnoreCase(h.name, "Upgrade")) {
      w.field(h.name, h.value);
      upgradeWritten = true;
      continue;
    }
    if (hop.isHopByHop(h.name) || http::isOneOfIgnoreCase(kReplaced, h.name)) continue;
    // Only a trusted peer's identity claims pass; anyone else could name any address.
    if (equalsIgnoreCase(h.name, "X-Forwarded-For")) continue;  // joined below when trusted
    if (!f.peerTrusted && http::isOneOfIgnoreCase(kPeerClaims, h.name)) continue;
    w.field(h.name, h.value);
  }

  if (f.peerTrusted || peerLen > 0) {
    // "X-Forwarded-For: " is written first and taken back if neither part has anything.
    const std::size_t mark = out.size();
    out.append("X-Forwarded-For: ");
    const std::size_t start = out.size();
    const bool list = f.peerTrusted && w.joined(fields, hop, "X-Forwarded-For");
    if (peerLen > 0) {
      if (list) out.append(", ");
      out.append(peerIp, peerLen);
    }
    if (out.size() == start) {
      out.resize(mark);
    } else {
      out.append("\r\n");
    }
  }
  w.field("X-Forwarded-Proto", "http");
  if (!req.host.empty()) w.field("X-Forwarded-Host", req.host);

  out.append("Via: ");
  if (w.joined(fields, hop, "Via")) out.append(", ");
  out.append(req.versionMinor == 0 ? "1.0 epserve\r\n" : "1.1 epserve\r\n");

  if (upgradeWritten) w.field("Connection", "upgrade");
  if (f.body == ForwardInfo::Body::Length) {
    char digits[24];
    const auto res = std::to_chars(digits, digits + sizeof(digits), f.contentLength);
    w.field("Content-Length", std::string_view(digits, static_cast<std::size_t>(res.ptr - digits)));
  } else if (f.body == ForwardInfo::Body::Chunked) {
    w.field("Transfer-Encoding", "chunked");
  }
  out.append("\r\n");
}

}  // namespace epserve::proxy
