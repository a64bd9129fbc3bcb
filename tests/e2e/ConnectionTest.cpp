// End-to-end tests for connection management: keep-alive, pipelining, request bodies, timeouts.
// Framing bugs show up here as a response parsed from the wrong byte, so bodies are checked too.
#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <sstream>
#include <thread>

#include "Client.h"
#include "Curl.h"
#include "ServedRoot.h"

namespace epserve::e2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::size_t countLinesWith(const std::string& text, const std::string& needle) {
  std::istringstream lines(text);
  std::size_t count = 0;
  for (std::string line; std::getline(lines, line);) {
    count += line.find(needle) != std::string::npos ? 1 : 0;
  }
  return count;
}

TEST_CASE("connection: several requests reuse one keep-alive connection") {
  ServedRoot served;
  Client client = served.connect();
  const std::string targets[] = {"/index.html", "/style.css", "/absent", "/blob.bin", "/"};
  for (const std::string& target : targets) {
    CAPTURE(target);
    const HttpResponse response = client.request(requestHead("GET", target));
    CHECK((response.status == 200 || target == "/absent"));
    CHECK_FALSE(response.connectionHas("close"));
  }
  // All five were logged against the same client port, i.e. one TCP connection.
  const std::string peer = "127.0.0.1:" + std::to_string(client.localPort()) + " ";
  REQUIRE(served.server.waitForOut("\"GET / HTTP/1.1\"", 3s));
  CHECK(countLinesWith(served.server.out(), peer) == 5);
  CHECK_FALSE(client.waitForClose(200ms));
}

TEST_CASE("connection: curl with several URLs reuses one connection") {
  ServedRoot served;
  const CurlResult curl =
      runCurl({"-s", "-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null", "-w",
               "%{http_code} %{num_connects}\\n", served.url("/index.html"),
               served.url("/style.css"), served.url("/data.json")});
  CHECK(curl.exitCode == 0);
  CHECK(curl.out == "200 1\n200 0\n200 0\n");
  REQUIRE(served.server.waitForOut("\"GET /data.json HTTP/1.1\"", 3s));
  // The access log names one client address:port for all three requests.
  const std::string log = served.server.out();
  const std::size_t space = log.find(' ');
  REQUIRE(space != std::string::npos);
  CHECK(countLinesWith(log, log.substr(0, space + 1)) == 3);
}

TEST_CASE("connection: three pipelined requests in one write are answered in order") {
  ServedRoot served;
  Client client = served.connect();
  client.send(requestHead("GET", "/style.css") + requestHead("GET", "/absent.txt") +
              requestHead("GET", "/data.json"));
  const HttpResponse first = client.readResponse();
  const HttpResponse second = client.readResponse();
  const HttpResponse third = client.readResponse();
  CHECK(first.status == 200);
  CHECK(first.body == served.files.readFile("style.css"));
  CHECK(second.status == 404);
  CHECK(second.body == served.files.readFile("noIndex.html"));
  CHECK(third.status == 200);
  CHECK(third.body == served.files.readFile("data.json"));
}

TEST_CASE("connection: pipelined GET HEAD GET keeps the framing right") {
  ServedRoot served;
  Client client = served.connect();
  client.send(requestHead("GET", "/blob.bin") + requestHead("HEAD", "/index.html") +
              requestHead("GET", "/readme.txt"));
  const HttpResponse blob = client.readResponse();
  const HttpResponse head = client.readResponse(true);
  const HttpResponse text = client.readResponse();
  CHECK(blob.status == 200);
  CHECK(sameBytes(blob.body, served.files.readFile("blob.bin")));
  CHECK(head.status == 200);
  CHECK(text.status == 200);
  CHECK(text.body == served.files.readFile("readme.txt"));
}

TEST_CASE("connection: pipelined requests queued behind a large file stay in order") {
  TempRoot files;
  const std::string large = patternBytes(3u << 20);
  files.writeFile("large.bin", large);
  ServerProcess server(files.root());
  // A small receive window makes the server queue the later responses while the file drains.
  Client client(server.port(), "127.0.0.1", 64 * 1024);
  client.send(requestHead("GET", "/large.bin") + requestHead("HEAD", "/index.html") +
              requestHead("GET", "/absent") + requestHead("GET", "/style.css"));
  const HttpResponse file = client.readResponse();
  const HttpResponse head = client.readResponse(true);
  const HttpResponse missing = client.readResponse();
  const HttpResponse css = client.readResponse();
  CHECK(file.status == 200);
  CHECK(sameBytes(file.body, large));
  CHECK(head.status == 200);
  CHECK(head.header("Content-Length") == std::to_string(files.readFile("index.html").size()));
  CHECK(missing.status == 404);
  CHECK(missing.body == files.readFile("noIndex.html"));
  CHECK(css.status == 200);
  CHECK(css.body == files.readFile("style.css"));
}

