// Request → reply decisions: see RequestHandler.h.
#include "server/RequestHandler.h"

#include "http/Conditional.h"
#include "server/ErrorPage.h"

namespace epserve::server {

using http::Method;
using http::Status;

RequestHandler::RequestHandler(const Config& config, fs::FileCache& files)
    : config_(config), files_(files) {}

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
  reply.etag = file->etag;
  reply.lastModified = file->lastModifiedText();
  reply.contentType = file->contentType;
  reply.contentLength = file->info.size;
  reply.bodyInMemory = file->inMemory;
  if (file->inMemory) reply.body = file->content;
  reply.file = std::move(file);
}

void RequestHandler::notFound(Reply& reply, std::int64_t nowMillis) {
  auto page = files_.get(config_.notFoundPage, false, nowMillis);
  if (page->status != Status::Ok) return error(Status::NotFound, false, reply);
  reply.status = Status::NotFound;
  reply.contentType = page->contentType;
  reply.contentLength = page->info.size;
  reply.bodyInMemory = page->inMemory;
  if (page->inMemory) reply.body = page->content;
  reply.file = std::move(page);
}

}  // namespace epserve::server
