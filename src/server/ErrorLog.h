// The error log: spdlog's default logger on stderr or --error-log FILE, one write per line
// (whole lines, even from several workers), reopened on SIGUSR1 and retargeted on a reload.
#pragma once

#include "server/Config.h"

namespace epserve::server {

// Makes the default logger write to config.errorLogPath (stderr when empty) at
// config.logLevel. Called once at start-up and again on a reload; throws std::system_error
// if the file cannot be opened, the previous destination then staying in use. Thread-safe.
void configureErrorLog(const Config& config);

// Opens the error log file again by its name (SIGUSR1, after logrotate renamed it); when that
// fails it says so in the old file and keeps it. Thread-safe; nothing for stderr.
void reopenErrorLog();

}  // namespace epserve::server
