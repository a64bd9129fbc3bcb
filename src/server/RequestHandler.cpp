// Request → reply decisions: see RequestHandler.h.
#include "server/RequestHandler.h"

#include "http/Conditional.h"
#include "http/Mime.h"
#include "server/ErrorPage.h"

namespace epserve::server {

using http::Method;
using http::Status;

RequestHandler::RequestHandler(const Config& config, const fs::Resolver& resolver)
    : config_(config), resolver_(resolver) {}

void RequestHandler::error(Status status, bool close, Reply& reply) {
  reply.status = status;
  reply.close = close;
  reply.body = errorPage(status);
  reply.contentType = kHtmlType;
  reply.contentLength = reply.body.size();
}

void RequestHandler::handle(const http::Request& req, Reply& reply) {
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
  if (path_.status != Status::Ok) return notFound(reply);

  fs::Resolved resolved = resolver_.resolve(path_.relative, path_.trailingSlash);
  switch (resolved.status) {
    case Status::Ok:
      return serveFile(req, resolved, reply);
    case Status::MovedPermanently: {
      error(Status::MovedPermanently, false, reply);
      reply.location = fs::encodeLocation(resolved.path, true);
      // Keep the query: the client asked for it and the index page may use it.
      if (auto q = req.path.find('?'); q != std::string_view::npos) {
        reply.location.append(req.path.substr(q));
      }
      return;
    }
    case Status::NotFound:
      return notFound(reply);
    default:
      return error(resolved.status, false, reply);
  }
}

void RequestHandler::serveFile(const http::Request& req, fs::Resolved& resolved, Reply& reply) {
  char etag[http::kMaxEtagLength];
  std::size_t etagLength = http::makeEtag(resolved.info, etag);
  std::string_view etagView(etag, etagLength);

  Status pre = http::evaluatePreconditions(req, etagView, resolved.info.mtimeSec);
  if (pre == Status::PreconditionFailed) return error(pre, false, reply);

  reply.status = pre;  // Ok or NotModified
  std::copy(etag, etag + etagLength, reply.etag);
  reply.etagLength = etagLength;
  reply.lastModified = static_cast<std::time_t>(resolved.info.mtimeSec);
  reply.contentType = http::mimeTypeFor(resolved.path);
  reply.contentLength = resolved.info.size;
  if (pre == Status::Ok) reply.file = std::move(resolved.file);
}

void RequestHandler::notFound(Reply& reply) {
  fs::Resolved page = resolver_.resolve(config_.notFoundPage, false);
  if (page.status != Status::Ok) return error(Status::NotFound, false, reply);
  reply.status = Status::NotFound;
  reply.contentType = http::mimeTypeFor(page.path);
  reply.contentLength = page.info.size;
  reply.file = std::move(page.file);
}

}  // namespace epserve::server
