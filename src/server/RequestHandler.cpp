// Request → reply decisions: see RequestHandler.h.
#include "server/RequestHandler.h"

#include "http/Conditional.h"
#include "server/DirectoryListing.h"
#include "server/ErrorPage.h"

namespace epserve::server {

using http::Method;
using http::Status;

RequestHandler::RequestHandler(const Config& config, fs::FileCache& files,
                               const fs::Resolver& resolver)
    : config_(config), files_(files), resolver_(resolver) {}

void RequestHandler::error(Status status, bool close, Reply& reply) {
  reply.status = status;
  reply.close = close;
  reply.body = errorPage(status);
  reply.contentType = kHtmlType;
  reply.contentLength = reply.body.size();
}

void RequestHandler::handle(const http::Request& req, Reply& reply, std::int64_t nowMillis) {
  switch (req.method) {
    case Method::Get:
    case Method::Head:
      break;
    case Method::Options:
      reply.status = Status::NoContent;
      reply.allow = true;
      return;
    case Method::Post:
    case Method::Put:
    case Method::Delete:
    case Method::Patch:
      error(Status::MethodNotAllowed, false, reply);
      reply.allow = true;
      return;
    case Method::Other:
      error(Status::NotImplemented, true, reply);
      return;
  }

  fs::normalizeUrlPath(req.path, path_);
  if (path_.status == Status::BadRequest) return error(Status::BadRequest, true, reply);
  if (path_.status != Status::Ok) return notFound(reply, nowMillis);

  auto file = files_.get(path_.relative, path_.trailingSlash, nowMillis);
  switch (file->status) {
    case Status::Ok:
      return serveFile(req, std::move(file), reply);
    case Status::MovedPermanently: {
      error(Status::MovedPermanently, false, reply);
      reply.location = fs::encodeLocation(file->path, true);
      // Keep the query: the client asked for it and the index page may use it.
      if (auto q = req.path.find('?'); q != std::string_view::npos) {
        reply.location.append(req.path.substr(q));
      }
      return;
    }
    case Status::NotFound:
      if (config_.autoindex && path_.trailingSlash && listDirectory(reply)) return;
      if (serveFallback(req, reply, nowMillis)) return;
      return notFound(reply, nowMillis);
    default:
      return error(file->status, false, reply);
  }
}

void RequestHandler::serveFile(const http::Request& req, std::shared_ptr<const fs::OpenFile> file,
                               Reply& reply) {
  Status pre = http::evaluatePreconditions(req, file->etag, file->info.mtimeSec);
  if (pre == Status::PreconditionFailed) return error(pre, false, reply);

  reply.status = pre;  // Ok or NotModified
  reply.cacheControl = config_.cacheControl;
  reply.etag = file->etag;
  reply.lastModified = file->lastModifiedText();
  reply.contentType = file->contentType;
  reply.contentLength = file->info.size;
  reply.bodyInMemory = file->inMemory;
  if (file->inMemory) reply.body = file->content;
  reply.file = std::move(file);
}

bool RequestHandler::listDirectory(Reply& reply) {
  reactor::Fd dir = resolver_.openDirectory(path_.relative);
  if (!dir) return false;
  std::string title = "/" + path_.relative;
  if (!path_.relative.empty()) title += '/';
  renderDirectoryListing(std::move(dir), title, reply.generated);
  reply.status = Status::Ok;
  reply.contentType = kHtmlType;
  reply.body = reply.generated;
  reply.contentLength = reply.body.size();
  return true;
}

bool RequestHandler::serveFallback(const http::Request& req, Reply& reply,
                                   std::int64_t nowMillis) {
  if (config_.fallback.empty()) return false;
  // Client-side routes ("/users/42") get the app; a missing asset ("/app.js") stays a 404.
  std::string_view last = path_.relative;
  if (auto slash = last.rfind('/'); slash != std::string_view::npos) last.remove_prefix(slash + 1);
  if (last.find('.') != std::string_view::npos) return false;
  auto app = files_.get(config_.fallback, false, nowMillis);
  if (app->status != Status::Ok) return false;
  serveFile(req, std::move(app), reply);
  return true;
}

void RequestHandler::notFound(Reply& reply, std::int64_t nowMillis) {
  auto page = files_.get(config_.notFoundPage, false, nowMillis);
  if (page->status != Status::Ok) return error(Status::NotFound, false, reply);
  reply.status = Status::NotFound;
  reply.cacheControl = "no-store";  // a missing page may appear any moment
  reply.contentType = page->contentType;
  reply.contentLength = page->info.size;
  reply.bodyInMemory = page->inMemory;
  if (page->inMemory) reply.body = page->content;
  reply.file = std::move(page);
}

}  // namespace epserve::server
