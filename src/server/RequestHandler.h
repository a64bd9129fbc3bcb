// Decides the reply to one parsed request: method rules, safe path resolution (through the
// open-file cache), validators, the 404 page. Knows nothing about sockets.
#pragma once

#include <string>

#include <vector>

#include "fs/FileCache.h"
#include "fs/UrlPath.h"
#include "http/Request.h"
#include "server/Config.h"
#include "server/Reply.h"
#include "server/Router.h"
#include "server/Site.h"

namespace epserve::server {

class RequestHandler {
 public:
  // `root` serves what no --static route claims; `aliases[i]` serves config.staticRoutes[i].
  RequestHandler(const Config& config, Site& root, std::vector<Site*> aliases);

  // Fills `reply` (already reset) for `req`; `nowMillis` is the loop's clock (cache freshness).
  // `route` is the request's --static route, or nullptr for the root (LoopContext::route).
  void handle(const http::Request& req, Reply& reply, std::int64_t nowMillis,
              const Route* route = nullptr);

  // A built-in error reply for `status`; `close` says whether the connection must end.
  // `reason` (static text) says what was wrong; without one the status's default sentence.
  static void error(http::Status status, bool close, Reply& reply, std::string_view reason = {});

 private:
  // Picks the site for path_ (the root or the --static alias `route` names) and makes path_
  // relative to it.
  void chooseSite(const Route* route);
  void serveFile(const http::Request& req, std::shared_ptr<const fs::OpenFile> file,
                 Reply& reply);
  // Swaps `file` for a precompressed sidecar (FILE.br, FILE.gz) when one exists and the
  // client accepts it; sets Vary whenever a sidecar exists.
  static std::shared_ptr<const fs::OpenFile> negotiate(const http::Request& req,
                                                       std::shared_ptr<const fs::OpenFile> file,
                                                       Reply& reply);
  void applyRange(const http::Request& req, const fs::OpenFile& file, Reply& reply);
  void notFound(Reply& reply, std::int64_t nowMillis);
  bool listDirectory(Reply& reply);
  bool serveFallback(const http::Request& req, Reply& reply, std::int64_t nowMillis);

  const Config& config_;
  Site& root_;
  std::vector<Site*> aliases_;
  Site* site_ = nullptr;          // the site answering this request
  std::string_view siteBase_;     // its URL path without the trailing '/', "" for the root
  fs::UrlPath path_;  // reused between requests so normalisation does not allocate
  std::uint64_t boundarySeed_ = 0;
};

}  // namespace epserve::server
