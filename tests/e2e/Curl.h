// Runs the system curl (/usr/bin/curl) against the server under test, bounded by --max-time 10.
// Used where a real client's behaviour (connection reuse, download to file) is the point.
#pragma once

#include <string>
#include <vector>

namespace epserve::e2e {

struct CurlResult {
  int exitCode = -1;  // curl's exit code, or minus the signal that killed it
  std::string out;
  std::string err;
};

CurlResult runCurl(const std::vector<std::string>& args);

}  // namespace epserve::e2e
