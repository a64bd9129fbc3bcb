// Request → reply decisions: see RequestHandler.h.
#include "server/RequestHandler.h"

#include <sys/random.h>

#include <algorithm>
#include <ctime>

#include "http/AcceptEncoding.h"
#include "http/Conditional.h"
#include "http/Multipart.h"
#include "http/Range.h"
#include "server/DirectoryListing.h"
#include "server/ErrorPage.h"

namespace epserve::server {

using http::Method;
using http::Status;

namespace {

// The method is named from the enum, never copied from the request.
std::string_view notAllowedReason(Method m) {
  switch (m) {
    case Method::Post: return "This resource answers GET, HEAD and OPTIONS; POST is not allowed.";
    case Method::Put: return "This resource answers GET, HEAD and OPTIONS; PUT is not allowed.";
    case Method::Delete:
      return "This resource answers GET, HEAD and OPTIONS; DELETE is not allowed.";
    case Method::Patch:
      return "This resource answers GET, HEAD and OPTIONS; PATCH is not allowed.";
    default: return {};
  }
}

constexpr std::string_view kUnknownMethod =
    "The method is not one this server implements; it answers GET, HEAD and OPTIONS (methods "
    "are case-sensitive: GET, not get).";
constexpr std::string_view kBadPath =
    "The path is invalid: a bad %-escape, an encoded NUL or control byte, invalid UTF-8, or "
    "a .. segment above the root.";

}  // namespace

RequestHandler::RequestHandler(const Config& config, Site& root, std::vector<Site*> aliases)
    : config_(config), root_(root), aliases_(std::move(aliases)) {
  // Multipart boundaries must not be predictable, or a file could be crafted to contain one.
  if (::getrandom(&boundarySeed_, sizeof(boundarySeed_), 0) != sizeof(boundarySeed_)) {
    boundarySeed_ = static_cast<std::uint64_t>(::time(nullptr)) * 0x9E3779B97F4A7C15ULL;
  }
}

void RequestHandler::error(Status status, bool close, Reply& reply, std::string_view reason) {
  reply.status = status;
  reply.close = close;
  reply.reason = reason;
  // `generated` is free: a reply with a listing is never an error.
  reply.body = errorPage(status, reason, reply.generated);
  reply.contentType = kHtmlType;
  reply.contentLength = reply.body.size();
}

void RequestHandler::handle(const http::Request& req, Reply& reply, std::int64_t nowMillis,
                            const Route* route) {
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
      error(Status::MethodNotAllowed, false, reply, notAllowedReason(req.method));
      reply.allow = true;
      return;
    case Method::Other:
      error(Status::NotImplemented, true, reply, kUnknownMethod);
      return;
  }

  fs::normalizeUrlPath(req.path, path_);
  if (path_.status == Status::BadRequest) return error(Status::BadRequest, true, reply, kBadPath);
  if (path_.status != Status::Ok) return notFound(reply, nowMillis);
  chooseSite(route);

  auto file = site_->files().get(path_.relative, path_.trailingSlash, nowMillis);
  switch (file->status) {
    case Status::Ok:
      file = negotiate(req, std::move(file), reply);
      return serveFile(req, std::move(file), reply);
    case Status::MovedPermanently: {
      error(Status::MovedPermanently, false, reply);
      reply.location = siteBase_.empty() ? std::string() : fs::encodeLocation(siteBase_.substr(1), false);
      reply.location += fs::encodeLocation(file->path, true);
      // Keep the query: the client asked for it and the index page may use it.
      if (auto q = req.path.find('?'); q != std::string_view::npos) {
        reply.location.append(req.path.substr(q));
      }
      return;
    }
    case Status::NotFound:
      if (config_.autoindex && path_.trailingSlash && listDirectory(reply)) return;
      if (site_ == &root_ && serveFallback(req, reply, nowMillis)) return;
      return notFound(reply, nowMillis);
    default:
      return error(file->status, false, reply);
  }
}

void RequestHandler::chooseSite(const Route* route) {
  site_ = &root_;
  siteBase_ = {};
  if (!route || route->kind != Route::Kind::Static) return;
  site_ = aliases_[route->index];
  std::string_view base = route->prefix;
  if (base.size() > 1 && base.back() == '/') base.remove_suffix(1);
  siteBase_ = base;
  // "/static/css/a.css" under "/static/" is "css/a.css" in DIR; "/static" alone is DIR itself.
  std::size_t strip = std::min(path_.relative.size(), base.size() - 1);
  path_.relative.erase(0, strip);
  if (!path_.relative.empty() && path_.relative.front() == '/') path_.relative.erase(0, 1);
}

