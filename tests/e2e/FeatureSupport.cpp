// Helpers for the browser-feature end-to-end tests: see FeatureSupport.h.
// The multipart parser is deliberately strict and length-driven, so framing errors cannot hide.
#include "FeatureSupport.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "ChildProcess.h"

namespace epserve::e2e {

std::string randomBytes(std::size_t size, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; i += 8) {
    std::uint64_t word = engine();
    for (std::size_t k = 0; k < 8 && i + k < size; ++k) {
      bytes[i + k] = static_cast<char>(word >> (8 * k));
    }
  }
  return bytes;
}

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::uint64_t parseDecimal(std::string_view text, const std::string& whole) {
  std::uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    throw std::runtime_error("bad number in '" + whole + "'");
  }
  return value;
}

// Expects `literal` at body[at]; advances past it.
void expect(const std::string& body, std::size_t& at, std::string_view literal,
            const char* where) {
  if (body.compare(at, literal.size(), literal) != 0) {
    throw std::runtime_error(std::string("multipart: expected ") + where + " at offset " +
                             std::to_string(at) + ", found '" +
                             body.substr(at, std::min<std::size_t>(literal.size() + 8, 60)) +
                             "'");
  }
  at += literal.size();
}

}  // namespace

std::string boundaryOf(const std::string& contentType) {
  const std::string_view type(contentType);
  const std::size_t semi = type.find(';');
  if (semi == std::string_view::npos ||
      lower(trim(type.substr(0, semi))) != "multipart/byteranges") {
    throw std::runtime_error("not multipart/byteranges: '" + contentType + "'");
  }
  std::string_view params = type.substr(semi + 1);
  while (!params.empty()) {
    const std::size_t next = params.find(';');
    const std::string_view param = trim(params.substr(0, next));
    const std::size_t eq = param.find('=');
    if (eq != std::string_view::npos && lower(trim(param.substr(0, eq))) == "boundary") {
      std::string_view value = trim(param.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      // RFC 2046 §5.1.1: 1 to 70 characters.
      if (value.empty() || value.size() > 70) break;
      return std::string(value);
    }
    if (next == std::string_view::npos) break;
    params.remove_prefix(next + 1);
  }
  throw std::runtime_error("no usable boundary in '" + contentType + "'");
}

void parseContentRange(const std::string& value, std::uint64_t& first, std::uint64_t& last,
                       std::uint64_t& completeLength) {
  constexpr std::string_view kPrefix = "bytes ";
  const std::string_view v(value);
  const std::size_t dash = v.find('-');
  const std::size_t slash = v.find('/');
  if (v.substr(0, kPrefix.size()) != kPrefix || dash == std::string_view::npos ||
      slash == std::string_view::npos || slash < dash) {
    throw std::runtime_error("bad Content-Range '" + value + "'");
  }
  first = parseDecimal(v.substr(kPrefix.size(), dash - kPrefix.size()), value);
  last = parseDecimal(v.substr(dash + 1, slash - dash - 1), value);
  completeLength = parseDecimal(v.substr(slash + 1), value);
  if (last < first || last >= completeLength) {
    throw std::runtime_error("impossible Content-Range '" + value + "'");
  }
}

std::vector<BytePart> parseByteranges(const HttpResponse& response) {
  const std::string boundary = boundaryOf(response.header("Content-Type"));
  const std::string& body = response.body;
  std::vector<BytePart> parts;
  std::size_t at = 0;
  expect(body, at, "--" + boundary, "the first dash-boundary");
  for (;;) {
    expect(body, at, "\r\n", "CRLF after a boundary");
    BytePart part;
    bool haveRange = false;
    // Part header fields up to the empty line.
    for (;;) {
      const std::size_t lineEnd = body.find("\r\n", at);
      if (lineEnd == std::string::npos) throw std::runtime_error("multipart: unterminated part head");
      const std::string line = body.substr(at, lineEnd - at);
      at = lineEnd + 2;
      if (line.empty()) break;
      const std::size_t colon = line.find(':');
      if (colon == std::string::npos) throw std::runtime_error("multipart: bad line '" + line + "'");
      const std::string name = lower(line.substr(0, colon));
      const std::string value(trim(std::string_view(line).substr(colon + 1)));
      if (name == "content-type") {
        part.contentType = value;
      } else if (name == "content-range") {
        part.contentRange = value;
        parseContentRange(value, part.first, part.last, part.completeLength);
        haveRange = true;
      }
    }
    if (!haveRange) throw std::runtime_error("multipart: a part without Content-Range");
    const std::uint64_t length = part.last - part.first + 1;
    if (body.size() - at < length) throw std::runtime_error("multipart: part data cut short");
    part.bytes = body.substr(at, length);
    at += length;
    parts.push_back(std::move(part));
    expect(body, at, "\r\n--" + boundary, "the delimiter after part data");
    if (body.compare(at, 2, "--") == 0) {
      expect(body, at, "--\r\n", "the close-delimiter");
      break;
    }
  }
  if (at != body.size()) {
    throw std::runtime_error("multipart: " + std::to_string(body.size() - at) +
                             " bytes after the close-delimiter");
  }
  return parts;
}

std::string httpDate(std::time_t t, DateForm form) {
  std::tm parts{};
  ::gmtime_r(&t, &parts);
  // The C locale's names are the English ones HTTP-date uses (the tests never call setlocale).
  const char* format = form == DateForm::ImfFixdate ? "%a, %d %b %Y %H:%M:%S GMT"
                       : form == DateForm::Rfc850   ? "%A, %d-%b-%y %H:%M:%S GMT"
                                                    : "%a %b %e %H:%M:%S %Y";
  char text[64];
  const std::size_t n = std::strftime(text, sizeof text, format, &parts);
  return std::string(text, n);
}

std::time_t parseImfDate(const std::string& text) {
  std::tm parts{};
  const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parts);
  if (end == nullptr || *end != '\0' || text.size() != 29) {
    throw std::runtime_error("not an IMF-fixdate: '" + text + "'");
  }
  return ::timegm(&parts);
}

