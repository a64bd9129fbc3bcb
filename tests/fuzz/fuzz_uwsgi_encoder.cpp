// Fuzzes the uwsgi packet encoder (proxy/UwsgiRequest): any request the strict parser accepts
// either encodes to a packet an independent decoder (uWSGI's rules, written from its docs)
// reads back whole, with every field accounted for, or is refused with `out` untouched.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "FuzzSupport.h"
#include "http/RequestParser.h"
#include "http/Syntax.h"
#include "proxy/UwsgiRequest.h"

// Input: byte 0 picks the buffer size (its value × 257, at least 64); the rest is a request head.

namespace {

using epserve::http::equalsIgnoreCase;
using epserve::proxy::UwsgiParams;
using epserve::proxy::UwsgiResult;

struct Var {
  std::string_view key, value;
};

std::size_t u16(std::string_view p, std::size_t at) {
  return static_cast<std::size_t>(static_cast<unsigned char>(p[at])) |
         static_cast<std::size_t>(static_cast<unsigned char>(p[at + 1])) << 8;
}

// uwsgi_parse_vars: 0, u16 LE datasize, 0, then key/value pairs filling datasize exactly,
// no empty key. False when any rule is broken.
bool decode(std::string_view p, std::vector<Var>& vars) {
  if (p.size() < 4 || p[0] != 0 || p[3] != 0) return false;
  const std::size_t end = 4 + u16(p, 1);
  if (end != p.size()) return false;
  for (std::size_t at = 4; at < end;) {
    if (at + 2 > end) return false;
    const std::size_t kl = u16(p, at);
    at += 2;
    if (kl == 0 || at + kl + 2 > end) return false;
    const std::string_view key = p.substr(at, kl);
    at += kl;
    const std::size_t vl = u16(p, at);
    at += 2;
    if (at + vl > end) return false;
    vars.push_back({key, p.substr(at, vl)});
    at += vl;
  }
  return true;
}

std::string cgiName(std::string_view field) {
  std::string s = "HTTP_";
  for (char c : field) s.push_back(c == '-' ? '_' : (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c);
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  epserve::http::Request req;
  epserve::http::ParseLimits limits;
  limits.maxHeaderBytes = limits.maxRequestLine = 1 << 20;
  if (epserve::http::parseRequest(input, req, limits).status !=
      epserve::http::ParseStatus::Complete) {
    return 0;
  }
  UwsgiParams p;
  p.pathInfo = "/p";
  p.remoteAddr = "127.0.0.1";
  p.remotePort = "1";
  p.documentRoot = "/r";
  p.bufferSize = std::max<std::size_t>(64, static_cast<std::size_t>(data[0]) * 257);

  std::string out = "prefix";
  const UwsgiResult r = epserve::proxy::writeUwsgiRequest(req, p, out);
  FUZZ_CHECK(out.starts_with("prefix"));
  const std::string_view packet = std::string_view(out).substr(6);
  if (r != UwsgiResult::Ok) {
    FUZZ_CHECK(packet.empty());  // a refusal leaves `out` as it was
    // Refused over the buffer size: with the protocol's own limit it encodes, and is larger.
    if (r == UwsgiResult::OverBuffer) {
      p.bufferSize = 65535;
      std::string wide;
      FUZZ_CHECK(epserve::proxy::writeUwsgiRequest(req, p, wide) == UwsgiResult::Ok);
      FUZZ_CHECK(wide.size() - 4 > static_cast<std::size_t>(std::max<std::size_t>(64, data[0] * 257u)));
    }
    return 0;
  }
  std::vector<Var> vars;
  FUZZ_CHECK(decode(packet, vars));
  FUZZ_CHECK(packet.size() - 4 <= p.bufferSize);
  // No variable twice: uWSGI's environ would keep only one of them.
  for (std::size_t i = 0; i < vars.size(); ++i) {
    for (std::size_t j = i + 1; j < vars.size(); ++j) FUZZ_CHECK(vars[i].key != vars[j].key);
  }
  auto find = [&](std::string_view key) -> const Var* {
    for (const Var& v : vars) {
      if (v.key == key) return &v;
    }
    return nullptr;
  };
  FUZZ_CHECK(find("REQUEST_METHOD") && find("REQUEST_METHOD")->value == req.methodText);
  FUZZ_CHECK(find("REQUEST_URI") && find("REQUEST_URI")->value == req.target);
  FUZZ_CHECK(find("PATH_INFO") && find("PATH_INFO")->value == "/p");
  FUZZ_CHECK(find("SERVER_PORT") && !find("SERVER_PORT")->value.empty());
  // Every field's value is in its variable, in order of the fields.
  for (std::size_t i = 0; i < req.headerCount; ++i) {
    const epserve::http::Header& h = req.headers[i];
    std::string key = equalsIgnoreCase(h.name, "Content-Type")     ? "CONTENT_TYPE"
                      : equalsIgnoreCase(h.name, "Content-Length") ? "CONTENT_LENGTH"
                                                                   : cgiName(h.name);
    const Var* v = find(key);
    FUZZ_CHECK(v != nullptr);
    // CGI has one CONTENT_TYPE: the first field's (a request with two lengths never parses).
    if (key.starts_with("CONTENT_") && req.find(h.name).data() != h.value.data()) continue;
    FUZZ_CHECK(v->value.find(h.value) != std::string_view::npos);
  }
  return 0;
}