void RequestHandler::serveFile(const http::Request& req, std::shared_ptr<const fs::OpenFile> file,
                               Reply& reply) {
  Status pre = req.hasConditionals
                   ? http::evaluatePreconditions(req, file->etag, file->info.mtimeSec)
                   : Status::Ok;
  if (pre == Status::PreconditionFailed) return error(pre, false, reply);

  reply.status = pre;  // Ok or NotModified
  reply.cacheControl = config_.cacheControl;
  reply.etag = file->etag;
  reply.lastModified = file->lastModifiedText();
  if (reply.contentEncoding.empty()) reply.contentType = file->contentType;
  reply.contentLength = file->info.size;
  reply.bodyInMemory = file->inMemory;
  if (file->inMemory) reply.body = file->content;
  reply.acceptRanges = true;
  if (pre == Status::Ok) applyRange(req, *file, reply);
  reply.file = std::move(file);
}

std::shared_ptr<const fs::OpenFile> RequestHandler::negotiate(
    const http::Request& req, std::shared_ptr<const fs::OpenFile> file, Reply& reply) {
  bool haveBr = file->brotli != nullptr, haveGz = file->gzip != nullptr;
  if (!haveBr && !haveGz) return file;
  reply.vary = "Accept-Encoding";
  auto accepted = http::parseAcceptEncoding(req.find("Accept-Encoding"));
  std::string_view coding = http::chooseCoding(accepted, haveBr, haveGz);
  if (coding.empty()) return file;
  reply.contentEncoding = coding == "br" ? "br" : "gzip";
  auto variant = coding == "br" ? file->brotli : file->gzip;
  // The variant has its own bytes, length and ETag, but the original's media type
  // (a static string from the MIME table, so the view outlives `file`).
  reply.contentType = file->contentType;
  return variant;
}

void RequestHandler::applyRange(const http::Request& req, const fs::OpenFile& file, Reply& reply) {
  if (!req.hasRange) return;  // the parser saw no Range field: skip the header scan
  std::string_view range = req.find("Range");
  std::string_view ifRange = req.find("If-Range");
  if (ifRange.data() != nullptr && !http::ifRangeAllows(ifRange, file.etag, file.info.mtimeSec)) {
    return;
  }
  const std::uint64_t size = file.info.size;
  reply.ranges = http::evaluateRange(range, size);
  switch (reply.ranges.outcome) {
    case http::RangeOutcome::Full:
      return;
    case http::RangeOutcome::Unsatisfiable:
      error(Status::RangeNotSatisfiable, false, reply);
      reply.contentRange = "bytes */" + std::to_string(size);
      reply.bodyInMemory = true;
      return;
    case http::RangeOutcome::Partial:
      break;
  }
  reply.status = Status::PartialContent;
  reply.representationSize = size;
  if (reply.ranges.count == 1) {
    const http::ByteRange& r = reply.ranges.ranges[0];
    reply.contentRange = "bytes " + std::to_string(r.first) + "-" + std::to_string(r.last) + "/" +
                         std::to_string(size);
    reply.contentLength = r.last - r.first + 1;
    reply.fileOffset = static_cast<off_t>(r.first);
    if (reply.bodyInMemory) reply.body = reply.body.substr(r.first, reply.contentLength);
    reply.ranges.count = 0;  // a single part needs no multipart framing
    return;
  }
  http::makeBoundary(++boundarySeed_ ^ (file.info.inode * 0x9E3779B97F4A7C15ULL), reply.boundary);
  std::string_view boundary(reply.boundary, http::kBoundaryLength);
  reply.partType = reply.contentType;
  reply.multipartType = "multipart/byteranges; boundary=";
  reply.multipartType.append(boundary);
  reply.contentType = reply.multipartType;
  reply.contentLength = http::multipartLength(boundary, reply.partType, reply.ranges, size);
}

bool RequestHandler::listDirectory(Reply& reply) {
  reactor::Fd dir = site_->resolver().openDirectory(path_.relative);
  if (!dir) return false;
  std::string title = std::string(siteBase_) + "/" + path_.relative;
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
  auto app = root_.files().get(config_.fallback, false, nowMillis);
  if (app->status != Status::Ok) return false;
  serveFile(req, std::move(app), reply);
  return true;
}

void RequestHandler::notFound(Reply& reply, std::int64_t nowMillis) {
  auto page = root_.files().get(config_.notFoundPage, false, nowMillis);
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
