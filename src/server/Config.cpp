// Command-line and --config parsing and their one validation: see Config.h.
#include "server/Config.h"

#include <cxxopts.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "http/Syntax.h"
#include "reactor/DnsResolver.h"
#include "reactor/SocketAddress.h"
#include "server/ConfigFile.h"
#include "server/Router.h"

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

std::invalid_argument badValue(const std::string& flag, const std::string& text,
                               const std::string& why) {
  return std::invalid_argument("invalid value '" + text + "' for --" + flag + ": " + why);
}

bool parseOnOff(const std::string& flag, const std::string& text) {
  if (text != "on" && text != "off") {
    throw std::invalid_argument("invalid value '" + text + "' for --" + flag + " (on|off)");
  }
  return text == "on";
}

bool isDirectory(const std::string& path) {
  std::error_code ec;
  return !path.empty() && std::filesystem::is_directory(path, ec);
}

std::string formatMilliseconds(std::int64_t ms) {
  std::string s = std::to_string(ms / 1000);
  if (ms % 1000 != 0) {
    std::string frac = std::to_string(1000 + ms % 1000).substr(1);
    while (frac.back() == '0') frac.pop_back();
    s += "." + frac;
  }
  return s;
}

// PREFIX of a PREFIX=... route flag: a normalised path (see Router.h), else a message saying
// how to write it.
std::string routePrefix(const std::string& flag, const std::string& text, std::string_view spec) {
  const std::size_t eq = spec.find('=');
  if (eq == std::string_view::npos) {
    throw badValue(flag, text, std::string("expected PREFIX=") +
                                   (flag == "proxy" ? "URL[,URL...]" : "DIR"));
  }
  const std::string prefix(spec.substr(0, eq));
  if (prefix.empty() || prefix.front() != '/') {
    throw badValue(flag, text, "the prefix must start with '/'");
  }
  if (prefix.find('%') != std::string::npos) {
    throw badValue(flag, text, "write the prefix decoded, without %-escapes");
  }
  if (!isRoutePrefix(prefix)) {
    std::string normal;
    if (routingPath(prefix, normal)) {
      throw badValue(flag, text, "the prefix is not a normalised path (write it as '" + normal +
                                     "')");
    }
    throw badValue(flag, text, "the prefix is not a valid path");
  }
  return prefix;
}

ProxyRoute parseProxyRoute(const std::string& text) {
  ProxyRoute route;
  route.prefix = routePrefix("proxy", text, text);
  const std::string_view list = std::string_view(text).substr(text.find('=') + 1);
  if (http::trimOws(list).empty()) throw badValue("proxy", text, "empty URL list");
  std::size_t count = 0;
  http::forEachListElement(list, [&count](std::string_view) {
    ++count;
    return true;
  });
  http::forEachListElement(list, [&](std::string_view url) {
    if (url.empty()) throw badValue("proxy", text, "an empty URL in the list");
    try {
      route.upstreams.push_back(proxy::parseUpstreamUrl(url));
    } catch (const std::invalid_argument& e) {
      // With several URLs, say which one is wrong.
      throw badValue("proxy", text,
                     count > 1 ? "'" + std::string(url) + "': " + e.what() : e.what());
    }
    return true;
  });
  // One target rewrite per route: the request head is written before a server is chosen.
  for (const proxy::UpstreamUrl& u : route.upstreams) {
    if (u.path != route.upstreams.front().path) {
      throw badValue("proxy", text, "every URL of one route needs the same path");
    }
    if (u.protocol != route.upstreams.front().protocol) {
      throw badValue("proxy", text, "every URL of one route needs the same scheme");
    }
  }
  return route;
}

StaticRoute parseStaticRoute(const std::string& text) {
  StaticRoute route;
  route.prefix = routePrefix("static", text, text);
  route.dir = text.substr(text.find('=') + 1);
  if (route.dir.empty()) throw badValue("static", text, "empty directory");
  if (!isDirectory(route.dir)) throw badValue("static", text, "'" + route.dir + "' is not a directory");
  return route;
}

