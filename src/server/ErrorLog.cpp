// The default logger's reopenable sink: see ErrorLog.h.
#include "server/ErrorLog.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <mutex>

#include "server/LogFile.h"

namespace epserve::server {

namespace {

// spdlog sinks are locked by base_sink's mutex around sink_it_; the destination changes
// under the same lock, so a line goes whole to the old file or to the new one.
class ErrorLogSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit ErrorLogSink(LogFile file) : file_(std::move(file)) {}

  void retarget(LogFile file) {
    std::lock_guard<std::mutex> lock(mutex_);
    file_ = std::move(file);
  }

  // Returns the errno of a failed reopen, 0 otherwise.
  int reopen() {
    std::lock_guard<std::mutex> lock(mutex_);
    return file_.reopen();
  }

  std::string path() {
    std::lock_guard<std::mutex> lock(mutex_);
    return file_.path();
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    file_.write(std::string_view(formatted.data(), formatted.size()));
  }
  void flush_() override {}  // every line is written at once

 private:
  LogFile file_;
};

std::mutex installLock;
std::shared_ptr<ErrorLogSink> installed;  // guarded by installLock

}  // namespace

void configureErrorLog(const Config& config) {
  LogFile file(config.errorLogPath, STDERR_FILENO, "error log");  // throws before anything changes
  std::lock_guard<std::mutex> lock(installLock);
  if (installed) {
    installed->retarget(std::move(file));
    spdlog::default_logger()->set_level(config.logLevel);
    return;
  }
  installed = std::make_shared<ErrorLogSink>(std::move(file));
  auto logger = std::make_shared<spdlog::logger>("epserve", installed);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e [%l] %v");
  logger->set_level(config.logLevel);
  spdlog::set_default_logger(logger);
}

void reopenErrorLog() {
  std::shared_ptr<ErrorLogSink> sink;
  {
    std::lock_guard<std::mutex> lock(installLock);
    sink = installed;
  }
  if (!sink) return;
  if (int err = sink->reopen(); err != 0) {
    spdlog::error("cannot reopen error log {}: {} (still writing to the old file)", sink->path(),
                  std::strerror(err));
  }
}

}  // namespace epserve::server
