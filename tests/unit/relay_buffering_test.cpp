// Unit tests for proxy/ResponseRelay's buffering hint: what the upstream's head asks of
// response buffering, and that X-Accel-Buffering never reaches the client.
#include <doctest/doctest.h>

#include <string>

#include "proxy/ResponseRelay.h"

using epserve::proxy::RelaySink;
using epserve::proxy::ResponseRelay;

namespace {

struct StringSink final : RelaySink {
  std::string bytes;
  void write(std::string_view b) override { bytes.append(b); }
};

ResponseRelay::Buffering hintOf(const std::string& fields, std::string* out = nullptr) {
  ResponseRelay relay;
  ResponseRelay::Params p;
  p.date = "Wed, 02 Dec 2026 20:00:00 GMT";
  relay.reset(p);
  StringSink sink;
  std::string response = "HTTP/1.1 200 OK\r\n" + fields + "Content-Length: 2\r\n\r\nok";
  std::size_t used = 0;
  CHECK(relay.feed(response, used, sink) == ResponseRelay::Result::Done);
  if (out) *out = sink.bytes;
  return relay.buffering();
}

}  // namespace

TEST_CASE("response relay: X-Accel-Buffering and server-sent events set the buffering hint") {
  using B = ResponseRelay::Buffering;
  CHECK(hintOf("") == B::Default);
  CHECK(hintOf("Content-Type: text/html\r\n") == B::Default);
  CHECK(hintOf("X-Accel-Buffering: no\r\n") == B::Stream);
  CHECK(hintOf("X-Accel-Buffering: NO\r\n") == B::Stream);
  CHECK(hintOf("X-Accel-Buffering: yes\r\n") == B::Buffer);
  CHECK(hintOf("X-Accel-Buffering: maybe\r\n") == B::Default);
  CHECK(hintOf("Content-Type: text/event-stream\r\n") == B::Stream);
  CHECK(hintOf("Content-Type: Text/Event-Stream ; charset=utf-8\r\n") == B::Stream);
  CHECK(hintOf("Content-Type: text/event-streams\r\n") == B::Default);
  // The upstream's own word wins over the content type.
  CHECK(hintOf("Content-Type: text/event-stream\r\nX-Accel-Buffering: yes\r\n") == B::Buffer);
}

TEST_CASE("response relay: X-Accel-Buffering is not passed to the client") {
  std::string out;
  hintOf("X-Accel-Buffering: no\r\nX-Other: 1\r\n", &out);
  CHECK(out.find("X-Accel-Buffering") == std::string::npos);
  CHECK(out.find("X-Other: 1\r\n") != std::string::npos);
}