TEST_CASE("connection: HTTP/1.0 closes by default") {
  ServedRoot served;
  Client client = served.connect();
  const HttpResponse response = client.request("GET /index.html HTTP/1.0\r\n\r\n");
  CHECK(response.status == 200);
  CHECK(response.body == served.files.readFile("index.html"));
  CHECK_FALSE(response.connectionHas("keep-alive"));
  CHECK(client.waitForClose(3s));
  CHECK(client.pending().empty());
}

TEST_CASE("connection: HTTP/1.0 with Connection keep-alive stays open") {
  ServedRoot served;
  Client client = served.connect();
  const std::string request = "GET /index.html HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
  const HttpResponse first = client.request(request);
  CHECK(first.status == 200);
  CHECK(first.connectionHas("keep-alive"));
  CHECK(first.body == served.files.readFile("index.html"));
  const HttpResponse second = client.request(request);
  CHECK(second.status == 200);
  CHECK(second.body == served.files.readFile("index.html"));
  // Without the option the 1.0 default applies again.
  const HttpResponse third = client.request("GET /style.css HTTP/1.0\r\n\r\n");
  CHECK(third.status == 200);
  CHECK(client.waitForClose(3s));
}

TEST_CASE("connection: Connection close is honoured") {
  ServedRoot served;
  Client client = served.connect();
  // The request after the closing one must never be answered (RFC 9112 §9.6).
  client.send(requestHead("GET", "/index.html", "Connection: close\r\n") +
              requestHead("GET", "/style.css"));
  const HttpResponse response = client.readResponse();
  CHECK(response.status == 200);
  CHECK(response.connectionHas("close"));
  CHECK(response.body == served.files.readFile("index.html"));
  CHECK(client.waitForClose(3s));
  CHECK(client.pending().empty());
}

TEST_CASE("connection: Content-Length body followed by a pipelined GET in one write") {
  ServedRoot served;
  Client client = served.connect();
  // The body looks like a request: if it were not skipped, a third response would appear.
  const std::string body = "GET /blob.bin HTTP/1.1\r\nHost: x\r\n\r\n";
  client.send(
      requestHead("GET", "/index.html", "Content-Length: " + std::to_string(body.size()) + "\r\n") +
      body + requestHead("POST", "/index.html", "Content-Length: 5\r\n") + "hello" +
      requestHead("GET", "/style.css"));
  const HttpResponse withBody = client.readResponse();
  const HttpResponse post = client.readResponse();
  const HttpResponse after = client.readResponse();
  CHECK(withBody.status == 200);
  CHECK(withBody.body == served.files.readFile("index.html"));
  CHECK(post.status == 405);
  CHECK(after.status == 200);
  CHECK(after.body == served.files.readFile("style.css"));
  CHECK_FALSE(client.waitForClose(300ms));
  CHECK(client.pending().empty());
}

TEST_CASE("connection: chunked body followed by a pipelined GET in one write") {
  ServedRoot served;
  Client client = served.connect();
  client.send(requestHead("POST", "/index.html", "Transfer-Encoding: chunked\r\n") +
              "5\r\nhello\r\n1a\r\nGET /blob.bin HTTP/1.1\r\n\r\n\r\n0\r\n\r\n" +
              requestHead("GET", "/style.css"));
  const HttpResponse post = client.readResponse();
  const HttpResponse after = client.readResponse();
  CHECK(post.status == 405);
  CHECK(post.header("Allow") == "GET, HEAD, OPTIONS");
  CHECK(after.status == 200);
  CHECK(after.body == served.files.readFile("style.css"));
  CHECK_FALSE(client.waitForClose(300ms));
  CHECK(client.pending().empty());
}

TEST_CASE("connection: chunk extensions and trailer fields are consumed") {
  ServedRoot served;
  Client client = served.connect();
  // RFC 9112 §7.1.1 chunk-ext and §7.1.2 trailer section.
  client.send(requestHead("GET", "/index.html", "Transfer-Encoding: chunked\r\n") +
              "4;name=value\r\nabcd\r\n0\r\nX-Trailer: yes\r\n\r\n" +
              requestHead("GET", "/readme.txt"));
  const HttpResponse first = client.readResponse();
  const HttpResponse second = client.readResponse();
  CHECK(first.status == 200);
  CHECK(first.body == served.files.readFile("index.html"));
  CHECK(second.status == 200);
  CHECK(second.body == served.files.readFile("readme.txt"));
}

TEST_CASE("connection: body split across writes is waited for") {
  ServedRoot served;
  Client client = served.connect();
  client.send(requestHead("GET", "/index.html", "Content-Length: 10\r\n") + "01234");
  std::this_thread::sleep_for(200ms);
  client.send(std::string("56789") + requestHead("GET", "/style.css"));
  const HttpResponse first = client.readResponse();
  const HttpResponse second = client.readResponse();
  CHECK(first.status == 200);
  CHECK(first.body == served.files.readFile("index.html"));
  CHECK(second.status == 200);
  CHECK(second.body == served.files.readFile("style.css"));
}

