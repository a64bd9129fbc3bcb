// The access log: one line per response, in nginx's combined format (with the client's port
// beside its address and, when proxied, the upstream and its response time) or as JSON.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "reactor/SocketAddress.h"
#include "server/Config.h"
#include "server/LogFile.h"

namespace epserve::server {

struct AccessEntry {
  std::string_view method;  // empty when the request line could not be parsed
  std::string_view target;
  int versionMinor = 1;
  int status = 0;
  std::uint64_t bytes = 0;  // body bytes
  std::string_view referer;
  std::string_view userAgent;
  std::int64_t durationMillis = 0;  // from the request's first byte to this line
  // Proxied requests: the upstream server and its response time, two trailing fields
  // (parsers of the combined format ignore what follows the user agent).
  std::string_view upstream;
  std::int64_t upstreamMillis = -1;
};

class AccessLog {
 public:
  // Opens config.accessLogPath when there is one: throws std::system_error if it cannot.
  explicit AccessLog(const Config& config);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  bool enabled() const { return enabled_; }
  // `wallMillis`: the wall clock (milliseconds since the epoch) the line is stamped with.
  void log(const reactor::SocketAddress& peer, const AccessEntry& e, std::int64_t wallMillis);
  // Writes buffered lines out; called once per loop iteration, not per line.
  void flush();

  // The two ways the running log changes, both from the loop's thread; the lines buffered so
  // far go, whole, to the old destination first.
  // Opens the file again by its name (SIGUSR1, after logrotate renamed it); when that fails it
  // logs an error and keeps the old file.
  void reopen();
  // Takes config's --access-log and --log-format (a reload). Throws std::system_error if the
  // new file cannot be opened; the old settings then stay.
  void configure(const Config& config);

 private:
  void appendCombined(const reactor::SocketAddress& peer, const AccessEntry& e,
                      std::int64_t wallMillis);
  void appendJson(const reactor::SocketAddress& peer, const AccessEntry& e,
                  std::int64_t wallMillis);

  bool enabled_;
  LogFormat format_;
  LogFile file_;
  std::string pending_;  // whole lines, written at the loop's flush or when 64 KiB pile up
  std::time_t dateFor_ = -1;
  char date_[32] = {};  // the current second, in the chosen format
  std::size_t dateLength_ = 0;
};

}  // namespace epserve::server
