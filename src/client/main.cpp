// epserve-get: the small HTTP/1.1 client of epserve. Fetches each PATH from one server in order,
// bodies to stdout; exit 0 if all were 2xx/3xx, 1 if any was 4xx/5xx, 2 on any other failure.
#include <csignal>
#include <cstdio>
#include <exception>

#include "client/ClientError.h"
#include "client/HttpClient.h"
#include "client/Options.h"

using namespace epserve;

int main(int argc, char** argv) {
  // A closed stdout must be a write error we report, not a SIGPIPE that kills us silently.
  std::signal(SIGPIPE, SIG_IGN);
  const client::CommandLine cl = client::parseCommandLine(argc, argv);
  if (!cl.options) return cl.exitCode;

  int exitCode = 0;
  try {
    client::HttpClient http(*cl.options, stdout, stderr);
    for (const std::string& path : cl.options->paths) {
      const int status = http.fetch(path);
      if (status >= 400) exitCode = 1;
    }
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "epserve-get: %s\n", e.what());
    return 2;
  }
  return exitCode;
}