TEST_CASE("connection: Expect 100-continue gets 100 Continue before the final response") {
  ServedRoot served;
  Client client = served.connect();
  client.send(requestHead("GET", "/index.html", "Content-Length: 5\r\nExpect: 100-continue\r\n"));
  // The body has not been sent: the server must invite it (RFC 9110 §10.1.1).
  const HttpResponse interim = client.readResponse(false, true);
  CHECK(interim.status == 100);
  CHECK(interim.version == "HTTP/1.1");
  client.send("hello");
  const HttpResponse final = client.readResponse();
  CHECK(final.status == 200);
  CHECK(final.body == served.files.readFile("index.html"));
  // Still in step for the next request.
  const HttpResponse next = client.request(requestHead("GET", "/style.css"));
  CHECK(next.status == 200);
  CHECK(next.body == served.files.readFile("style.css"));
}

TEST_CASE("connection: stalled request head gets 408 and is closed after --header-timeout") {
  ServedRoot served({"--header-timeout", "1"});
  Client client = served.connect();
  const auto start = Clock::now();
  client.send("GET /index.html HTTP/1.1\r\nHost: 127.");
  const HttpResponse response = client.readResponse();
  const auto elapsed = Clock::now() - start;
  CHECK(response.status == 408);
  CHECK(response.connectionHas("close"));
  CHECK(elapsed >= 800ms);
  CHECK(elapsed < 3s);
  CHECK(client.waitForClose(2s));
}

TEST_CASE("connection: a head trickled byte by byte still times out from its first byte") {
  ServedRoot served({"--header-timeout", "1"});
  Client client = served.connect();
  const std::string partial = "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: abcdef";
  const auto start = Clock::now();
  // One byte per 100 ms for 1.5 s. A timer restarted by every read would fire only 1 s after the
  // last byte (about 2.5 s); the limit counts from the first byte, so the 408 is due at about 1 s.
  for (std::size_t i = 0; i < partial.size() && Clock::now() - start < 1500ms; ++i) {
    try {
      client.send(partial.substr(i, 1));
    } catch (const std::exception&) {
      break;  // the server already answered and closed
    }
    std::this_thread::sleep_for(100ms);
  }
  const HttpResponse response = client.readResponse();
  CHECK(response.status == 408);
  CHECK(Clock::now() - start < 2200ms);
  CHECK(client.waitForClose(2s));
}

TEST_CASE("connection: a connection that sends nothing is closed after --header-timeout") {
  ServedRoot served({"--header-timeout", "1"});
  Client client = served.connect();
  const auto start = Clock::now();
  CHECK(client.waitForClose(3s));
  CHECK(Clock::now() - start >= 800ms);
  CHECK(client.pending().empty());
}

TEST_CASE("connection: idle keep-alive connection is closed after --keepalive-timeout") {
  ServedRoot served({"--keepalive-timeout", "1"});
  Client client = served.connect();
  const HttpResponse response = client.request(requestHead("GET", "/index.html"));
  CHECK(response.status == 200);
  const auto idleSince = Clock::now();
  CHECK(client.waitForClose(3s));
  CHECK(Clock::now() - idleSince >= 800ms);
  CHECK(client.pending().empty());
}

TEST_CASE("connection: requests keep resetting the keep-alive timer") {
  ServedRoot served({"--keepalive-timeout", "1"});
  Client client = served.connect();
  const auto start = Clock::now();
  for (int i = 0; i < 5; ++i) {
    CAPTURE(i);
    const HttpResponse response = client.request(requestHead("GET", "/style.css"));
    CHECK(response.status == 200);
    std::this_thread::sleep_for(500ms);
  }
  // 2.5 s of traffic on one connection, more than the 1 s idle limit.
  CHECK(Clock::now() - start >= 2s);
}

TEST_CASE("connection: over --max-connections a client gets a 503 error page and a close") {
  ServedRoot served({"--max-connections", "1", "--header", "X-Site: e2e"});
  std::optional<Client> first(served.connect());
  REQUIRE(first->request(requestHead("GET", "/index.html")).status == 200);  // holds the slot

  Client second = served.connect();
  second.send(requestHead("GET", "/index.html"));
  const HttpResponse busy = second.readResponse();
  CHECK(busy.status == 503);
  CHECK(busy.header("Retry-After") == "1");
  CHECK(busy.header("X-Site") == "e2e");  // the same head as every other response
  CHECK(busy.header("Content-Type") == "text/html; charset=utf-8");
  CHECK(busy.body.find("503") != std::string::npos);
  CHECK(busy.connectionHas("close"));
  CHECK(second.waitForClose(2s));

  first.reset();  // frees the slot once the server has seen the close
  int status = 0;
  for (int attempt = 0; attempt < 50 && status != 200; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(20ms);
    Client third = served.connect();
    status = third.request(requestHead("GET", "/index.html")).status;
  }
  CHECK(status == 200);
}

}  // namespace
}  // namespace epserve::e2e
