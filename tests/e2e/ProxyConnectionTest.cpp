// End-to-end tests of upstream connections through the proxy: the keep-alive pool, the one
// retry of an idempotent request on a stale pooled connection, pipelining, many clients.
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "ProxySupport.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;
using Reply = ScriptedUpstream::Reply;

TEST_CASE("proxy: upstream connections are kept alive and reused across clients") {
  ProxiedRoot p;
  for (int i = 0; i < 5; ++i) {
    Client c = p.connect();
    CHECK(c.request(requestHead("GET", "/app/" + std::to_string(i))).status == 200);
  }
  CHECK(p.upstream.connectionsAccepted() == 1);
}

TEST_CASE("proxy: an upstream's Connection: close is honoured") {
  ProxiedRoot p;
  Reply closing = ScriptedUpstream::ok("bye", "Connection: close\r\n");
  closing.closeAfter = true;
  p.upstream.push(closing);
  Client c = p.connect();
  CHECK(c.request(requestHead("GET", "/app/1")).body == "bye");
  CHECK(c.request(requestHead("GET", "/app/2")).status == 200);
  CHECK(p.upstream.connectionsAccepted() == 2);
}

TEST_CASE("proxy: a pooled connection the upstream closed while idle is not used") {
  ScriptedUpstream::Options o;
  o.closeIdleAfterMillis = 100;
  ProxiedRoot p({}, "/app/", "", o);
  Client c = p.connect();
  CHECK(c.request(requestHead("GET", "/app/1")).status == 200);
  std::this_thread::sleep_for(400ms);  // the upstream closes it; epserve sees the EOF
  CHECK(c.request(requestHead("GET", "/app/2")).status == 200);
  CHECK(p.upstream.connectionsAccepted() == 2);
  CHECK(p.upstream.received().size() == 2);  // nothing was sent into the dead connection
}

TEST_CASE("proxy: a GET that fails on a reused connection before any answer is retried once") {
  ProxiedRoot p;
  Reply hangup;
  hangup.closeWithoutAnswer = true;
  p.upstream.script({ScriptedUpstream::ok("first"), hangup, ScriptedUpstream::ok("retried")});
  Client c = p.connect();
  CHECK(c.request(requestHead("GET", "/app/1")).body == "first");
  HttpResponse r = c.request(requestHead("GET", "/app/2"));
  CHECK(r.status == 200);
  CHECK(r.body == "retried");
  REQUIRE(p.upstream.waitForRequests(3, 2s));
  auto got = p.upstream.received();
  CHECK(got[1].target() == "/app/2");
  CHECK(got[2].target() == "/app/2");
  CHECK(got[2].connectionIndex != got[1].connectionIndex);
}

TEST_CASE("proxy: a POST is never sent twice, even when a reused connection failed") {
  ProxiedRoot p;
  Reply hangup;
  hangup.closeWithoutAnswer = true;
  p.upstream.script({ScriptedUpstream::ok("first"), hangup});
  Client c = p.connect();
  CHECK(c.request(requestHead("GET", "/app/1")).body == "first");
  HttpResponse r = c.request(requestHead("POST", "/app/pay", "Content-Length: 3\r\n") + "10$");
  CHECK(r.status == 502);
  CHECK_FALSE(p.upstream.waitForRequests(3, 300ms));
  CHECK(p.upstream.received().size() == 2);
}

TEST_CASE("proxy: pipelined requests through the proxy are answered in order") {
  ProxiedRoot p;
  p.upstream.script({ScriptedUpstream::ok("one"), ScriptedUpstream::chunked({"tw", "o"}),
                     ScriptedUpstream::ok("three")});
  Client c = p.connect();
  c.send(requestHead("GET", "/app/1") + requestHead("GET", "/index.html") +
         requestHead("GET", "/app/2") + requestHead("GET", "/app/3"));
  CHECK(c.readResponse().body == "one");
  CHECK(c.readResponse().status == 200);  // the static file, in its turn
  CHECK(c.readResponse().body == "two");
  CHECK(c.readResponse().body == "three");
}

TEST_CASE("proxy: 200 concurrent clients all get their answers") {
  ProxiedRoot p;
  constexpr int kClients = 200;
  std::vector<Client> clients;
  clients.reserve(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back(p.server.port());
    clients.back().send(requestHead("GET", "/app/c" + std::to_string(i)));
  }
  int ok = 0;
  for (Client& c : clients) ok += c.readResponse().status == 200;
  CHECK(ok == kClients);
  CHECK(p.upstream.received().size() == kClients);
}

TEST_CASE("proxy: a client that goes away mid-exchange closes the upstream connection (499)") {
  ProxiedRoot p;
  Reply slow = ScriptedUpstream::ok("late");
  slow.delayMillis = 600;
  p.upstream.push(slow);
  {
    Client c = p.connect();
    c.send(requestHead("GET", "/app/away"));
    REQUIRE(p.upstream.waitForRequests(1, 2s));
  }  // closed before the answer
  REQUIRE(p.server.waitForOut("\"GET /app/away HTTP/1.1\" 499", 3s));
  CHECK(p.upstream.received().size() == 1);
}

TEST_CASE("proxy: SIGTERM lets a proxied exchange in flight finish") {
  ProxiedRoot p;
  Reply slow = ScriptedUpstream::ok("finished");
  slow.delayMillis = 500;
  p.upstream.push(slow);
  Client c = p.connect();
  c.send(requestHead("GET", "/app/slow"));
  REQUIRE(p.upstream.waitForRequests(1, 2s));
  p.server.signal(SIGTERM);
  HttpResponse r = c.readResponse();
  CHECK(r.body == "finished");
  CHECK(r.connectionHas("close"));  // told, since the head went out after the SIGTERM
  CHECK(c.waitForClose(2s));
  CHECK(p.server.waitExit(3s) == 0);
}

}  // namespace
}  // namespace epserve::e2e
