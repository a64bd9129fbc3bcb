// One proxied request on behalf of a client connection: picks an upstream server, reuses a
// pooled connection or connects, sends the re-framed request, relays the response re-framed
// for the client with back-pressure, and pools the upstream connection when it can be reused.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "http/Request.h"
#include "proxy/BodyBuffer.h"
#include "proxy/BodyStream.h"
#include "proxy/Gateway.h"
#include "proxy/ResponseRelay.h"
#include "proxy/ResponseSpool.h"
#include "proxy/UpstreamConnection.h"
#include "reactor/Connector.h"
#include "reactor/OutputQueue.h"
#include "reactor/SocketAddress.h"

namespace epserve::server {
class LoopContext;
}

namespace epserve::proxy {

// How an exchange ended, for the client connection.
enum class ExchangeEnd : std::uint8_t {
  KeepAlive,   // the response is queued whole: read the next request
  Close,       // close once the queued output is sent (an error page, a close-delimited or a
               // truncated body: a client must never take a cut-off body for a whole one)
  ClientGone,  // the client's socket failed while we wrote to it
  Upgraded,    // a 101 head is queued: takeUpstream() gives the connection for the tunnel
};

// Implemented by the client connection the exchange answers.
class ExchangeClient {
 public:
  virtual reactor::OutputQueue& clientOutput() = 0;
  // Bytes were queued on clientOutput(): flush what the socket takes. False: the client is gone.
  virtual bool exchangeOutput() = 0;
  // The exchange is over; called last, nothing of the exchange runs after it.
  virtual void exchangeFinished(ExchangeEnd end) = 0;
  // A streamed body's intake said Wait, and the upstream now takes bytes again: read the
  // client (later in this loop iteration, not from inside the exchange).
  virtual void exchangeWantsBody() = 0;

 protected:
  ~ExchangeClient() = default;
};

// What the exchange keeps of the client's request: copies, since the request's views die
// with the client's input buffer. Strings keep their capacity from one request to the next.
struct ExchangeRequest {
  explicit ExchangeRequest(std::string tempDir) : body(std::move(tempDir)) {}

  std::string head;  // the request head for the upstream, complete
  BodyBuffer body;
  BodyStream stream;  // used instead of `body` when streamed
  bool hasBody = false;
  bool streamed = false;  // --proxy-request-buffering off: the body follows as it arrives
  bool headRequest = false;
  bool idempotent = false;  // GET, HEAD, OPTIONS, PUT, DELETE: may be retried once
  bool clientKeepAlive = true;
  int versionMinor = 1;
  // The client's Upgrade value when it asked to switch protocols (http::requestsUpgrade), else
  // empty: a 101 is then refused.
  std::string upgrade;
  // For the access log.
  std::string method, target, referer, userAgent;
  http::Method methodKind = http::Method::Other;  // for the metrics
  std::string pathInfo;  // the routed (decoded, normalised) path, for uwsgi's PATH_INFO
  reactor::SocketAddress peer;
  // The client's first byte of it, on the loop's clock: the access log's and the metrics'
  // request duration.
  reactor::Millis started = 0;
};

class Exchange final : private reactor::ConnectHandler, private UpstreamUser, private ResolveWaiter {
 public:
  // Queued client output beyond this is spooled (or holds back reading the upstream).
  static constexpr std::uint64_t kClientHighWater = ResponseSpool::kHighWater;
  // `config` is the settings the client's request started under (its pinned Generation's).
  Exchange(server::LoopContext& ctx, const server::Config& config, Gateway& gateway,
           ExchangeClient& client);
  ~Exchange();
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  // Filled in by the client connection before start().
  ExchangeRequest& request() { return req_; }
  void start(std::size_t route);
  // The client's queued output fell below kClientHighWater: read the upstream again.
  void clientDrained();
  // The client went away (logged as 499, as nginx does); the exchange ends silently.
  void abort();
  bool active() const { return state_ != State::Idle; }
  // The client connection ends the exchange over the request (its streamed body broke the
  // size limit, its framing or its deadline): the upstream connection is closed. True when a
  // response had begun (then it is logged, and the client must be closed); false: nothing
  // was logged and the client connection answers.
  bool abandon();

