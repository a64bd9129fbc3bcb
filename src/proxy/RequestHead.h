// The request head epserve sends upstream for a parsed client request: its end-to-end fields,
// the forwarding identity (X-Forwarded-*, Via) and the body framing epserve chose. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/Request.h"
#include "reactor/SocketAddress.h"

namespace epserve::proxy {

struct ForwardInfo {
  std::string_view target;                    // from upstreamTarget
  const reactor::SocketAddress* peer = nullptr;  // the client's address; null: none to add
  bool peerTrusted = false;                   // peer is in --trusted-proxies
  std::string_view fallbackHost;              // authority(upstream), for a request without Host
  enum class Body : std::uint8_t { None, Length, Chunked };
  Body body = Body::None;                     // how epserve frames the body it sends
  std::uint64_t contentLength = 0;            // Body::Length
  bool upgrade = false;                       // forward the client's Upgrade (a tunnel request)
};

// Appends to `out`:
//   METHOD target HTTP/1.1
//   Host: the client's (req.host: the field, or an absolute-form target's authority), else
//         fallbackHost
//   every client field, in order and as received, except
//     - hop-by-hop ones (http::HopByHopFilter: the fixed names and what Connection names), so
//       Connection, Keep-Alive, TE, Upgrade... never pass (Upgrade does when `upgrade` is set)
//     - names containing '_' (as nginx: "X_Forwarded_For" would read like X-Forwarded-For to a
//       CGI-style gateway, which maps '-' to '_')
//     - Host, Content-Length, Transfer-Encoding, Expect: epserve writes or answers those itself,
//       and the client's own framing never reaches the upstream (no CL.TE desync)
//     - Proxy (httpoxy, CVE-2016-5385: it becomes HTTP_PROXY in a CGI-style environment)
//     - X-Forwarded-Proto, X-Forwarded-Host: always replaced
//     - X-Forwarded-For, Forwarded: dropped unless peerTrusted; then Forwarded is kept in place
//       and the X-Forwarded-For values are joined (in order) into the one written below
//     - Via: its values are joined into the one written below
//   X-Forwarded-For: [trusted client list, ]peer IP (IPv6 without brackets, IPv4-mapped as IPv4)
//   X-Forwarded-Proto: http
//   X-Forwarded-Host: the client's Host, when it sent a non-empty one
//   Via: [client's Via, ]1.1 epserve ("1.0 epserve" for an HTTP/1.0 client: RFC 9110 §7.6.3
//        names the protocol the message was received with)
//   Connection: upgrade, when `upgrade` is set and an Upgrade field was written
//   Content-Length: N (Body::Length, also for N = 0) or Transfer-Encoding: chunked
//   and the empty line.
// The client's address without port or brackets, into `buf` (INET6_ADDRSTRLEN bytes at least);
// an IPv4-mapped IPv6 one as the IPv4 it is, so the upstream sees the same client address
// whether epserve listens on 0.0.0.0 or on ::. Returns the length, 0 for a non-IP address.
std::size_t formatClientIp(const reactor::SocketAddress& peer, char* buf, std::size_t size);

void writeUpstreamRequestHead(const http::Request& req, const ForwardInfo& f, std::string& out);

}  // namespace epserve::proxy
