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
  // `root` serves what no --static route claims; `aliases[i]` serves config.staticRoutes[i],
  // found through `router` (which also holds the proxy routes, not answered here).
  RequestHandler(const Config& config, Site& root, std::vector<Site*> aliases,
                 const Router& router);

  // Fills `reply` (already reset) for `req`; `nowMillis` is the loop's clock (cache freshness).
  void handle(const http::Request& req, Reply& reply, std::int64_t nowMillis);

  // A built-in error reply for `status`; `close` says whether the connection must end.
  static void error(http::Status status, bool close, Reply& reply);

 private:
  // Picks the site for path_ (the root or a --static alias) and makes path_ relative to it.
  void chooseSite();
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
  const Router& router_;
  Site* site_ = nullptr;          // the site answering this request
  std::string_view siteBase_;     // its URL path without the trailing '/', "" for the root
  std::string routed_;            // scratch: the path the router sees
  fs::UrlPath path_;  // reused between requests so normalisation does not allocate
  std::uint64_t boundarySeed_ = 0;
};

}  // namespace epserve::server
