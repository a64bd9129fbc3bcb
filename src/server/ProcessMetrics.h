// The standard process_* figures of a Prometheus exporter, read from /proc/self when scraped:
// resident memory, open and maximum descriptors, CPU seconds, start time.
#pragma once

#include <cstdint>

namespace epserve::server {

struct ProcessFigures {
  std::uint64_t residentBytes = 0;
  std::uint64_t openFds = 0;
  std::uint64_t maxFds = 0;       // the soft RLIMIT_NOFILE
  double cpuSeconds = 0;          // user + system
  double startTimeSeconds = 0;    // since the Unix epoch
};

// Whatever /proc cannot give (not mounted, say) stays 0.
ProcessFigures readProcessFigures();

}  // namespace epserve::server
