// Fuzzes the proxy's response path (ResponseRelay: strict head parsing, hop-by-hop removal,
// re-framing): arbitrary upstream bytes, fed whole and cut at random points, never crash, give
// the same client bytes either way, and what the client gets is one unambiguous response whose
// body is the upstream's, or visibly cut short.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "FuzzSupport.h"
#include "http/BodyDecoder.h"
#include "http/ResponseParser.h"
#include "proxy/ResponseRelay.h"

// Input: byte 0 holds flags (bit 0 HEAD request, bit 1 HTTP/1.0 client, bit 2 client asked to
// close, bit 3 a uwsgi route that takes CGI heads); the rest is what the upstream sends.

namespace {

using epserve::fuzz::cutPoints;
using epserve::fuzz::hashBytes;
using epserve::fuzz::SplitMix;
using epserve::http::BodyDecoder;
using epserve::http::ResponseFraming;
using epserve::proxy::RelaySink;
using epserve::proxy::ResponseRelay;
using Result = ResponseRelay::Result;

struct StringSink final : RelaySink {
  std::string bytes;
  void write(std::string_view b) override { bytes.append(b); }
};

struct Outcome {
  Result result = Result::NeedMore;
  std::string client;
  std::uint64_t bodyBytes = 0;
  std::size_t used = 0;  // upstream bytes that belonged to the response
};

// Feeds `upstream` in pieces ending at `cuts`, keeping unconsumed bytes as a connection's input
// buffer would, then the close.
Outcome relay(const ResponseRelay::Params& p, std::string_view upstream,
              const std::vector<std::size_t>& cuts) {
  ResponseRelay r;
  r.reset(p);
  StringSink sink;
  Outcome o;
  std::string pending;
  std::size_t at = 0;
  std::vector<std::size_t> ends = cuts;
  ends.push_back(upstream.size());
  for (std::size_t end : ends) {
    if (end < at) continue;
    pending.append(upstream.substr(at, end - at));
    at = end;
    std::size_t consumed = 0;
    o.result = r.feed(pending, consumed, sink);
    FUZZ_CHECK(consumed <= pending.size());
    o.used += consumed;
    pending.erase(0, consumed);
    if (o.result != Result::NeedMore) break;
  }
  if (o.result == Result::NeedMore) {
    FUZZ_CHECK(pending.size() <= ResponseRelay::kMaxHead || r.headSent());
    o.result = r.finish(sink);
  }
  if (o.result == Result::BadHead) FUZZ_CHECK(sink.bytes.empty());
  FUZZ_CHECK((o.result == Result::BadHead) != r.headSent());
  o.client = std::move(sink.bytes);
  o.bodyBytes = r.bodyBytes();
  return o;
}

// The body content an independent decoder finds in `bytes` framed as `parsed` says, and whether
// that body ended by its own framing (the close ends an until-close body).
struct Decoded {
  std::string data;
  bool complete = false;
  std::size_t rest = 0;  // bytes after the body's end
};

Decoded decode(const epserve::http::ParsedResponse& parsed, std::string_view bytes) {
  BodyDecoder d(parsed.framing, parsed.contentLength);
  Decoded out;
  std::size_t used = 0;
  auto r = d.feed(bytes, used, [&](std::string_view s) { out.data.append(s); });
  if (r == BodyDecoder::Result::NeedMore) r = d.finish();
  out.complete = r == BodyDecoder::Result::Done;
  out.rest = bytes.size() - used;
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t flags = data[0];
  std::string_view upstream(reinterpret_cast<const char*>(data) + 1, size - 1);
  ResponseRelay::Params p;
  p.headRequest = flags & 1;
  p.clientVersionMinor = (flags & 2) ? 0 : 1;
  p.clientKeepAlive = !(flags & 4);
  p.cgiHeads = (flags & 8) != 0;  // a uwsgi route: CGI Status heads accepted too
  p.date = "Mon, 01 Jan 2024 00:00:00 GMT";

  SplitMix rng(hashBytes(upstream));
  Outcome whole = relay(p, upstream, {});
  Outcome split = relay(p, upstream, cutPoints(upstream.size(), 6, rng));
  FUZZ_CHECK(whole.result == split.result);
  FUZZ_CHECK(whole.bodyBytes == split.bodyBytes);
  if (whole.result == Result::BadHead) return 0;

  // What the client receives parses under the strict rules, as one complete head. The head is
  // the same however the upstream's bytes arrived; the body's chunks may differ, its content not.
  epserve::http::ParsedResponse client, clientSplit;
  auto head = epserve::http::parseResponse(whole.client, p.headRequest, client);
  FUZZ_CHECK(head.status == epserve::http::ParseStatus::Complete);
  FUZZ_CHECK(!client.interim());
  auto headSplit = epserve::http::parseResponse(split.client, p.headRequest, clientSplit);
  FUZZ_CHECK(headSplit.status == epserve::http::ParseStatus::Complete);
  FUZZ_CHECK(whole.client.substr(0, head.consumed) == split.client.substr(0, headSplit.consumed));
  Decoded got = decode(client, std::string_view(whole.client).substr(head.consumed));
  Decoded gotSplit = decode(clientSplit, std::string_view(split.client).substr(headSplit.consumed));
  FUZZ_CHECK(got.data == gotSplit.data);
  FUZZ_CHECK(got.complete == gotSplit.complete);
  FUZZ_CHECK(got.rest == 0);  // nothing after the body: no second response smuggled in
  FUZZ_CHECK(got.data.size() == whole.bodyBytes);
  if (!p.clientKeepAlive) FUZZ_CHECK(!client.keepAlive);  // the head said Connection: close

  // The body is the upstream's own content.
  epserve::http::ParsedResponse up;
  auto upHead = epserve::http::parseResponse(upstream, p.headRequest, up);
  if (upHead.status == epserve::http::ParseStatus::Complete && !up.interim()) {
    Decoded want = decode(up, upstream.substr(upHead.consumed));
    FUZZ_CHECK(want.data.rfind(got.data, 0) == 0);  // a prefix, or all of it
    if (whole.result == Result::Done) FUZZ_CHECK(want.data == got.data);
  }
  if (whole.result == Result::Done) {
    FUZZ_CHECK(got.complete);
  } else if (client.framing != ResponseFraming::UntilClose) {
    // Cut short upstream: the client can tell (no final chunk, fewer bytes than announced).
    FUZZ_CHECK(!got.complete);
  }
  return 0;
}
