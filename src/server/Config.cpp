// Command-line parsing and validation: see Config.h.
#include "server/Config.h"

#include <cxxopts.hpp>

#include <charconv>
#include <cstdio>
#include <stdexcept>

#include "http/Syntax.h"
#include "reactor/SocketAddress.h"

namespace epserve::server {

namespace {

// Whole-string unsigned parse in [min, max]; cxxopts accepts "12abc"-style leftovers for some
// types, and we want one clear message for every bad value.
template <typename T>
T parseNumber(const std::string& flag, const std::string& text, std::uint64_t min,
              std::uint64_t max) {
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || v < min ||
      v > max) {
    throw std::invalid_argument("invalid value '" + text + "' for --" + flag + " (expected " +
                                std::to_string(min) + ".." + std::to_string(max) + ")");
  }
  return static_cast<T>(v);
}

bool isPlainFileName(const std::string& s) {
  return !s.empty() && s.find('/') == std::string::npos && s != "." && s != "..";
}

}  // namespace

std::string validateHeader(const std::string& header) {
  auto colon = header.find(':');
  if (colon == std::string::npos || colon == 0) {
    throw std::invalid_argument("invalid --header '" + header + "' (expected 'Name: value')");
  }
  std::string name = header.substr(0, colon);
  if (!http::isToken(name)) throw std::invalid_argument("invalid header name '" + name + "'");
  std::string value = header.substr(colon + 1);
  auto isWs = [](char ch) { return ch == ' ' || ch == '\t'; };
  while (!value.empty() && isWs(value.front())) value.erase(0, 1);
  while (!value.empty() && isWs(value.back())) value.pop_back();
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    // RFC 9110 §5.5 field-vchar / SP / HTAB; CR and LF would let a value inject headers.
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      throw std::invalid_argument("invalid value for header '" + name +
                                  "' (control characters are not allowed)");
    }
  }
  return name + ": " + value;
}

