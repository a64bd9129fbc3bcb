// One client's HTTP session over a reactor::Stream: reads requests, answers them in order,
// keeps alive or closes. An explicit state machine driven by epoll events and its one timer.
#pragma once

#include <cstdint>

#include <memory>
#include <string>

#include "http/BodyDecoder.h"
#include "http/Request.h"
#include "proxy/Exchange.h"
#include "proxy/Tunnel.h"
#include "reactor/Fd.h"
#include "reactor/IoHandler.h"
#include "reactor/OutputQueue.h"
#include "reactor/SocketAddress.h"
#include "reactor/Stream.h"
#include "reactor/TimeoutList.h"
#include "server/LoopContext.h"
#include "server/Reply.h"

namespace epserve::server {

class Connection;

// Whoever hands out connections learns here that one has closed (it may still receive
// events queued in this loop iteration, so it must not be reused before the next).
class ConnectionOwner {
 public:
  virtual void connectionClosed(Connection* c) = 0;

 protected:
  ~ConnectionOwner() = default;
};

class Connection final : public reactor::IoHandler,
                         public reactor::TimeoutHandler,
                         private proxy::ExchangeClient,
                         private proxy::TunnelOwner {
 public:
  // What the session is doing. Output drains alongside the reading states: pipelined requests
  // are parsed while earlier responses are still being sent.
  enum class State : std::uint8_t {
    ReadingHead,          // waiting for or accumulating a request head (idle if none buffered)
    ReadingBody,          // discarding a request body; its response is held until it ends
    BufferingBody,        // reading a proxied request's body whole, before the upstream
    StreamingBody,        // passing a proxied request's body upstream as it arrives, while
                          // the exchange runs (it may answer before the body ends)
    Proxying,             // an upstream exchange answers; reading waits until it is over
    Tunnelling,           // upgraded (101): a byte tunnel to the upstream until both finish
    Closing,              // no more requests: send what is queued, then close
    ClosingThenLinger,    // the same after an error, with input left unread: half-close and
                          // linger rather than let the close reset the response away
    Lingering,            // response sent: discard input briefly, until the client closes
    Closed,
  };

  // Which listener the connection came from: the site's, or --metrics-listen's (whose requests
  // only the metrics page answers, and which no figure or access-log line counts).
  enum class Purpose : std::uint8_t { Site, Metrics };

  Connection(LoopContext& context, ConnectionOwner& owner);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Takes a freshly accepted socket and starts the session.
  void open(reactor::Fd fd, const reactor::SocketAddress& peer,
            Purpose purpose = Purpose::Site);
  // The server is stopping: finish the response in flight (if any), then close.
  void beginShutdown();
  // Closes at once, whatever is in flight (the shutdown grace period is over).
  void forceClose() { close(); }
  // Closed and out of this iteration: lets go of settings a reload has replaced.
  void settle();

  void onEvents(std::uint32_t events) override;
  void onTimeout() override;

  State state() const { return state_; }
  Purpose purpose() const { return purpose_; }
  // The transport, read-only: what is buffered and queued (tests, diagnostics).
  const reactor::Stream& stream() const { return stream_; }
  std::size_t ownerIndex = 0;  // position in the owner's list of open connections

 private:
  enum class Step : std::uint8_t { Continue, Wait };

  void drive();
  Step stepReading(int& readRounds, bool& waitingForOutput);
  Step stepClosing();
  Step stepLingering();
  Step stepProxying();
  Step stepTunnelling();
  Step stepStreaming(int& readRounds);
  void streamBody();
  void failStreamedBody(http::Status status);
  void pin();
  void startProxy(const http::Request& req, std::size_t headLength, std::size_t route);
  bool bufferBody();
  proxy::Exchange& exchange();
  reactor::OutputQueue& clientOutput() override { return stream_.output(); }
  bool exchangeOutput() override;
  void exchangeFinished(proxy::ExchangeEnd end) override;
  void startTunnel();
  void tunnelEnded() override;
  void exchangeWantsBody() override;
  void postSelf();
  Step peerFinished();
  bool flushOutput();
  bool processInput();
  bool consumeBody();
  void handleRequest(const http::Request& req, std::size_t headLength);
  // `reason` (static text) says what was wrong; empty for the status's default sentence.
  void failRequest(http::Status status, std::string_view reason = {});
  // failRequest for a request body that broke off: 400 (bad chunked framing), 413 (over
  // --max-body-size) or 408 (stalled), each with its sentence. The one mapping for buffered,
  // discarded and streamed bodies.
  void failBody(http::Status status);
  // `logged` false: no access-log line (health checks, unless --log-health on).
  void queueReply(Reply& reply, const http::Request* req, bool logged = true);
  bool backlogged() const;
  void startClosing(bool linger);
  void finishOutput();
  void updateTimer();
  void arm(Deadline d);
  void close();

  LoopContext& ctx_;
  ConnectionOwner& owner_;
  reactor::Stream stream_;
  reactor::SocketAddress peer_;
  State state_ = State::Closed;
  bool posted_ = false;           // on the loop's posted list (it caps its read rounds)
  bool driving_ = false;          // drive() is on the stack: a callback must not re-enter it
  bool restartDeadline_ = true;   // a request completed: its timer starts afresh
  std::size_t scanned_ = 0;       // bytes of input already searched for a line end
  reactor::Millis requestStart_ = 0;  // the loop's clock when this request's first byte was seen
  std::uint32_t requestsServed_ = 0;
  Purpose purpose_ = Purpose::Site;
  reactor::OutputQueue::Mark heldMark_{};  // where the reply held for a request body starts
  http::BodyDecoder body_;        // the request body being read (discarded or buffered)
  // The settings of the request being served (LoopContext::generation() when it started),
  // and ones replaced while their exchange was on the stack (released after the iteration).
  std::shared_ptr<Generation> gen_;
  std::shared_ptr<Generation> retiredGen_;
  std::unique_ptr<proxy::Exchange> exchange_;  // made on the first proxied request
  std::unique_ptr<proxy::Tunnel> tunnel_;      // made on the first upgrade
  std::unique_ptr<proxy::Exchange> retiredExchange_;
  std::unique_ptr<proxy::Tunnel> retiredTunnel_;
  std::size_t route_ = 0;         // the proxy route of the request being buffered
  bool lengthLater_ = false;      // the upstream head still lacks the body's Content-Length
  bool bodyAnswered_ = false;     // the body being discarded belongs to an answered request:
                                  // a failure closes the connection instead of answering
  reactor::Timer timer_;
  Deadline deadline_ = Deadline::Header;  // what timer_ means while it is armed
};

}  // namespace epserve::server
