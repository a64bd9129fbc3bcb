// Decides the reply to one parsed request: method rules, safe path resolution, validators,
// the 404 page. Knows nothing about sockets; the connection sends what it decides.
#pragma once

#include <string>

#include "fs/Resolver.h"
#include "fs/UrlPath.h"
#include "http/Request.h"
#include "server/Config.h"
#include "server/Reply.h"

namespace epserve::server {

class RequestHandler {
 public:
  RequestHandler(const Config& config, const fs::Resolver& resolver);

  // Fills `reply` (already reset) for `req`. Opens at most the requested file and the 404 page.
  void handle(const http::Request& req, Reply& reply);

  // A built-in error reply for `status`; `close` says whether the connection must end.
  static void error(http::Status status, bool close, Reply& reply);

 private:
  void serveFile(const http::Request& req, fs::Resolved& resolved, Reply& reply);
  void notFound(Reply& reply);

  const Config& config_;
  const fs::Resolver& resolver_;
  fs::UrlPath path_;  // reused between requests so normalisation does not allocate
};

}  // namespace epserve::server
