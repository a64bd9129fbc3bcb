// Fuzzes parseResponse: no memory error on any bytes, the same answer for every prefix that is not
// Incomplete, Complete heads re-checked by hand, and each one relayed as a proxy would relay it.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "FuzzSupport.h"
#include "http/HopByHop.h"
#include "http/Response.h"
#include "http/ResponseParser.h"
#include "http/Status.h"

namespace {

using epserve::fuzz::asciiIEquals;
using epserve::fuzz::cutPoints;
using epserve::fuzz::hashBytes;
using epserve::fuzz::isOws;
using epserve::fuzz::listElements;
using epserve::fuzz::SplitMix;
using epserve::http::ContentFraming;
using epserve::http::Header;
using epserve::http::HopByHopFilter;
using epserve::http::kMaxHeaders;
using epserve::http::ParsedResponse;
using epserve::http::ParseStatus;
using epserve::http::ResponseFraming;
using epserve::http::ResponseHead;
using epserve::http::ResponseLimits;
using epserve::http::ResponseParseResult;

// A view as an offset into the parsed buffer, so parses of different copies compare equal.
struct ViewPos {
  bool inside = false;
  std::size_t offset = 0;
  std::size_t length = 0;
  bool operator==(const ViewPos&) const = default;
};

ViewPos locate(std::string_view v, std::string_view buffer) {
  const auto start = reinterpret_cast<std::uintptr_t>(buffer.data());
  const auto p = reinterpret_cast<std::uintptr_t>(v.data());
  if (v.data() != nullptr && p >= start && p + v.size() <= start + buffer.size()) {
    return {true, p - start, v.size()};
  }
  return {false, 0, v.size()};
}

// Everything observable about one parse.
struct Snapshot {
  ParseStatus status = ParseStatus::Incomplete;
  std::size_t consumed = 0;
  std::string error;
  int versionMinor = 0;
  int code = 0;
  ViewPos reason, statusLine;
  std::vector<ViewPos> headers;  // name, value, name, value, ...
  ResponseFraming framing = ResponseFraming::None;
  std::uint64_t contentLength = 0;
  bool keepAlive = false;
  bool operator==(const Snapshot&) const = default;
};

Snapshot snapshot(const ResponseParseResult& r, const ParsedResponse& p, std::string_view buffer) {
  Snapshot s;
  s.status = r.status;
  if (r.status == ParseStatus::Error) s.error = std::string(r.error);
  if (r.status != ParseStatus::Complete) return s;
  s.consumed = r.consumed;
  s.versionMinor = p.versionMinor;
  s.code = p.status;
  s.reason = locate(p.reason, buffer);
  s.statusLine = locate(p.statusLine, buffer);
  for (std::size_t i = 0; i < p.headerCount && i < kMaxHeaders; ++i) {
    s.headers.push_back(locate(p.headers[i].name, buffer));
    s.headers.push_back(locate(p.headers[i].value, buffer));
  }
  s.framing = p.framing;
  s.contentLength = p.contentLength;
  s.keepAlive = p.keepAlive;
  return s;
}

bool isTchar(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
}
bool isFieldByte(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7F); }

bool hasField(const ParsedResponse& p, std::string_view name) {
  for (std::size_t i = 0; i < p.headerCount; ++i) {
    if (asciiIEquals(p.headers[i].name, name)) return true;
  }
  return false;
}

