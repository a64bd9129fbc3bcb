// Fuzzes parseRequest: no memory error on any bytes, the same answer however the bytes arrive,
// and every Complete head re-checked against an independent reading of RFC 9112 framing rules.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "FuzzSupport.h"
#include "http/Request.h"
#include "http/RequestParser.h"
#include "http/Status.h"

namespace {

using epserve::fuzz::asciiIEquals;
using epserve::fuzz::cutPoints;
using epserve::fuzz::hashBytes;
using epserve::fuzz::isOws;
using epserve::fuzz::listElements;
using epserve::fuzz::SplitMix;
using epserve::fuzz::trimOws;
using epserve::http::BodyFraming;
using epserve::http::kMaxHeaders;
using epserve::http::Method;
using epserve::http::ParseLimits;
using epserve::http::ParseResult;
using epserve::http::ParseStatus;
using epserve::http::Request;
using epserve::http::Status;

// Where a view points, as an offset into the parsed buffer, so results from different copies of
// the same bytes compare equal. `Elsewhere` is a view outside the buffer (a static "/").
struct ViewPos {
  enum Kind : std::uint8_t { Null, Inside, Elsewhere } kind = Null;
  std::size_t offset = 0;
  std::size_t length = 0;
  bool operator==(const ViewPos&) const = default;
};

ViewPos locate(std::string_view v, std::string_view buffer) {
  if (v.data() == nullptr) return {ViewPos::Null, 0, v.size()};
  const auto start = reinterpret_cast<std::uintptr_t>(buffer.data());
  const auto p = reinterpret_cast<std::uintptr_t>(v.data());
  if (p >= start && p + v.size() <= start + buffer.size()) {
    return {ViewPos::Inside, p - start, v.size()};
  }
  return {ViewPos::Elsewhere, 0, v.size()};
}

// Everything observable about one parse.
struct Snapshot {
  ParseStatus status = ParseStatus::Incomplete;
  std::size_t consumed = 0;
  Status error = Status::BadRequest;
  std::string_view reason;  // static text: equal views mean equal sentences
  Method method = Method::Other;
  ViewPos methodText, target, path, host;
  int versionMinor = 0;
  std::vector<ViewPos> headers;  // name, value, name, value, ...
  bool keepAlive = false;
  bool expectContinue = false;
  bool unsupportedExpect = false;
  BodyFraming framing = BodyFraming::None;
  std::uint64_t contentLength = 0;
  bool operator==(const Snapshot&) const = default;
};

Snapshot snapshot(const ParseResult& r, const Request& q, std::string_view buffer) {
  Snapshot s;
  s.status = r.status;
  if (r.status == ParseStatus::Error) {
    s.error = r.error;
    s.reason = r.reason;
  }
  if (r.status != ParseStatus::Complete) return s;
  s.consumed = r.consumed;
  s.method = q.method;
  s.methodText = locate(q.methodText, buffer);
  s.target = locate(q.target, buffer);
  s.path = locate(q.path, buffer);
  s.host = locate(q.host, buffer);
  s.versionMinor = q.versionMinor;
  for (std::size_t i = 0; i < q.headerCount && i < kMaxHeaders; ++i) {
    s.headers.push_back(locate(q.headers[i].name, buffer));
    s.headers.push_back(locate(q.headers[i].value, buffer));
  }
  s.keepAlive = q.keepAlive;
  s.expectContinue = q.expectContinue;
  s.unsupportedExpect = q.unsupportedExpect;
  s.framing = q.framing;
  s.contentLength = q.contentLength;
  return s;
}

bool isTchar(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
}
bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!isTchar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}
bool isFieldByte(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7F); }

Method expectedMethod(std::string_view m) {
  if (m == "GET") return Method::Get;
  if (m == "HEAD") return Method::Head;
  if (m == "OPTIONS") return Method::Options;
  if (m == "POST") return Method::Post;
  if (m == "PUT") return Method::Put;
  if (m == "DELETE") return Method::Delete;
  if (m == "PATCH") return Method::Patch;
  return Method::Other;
}

