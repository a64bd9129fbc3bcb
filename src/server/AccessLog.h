// The access log: one line per response on stdout in the combined log format, with the
// client's port beside its address ("127.0.0.1:54321 - - [date] "GET / HTTP/1.1" 200 612 ...").
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <string_view>

#include "reactor/SocketAddress.h"

namespace spdlog {
class logger;
}

namespace epserve::server {

struct AccessEntry {
  std::string_view method;  // empty when the request line could not be parsed
  std::string_view target;
  int versionMinor = 1;
  int status = 0;
  std::uint64_t bytes = 0;  // body bytes
  std::string_view referer;
  std::string_view userAgent;
  // Proxied requests: the upstream server and its response time, two trailing fields
  // (parsers of the combined format ignore what follows the user agent).
  std::string_view upstream;
  std::int64_t upstreamMillis = -1;
};

class AccessLog {
 public:
  explicit AccessLog(bool enabled);
  ~AccessLog();

  bool enabled() const { return enabled_; }
  void log(const reactor::SocketAddress& peer, const AccessEntry& e, std::time_t now);
  // Writes buffered lines out; called once per loop iteration, not per line.
  void flush();

 private:
  bool enabled_;
  bool dirty_ = false;
  std::shared_ptr<spdlog::logger> logger_;
  std::time_t cachedFor_ = -1;
  char date_[32] = {};
  std::size_t dateLength_ = 0;
};

}  // namespace epserve::server