// Re-reads a head the parser called Complete, without the parser's code.
void checkComplete(std::string_view in, const ResponseParseResult& r, const ParsedResponse& p,
                   bool headRequest, const ResponseLimits& limits) {
  const std::size_t n = r.consumed;
  FUZZ_CHECK(n >= 15 && n <= in.size());  // "HTTP/1.1 200 \n\n"
  const std::string_view head = in.substr(0, n);
  FUZZ_CHECK(head[n - 1] == '\n');
  FUZZ_CHECK(head[n - 2] == '\n' || (head[n - 2] == '\r' && head[n - 3] == '\n'));
  FUZZ_CHECK(p.status >= 100 && p.status <= 599);
  FUZZ_CHECK(epserve::http::isStatusCode(p.status));
  FUZZ_CHECK(head.substr(0, 7) == "HTTP/1." && head[7] >= '0' && head[7] <= '9');
  // HTTP/1.2..1.9 are read as 1.1 (RFC 9110 §2.5), as in requests.
  FUZZ_CHECK(p.versionMinor == (head[7] == '0' ? 0 : 1));
  FUZZ_CHECK(p.headerCount <= kMaxHeaders && p.headerCount <= limits.maxHeaderCount);

  // The status line and every field lie inside the head, well formed.
  FUZZ_CHECK(p.statusLine.data() == in.data());
  FUZZ_CHECK(p.statusLine.size() <= std::max<std::size_t>(limits.maxStatusLine, 13));
  FUZZ_CHECK(locate(p.reason, head).inside || p.reason.empty());
  FUZZ_CHECK(p.reason.data() == in.data() + 13);
  for (char c : p.reason) FUZZ_CHECK(isFieldByte(static_cast<unsigned char>(c)));
  for (std::size_t i = 0; i < p.headerCount; ++i) {
    const Header& h = p.headers[i];
    FUZZ_CHECK(locate(h.name, head).inside);
    FUZZ_CHECK(locate(h.value, head).inside || h.value.empty());
    FUZZ_CHECK(!h.name.empty());
    for (char c : h.name) FUZZ_CHECK(isTchar(static_cast<unsigned char>(c)));
    FUZZ_CHECK(h.name.data() + h.name.size() < in.data() + n &&
               h.name.data()[h.name.size()] == ':');
    for (char c : h.value) FUZZ_CHECK(isFieldByte(static_cast<unsigned char>(c)));
    if (!h.value.empty()) FUZZ_CHECK(!isOws(h.value.front()) && !isOws(h.value.back()));
  }

  // Framing (RFC 9112 §6.3): never both fields, and the choice follows from status and fields.
  const bool hasLength = hasField(p, "content-length");
  const bool hasCoding = hasField(p, "transfer-encoding");
  FUZZ_CHECK(!(hasLength && hasCoding));
  if (hasCoding) FUZZ_CHECK(p.versionMinor >= 1);
  const bool bodiless = headRequest || p.status < 200 || p.status == 204 || p.status == 304;
  FUZZ_CHECK(p.interim() == (p.status < 200));
  if (bodiless) {
    FUZZ_CHECK(p.framing == ResponseFraming::None);
  } else if (hasCoding) {
    FUZZ_CHECK(p.framing == ResponseFraming::Chunked || p.framing == ResponseFraming::UntilClose);
  } else if (hasLength) {
    FUZZ_CHECK(p.framing == ResponseFraming::ContentLength);
    // Every element of every Content-Length field is the same decimal (RFC 9110 §8.6).
    for (std::size_t i = 0; i < p.headerCount; ++i) {
      if (!asciiIEquals(p.headers[i].name, "content-length")) continue;
      for (std::string_view e : listElements(p.headers[i].value)) {
        if (e.empty()) continue;
        std::uint64_t v = 0;
        for (char c : e) {
          FUZZ_CHECK(c >= '0' && c <= '9');
          FUZZ_CHECK(v <= (UINT64_MAX - static_cast<unsigned>(c - '0')) / 10);
          v = v * 10 + static_cast<unsigned>(c - '0');
        }
        FUZZ_CHECK(v == p.contentLength);
      }
    }
  } else {
    FUZZ_CHECK(p.framing == ResponseFraming::UntilClose);
  }
  if (p.framing != ResponseFraming::ContentLength) FUZZ_CHECK(p.contentLength == 0);
  if (p.framing == ResponseFraming::UntilClose) FUZZ_CHECK(!p.keepAlive);
}

// Hop-by-hop by hand, independently of HopByHop: the fixed names and every option of every
// Connection field (a non-token option can never equal a field name, so it needs no check).
bool hopByHopByHand(const ParsedResponse& p, std::string_view name) {
  for (std::string_view fixed : {"connection", "keep-alive", "proxy-connection", "te", "trailer",
                                 "transfer-encoding", "upgrade"}) {
    if (asciiIEquals(fixed, name)) return true;
  }
  for (std::size_t i = 0; i < p.headerCount; ++i) {
    if (!asciiIEquals(p.headers[i].name, "connection")) continue;
    for (std::string_view option : listElements(p.headers[i].value)) {
      if (!option.empty() && asciiIEquals(option, name)) return true;
    }
  }
  return false;
}

