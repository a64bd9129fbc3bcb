// Turns a Reply into bytes on a connection's OutputQueue: the response head (with the
// server-wide extra headers) and the body from memory, from the file, or multipart-framed.
#pragma once

#include <cstdint>
#include <string_view>

#include "http/Request.h"
#include "reactor/OutputQueue.h"
#include "server/Reply.h"

namespace epserve::server {

// Queues `reply` as the answer to `req` (nullptr when the request could not be parsed: no
// HEAD rule, no version-specific Connection header). Moves the file reference out of `reply`.
// Returns the body bytes queued (0 for HEAD, 204, 304).
std::uint64_t writeReply(reactor::OutputQueue& out, Reply& reply, const http::Request* req,
                         std::string_view date, std::string_view extraHeaders);

}  // namespace epserve::server