bool isDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Re-reads a head the parser called Complete and checks it against the grammar and the framing
// rules of RFC 9112 §6.3 without using any of the parser's code.
void checkComplete(std::string_view in, const ParseResult& r, const Request& q,
                   const ParseLimits& limits) {
  const std::size_t n = r.consumed;
  FUZZ_CHECK(n >= 3 && n <= in.size());
  const std::string_view head = in.substr(0, n);
  FUZZ_CHECK(head[n - 1] == '\n');
  FUZZ_CHECK(head[n - 2] == '\n' || (head[n - 2] == '\r' && head[n - 3] == '\n'));
  FUZZ_CHECK(q.headerCount <= kMaxHeaders);
  FUZZ_CHECK(q.headerCount <= limits.maxHeaderCount);

  // Every view lies inside the head; only the path of an absolute-form target may be a "/"
  // that is not in the buffer (the target had no path).
  FUZZ_CHECK(locate(q.methodText, head).kind == ViewPos::Inside);
  FUZZ_CHECK(locate(q.target, head).kind == ViewPos::Inside);
  const ViewPos path = locate(q.path, head);
  FUZZ_CHECK(path.kind == ViewPos::Inside || (path.kind == ViewPos::Elsewhere && q.path == "/"));
  FUZZ_CHECK(locate(q.host, head).kind != ViewPos::Elsewhere);
  for (std::size_t i = 0; i < q.headerCount; ++i) {
    FUZZ_CHECK(locate(q.headers[i].name, head).kind == ViewPos::Inside);
    FUZZ_CHECK(locate(q.headers[i].value, head).kind == ViewPos::Inside);
  }

  // Leading empty lines, then: method SP target SP "HTTP/1." DIGIT CRLF.
  const std::size_t lineStart = static_cast<std::size_t>(q.methodText.data() - in.data());
  std::size_t emptyLines = 0;
  for (std::size_t i = 0; i < lineStart;) {
    if (head[i] == '\n') {
      i += 1;
    } else {
      FUZZ_CHECK(head[i] == '\r' && i + 1 < lineStart && head[i + 1] == '\n');
      i += 2;
    }
    ++emptyLines;
  }
  FUZZ_CHECK(emptyLines <= 4);
  FUZZ_CHECK(isToken(q.methodText));
  FUZZ_CHECK(q.method == expectedMethod(q.methodText));
  std::size_t i = lineStart + q.methodText.size();
  FUZZ_CHECK(head[i] == ' ');
  FUZZ_CHECK(q.target.data() == in.data() + i + 1);
  FUZZ_CHECK(!q.target.empty());
  for (char c : q.target) {
    const auto u = static_cast<unsigned char>(c);
    FUZZ_CHECK(u > 0x20 && u < 0x7F && c != '#');
  }
  const bool absoluteForm = q.target.front() != '/' && q.target != "*";
  if (q.target == "*") FUZZ_CHECK(q.method == Method::Options);
  if (absoluteForm) {
    FUZZ_CHECK(asciiIEquals(q.target.substr(0, 7), "http://") ||
               asciiIEquals(q.target.substr(0, 8), "https://"));
  } else {
    FUZZ_CHECK(q.path == q.target);
  }
  FUZZ_CHECK(q.path.front() == '/' || q.path == "*");
  i += 1 + q.target.size();
  // HTTP/1.2..1.9 are handled as 1.1 (RFC 9110 §2.5).
  FUZZ_CHECK(head.substr(i, 8) == " HTTP/1." && head[i + 8] >= '0' && head[i + 8] <= '9');
  FUZZ_CHECK(q.versionMinor == (head[i + 8] == '0' ? 0 : 1));
  i += 9;
  const std::size_t lineEnd = i;
  FUZZ_CHECK(lineEnd - lineStart <= limits.maxRequestLine);
  if (head[i] == '\r') ++i;
  FUZZ_CHECK(head[i] == '\n');
  const std::size_t headerStart = i + 1;
  FUZZ_CHECK(n - headerStart <= limits.maxHeaderBytes);

  // The header section, split by hand: each line up to the final empty one is a field line
  // whose name and trimmed value must be exactly what the parser reported.
  std::size_t count = 0;
  std::size_t hosts = 0;
  std::string_view host;
  std::vector<std::string_view> contentLengths;
  std::vector<std::string_view> transferEncodings;
  bool sawClose = false;
  bool sawKeepAlive = false;
  bool expectContinue = false;
  bool otherExpect = false;
  for (std::size_t pos = headerStart;;) {
    const std::size_t nl = head.find('\n', pos);
    FUZZ_CHECK(nl != std::string_view::npos);
    std::string_view line = head.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = nl + 1;
    if (line.empty()) {
      FUZZ_CHECK(pos == n);
      break;
    }
    FUZZ_CHECK(count < q.headerCount);
    const std::size_t colon = line.find(':');
    FUZZ_CHECK(colon != std::string_view::npos);
    const std::string_view name = line.substr(0, colon);
    const std::string_view rawValue = line.substr(colon + 1);
    FUZZ_CHECK(isToken(name));  // also rules out obs-fold and "Name :"
    for (char c : rawValue) FUZZ_CHECK(isFieldByte(static_cast<unsigned char>(c)));
    const std::string_view value = trimOws(rawValue);
    const auto& h = q.headers[count++];
    FUZZ_CHECK(h.name.data() == name.data() && h.name.size() == name.size());
    FUZZ_CHECK(h.value == value);
    FUZZ_CHECK(h.value.empty() || h.value.data() == value.data());
    FUZZ_CHECK(h.value.empty() || (!isOws(h.value.front()) && !isOws(h.value.back())));

    if (asciiIEquals(name, "host")) {
      ++hosts;
      host = value;
    } else if (asciiIEquals(name, "content-length")) {
      contentLengths.push_back(value);
    } else if (asciiIEquals(name, "transfer-encoding")) {
      transferEncodings.push_back(value);
    } else if (asciiIEquals(name, "connection")) {
      for (std::string_view t : listElements(value)) {
        if (asciiIEquals(t, "close")) sawClose = true;
        if (asciiIEquals(t, "keep-alive")) sawKeepAlive = true;
      }
    } else if (asciiIEquals(name, "expect")) {
      (asciiIEquals(value, "100-continue") ? expectContinue : otherExpect) = true;
    }
  }
  FUZZ_CHECK(count == q.headerCount);

  // RFC 9112 §3.2: at most one Host, exactly one in HTTP/1.1.
  const bool http11 = q.versionMinor == 1;
  FUZZ_CHECK(hosts <= 1);
  if (http11) FUZZ_CHECK(hosts == 1);
  if (!absoluteForm) FUZZ_CHECK(hosts == 1 ? q.host == host : q.host.data() == nullptr);
  if (absoluteForm) FUZZ_CHECK(!q.host.empty());

  // RFC 9112 §6.3: the framing must be the one every reader of these bytes would agree on.
  if (!transferEncodings.empty()) {
    // Transfer-Encoding wins only when it is unambiguous: no Content-Length beside it, 1.1, and
    // "chunked" exactly once, as the final coding (anything else is 400 or 501).
    FUZZ_CHECK(contentLengths.empty());
    FUZZ_CHECK(http11);
    FUZZ_CHECK(q.framing == BodyFraming::Chunked);
    std::size_t chunked = 0;
    std::string_view last;
    for (std::string_view v : transferEncodings) {
      for (std::string_view e : listElements(v)) {
        if (e.empty()) continue;
        FUZZ_CHECK(isToken(e));  // no parameters: chunked takes none, others are 501
        if (asciiIEquals(e, "chunked")) ++chunked;
        last = e;
      }
    }
    FUZZ_CHECK(chunked == 1 && asciiIEquals(last, "chunked"));
  } else if (!contentLengths.empty()) {
    // 1*DIGIT, a repeated value tolerated; "+5", " 5" inside a list, "0x5", "5 5" are errors.
    FUZZ_CHECK(q.framing == BodyFraming::ContentLength);
    for (std::string_view v : contentLengths) {
      for (std::string_view e : listElements(v)) {
        FUZZ_CHECK(isDigits(e));
        std::uint64_t value = 0;
        for (char c : e) {
          FUZZ_CHECK(value <= (UINT64_MAX - static_cast<std::uint64_t>(c - '0')) / 10);
          value = value * 10 + static_cast<std::uint64_t>(c - '0');
        }
        FUZZ_CHECK(value == q.contentLength);
      }
    }
  } else {
    FUZZ_CHECK(q.framing == BodyFraming::None);
    FUZZ_CHECK(q.contentLength == 0);
  }

  FUZZ_CHECK(q.keepAlive == (http11 ? !sawClose : (sawKeepAlive && !sawClose)));
  FUZZ_CHECK(q.expectContinue == (http11 && expectContinue));
  FUZZ_CHECK(q.unsupportedExpect == (http11 && otherExpect));
}

