// Fuzzes the entity-tag list matching of If-None-Match / If-Match (RFC 9110 §13.1.1-2): raw
// values must not crash and keep the weak/strong relations, generated lists must match exactly
// when they contain our tag, and makeEtag must tell files apart.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "FuzzSupport.h"
#include "fs/FileInfo.h"
#include "http/Conditional.h"
#include "http/Request.h"
#include "http/Status.h"

namespace {

using epserve::fs::FileInfo;
using epserve::http::ifMatchMatches;
using epserve::http::ifNoneMatchMatches;
using epserve::http::kMaxEtagLength;
using epserve::http::makeEtag;
using epserve::http::Method;
using epserve::http::Request;
using epserve::http::Status;

// Consumes bytes from the front of the input; zeros once it runs out.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  std::uint8_t byte() {
    if (s_.empty()) return 0;
    const auto b = static_cast<std::uint8_t>(s_.front());
    s_.remove_prefix(1);
    return b;
  }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | byte();
    return v;
  }
  std::string_view take(std::size_t n) {
    n = n < s_.size() ? n : s_.size();
    const std::string_view out = s_.substr(0, n);
    s_.remove_prefix(n);
    return out;
  }
  std::string_view rest() const { return s_; }
  bool empty() const { return s_.empty(); }

 private:
  std::string_view s_;
};

FileInfo readInfo(Reader& r) {
  FileInfo info;
  info.mtimeSec = static_cast<std::int64_t>(r.u64());
  // tv_nsec is below 1e9 for a real file; the tag is only promised to cover that range.
  info.mtimeNsec = static_cast<std::int64_t>(r.u64() % 1000000000ULL);
  info.size = r.u64();
  return info;
}

std::string etagOf(const FileInfo& info) {
  char buf[kMaxEtagLength];
  const std::size_t n = makeEtag(info.size, info.mtimeSec, info.mtimeNsec, buf);
  FUZZ_CHECK(n >= 2 && n <= kMaxEtagLength);
  const std::string tag(buf, n);
  FUZZ_CHECK(tag.front() == '"' && tag.back() == '"');
  for (std::size_t i = 1; i + 1 < n; ++i) {
    const char c = tag[i];
    FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '.' || c == '-');
  }
  return tag;
}

// The relations that hold for any header value and any tag.
void checkRaw(std::string_view value, std::string_view etag) {
  const bool weak = ifNoneMatchMatches(value, etag);
  const bool strong = ifMatchMatches(value, etag);
  if (value == "*") FUZZ_CHECK(weak && strong);  // "*" matches any current representation
  if (strong) FUZZ_CHECK(weak);  // strong comparison is the stricter one (RFC 9110 §8.8.3.2)
}

bool isEtagc(unsigned char c) { return c == 0x21 || (c >= 0x23 && c != 0x7F); }

// A list built from the input: well-formed by construction, so whether it matches is known.
// Each step appends an element (our tag, its weak form, another tag, an empty element) with
// optional whitespace around the comma.
void checkGenerated(Reader& r, const std::string& ours) {
  std::string value;
  bool containsStrong = false;
  bool containsAny = false;
  const unsigned steps = r.byte() % 12;
  for (unsigned i = 0; i < steps; ++i) {
    if (i > 0) {
      value += std::string(r.byte() % 3, ' ');
      value += ',';
      const std::size_t spaces = r.byte() % 3;
      value += std::string(spaces, (r.byte() & 1) != 0 ? '\t' : ' ');
    }
    switch (r.byte() % 4) {
      case 0:
        value += ours;
        containsStrong = containsAny = true;
        break;
      case 1:
        value += "W/" + ours;
        containsAny = true;
        break;
      case 2: {
        // Another tag: etagc bytes from the input (possibly a comma, a space or obs-text).
        std::string other = "\"";
        const std::size_t len = r.byte() % 16;
        for (std::size_t k = 0; k < len; ++k) {
          const auto c = r.byte();
          other.push_back(static_cast<char>(isEtagc(c) ? c : 'x'));
        }
        other += '"';
        if (r.byte() & 1) other = "W/" + other;
        value += other;
        const std::string_view opaque = std::string_view(other).substr(other[0] == 'W' ? 2 : 0);
        if (opaque == ours) {
          containsAny = true;
          if (other[0] != 'W') containsStrong = true;
        }
        break;
      }
      default:
        break;  // an empty element: ", ," is allowed and ignored (RFC 9110 §5.6.1.2)
    }
  }
  FUZZ_CHECK(ifNoneMatchMatches(value, ours) == containsAny);
  FUZZ_CHECK(ifMatchMatches(value, ours) == containsStrong);
  // One malformed member spoils the whole list.
  for (const char* junk : {", x", ", \"", ", W/", ", \"a\" b", ", \"a\"\"b\""}) {
    const std::string bad = value + junk;
    FUZZ_CHECK(!ifNoneMatchMatches(bad, ours));
    FUZZ_CHECK(!ifMatchMatches(bad, ours));
  }
}

// evaluatePreconditions on a request whose conditional fields come from the input: the answer
// is one of three, and the unambiguous cases are what RFC 9110 §13.2.2 says.
void checkPreconditions(Reader& r, const std::string& etag, std::int64_t mtime) {
  static constexpr std::string_view kNames[] = {"If-Match", "If-None-Match", "If-Modified-Since",
                                                "If-Unmodified-Since", "if-none-match", "Host"};
  Request req;
  req.method = (r.byte() & 1) ? Method::Get : Method::Post;
  std::string storage[4];
  const std::size_t fields = r.byte() % 5;
  for (std::size_t i = 0; i < fields; ++i) {
    const std::size_t name = r.byte() % std::size(kNames);
    storage[i] = std::string(r.take(r.byte() % 40));
    req.headers[req.headerCount++] = {kNames[name], storage[i]};
  }
  const Status s = evaluatePreconditions(req, etag, mtime);
  FUZZ_CHECK(s == Status::Ok || s == Status::NotModified || s == Status::PreconditionFailed);
  if (fields == 0) FUZZ_CHECK(s == Status::Ok);

  Request star;
  star.method = Method::Get;
  star.headers[star.headerCount++] = {"If-None-Match", "*"};
  FUZZ_CHECK(evaluatePreconditions(star, etag, mtime) == Status::NotModified);
  star.method = Method::Put;
  FUZZ_CHECK(evaluatePreconditions(star, etag, mtime) == Status::PreconditionFailed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  // Raw: the first byte says where the header value ends and an arbitrary "etag" begins.
  {
    Reader r(in);
    const std::string_view value = r.take(r.byte());
    checkRaw(value, r.rest());
    checkRaw(in, "\"x\"");
    checkRaw("*", in);
  }

  Reader r(in);
  const FileInfo a = readInfo(r);
  const FileInfo b = readInfo(r);
  const std::string tagA = etagOf(a);
  const std::string tagB = etagOf(b);
  // The tag changes whenever size or mtime (to the nanosecond) does, and only then.
  const bool same = a.mtimeSec == b.mtimeSec && a.mtimeNsec == b.mtimeNsec && a.size == b.size;
  FUZZ_CHECK((tagA == tagB) == same);
  FUZZ_CHECK(ifNoneMatchMatches(tagA, tagA) && ifMatchMatches(tagA, tagA));
  FUZZ_CHECK(ifNoneMatchMatches("W/" + tagA, tagA) && !ifMatchMatches("W/" + tagA, tagA));

  checkGenerated(r, tagA);
  checkPreconditions(r, tagA, a.mtimeSec);
  return 0;
}
