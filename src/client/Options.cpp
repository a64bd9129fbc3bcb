// Command-line parsing and validation for epserve-get: see Options.h.
#include "client/Options.h"

#include <cxxopts.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <stdexcept>

namespace epserve::client {

namespace {

std::uint16_t parsePort(const std::string& text) {
  unsigned v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || v < 1 ||
      v > 65535) {
    throw std::invalid_argument("invalid value '" + text + "' for --port (expected 1..65535)");
  }
  return static_cast<std::uint16_t>(v);
}

// Seconds, fractions allowed ("0.5"), up to a day; rounded to whole milliseconds, at least 1.
std::chrono::milliseconds parseTimeout(const std::string& text) {
  double seconds = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds,
                                         std::chars_format::fixed);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() ||
      !(seconds > 0) || seconds > 86400) {
    throw std::invalid_argument("invalid value '" + text +
                                "' for --timeout (expected seconds, more than 0, e.g. 10 or 0.5)");
  }
  const auto ms = static_cast<std::int64_t>(std::llround(seconds * 1000));
  return std::chrono::milliseconds(ms < 1 ? 1 : ms);
}

// The request-target goes on the request line verbatim, so it must be origin-form
// (RFC 9112 §3.2.1) made of visible ASCII: a space would end the target early.
void checkPath(const std::string& path) {
  bool visible = true;
  for (char c : path) visible = visible && c > 0x20 && c < 0x7F;
  if (path.empty() || path.front() != '/' || !visible) {
    throw std::invalid_argument("invalid path '" + path +
                                "' (expected /..., visible ASCII; percent-encode the rest)");
  }
}

}  // namespace

std::string describeTimeout(std::chrono::milliseconds timeout) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g s", static_cast<double>(timeout.count()) / 1000.0);
  return buf;
}

CommandLine parseCommandLine(int argc, char** argv) {
  cxxopts::Options options("epserve-get",
                           "epserve-get " EPSERVE_VERSION
                           " - fetch paths from an HTTP/1.1 server over one keep-alive connection;"
                           " bodies go to stdout");
  options.positional_help("PATH...");
  // Values are taken as strings and validated below, so every error reads the same way.
  options.add_options()
    ("i,ipaddress", "server address (numeric IPv4 or IPv6)",
     cxxopts::value<std::string>()->default_value("127.0.0.1"), "ADDR")
    ("p,port", "server TCP port", cxxopts::value<std::string>()->default_value("8080"), "PORT")
    ("head", "send HEAD instead of GET (nothing is printed on stdout)")
    ("http1.0", "send HTTP/1.0 requests")
    ("timeout", "seconds allowed for connecting and for each send and receive",
     cxxopts::value<std::string>()->default_value("10"), "S")
    ("v,verbose", "print request and response heads on stderr")
    ("version", "print the version and exit")
    ("h,help", "print this help and exit");
  options.add_options("positional")
    ("paths", "paths to fetch, in order", cxxopts::value<std::vector<std::string>>());
  options.parse_positional({"paths"});

  CommandLine result;
  try {
    const auto parsed = options.parse(argc, argv);
    if (parsed.count("help")) {
      std::fputs(options.help({""}).c_str(), stdout);
      return result;
    }
    if (parsed.count("version")) {
      std::puts("epserve-get " EPSERVE_VERSION);
      return result;
    }
    ClientOptions c;
    const std::string address = parsed["ipaddress"].as<std::string>();
    const std::uint16_t port = parsePort(parsed["port"].as<std::string>());
    // "localhost" is all SocketAddress resolves; anything else must be a numeric address,
    // so no DNS lookup can stall the client outside its timeout.
    if (!reactor::SocketAddress::parse(address, port, c.server)) {
      throw std::invalid_argument("invalid value '" + address +
                                  "' for --ipaddress (expected an IPv4 or IPv6 address)");
    }
    c.serverName = c.server.toString();
    c.head = parsed.count("head") > 0;
    c.http10 = parsed.count("http1.0") > 0;
    c.verbose = parsed.count("verbose") > 0;
    c.timeout = parseTimeout(parsed["timeout"].as<std::string>());
    if (parsed.count("paths") == 0) throw std::invalid_argument("no PATH given");
    c.paths = parsed["paths"].as<std::vector<std::string>>();
    for (const std::string& path : c.paths) checkPath(path);
    result.options = std::move(c);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "epserve-get: %s (see --help)\n", e.what());
    result.exitCode = 2;
  }
  return result;
}

}  // namespace epserve::client