  // A streamed body (request().streamed): the client connection passes the bytes it decodes.
  enum class BodyIntake : std::uint8_t {
    Take,  // queue bytes with bodyData() / bodyEnd(), then bodyFlush()
    Wait,  // not connected yet, or the upstream's queue is full: exchangeWantsBody() follows
    Drop,  // the upstream answered, or stopped taking the request: drop the rest of the body
  };
  BodyIntake bodyIntake();
  // After Take: how many client bytes may be decoded now (bodyData() for what they hold).
  std::size_t bodyRoom() { return BodyStream::room(conn_->stream().output()); }
  void bodyData(std::string_view data) { req_.stream.write(data, conn_->stream().output()); }
  void bodyEnd() { req_.stream.end(conn_->stream().output()); }
  // Sends what the upstream takes; the exchange may end in here.
  void bodyFlush() { drive(); }
  // The server is shutting down: the client is told its connection ends after this response.
  void clientClosing() { relay_.clientClosing(); }
  // After ExchangeEnd::Upgraded: the upstream connection, now carrying the new protocol (its
  // input may hold bytes that followed the 101), for the tunnel; it is never pooled.
  std::unique_ptr<UpstreamConnection> takeUpstream() { return std::move(conn_); }
  // The tunnel after an upgrade closed: the access-log line (101, bytes sent to the client).
  void tunnelClosed(std::uint64_t bytesToClient) { logAccess(101, bytesToClient); }

 private:
  enum class State : std::uint8_t { Idle, Connecting, Sending, ReadingHead, ReadingBody };

  bool encodeUwsgi(std::size_t route);
  void connectNext();
  void connectTo(UpstreamServer& server);
  void resolveWaitOver(bool timedOut) override;
  void onConnected(reactor::Connector& connector, reactor::Fd fd) override;
  void onConnectFailed(reactor::Connector& connector, reactor::ConnectError error,
                       int errnum) override;
  void send();
  void onUpstreamEvents(UpstreamConnection& c) override;
  void onUpstreamTimeout(UpstreamConnection& c) override;
  void drive();
  void sent();
  bool process();
  void bodyDone();
  void upstreamEnded(const char* why);
  void fail(int status, const char* why);
  void truncated(const char* why);
  void releaseUpstream(bool reusable);
  // The request is over: its figures, and one access-log line (the status and body bytes the
  // client was sent).
  void logAccess(int status, std::uint64_t bodyBytes);
  // The figures of the URL the exchange is talking to (its first before a server is chosen).
  UpstreamStats& upstreamStats();
  void headReceived();
  std::string_view label() const;  // the upstream server for log lines, "-" before one is chosen
  void finish(ExchangeEnd end);
  // Whether a response that outruns its client may be spooled to a temporary file.
  bool buffering() const;

  server::LoopContext& ctx_;
  const server::Config& config_;
  Gateway& gateway_;
  ExchangeClient& client_;
  ExchangeRequest req_;
  reactor::Connector connector_;
  State state_ = State::Idle;
  Upstream* upstream_ = nullptr;
  std::shared_ptr<UpstreamServer> server_;  // shared: it may leave its name's DNS answer meanwhile
  ResolveWait resolveWait_{*this};  // a request waiting for its upstream's first DNS answer
  std::unique_ptr<UpstreamConnection> conn_;
  std::uint64_t tried_ = 0;       // servers tried for this request, a bit each
  int connectFailStatus_ = 502;   // what to answer when every server failed to connect
  bool retried_ = false;
  bool uwsgi_ = false;   // the route speaks the uwsgi protocol: req_.head is its packet
  std::string packet_;   // scratch for the uwsgi packet, swapped into req_.head
  bool gotResponseBytes_ = false;
  bool requestFailed_ = false;  // a write failed: the rest of the request is dropped
  bool bodyWaiting_ = false;  // the client was told to Wait for a streamed body's intake
  reactor::Millis startedAt_ = 0;
  ResponseRelay relay_;
  ResponseSpool spool_;  // the relay writes into the client's output queue through it
};

}  // namespace epserve::proxy
