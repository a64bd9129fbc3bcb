// Unit tests for the response relay's protocol switch (proxy/ResponseRelay): a 101 answers an
// upgrade request with the client's head and leaves the new protocol's bytes unconsumed; a 101
// nobody asked for, or to a protocol not offered, is refused before anything is written.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "http/Response.h"
#include "http/ResponseParser.h"
#include "proxy/ResponseRelay.h"

using epserve::proxy::RelaySink;
using epserve::proxy::ResponseRelay;
using Result = ResponseRelay::Result;

namespace {

struct StringSink final : RelaySink {
  std::string bytes;
  void write(std::string_view b) override { bytes.append(b); }
};

ResponseRelay::Params params(std::string_view offered) {
  ResponseRelay::Params p;
  p.date = "Wed, 02 Dec 2026 20:00:00 GMT";
  p.upgradeOffered = offered;
  return p;
}

const std::string kSwitch =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nServer: app\r\n"
    "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\nKeep-Alive: 5\r\n\r\n";

}  // namespace

TEST_CASE("relay: a 101 to an upgrade request writes the switch head and stops there") {
  ResponseRelay relay;
  relay.reset(params("websocket"));
  StringSink sink;
  const std::string frames = "\x81\x05hello";
  std::size_t used = 0;
  CHECK(relay.feed(kSwitch + frames, used, sink) == Result::Upgraded);
  CHECK(used == kSwitch.size());  // the frames behind the head are the tunnel's
  CHECK(relay.status() == 101);
  CHECK(relay.headSent());
  CHECK(sink.bytes ==
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Server: " + std::string(epserve::http::kServerName) + "\r\n"
        "Date: Wed, 02 Dec 2026 20:00:00 GMT\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
        "Upgrade: websocket\r\nConnection: upgrade\r\n\r\n");
  // The head the client gets parses as a 101 with no body.
  epserve::http::ParsedResponse back;
  auto r = epserve::http::parseResponse(sink.bytes, false, back);
  REQUIRE(r.status == epserve::http::ParseStatus::Complete);
  CHECK(r.consumed == sink.bytes.size());
  CHECK(back.status == 101);
  CHECK(back.find("Keep-Alive").data() == nullptr);
}

TEST_CASE("relay: a 103 before the 101 is consumed, the head may arrive byte by byte") {
  ResponseRelay relay;
  relay.reset(params("h2c, websocket"));
  StringSink sink;
  const std::string input = "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" + kSwitch + "x";
  std::string buffered;
  Result last = Result::NeedMore;
  std::size_t fed = 0;
  while (fed < input.size() && last == Result::NeedMore) {
    buffered.push_back(input[fed++]);
    std::size_t used = 0;
    last = relay.feed(buffered, used, sink);
    buffered.erase(0, used);
  }
  CHECK(last == Result::Upgraded);
  CHECK(fed == input.size() - 1);  // it stopped right at the end of the 101's head
  CHECK(buffered.empty());
  CHECK(sink.bytes.find("HTTP/1.1 101 ") == 0);
  CHECK(sink.bytes.find("103") == std::string::npos);
}

TEST_CASE("relay: a 101 nobody asked for, or to a protocol not offered, is a bad head") {
  for (std::string_view offered : {"", "h2c"}) {
    CAPTURE(offered);
    ResponseRelay relay;
    relay.reset(params(offered));
    StringSink sink;
    std::size_t used = 0;
    CHECK(relay.feed(kSwitch, used, sink) == Result::BadHead);
    CHECK(sink.bytes.empty());
    CHECK_FALSE(relay.headSent());
  }
  ResponseRelay relay;
  relay.reset(params("websocket"));
  StringSink sink;
  std::size_t used = 0;
  CHECK(relay.feed("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n\r\n", used,
                   sink) == Result::BadHead);  // no Upgrade: no protocol to switch to
  CHECK(sink.bytes.empty());
}

TEST_CASE("relay: a refused upgrade is relayed as a normal response") {
  ResponseRelay relay;
  relay.reset(params("websocket"));
  StringSink sink;
  std::size_t used = 0;
  const std::string ok = "HTTP/1.1 200 OK\r\nUpgrade: websocket\r\nContent-Length: 2\r\n\r\nno";
  CHECK(relay.feed(ok, used, sink) == Result::Done);
  CHECK(used == ok.size());
  CHECK(relay.status() == 200);
  CHECK(sink.bytes.find("Upgrade") == std::string::npos);  // hop-by-hop outside a switch
  CHECK(sink.bytes.substr(sink.bytes.size() - 4) == "\r\nno");
}