CommandLine parseCommandLine(int argc, char** argv) {
  cxxopts::Options options("epserve",
                           "epserve " EPSERVE_VERSION
                           " - a small, fast, strict static-file HTTP/1.1 server");
  // Values are taken as strings and validated below, so every error reads the same way.
  options.add_options()
    ("i,ipaddress", "address to listen on (IPv4 or IPv6)", cxxopts::value<std::string>()->default_value("0.0.0.0"), "ADDR")
    ("p,port", "TCP port (0 = any free port)", cxxopts::value<std::string>()->default_value("8080"), "N")
    ("r,root", "document root", cxxopts::value<std::string>()->default_value("www"), "DIR")
    ("index", "file served for a directory", cxxopts::value<std::string>()->default_value("index.html"), "NAME")
    ("not-found", "page served with 404, in the root", cxxopts::value<std::string>()->default_value("noIndex.html"), "FILE")
    ("log-level", "trace|debug|info|warn|error", cxxopts::value<std::string>()->default_value("info"), "LEVEL")
    ("access-log", "one line per request on stdout: on|off", cxxopts::value<std::string>()->default_value("on"), "on|off")
    ("max-connections", "open connections above which new ones get 503", cxxopts::value<std::string>()->default_value("10000"), "N")
    ("header-timeout", "seconds for a request head to arrive (then 408)", cxxopts::value<std::string>()->default_value("10"), "SECONDS")
    ("keepalive-timeout", "seconds an idle keep-alive connection is kept", cxxopts::value<std::string>()->default_value("5"), "SECONDS")
    ("send-timeout", "seconds a client may stall reading a response", cxxopts::value<std::string>()->default_value("60"), "SECONDS")
    ("max-body-size", "largest request body read (and discarded), bytes (then 413)", cxxopts::value<std::string>()->default_value("1048576"), "BYTES")
    ("cache-control", "Cache-Control value for file responses (default none)", cxxopts::value<std::string>(), "VALUE")
    ("header", "extra response header 'Name: value' (repeatable)", cxxopts::value<std::vector<std::string>>(), "'NAME: VALUE'")
    ("fallback", "file (in the root) answered with 200 for paths that match nothing, except paths with an extension (single-page apps)", cxxopts::value<std::string>(), "FILE")
    ("autoindex", "HTML listings for directories without an index file")
    ("tcp-notsent-lowat", "unsent bytes a socket may hold before it stops taking more (TCP_NOTSENT_LOWAT; 0 = system default)", cxxopts::value<std::string>()->default_value("16384"), "BYTES")
    ("workers", "independent single-threaded event loops, each with its own listener and file cache", cxxopts::value<std::string>()->default_value("1"), "N")
    ("version", "print the version and exit")
    ("h,help", "print this help and exit");

  CommandLine result;
  try {
    auto parsed = options.parse(argc, argv);
    if (!parsed.unmatched().empty()) {
      throw std::invalid_argument("unexpected argument '" + parsed.unmatched().front() + "'");
    }
    if (parsed.count("help")) {
      std::fputs(options.help().c_str(), stdout);
      return result;
    }
    if (parsed.count("version")) {
      std::puts("epserve " EPSERVE_VERSION);
      return result;
    }
    Config c;
    c.address = parsed["ipaddress"].as<std::string>();
    c.port = parseNumber<std::uint16_t>("port", parsed["port"].as<std::string>(), 0, 65535);
    reactor::SocketAddress probe;
    if (!reactor::SocketAddress::parse(c.address, c.port, probe)) {
      throw std::invalid_argument("invalid value '" + c.address +
                                  "' for --ipaddress (expected an IPv4 or IPv6 address)");
    }
    c.root = parsed["root"].as<std::string>();
    if (c.root.empty()) throw std::invalid_argument("--root must not be empty");
    c.indexName = parsed["index"].as<std::string>();
    if (!isPlainFileName(c.indexName)) {
      throw std::invalid_argument("invalid value '" + c.indexName + "' for --index (a file name)");
    }
    c.notFoundPage = parsed["not-found"].as<std::string>();
    while (!c.notFoundPage.empty() && c.notFoundPage.front() == '/') c.notFoundPage.erase(0, 1);
    if (c.notFoundPage.empty()) throw std::invalid_argument("--not-found must name a file");

    std::string level = parsed["log-level"].as<std::string>();
    if (level == "trace") c.logLevel = spdlog::level::trace;
    else if (level == "debug") c.logLevel = spdlog::level::debug;
    else if (level == "info") c.logLevel = spdlog::level::info;
    else if (level == "warn") c.logLevel = spdlog::level::warn;
    else if (level == "error") c.logLevel = spdlog::level::err;
    else throw std::invalid_argument("invalid value '" + level + "' for --log-level (trace|debug|info|warn|error)");

    std::string access = parsed["access-log"].as<std::string>();
    if (access != "on" && access != "off") {
      throw std::invalid_argument("invalid value '" + access + "' for --access-log (on|off)");
    }
    c.accessLog = access == "on";
    c.maxConnections = parseNumber<std::uint32_t>("max-connections", parsed["max-connections"].as<std::string>(), 1, 10'000'000);
    c.headerTimeoutSec = parseNumber<std::uint32_t>("header-timeout", parsed["header-timeout"].as<std::string>(), 1, 86400);
    c.keepAliveTimeoutSec = parseNumber<std::uint32_t>("keepalive-timeout", parsed["keepalive-timeout"].as<std::string>(), 1, 86400);
    c.sendTimeoutSec = parseNumber<std::uint32_t>("send-timeout", parsed["send-timeout"].as<std::string>(), 1, 86400);
    c.maxBodySize = parseNumber<std::uint64_t>("max-body-size", parsed["max-body-size"].as<std::string>(), 0, 1ULL << 40);
    if (parsed.count("cache-control")) {
      c.cacheControl = validateHeader("Cache-Control: " + parsed["cache-control"].as<std::string>());
      c.cacheControl = c.cacheControl.substr(std::string_view("Cache-Control: ").size());
    }
    if (parsed.count("header")) {
      for (const auto& h : parsed["header"].as<std::vector<std::string>>()) {
        c.extraHeaders += validateHeader(h) + "\r\n";
      }
    }
    if (parsed.count("fallback")) {
      c.fallback = parsed["fallback"].as<std::string>();
      while (!c.fallback.empty() && c.fallback.front() == '/') c.fallback.erase(0, 1);
      if (c.fallback.empty()) throw std::invalid_argument("--fallback must name a file");
    }
    c.autoindex = parsed.count("autoindex") > 0;
    c.workers = parseNumber<std::uint32_t>("workers", parsed["workers"].as<std::string>(), 1, 64);
    c.notSentLowat = parseNumber<std::uint32_t>("tcp-notsent-lowat", parsed["tcp-notsent-lowat"].as<std::string>(), 0, 1U << 30);
    result.config = c;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "epserve: %s (see --help)\n", e.what());
    result.exitCode = 2;
  }
  return result;
}

}  // namespace epserve::server
