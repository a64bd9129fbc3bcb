// What the request handler decided to answer: status, the headers that depend on the
// resource, and where the body comes from (memory or an open file). Serialized by Connection.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "http/Conditional.h"
#include "http/Status.h"
#include "reactor/Fd.h"

namespace epserve::server {

struct Reply {
  http::Status status = http::Status::Ok;
  std::string_view contentType;
  std::uint64_t contentLength = 0;
  char etag[http::kMaxEtagLength] = {};
  std::size_t etagLength = 0;
  std::time_t lastModified = -1;
  std::string location;  // only redirects set it
  bool allow = false;    // send "Allow: GET, HEAD, OPTIONS"
  bool close = false;    // close the connection after this response
  std::string_view body;  // in-memory body (static storage) when `file` is not open
  reactor::Fd file;       // file body: contentLength bytes from fileOffset
  off_t fileOffset = 0;

  std::string_view etagView() const { return {etag, etagLength}; }

  // Back to a blank 200 without reallocating `location`.
  void reset() {
    status = http::Status::Ok;
    contentType = {};
    contentLength = 0;
    etagLength = 0;
    lastModified = -1;
    location.clear();
    allow = false;
    close = false;
    body = {};
    file.reset();
    fileOffset = 0;
  }
};

}  // namespace epserve::server
