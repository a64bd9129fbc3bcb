// Combined-format access log: see AccessLog.h.
#include "server/AccessLog.h"

#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace epserve::server {

namespace {

// spdlog's stdout sink flushes (one write(2)) per line; this one collects the lines of a loop
// iteration and writes them with one write(2) when the loop flushes, or when 64 KiB pile up.
class BatchedStdoutSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  ~BatchedStdoutSink() override { flush_(); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    pending_.append(formatted.data(), formatted.size());
    if (pending_.size() >= 64 * 1024) flush_();
  }

  void flush_() override {
    std::size_t done = 0;
    while (done < pending_.size()) {
      ssize_t n = ::write(STDOUT_FILENO, pending_.data() + done, pending_.size() - done);
      if (n > 0) {
        done += static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        break;  // stdout closed or non-blocking and full: drop rather than stall the loop
      }
    }
    pending_.clear();
  }

 private:
  std::string pending_;
};

// Client-controlled text is escaped so a log line stays one line and parseable.
void appendEscaped(fmt::memory_buffer& out, std::string_view s) {
  if (s.empty()) {
    out.push_back('-');
    return;
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      const char esc[4] = {'\\', 'x', kHex[c >> 4], kHex[c & 15]};
      out.append(esc, esc + 4);
    } else {
      out.push_back(ch);
    }
  }
}

}  // namespace

AccessLog::AccessLog(bool enabled) : enabled_(enabled) {
  if (!enabled_) return;
  auto sink = std::make_shared<BatchedStdoutSink>();
  logger_ = std::make_shared<spdlog::logger>("access", std::move(sink));
  logger_->set_pattern("%v");
  logger_->set_level(spdlog::level::info);
}

AccessLog::~AccessLog() { flush(); }

void AccessLog::log(const reactor::SocketAddress& peer, const AccessEntry& e, std::time_t now) {
  if (!enabled_) return;
  if (now != cachedFor_) {
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    dateLength_ = std::strftime(date_, sizeof(date_), "%d/%b/%Y:%H:%M:%S +0000", &tm);
    cachedFor_ = now;
  }
  char host[64];
  std::size_t hostLength = peer.format(host, sizeof(host));

  fmt::memory_buffer line;
  line.append(host, host + hostLength);
  line.append(std::string_view(" - - ["));
  line.append(date_, date_ + dateLength_);
  line.append(std::string_view("] \""));
  if (e.method.empty()) {
    line.push_back('-');
  } else {
    appendEscaped(line, e.method);
    line.push_back(' ');
    appendEscaped(line, e.target);
    line.append(std::string_view(e.versionMinor == 0 ? " HTTP/1.0" : " HTTP/1.1"));
  }
  fmt::format_to(std::back_inserter(line), "\" {} {} \"", e.status, e.bytes);
  appendEscaped(line, e.referer);
  line.append(std::string_view("\" \""));
  appendEscaped(line, e.userAgent);
  line.push_back('"');
  if (!e.upstream.empty()) {
    line.push_back(' ');
    appendEscaped(line, e.upstream);
    fmt::format_to(std::back_inserter(line), " {}.{:03}", e.upstreamMillis / 1000,
                   e.upstreamMillis % 1000);
  }
  logger_->info(std::string_view(line.data(), line.size()));
  dirty_ = true;
}

void AccessLog::flush() {
  if (dirty_ && logger_) {
    logger_->flush();
    dirty_ = false;
  }
}

}  // namespace epserve::server