// --metrics-listen: "127.0.0.1:9100", "[::1]:9100", "0.0.0.0:0" (port 0: any free port).
reactor::SocketAddress parseListenAddress(const std::string& flag, const std::string& text) {
  std::size_t colon = text.rfind(':');
  std::string host = colon == std::string::npos ? std::string() : text.substr(0, colon);
  const bool bracketed = host.size() > 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  // Brackets are for IPv6, and IPv6 needs them before a port.
  if (bracketed != (host.find(':') != std::string::npos)) host.clear();
  reactor::SocketAddress address;
  if (host.empty() || !reactor::SocketAddress::parse(host, 0, address)) {
    throw badValue(flag, text, "expected ADDR:PORT, e.g. 127.0.0.1:9100 or [::1]:9100");
  }
  std::uint16_t port = 0;
  try {
    port = parseNumber<std::uint16_t>(flag, text.substr(colon + 1), 0, 65535);
  } catch (const std::exception&) {
    throw badValue(flag, text, "the port must be 0..65535");
  }
  reactor::SocketAddress::parse(host, port, address);
  return address;
}

}  // namespace

std::int64_t parseMilliseconds(const std::string& flag, const std::string& text,
                               std::int64_t minMs, std::int64_t maxMs) {
  const std::string_view t(text);
  const std::size_t dot = t.find('.');
  const std::string_view whole = t.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? std::string_view() : t.substr(dot + 1);
  std::uint64_t seconds = 0;
  std::uint64_t fraction = 0;
  const bool ok = http::parseDecimal(whole, seconds) &&
                  (dot == std::string_view::npos ||
                   (!frac.empty() && frac.size() <= 3 && http::parseDecimal(frac, fraction)));
  const auto maxSeconds = static_cast<std::uint64_t>(maxMs / 1000 + 1);
  std::int64_t ms = -1;
  if (ok && seconds <= maxSeconds) {
    for (std::size_t i = frac.size(); i < 3; ++i) fraction *= 10;
    ms = static_cast<std::int64_t>(seconds * 1000 + fraction);
  }
  if (ms < minMs || ms > maxMs) {
    throw std::invalid_argument("invalid value '" + text + "' for --" + flag +
                                " (expected seconds with up to 3 decimals, " +
                                formatMilliseconds(minMs) + ".." + formatMilliseconds(maxMs) +
                                ")");
  }
  return ms;
}

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