// Relays a Complete head the way a proxy will (end-to-end fields through, framing kept) and
// parses the result again: it must say the same thing.
void checkRelay(const ParsedResponse& p, bool headRequest) {
  // The relayed head adds fields of its own: keep it within the parser's default limits.
  if (p.headerCount > kMaxHeaders - 8 || p.statusLine.size() > 4096) return;
  const std::span<const Header> fields(p.headers.data(), p.headerCount);
  const HopByHopFilter hop(fields);
  static constexpr std::string_view kReplaced[] = {"Content-Length", "Server", "Date"};
  std::vector<char> passThrough(epserve::http::endToEndSize(fields) + 1);
  const std::size_t passLength =
      epserve::http::writeEndToEnd(fields, hop, passThrough.data(), kReplaced);
  FUZZ_CHECK(passLength <= epserve::http::endToEndSize(fields));

  std::vector<Header> expected;
  for (const Header& h : fields) {
    const bool hopByHop = hopByHopByHand(p, h.name);
    FUZZ_CHECK(hop.isHopByHop(h.name) == hopByHop);
    bool replaced = false;
    for (std::string_view name : kReplaced) replaced = replaced || asciiIEquals(name, h.name);
    if (!hopByHop && !replaced) expected.push_back(h);
  }

  ResponseHead out;
  out.status = epserve::http::statusFromCode(p.status);
  out.reason = p.reason;
  out.date = "Thu, 01 Jan 1970 00:00:00 GMT";
  out.passThrough = std::string_view(passThrough.data(), passLength);
  out.contentLength = p.contentLength;
  switch (p.framing) {
    case ResponseFraming::ContentLength: out.framing = ContentFraming::ContentLength; break;
    case ResponseFraming::Chunked: out.framing = ContentFraming::Chunked; break;
    case ResponseFraming::UntilClose: out.framing = ContentFraming::UntilClose; break;
    case ResponseFraming::None:
      out.framing = headRequest ? ContentFraming::None : ContentFraming::ContentLength;
      break;
  }
  std::vector<char> bytes(epserve::http::maxHeadSize(out));
  const std::size_t written = epserve::http::writeResponseHead(out, bytes.data());
  FUZZ_CHECK(written <= bytes.size());
  bytes.resize(written);  // exact size, so ASan sees any over-read

  ParsedResponse again;
  const ResponseParseResult r =
      epserve::http::parseResponse(std::string_view(bytes.data(), bytes.size()), headRequest, again);
  FUZZ_CHECK(r.status == ParseStatus::Complete);
  FUZZ_CHECK(r.consumed == written);
  FUZZ_CHECK(again.status == p.status);
  FUZZ_CHECK(again.versionMinor == 1);
  if (!p.reason.empty()) FUZZ_CHECK(again.reason == p.reason);
  FUZZ_CHECK(again.framing == p.framing);
  FUZZ_CHECK(again.contentLength == p.contentLength);
  FUZZ_CHECK(again.keepAlive == (p.framing != ResponseFraming::UntilClose));
  FUZZ_CHECK(again.headerCount >= expected.size());
  const std::size_t own = again.headerCount - expected.size();
  for (std::size_t i = 0; i < expected.size(); ++i) {
    FUZZ_CHECK(again.headers[own + i].name == expected[i].name);
    FUZZ_CHECK(again.headers[own + i].value == expected[i].value);
  }
}

// Parses a copy of `bytes` in a heap block of exactly its size, so ASan sees any over-read.
Snapshot parseCopy(std::string_view bytes, bool headRequest, const ResponseLimits& limits,
                   ParsedResponse& out) {
  std::unique_ptr<char[]> copy(new char[bytes.size() + (bytes.empty() ? 1 : 0)]);
  if (!bytes.empty()) std::memcpy(copy.get(), bytes.data(), bytes.size());
  const std::string_view view(copy.get(), bytes.size());
  const ResponseParseResult r = epserve::http::parseResponse(view, headRequest, out, limits);
  return snapshot(r, out, view);
}

void checkResult(const ResponseParseResult& r) {
  if (r.status != ParseStatus::Complete) FUZZ_CHECK(r.consumed == 0);
  FUZZ_CHECK(r.error.empty() == (r.status != ParseStatus::Error));
}

// The stateless-parser contract (ResponseParser.h): a prefix says Incomplete or already gives
// the whole input's answer, and any prefix holding the whole head gives Complete.
void checkLimits(std::string_view in, bool headRequest, const ResponseLimits& limits,
                 SplitMix& rng, ParsedResponse& out, bool relay) {
  const ResponseParseResult whole = epserve::http::parseResponse(in, headRequest, out, limits);
  checkResult(whole);
  if (whole.status == ParseStatus::Complete) {
    checkComplete(in, whole, out, headRequest, limits);
    if (relay) checkRelay(out, headRequest);
  }
  const Snapshot expected = snapshot(whole, out, in);

  std::vector<std::size_t> cuts = cutPoints(in.size(), 6, rng);
  std::size_t lineEnds = 0;
  for (std::size_t i = 0; i < in.size() && lineEnds < 64; ++i) {
    if (in[i] == '\n' || in[i] == '\r') {
      cuts.push_back(i);
      cuts.push_back(i + 1);
      ++lineEnds;
    }
  }
  for (std::size_t i = 0; i < 14; ++i) cuts.push_back(i);  // through the fixed status-line shape
  if (whole.status == ParseStatus::Complete) {
    cuts.push_back(whole.consumed - 1);
    cuts.push_back(whole.consumed);
  }
  for (std::size_t k : cuts) {
    if (k >= in.size()) continue;
    const Snapshot got = parseCopy(in.substr(0, k), headRequest, limits, out);
    if (whole.status == ParseStatus::Complete && k >= whole.consumed) {
      FUZZ_CHECK(got.status == ParseStatus::Complete);
    }
    if (got.status != ParseStatus::Incomplete) FUZZ_CHECK(got == expected);
  }
}

}  // namespace

// The first byte's low bit says whether the request was HEAD; the rest is the response.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool headRequest = (data[0] & 1) != 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  SplitMix rng(hashBytes(in));
  static ParsedResponse out;  // 1.6 KiB of views: reused rather than rebuilt for every parse

  checkLimits(in, headRequest, ResponseLimits{}, rng, out, in.size() < 60000);

  // Tiny limits put the line-length, size and count boundaries within reach of short inputs.
  ResponseLimits tiny;
  tiny.maxStatusLine = 1 + rng.upTo(63);
  tiny.maxHeaderBytes = 1 + rng.upTo(255);
  tiny.maxHeaderCount = rng.upTo(8);
  checkLimits(in, headRequest, tiny, rng, out, false);
  return 0;
}
