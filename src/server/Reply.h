// What the request handler decided to answer: status, the headers that depend on the
// resource, and where the body comes from (memory or an open file). Serialized by ReplyWriter.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include <memory>

#include "fs/FileCache.h"
#include "http/Multipart.h"
#include "http/Range.h"
#include "http/Status.h"

namespace epserve::server {

inline constexpr std::string_view kAllowMethods = "GET, HEAD, OPTIONS";

struct Reply {
  http::Status status = http::Status::Ok;
  std::string_view contentType;
  std::uint64_t contentLength = 0;
  std::string_view etag;          // views into `file`, which the reply keeps alive
  std::string_view lastModified;  // preformatted HTTP-date
  std::string location;   // only redirects set it
  std::string generated;  // a body made for this request (directory listings)
  std::string_view cacheControl;
  std::string_view contentEncoding;  // a precompressed variant is being sent
  std::string_view vary;             // "Accept-Encoding" on negotiated resources
  bool acceptRanges = false;
  // 206 with several ranges: the body is multipart/byteranges over `ranges` of the file,
  // framed with `boundary`; `partType` is the file's own type for each part's header.
  http::RangeSet ranges;
  char boundary[http::kBoundaryLength] = {};
  std::string_view partType;
  std::uint64_t representationSize = 0;
  std::string contentRange;  // "bytes a-b/size" (206) or "bytes */size" (416)
  std::string multipartType;  // "multipart/byteranges; boundary=..."
  bool allow = false;    // send "Allow: GET, HEAD, OPTIONS"
  std::string_view allowMethods = kAllowMethods;  // the Allow value when `allow` (static text)
  // An error reply: the sentence saying what was wrong (static text), shown on the error page
  // and written to the debug log; empty for the default sentence.
  std::string_view reason;
  bool close = false;    // close the connection after this response
  std::string_view body;  // in-memory body (static storage or file->content)
  std::shared_ptr<const fs::OpenFile> file;  // validators' owner; the body when !bodyInMemory
  bool bodyInMemory = true;                  // false: send contentLength bytes of file->fd
  off_t fileOffset = 0;

  // Back to a blank 200 without reallocating `location`.
  void reset() {
    status = http::Status::Ok;
    contentType = {};
    contentLength = 0;
    etag = {};
    lastModified = {};
    location.clear();
    generated.clear();
    cacheControl = {};
    contentEncoding = {};
    vary = {};
    acceptRanges = false;
    ranges.count = 0;
    ranges.outcome = http::RangeOutcome::Full;
    partType = {};
    representationSize = 0;
    contentRange.clear();
    multipartType.clear();
    allow = false;
    allowMethods = kAllowMethods;
    reason = {};
    close = false;
    body = {};
    file.reset();
    bodyInMemory = true;
    fileOffset = 0;
  }
};

}  // namespace epserve::server