namespace {

// Flags that only make sense on the command line: not keys of a --config file.
bool commandLineOnly(const std::string& name) {
  return name == "config" || name == "check-config" || name == "help" || name == "version";
}

// The one list of flags: the command line, the --config keys and --help all come from it.
cxxopts::Options makeOptions() {
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
    ("access-log", "one line per request: on (stdout), off, or a file to append to", cxxopts::value<std::string>()->default_value("on"), "on|off|FILE")
    ("log-format", "access log lines: combined|json", cxxopts::value<std::string>()->default_value("combined"), "FORMAT")
    ("error-log", "file to append the error log to (default stderr)", cxxopts::value<std::string>(), "FILE")
    ("max-connections", "open connections above which new ones get 503", cxxopts::value<std::string>()->default_value("10000"), "N")
    ("header-timeout", "seconds for a request head to arrive (then 408)", cxxopts::value<std::string>()->default_value("10"), "SECONDS")
    ("keepalive-timeout", "seconds an idle keep-alive connection is kept", cxxopts::value<std::string>()->default_value("5"), "SECONDS")
    ("send-timeout", "seconds a client may stall reading a response", cxxopts::value<std::string>()->default_value("60"), "SECONDS")
    ("max-body-size", "largest request body read (and discarded), bytes (then 413)", cxxopts::value<std::string>()->default_value("1048576"), "BYTES")
    ("cache-control", "Cache-Control value for file responses (default none)", cxxopts::value<std::string>(), "VALUE")
    ("header", "extra response header 'Name: value' (repeatable)", cxxopts::value<std::string>(), "'NAME: VALUE'")
    ("fallback", "file (in the root) answered with 200 for paths that match nothing, except paths with an extension (single-page apps)", cxxopts::value<std::string>(), "FILE")
    ("autoindex", "HTML listings for directories without an index file")
    ("tcp-notsent-lowat", "unsent bytes a socket may hold before it stops taking more (TCP_NOTSENT_LOWAT; 0 = system default)", cxxopts::value<std::string>()->default_value("16384"), "BYTES")
    ("workers", "independent single-threaded event loops, each with its own listener and file cache", cxxopts::value<std::string>()->default_value("1"), "N")
    ("proxy", "proxy: send requests under PREFIX to upstream URLs, http://HOST[:PORT][/PATH] or http://unix:/PATH.sock[:/PATH] (repeatable)", cxxopts::value<std::string>(), "PREFIX=URL[,URL...]")
    ("static", "serve requests under PREFIX from DIR (repeatable)", cxxopts::value<std::string>(), "PREFIX=DIR")
    ("proxy-connect-timeout", "proxy: seconds to connect to an upstream", cxxopts::value<std::string>()->default_value("5"), "SECONDS")
    ("proxy-read-timeout", "proxy: seconds an upstream may be silent while a response is awaited or read", cxxopts::value<std::string>()->default_value("60"), "SECONDS")
    ("proxy-send-timeout", "proxy: seconds an upstream may stall taking the request", cxxopts::value<std::string>()->default_value("60"), "SECONDS")
    ("proxy-fail-timeout", "proxy: seconds a failed upstream is left out", cxxopts::value<std::string>()->default_value("10"), "SECONDS")
    ("proxy-resolve-interval", "proxy: seconds between DNS lookups of upstream host names", cxxopts::value<std::string>()->default_value("30"), "SECONDS")
    ("resolver", "proxy: name servers for upstream host names instead of the system's (repeatable)", cxxopts::value<std::string>(), "ADDR[:PORT][,...]")
    ("trusted-proxies", "proxy: peers whose X-Forwarded-For and Forwarded are passed on (repeatable)", cxxopts::value<std::string>(), "CIDR[,CIDR...]")
    ("temp-dir", "proxy: directory for buffered request and response bodies", cxxopts::value<std::string>()->default_value("/tmp"), "DIR")
    ("proxy-request-buffering", "proxy: read the whole request body before sending it upstream: on|off", cxxopts::value<std::string>()->default_value("on"), "on|off")
    ("proxy-buffering", "proxy: read upstream responses as fast as they come, into memory and a temp file: on|off", cxxopts::value<std::string>()->default_value("on"), "on|off")
    ("proxy-max-temp-file", "proxy: largest temp file for one buffered response, bytes", cxxopts::value<std::string>()->default_value("1073741824"), "BYTES")
    ("uwsgi-buffer-size", "proxy: largest uwsgi variables block, bytes (uWSGI's buffer-size; at most 65535)", cxxopts::value<std::string>()->default_value("4096"), "BYTES")
    ("tunnel-idle-timeout", "proxy: seconds an upgraded (WebSocket) tunnel may be idle", cxxopts::value<std::string>()->default_value("300"), "SECONDS")
    ("health-path", "answer GET/HEAD on PATH with 200 ok, or 503 while draining (before any route)", cxxopts::value<std::string>(), "PATH")
    ("log-health", "access-log lines for health checks: on|off", cxxopts::value<std::string>()->default_value("off"), "on|off")
    ("shutdown-delay", "seconds to keep serving after SIGTERM while the health path answers 503, before draining", cxxopts::value<std::string>()->default_value("0"), "SECONDS")
    ("metrics-listen", "serve Prometheus metrics at http://ADDR:PORT/metrics (default off)", cxxopts::value<std::string>(), "ADDR:PORT")
    ("config", "read settings from a TOML file: every flag is a key; flags given here override it (SIGHUP re-reads it)", cxxopts::value<std::string>(), "FILE")
    ("check-config", "validate the settings (and the --config file), print \"configuration ok\" or the error, exit 0 or 2")
    ("version", "print the version and exit")
    ("h,help", "print this help and exit");

  return options;
}

// Each flag's TOML key, read off its definition: a switch takes true/false, an "on|off" argument
// also true/false, and a description saying "(repeatable)" makes it an array. A flag added to
// makeOptions() is therefore a key with no further code.
std::vector<OptionSpec> specsOf(const cxxopts::Options& options) {
  std::vector<OptionSpec> specs;
  for (const cxxopts::HelpOptionDetails& o : options.group_help("").options) {
    if (o.l.empty() || commandLineOnly(o.l.front())) continue;
    OptionSpec spec;
    spec.name = o.l.front();
    spec.boolean = o.is_boolean;
    spec.onOff = o.arg_help == "on|off" || o.arg_help == "on|off|FILE";
    spec.repeatable = o.desc.find("(repeatable)") != std::string::npos;
    specs.push_back(spec);
  }
  return specs;
}

// Every flag's values, from the file and the command line, and cxxopts' defaults; remembers
// which value was read last, so a validation error can say where that value came from.
class OptionValues {
 public:
  std::vector<OptionValue> given;  // in order: the file's, then the command line's
  std::map<std::string, std::string, std::less<>> defaults;

