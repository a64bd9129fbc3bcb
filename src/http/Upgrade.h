// The protocol-switch rules of RFC 9110 §7.8 that a proxy applies: whether a request asks to
// upgrade its connection, and whether a 101 switched to a protocol the request offered. Pure.
#pragma once

#include <string_view>

#include "http/Request.h"

namespace epserve::http {

// An HTTP/1.1 request with an Upgrade field naming at least one protocol, whose Connection
// fields list the "upgrade" option (a sender of Upgrade must, §7.8). An HTTP/1.0 request's
// Upgrade is ignored: §7.8 lets a server switch only on a 1.1 message.
bool requestsUpgrade(const Request& r);

// Whether `chosen` (a 101's Upgrade value) names at least one protocol and only protocols that
// `offered` (the request's Upgrade value) lists: a server must not switch to a protocol the
// client did not indicate (§7.8). Elements compare whole and ASCII case-insensitively.
bool upgradeOffered(std::string_view offered, std::string_view chosen);

}  // namespace epserve::http