void setModificationTime(const std::filesystem::path& path, std::time_t mtime) {
  const timespec times[2] = {{mtime, 0}, {mtime, 0}};
  if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    throw std::system_error(errno, std::generic_category(), "utimensat " + path.string());
  }
}

namespace {

std::string findInPath(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

}  // namespace

bool haveTool(const std::string& name) { return !findInPath(name).empty(); }

int runTool(const std::vector<std::string>& argv, std::chrono::milliseconds bound,
            std::string* err) {
  std::vector<std::string> args = argv;
  args.at(0) = findInPath(argv.at(0));
  if (args[0].empty()) throw std::runtime_error("'" + argv[0] + "' is not installed");
  ChildProcess child(args);
  const auto status = child.wait(bound);
  if (err) *err = child.err();
  if (!status) {
    child.stop();
    throw std::runtime_error("'" + argv[0] + "' did not finish in time; stderr:\n" + child.err());
  }
  return *status;
}

HttpResponse responseFromCurlDump(const std::string& dump, std::string body) {
  HttpResponse response;
  std::stringstream lines(dump);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("HTTP/", 0) == 0) {  // a new response head starts: keep only the last one
      response = HttpResponse{};
      const std::size_t sp = line.find(' ');
      response.version = line.substr(0, sp);
      if (sp != std::string::npos) {
        response.status = static_cast<int>(parseDecimal(line.substr(sp + 1, 3), line));
        if (line.size() > sp + 5) response.reason = line.substr(sp + 5);
      }
      continue;
    }
    const std::size_t colon = line.find(':');
    if (line.empty() || colon == std::string::npos) continue;
    response.headers.emplace_back(line.substr(0, colon),
                                  std::string(trim(std::string_view(line).substr(colon + 1))));
  }
  response.body = std::move(body);
  return response;
}

std::string headerDifferences(const HttpResponse& a, const HttpResponse& b,
                              const std::vector<std::string>& ignore) {
  auto collect = [&](const HttpResponse& r) {
    std::map<std::string, std::vector<std::string>> fields;
    for (const auto& [name, value] : r.headers) {
      const std::string key = lower(name);
      if (key == "date") continue;
      if (std::find_if(ignore.begin(), ignore.end(), [&](const std::string& skip) {
            return lower(skip) == key;
          }) != ignore.end()) {
        continue;
      }
      fields[key].push_back(value);
    }
    return fields;
  };
  const auto left = collect(a);
  const auto right = collect(b);
  std::string diff;
  for (const auto& [name, values] : left) {
    auto it = right.find(name);
    if (it == right.end()) {
      diff += name + ": only in the first; ";
    } else if (it->second != values) {
      diff += name + ": '" + values.front() + "' vs '" + it->second.front() + "'; ";
    }
  }
  for (const auto& [name, values] : right) {
    if (!left.count(name)) diff += name + ": only in the second; ";
  }
  return diff;
}

}  // namespace epserve::e2e