  // The last value given for `flag`, else its default ("" when it has none).
  const std::string& get(const std::string& flag) {
    for (auto it = given.rbegin(); it != given.rend(); ++it) {
      if (it->key == flag) return use(*it);
    }
    origin_.clear();
    key_ = flag;
    return defaults[flag];
  }
  bool has(const std::string& flag) const {
    return std::any_of(given.begin(), given.end(),
                       [&flag](const OptionValue& v) { return v.key == flag; });
  }
  // Every value of a repeatable flag, in order.
  std::vector<OptionValue> all(const std::string& flag) const {
    std::vector<OptionValue> out;
    std::copy_if(given.begin(), given.end(), std::back_inserter(out),
                 [&flag](const OptionValue& v) { return v.key == flag; });
    return out;
  }
  // Marks `v` as the value being validated; returns its text.
  const std::string& use(const OptionValue& v) {
    origin_ = v.origin;
    key_ = v.key;
    return v.text;
  }
  const std::string& origin() const { return origin_; }
  const std::string& key() const { return key_; }

 private:
  std::string origin_;
  std::string key_;
};

// The one validation of every value, whichever way it was given. `strict` (--check-config, a
// reload) also checks what running would find out later: that the root is a directory.
Config validate(OptionValues& v, bool strict) {
  Config c;
  c.address = v.get("ipaddress");
  c.port = parseNumber<std::uint16_t>("port", v.get("port"), 0, 65535);
  reactor::SocketAddress probe;
  if (!reactor::SocketAddress::parse(c.address, c.port, probe)) {
    throw std::invalid_argument("invalid value '" + v.get("ipaddress") +
                                "' for --ipaddress (expected an IPv4 or IPv6 address)");
  }
  c.root = v.get("root");
  if (c.root.empty()) throw std::invalid_argument("--root must not be empty");
  c.indexName = v.get("index");
  if (!isPlainFileName(c.indexName)) {
    throw std::invalid_argument("invalid value '" + c.indexName + "' for --index (a file name)");
  }
  c.notFoundPage = v.get("not-found");
  while (!c.notFoundPage.empty() && c.notFoundPage.front() == '/') c.notFoundPage.erase(0, 1);
  if (c.notFoundPage.empty()) throw std::invalid_argument("--not-found must name a file");

  std::string level = v.get("log-level");
  if (level == "trace") c.logLevel = spdlog::level::trace;
  else if (level == "debug") c.logLevel = spdlog::level::debug;
  else if (level == "info") c.logLevel = spdlog::level::info;
  else if (level == "warn") c.logLevel = spdlog::level::warn;
  else if (level == "error") c.logLevel = spdlog::level::err;
  else throw std::invalid_argument("invalid value '" + level + "' for --log-level (trace|debug|info|warn|error)");

  std::string access = v.get("access-log");
  if (access.empty()) throw badValue("access-log", access, "expected on, off or a file name");
  c.accessLog = access != "off";
  if (access != "on" && access != "off") c.accessLogPath = access;
  std::string format = v.get("log-format");
  if (format != "combined" && format != "json") {
    throw badValue("log-format", format, "expected combined or json");
  }
  c.logFormat = format == "json" ? LogFormat::Json : LogFormat::Combined;
  if (v.has("error-log")) {
    c.errorLogPath = v.get("error-log");
    if (c.errorLogPath.empty()) throw badValue("error-log", c.errorLogPath, "expected a file name");
  }
  c.maxConnections = parseNumber<std::uint32_t>("max-connections", v.get("max-connections"), 1, 10'000'000);
  c.headerTimeoutSec = parseNumber<std::uint32_t>("header-timeout", v.get("header-timeout"), 1, 86400);
  c.keepAliveTimeoutSec = parseNumber<std::uint32_t>("keepalive-timeout", v.get("keepalive-timeout"), 1, 86400);
  c.sendTimeoutSec = parseNumber<std::uint32_t>("send-timeout", v.get("send-timeout"), 1, 86400);
  c.maxBodySize = parseNumber<std::uint64_t>("max-body-size", v.get("max-body-size"), 0, 1ULL << 40);
  if (v.has("cache-control")) {
    c.cacheControl = validateHeader("Cache-Control: " + v.get("cache-control"));
    c.cacheControl = c.cacheControl.substr(std::string_view("Cache-Control: ").size());
  }
  for (const OptionValue& h : v.all("header")) c.extraHeaders += validateHeader(v.use(h)) + "\r\n";
  if (v.has("fallback")) {
    c.fallback = v.get("fallback");
    while (!c.fallback.empty() && c.fallback.front() == '/') c.fallback.erase(0, 1);
    if (c.fallback.empty()) throw std::invalid_argument("--fallback must name a file");
  }
  c.autoindex = v.has("autoindex") && v.get("autoindex") == "true";
  c.workers = parseNumber<std::uint32_t>("workers", v.get("workers"), 1, 64);
  c.notSentLowat = parseNumber<std::uint32_t>("tcp-notsent-lowat", v.get("tcp-notsent-lowat"), 0, 1U << 30);

  // Routes, in command-line order, so a duplicate prefix is reported at its second use.
  for (const OptionValue& kv : v.given) {
    const bool isProxy = kv.key == "proxy";
    if (!isProxy && kv.key != "static") continue;
    v.use(kv);
    std::string prefix;
    if (isProxy) {
      c.proxyRoutes.push_back(parseProxyRoute(kv.text));
      prefix = c.proxyRoutes.back().prefix;
    } else {
      c.staticRoutes.push_back(parseStaticRoute(kv.text));
      prefix = c.staticRoutes.back().prefix;
    }
    std::size_t uses = 0;
    for (const auto& r : c.proxyRoutes) uses += r.prefix == prefix ? 1 : 0;
    for (const auto& r : c.staticRoutes) uses += r.prefix == prefix ? 1 : 0;
    if (uses > 1) {
      throw badValue(kv.key, kv.text, "the prefix '" + prefix + "' is already routed");
    }
  }
  constexpr std::int64_t kDay = 86'400'000;
  auto millis = [&v](const std::string& flag) {
    return parseMilliseconds(flag, v.get(flag), 1, kDay);
  };
  c.proxyConnectTimeoutMs = millis("proxy-connect-timeout");
  c.proxyReadTimeoutMs = millis("proxy-read-timeout");
  c.proxySendTimeoutMs = millis("proxy-send-timeout");
  c.proxyFailTimeoutMs = millis("proxy-fail-timeout");
  c.proxyResolveIntervalMs = millis("proxy-resolve-interval");
  c.tunnelIdleTimeoutMs = millis("tunnel-idle-timeout");
  c.uwsgiBufferSize = parseNumber<std::size_t>("uwsgi-buffer-size", v.get("uwsgi-buffer-size"), 64, 65535);
  for (const OptionValue& given : v.all("resolver")) {
    const std::string& list = v.use(given);
    std::string_view rest = list;
    for (;;) {
      std::size_t comma = rest.find(',');
      std::string item(http::trimOws(rest.substr(0, comma)));
      reactor::SocketAddress server;
      if (!reactor::parseNameServer(item, server)) {
        throw badValue("resolver", list, "expected ADDR[:PORT], e.g. 10.0.0.2 or [::1]:5353");
      }
      c.resolvers.push_back(server);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  for (const OptionValue& given : v.all("trusted-proxies")) {
    const std::string& list = v.use(given);
    try {
      c.trustedProxies.addList(list);
    } catch (const std::invalid_argument& e) {
      throw badValue("trusted-proxies", list, e.what());
    }
  }
  c.tempDir = v.get("temp-dir");
  // Checked when it was asked for or will be used: a static-only server never writes there.
  if ((v.has("temp-dir") || !c.proxyRoutes.empty()) && !isDirectory(c.tempDir)) {
    throw badValue("temp-dir", c.tempDir, "not a directory");
  }
  c.proxyRequestBuffering = parseOnOff("proxy-request-buffering", v.get("proxy-request-buffering"));
  c.proxyBuffering = parseOnOff("proxy-buffering", v.get("proxy-buffering"));
  c.proxyMaxTempFile = parseNumber<std::uint64_t>("proxy-max-temp-file", v.get("proxy-max-temp-file"), 0, 1ULL << 40);
  if (v.has("metrics-listen")) {
    c.metricsListen = parseListenAddress("metrics-listen", v.get("metrics-listen"));
  }
  if (v.has("health-path")) {
    c.healthPath = v.get("health-path");
    // Matched byte for byte against the request's target: only bytes a client sends as they
    // are, so the path cannot have a second, escaped spelling.
    bool plain = true;
    for (char ch : c.healthPath) plain = plain && http::has(static_cast<unsigned char>(ch), http::kPathChar);
    if (!plain || !isRoutePrefix(c.healthPath)) {
      throw badValue("health-path", c.healthPath,
                     "expected a normalised absolute path of plain ASCII (no %-escapes, spaces or quotes), e.g. /healthz");
    }
  }
  c.logHealth = parseOnOff("log-health", v.get("log-health"));
  c.shutdownDelayMs = parseMilliseconds("shutdown-delay", v.get("shutdown-delay"), 0, 3'600'000);
  if (strict && !isDirectory(v.get("root"))) {
    throw badValue("root", c.root, "not a directory");
  }
  return c;
}

}  // namespace

CommandLine readCommandLine(const std::vector<std::string>& args) {
  cxxopts::Options options = makeOptions();
  CommandLine result;
  OptionValues values;
  try {
    std::vector<std::string> copy(args);
    std::vector<char*> argv;
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    auto parsed = options.parse(static_cast<int>(copy.size()), argv.data());
    if (!parsed.unmatched().empty()) {
      throw std::invalid_argument("unexpected argument '" + parsed.unmatched().front() + "'");
    }
    if (parsed.count("help")) {
      result.output = options.help();
      return result;
    }
    if (parsed.count("version")) {
      result.output = "epserve " EPSERVE_VERSION "\n";
      return result;
    }
    for (const OptionSpec& spec : specsOf(options)) {
      if (!spec.boolean && !parsed.count(spec.name) && parsed[spec.name].has_default()) {
        values.defaults[spec.name] = parsed[spec.name].as<std::string>();
      }
    }
    std::string file;
    if (parsed.count("config")) {
      file = parsed["config"].as<std::string>();
      // The command line overrides the file key by key (a repeatable flag's list as a whole).
      for (OptionValue& fv : readConfigFile(file, specsOf(options))) {
        if (!parsed.count(fv.key)) values.given.push_back(std::move(fv));
      }
    }
    for (const auto& kv : parsed.arguments()) {
      if (!commandLineOnly(kv.key())) values.given.push_back(OptionValue{kv.key(), kv.value(), ""});
    }
    const bool check = parsed.count("check-config") > 0;
    Config c = validate(values, check || !file.empty());
    c.configFile = file;
    c.arguments = args;
    if (check) {
      result.output = "configuration ok\n";
      return result;
    }
    result.config = std::move(c);
  } catch (const ConfigFileError& e) {
    result.error = e.what();
    result.exitCode = 2;
  } catch (const std::exception& e) {
    result.error = values.origin().empty()
                       ? std::string("epserve: ") + e.what() + " (see --help)"
                       : values.origin() + ": " + values.key() + ": " + e.what();
    result.exitCode = 2;
  }
  return result;
}

CommandLine parseCommandLine(int argc, char** argv) {
  CommandLine result = readCommandLine(std::vector<std::string>(argv, argv + argc));
  if (!result.output.empty()) std::fputs(result.output.c_str(), stdout);
  if (!result.error.empty()) std::fprintf(stderr, "%s\n", result.error.c_str());
  return result;
}

}  // namespace epserve::server
