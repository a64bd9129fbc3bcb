// Combined-format and JSON access log lines, buffered per loop iteration: see AccessLog.h.
#include "server/AccessLog.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <charconv>
#include <cstring>

#include "server/LogEscape.h"

namespace epserve::server {

namespace {

// Writes out before a burst of lines outgrows this; a line itself is bounded by the request
// limits (times the escapes' growth).
constexpr std::size_t kFlushBytes = 64 * 1024;

void appendNumber(std::string& out, std::int64_t n) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), n);
  out.append(buf, r.ptr);
}

// Milliseconds as seconds with three decimals ("0.042"), nginx's $request_time.
void appendSeconds(std::string& out, std::int64_t millis) {
  if (millis < 0) millis = 0;
  appendNumber(out, millis / 1000);
  const char frac[4] = {'.', static_cast<char>('0' + millis / 100 % 10),
                        static_cast<char>('0' + millis / 10 % 10),
                        static_cast<char>('0' + millis % 10)};
  out.append(frac, sizeof(frac));
}

// "127.0.0.1:54321" or "[::1]:54321" split into the host (without brackets) and the port.
void splitHostPort(std::string_view hostPort, std::string_view& host, std::string_view& port) {
  std::size_t colon = hostPort.rfind(':');
  if (colon == std::string_view::npos) {
    host = hostPort;
    port = "0";
    return;
  }
  host = hostPort.substr(0, colon);
  port = hostPort.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
}

void appendJsonString(std::string& out, std::string_view key, std::string_view value) {
  out.push_back('"');
  out.append(key);
  out.append("\":\"");
  appendJsonEscaped(out, value);
  out.append("\",");
}

}  // namespace

AccessLog::AccessLog(const Config& config)
    : enabled_(config.accessLog),
      format_(config.logFormat),
      file_(config.accessLog ? config.accessLogPath : std::string(), STDOUT_FILENO, "access log") {}

AccessLog::~AccessLog() { flush(); }

void AccessLog::flush() {
  if (pending_.empty()) return;
  file_.write(pending_);
  pending_.clear();
}

void AccessLog::reopen() {
  if (file_.path().empty()) return;
  flush();
  if (int err = file_.reopen(); err != 0) {
    spdlog::error("cannot reopen access log {}: {} (still writing to the old file)",
                  file_.path(), std::strerror(err));
  } else {
    spdlog::debug("reopened access log {}", file_.path());
  }
}

void AccessLog::configure(const Config& config) {
  flush();
  LogFile next(config.accessLog ? config.accessLogPath : std::string(), STDOUT_FILENO,
               "access log");
  file_ = std::move(next);
  enabled_ = config.accessLog;
  if (format_ != config.logFormat) dateFor_ = -1;  // the cached date has the other format
  format_ = config.logFormat;
}

void AccessLog::log(const reactor::SocketAddress& peer, const AccessEntry& e,
                    std::int64_t wallMillis) {
  if (!enabled_) return;
  if (format_ == LogFormat::Json) {
    appendJson(peer, e, wallMillis);
  } else {
    appendCombined(peer, e, wallMillis);
  }
  pending_.push_back('\n');
  if (pending_.size() >= kFlushBytes) flush();
}

void AccessLog::appendCombined(const reactor::SocketAddress& peer, const AccessEntry& e,
                               std::int64_t wallMillis) {
  std::time_t now = wallMillis / 1000;
  if (now != dateFor_) {
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    dateLength_ = std::strftime(date_, sizeof(date_), "%d/%b/%Y:%H:%M:%S +0000", &tm);
    dateFor_ = now;
  }
  char host[64];
  std::size_t hostLength = peer.format(host, sizeof(host));

  std::string& line = pending_;
  line.append(host, hostLength);
  line.append(" - - [");
  line.append(date_, dateLength_);
  line.append("] \"");
  if (e.method.empty()) {
    line.push_back('-');
  } else {
    appendCombinedEscaped(line, e.method);
    line.push_back(' ');
    appendCombinedEscaped(line, e.target);
    line.append(e.versionMinor == 0 ? " HTTP/1.0" : " HTTP/1.1");
  }
  line.append("\" ");
  appendNumber(line, e.status);
  line.push_back(' ');
  appendNumber(line, static_cast<std::int64_t>(e.bytes));
  line.append(" \"");
  appendCombinedEscaped(line, e.referer);
  line.append("\" \"");
  appendCombinedEscaped(line, e.userAgent);
  line.push_back('"');
  if (!e.upstream.empty()) {
    line.push_back(' ');
    appendCombinedEscaped(line, e.upstream);
    line.push_back(' ');
    appendSeconds(line, e.upstreamMillis);
  }
}

void AccessLog::appendJson(const reactor::SocketAddress& peer, const AccessEntry& e,
                           std::int64_t wallMillis) {
  std::time_t now = wallMillis / 1000;
  if (now != dateFor_) {
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    dateLength_ = std::strftime(date_, sizeof(date_), "%Y-%m-%dT%H:%M:%S", &tm);
    dateFor_ = now;
  }
  char hostPort[64];
  std::string_view host;
  std::string_view port;
  splitHostPort(std::string_view(hostPort, peer.format(hostPort, sizeof(hostPort))), host, port);

  std::string& line = pending_;
  line.append("{\"time\":\"");
  line.append(date_, dateLength_);
  const auto ms = static_cast<int>(wallMillis % 1000);
  const char frac[6] = {'.', static_cast<char>('0' + ms / 100), static_cast<char>('0' + ms / 10 % 10),
                        static_cast<char>('0' + ms % 10), 'Z', '"'};
  line.append(frac, sizeof(frac));
  line.append(",\"client\":\"");
  line.append(host);  // inet_ntop's digits, dots and colons: nothing to escape
  line.append("\",\"port\":");
  line.append(port);
  line.push_back(',');
  appendJsonString(line, "method", e.method);
  appendJsonString(line, "target", e.target);
  appendJsonString(line, "protocol",
                   e.method.empty() ? "" : (e.versionMinor == 0 ? "HTTP/1.0" : "HTTP/1.1"));
  line.append("\"status\":");
  appendNumber(line, e.status);
  line.append(",\"bytes\":");
  appendNumber(line, static_cast<std::int64_t>(e.bytes));
  line.push_back(',');
  appendJsonString(line, "referer", e.referer);
  appendJsonString(line, "user_agent", e.userAgent);
  line.append("\"duration\":");
  appendSeconds(line, e.durationMillis);
  if (e.upstream.empty()) {
    line.append(",\"upstream\":null,\"upstream_time\":null}");
  } else {
    line.append(",\"upstream\":\"");
    appendJsonEscaped(line, e.upstream);
    line.append("\",\"upstream_time\":");
    appendSeconds(line, e.upstreamMillis);
    line.push_back('}');
  }
}

}  // namespace epserve::server
