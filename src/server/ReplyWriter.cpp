// Reply serialization onto the output queue: see ReplyWriter.h.
#include "server/ReplyWriter.h"

#include "http/Multipart.h"
#include "http/Response.h"

namespace epserve::server {

namespace {

// multipart/byteranges: part headers from memory, each part's bytes from memory or the fd.
void writeMultipart(reactor::OutputQueue& out, const Reply& reply) {
  std::string_view boundary(reply.boundary, http::kBoundaryLength);
  std::size_t maxHeader = http::maxPartHeaderSize(boundary, reply.partType);
  for (std::size_t i = 0; i < reply.ranges.count; ++i) {
    const http::ByteRange& r = reply.ranges.ranges[i];
    char* p = out.reserve(maxHeader);
    out.commit(http::partHeader(boundary, reply.partType, r, reply.representationSize, i == 0, p,
                                maxHeader));
    std::uint64_t length = r.last - r.first + 1;
    if (reply.bodyInMemory) {
      out.append(reply.body.substr(r.first, length));
    } else {
      out.appendFile(reply.file->fd.get(), static_cast<off_t>(r.first), length, reply.file);
    }
  }
  char* p = out.reserve(boundary.size() + 16);
  out.commit(http::closingDelimiter(boundary, p, boundary.size() + 16));
}

}  // namespace

std::uint64_t writeReply(reactor::OutputQueue& out, Reply& reply, const http::Request* req,
                         std::string_view date, std::string_view extraHeaders) {
  http::ResponseHead head;
  head.status = reply.status;
  head.date = date;
  head.contentType = reply.contentType;
  head.contentLength = reply.contentLength;
  head.etag = reply.etag;
  head.lastModifiedText = reply.lastModified;
  head.location = reply.location;
  head.cacheControl = reply.cacheControl;
  head.contentEncoding = reply.contentEncoding;
  head.vary = reply.vary;
  head.acceptRanges = reply.acceptRanges;
  head.contentRange = reply.contentRange;
  head.extraHeaders = extraHeaders;
  if (reply.allow) head.allow = reply.allowMethods;
  if (reply.close) {
    head.connection = http::ConnectionHeader::Close;
  } else if (req && req->versionMinor == 0) {
    head.connection = http::ConnectionHeader::KeepAlive;  // 1.0 keeps alive only when told
  }
  char* p = out.reserve(http::maxHeadSize(head));
  out.commit(http::writeResponseHead(head, p));

  bool sendBody = !(req && req->method == http::Method::Head) && !forbidsContent(reply.status);
  if (!sendBody) return 0;
  if (reply.ranges.count > 1) {
    writeMultipart(out, reply);
  } else if (reply.bodyInMemory) {
    out.append(reply.body);
  } else {
    int fd = reply.file->fd.get();
    out.appendFile(fd, reply.fileOffset, reply.contentLength, std::move(reply.file));
  }
  return reply.contentLength;
}

}  // namespace epserve::server
