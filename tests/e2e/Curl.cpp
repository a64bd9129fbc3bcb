// curl runner: spawn, wait at most 15 s (curl itself gives up after 10), capture output.
// A curl that somehow outlives the bound is stopped and reported as an error.
#include "Curl.h"

#include <stdexcept>

#include "ChildProcess.h"

namespace epserve::e2e {

using namespace std::chrono_literals;

CurlResult runCurl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"/usr/bin/curl", "--max-time", "10"};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess child(argv);
  const auto status = child.wait(15000ms);
  if (!status) {
    child.stop();
    throw std::runtime_error("curl did not finish within 15 s; stderr:\n" + child.err());
  }
  return CurlResult{*status, child.out(), child.err()};
}

}  // namespace epserve::e2e
