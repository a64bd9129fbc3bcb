// The semantics of a request's header fields once its head is complete: Host, Connection,
// Content-Length, Transfer-Encoding and Expect (RFC 9112 §3.2, §6, §9.3; RFC 9110 §10.1.1).
#pragma once

#include <string_view>

#include "http/Request.h"
#include "http/Status.h"

namespace epserve::http {

// Validates the fields of a complete head and fills the derived members of `r` (host,
// keepAlive, framing, contentLength, expectations). Returns Ok, or the error status with
// `reason` set to a sentence saying why (static storage, as ParseResult::reason).
Status applyFieldSemantics(Request& r, bool absoluteForm, std::string_view& reason);

// uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2-3.2.3). `hostEmpty` tells the caller
// whether the host part was empty, which a Host field may be but an http(s) URI may not.
bool validHostPort(std::string_view v, bool& hostEmpty);

}  // namespace epserve::http