void checkResult(const ParseResult& r) {
  if (r.status == ParseStatus::Error) {
    FUZZ_CHECK(r.error == Status::BadRequest || r.error == Status::UriTooLong ||
               r.error == Status::HeaderFieldsTooLarge || r.error == Status::NotImplemented ||
               r.error == Status::VersionNotSupported);
    FUZZ_CHECK(!r.reason.empty() && r.reason.back() == '.');
  }
}

// Parses a copy of `bytes` in a heap block of exactly its size, so ASan sees any over-read.
Snapshot parseCopy(std::string_view bytes, const ParseLimits& limits, Request& req) {
  std::unique_ptr<char[]> copy(new char[bytes.size() + (bytes.empty() ? 1 : 0)]);
  if (!bytes.empty()) std::memcpy(copy.get(), bytes.data(), bytes.size());
  const std::string_view view(copy.get(), bytes.size());
  const ParseResult r = parseRequest(view, req, limits);
  checkResult(r);
  return snapshot(r, req, view);
}

// The stateless-parser contract: a prefix either says Incomplete or already gives the final
// answer (same status, error, length and fields), and once the whole head is there (any prefix
// at least `consumed` long) it must give Complete. So no prefix may report an Error the whole
// input does not, nor a Complete that more bytes would change.
void checkLimits(std::string_view in, const ParseLimits& limits, SplitMix& rng, Request& req) {
  const ParseResult whole = parseRequest(in, req, limits);
  checkResult(whole);
  if (whole.status == ParseStatus::Complete) checkComplete(in, whole, req, limits);
  const Snapshot expected = snapshot(whole, req, in);

  // Cut right after line ends (where a server re-parses), just before them, around the end of
  // the head, and at a few arbitrary points.
  std::vector<std::size_t> cuts = cutPoints(in.size(), 6, rng);
  std::size_t lineEnds = 0;
  for (std::size_t i = 0; i < in.size() && lineEnds < 64; ++i) {
    if (in[i] == '\n' || in[i] == '\r') {
      cuts.push_back(i);
      cuts.push_back(i + 1);
      ++lineEnds;
    }
  }
  if (whole.status == ParseStatus::Complete) {
    cuts.push_back(whole.consumed - 1);
    cuts.push_back(whole.consumed);
  }
  for (std::size_t k : cuts) {
    if (k >= in.size()) continue;
    const Snapshot got = parseCopy(in.substr(0, k), limits, req);
    if (whole.status == ParseStatus::Complete && k >= whole.consumed) {
      FUZZ_CHECK(got.status == ParseStatus::Complete);
    }
    if (got.status != ParseStatus::Incomplete) FUZZ_CHECK(got == expected);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  SplitMix rng(hashBytes(in));
  static Request req;  // 3 KiB of views: reused rather than rebuilt for every parse

  checkLimits(in, ParseLimits{}, rng, req);

  // Tiny limits put the 414/431 boundaries within reach of short inputs.
  ParseLimits tiny;
  tiny.maxRequestLine = 1 + rng.upTo(63);
  tiny.maxHeaderBytes = 1 + rng.upTo(255);
  tiny.maxHeaderCount = rng.upTo(8);
  checkLimits(in, tiny, rng, req);
  return 0;
}
