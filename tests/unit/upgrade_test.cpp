// Unit tests for the protocol-switch rules (http/Upgrade): which requests ask to upgrade, and
// which 101 protocol choices a client offered (RFC 9110 §7.8).
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "http/Request.h"
#include "http/RequestParser.h"
#include "http/Upgrade.h"

using epserve::http::ParseStatus;
using epserve::http::parseRequest;
using epserve::http::Request;
using epserve::http::requestsUpgrade;
using epserve::http::upgradeOffered;

namespace {

// Parses `head` (which must be a complete, valid request) and asks whether it upgrades.
bool asks(const std::string& head) {
  auto req = std::make_unique<Request>();
  REQUIRE(parseRequest(head, *req).status == ParseStatus::Complete);
  return requestsUpgrade(*req);
}

}  // namespace

TEST_CASE("upgrade: a 1.1 request with Upgrade and Connection: upgrade asks to switch") {
  CHECK(asks("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"));
  // Firefox: a list, in any case, the option anywhere in it.
  CHECK(asks("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, UPGRADE\r\n"
             "Upgrade: websocket\r\n\r\n"));
  // The option in a second Connection field, several protocols with versions.
  CHECK(asks("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nConnection: upgrade\r\n"
             "Upgrade: h2c, TLS/1.0, websocket\r\n\r\n"));
}

TEST_CASE("upgrade: without both fields, in HTTP/1.0, or with a bad protocol, no switch") {
  CHECK_FALSE(asks("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n"));
  CHECK_FALSE(asks("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n"));
  CHECK_FALSE(asks("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgraded\r\nUpgrade: ws\r\n\r\n"));
  CHECK_FALSE(asks("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade:\r\n\r\n"));
  CHECK_FALSE(asks("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: , \r\n\r\n"));
  CHECK_FALSE(asks("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: a b\r\n\r\n"));
  CHECK_FALSE(asks("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: x/\r\n\r\n"));
  // RFC 9110 §7.8: a server must ignore Upgrade in an HTTP/1.0 request.
  CHECK_FALSE(asks("GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"));
}

TEST_CASE("upgrade: a 101 may only choose protocols the request offered") {
  CHECK(upgradeOffered("websocket", "websocket"));
  CHECK(upgradeOffered("websocket", "WebSocket"));
  CHECK(upgradeOffered("h2c, websocket", "websocket"));
  CHECK(upgradeOffered("HTTP/2.0, SHTTP/1.3", "HTTP/2.0, SHTTP/1.3"));
  CHECK(upgradeOffered("echo", " echo ,"));
  CHECK_FALSE(upgradeOffered("websocket", "h2c"));
  CHECK_FALSE(upgradeOffered("websocket", "websocket, h2c"));
  CHECK_FALSE(upgradeOffered("HTTP/2.0", "HTTP"));  // whole elements, versions included
  CHECK_FALSE(upgradeOffered("websocket", ""));
  CHECK_FALSE(upgradeOffered("websocket", ","));
  CHECK_FALSE(upgradeOffered("websocket", "web socket"));
  CHECK_FALSE(upgradeOffered("", "websocket"));
}
