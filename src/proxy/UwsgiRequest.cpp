// uwsgi request packets: see UwsgiRequest.h. Variables are written straight into `out`; the
// datasize is patched in once their total is known.
#include "proxy/UwsgiRequest.h"

#include <span>

#include "http/Syntax.h"

namespace epserve::proxy {

namespace {

using http::equalsIgnoreCase;
using http::Header;

constexpr std::size_t kMaxBlock = 65535;

void putU16(std::string& out, std::size_t n) {
  out.push_back(static_cast<char>(n & 0xff));
  out.push_back(static_cast<char>((n >> 8) & 0xff));
}

// Whether two field names make the same variable: '-' and '_' both become '_', so "X-A" and
// "X_A" would be two values for HTTP_X_A (the canonical head drops '_' names; this holds anyway).
bool sameVariable(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i] == '-' ? '_' : a[i];
    char y = b[i] == '-' ? '_' : b[i];
    if (!equalsIgnoreCase(std::string_view(&x, 1), std::string_view(&y, 1))) return false;
  }
  return true;
}

bool isOwnVariable(std::string_view name) {
  return equalsIgnoreCase(name, "Content-Type") || equalsIgnoreCase(name, "Content-Length");
}

class VarWriter {
 public:
  explicit VarWriter(std::string& out) : out_(out) {}

  void var(std::string_view key, std::string_view value) {
    if (value.size() > kMaxBlock) overflow_ = true;
    if (overflow_) return;
    putU16(out_, key.size());
    out_.append(key);
    putU16(out_, value.size());
    out_.append(value);
  }
  // HTTP_<NAME> for the fields named like `fields[first]`, their values joined.
  void header(std::span<const Header> fields, std::size_t first) {
    const std::string_view name = fields[first].name;
    putU16(out_, 5 + name.size());
    out_.append("HTTP_");
    for (char c : name) {
      if (c == '-') c = '_';
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - ('a' - 'A'));
      out_.push_back(c);
    }
    const bool cookie = equalsIgnoreCase(name, "Cookie");
    const std::size_t lengthAt = out_.size();
    putU16(out_, 0);
    const std::size_t start = out_.size();
    bool any = false;
    for (std::size_t i = first; i < fields.size(); ++i) {
      if (isOwnVariable(fields[i].name) || !sameVariable(fields[i].name, name)) continue;
      if (any) out_.append(cookie ? "; " : ", ");
      out_.append(fields[i].value);
      any = true;
    }
    const std::size_t length = out_.size() - start;
    if (length > kMaxBlock) overflow_ = true;
    out_[lengthAt] = static_cast<char>(length & 0xff);
    out_[lengthAt + 1] = static_cast<char>((length >> 8) & 0xff);
  }
  bool overflowed() const { return overflow_; }

 private:
  std::string& out_;
  bool overflow_ = false;
};


// Whether an earlier field has this name: its variable holds this one's value already.
bool seenBefore(std::span<const Header> fields, std::size_t i) {
  for (std::size_t j = 0; j < i; ++j) {
    if (!isOwnVariable(fields[j].name) && sameVariable(fields[j].name, fields[i].name)) return true;
  }
  return false;
}

// "host", "host:port", "[v6]:port" → name and port (port "80" when absent).
void splitHost(std::string_view host, std::string_view& name, std::string_view& port) {
  port = "80";
  name = host;
  std::size_t colon = host.rfind(':');
  if (colon == std::string_view::npos) return;
  if (host.front() == '[' && host.find(']') > colon) return;  // "[::1]" has no port
  name = host.substr(0, colon);
  if (colon + 1 < host.size()) port = host.substr(colon + 1);
}

}  // namespace

UwsgiResult writeUwsgiRequest(const http::Request& canonical, const UwsgiParams& p,
                              std::string& out) {
  const std::size_t packetStart = out.size();
  out.append(4, '\0');  // modifier1 0, datasize (patched below), modifier2 0
  VarWriter w(out);

  const std::string_view target = canonical.target;
  const std::size_t q = target.find('?');
  std::string_view serverName, serverPort;
  splitHost(canonical.host, serverName, serverPort);

  w.var("REQUEST_METHOD", canonical.methodText);
  w.var("REQUEST_URI", target);
  w.var("PATH_INFO", p.pathInfo);
  w.var("QUERY_STRING", q == std::string_view::npos ? std::string_view() : target.substr(q + 1));
  w.var("SERVER_PROTOCOL", "HTTP/1.1");
  w.var("REQUEST_SCHEME", "http");
  w.var("REMOTE_ADDR", p.remoteAddr);
  w.var("REMOTE_PORT", p.remotePort);
  w.var("SERVER_NAME", serverName);
  w.var("SERVER_PORT", serverPort);
  w.var("DOCUMENT_ROOT", p.documentRoot);
  if (std::string_view type = canonical.find("Content-Type"); type.data() != nullptr) {
    w.var("CONTENT_TYPE", type);
  }
  if (std::string_view length = canonical.find("Content-Length"); length.data() != nullptr) {
    w.var("CONTENT_LENGTH", length);
  }
  const std::span<const Header> fields(canonical.headers.data(), canonical.headerCount);
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (isOwnVariable(fields[i].name) || seenBefore(fields, i)) continue;
    w.header(fields, i);
  }

  const std::size_t size = out.size() - packetStart - 4;
  if (w.overflowed() || size > kMaxBlock) {
    out.resize(packetStart);
    return UwsgiResult::TooLarge;
  }
  if (size > p.bufferSize) {
    out.resize(packetStart);
    return UwsgiResult::OverBuffer;
  }
  out[packetStart + 1] = static_cast<char>(size & 0xff);
  out[packetStart + 2] = static_cast<char>((size >> 8) & 0xff);
  return UwsgiResult::Ok;
}

}  // namespace epserve::proxy
