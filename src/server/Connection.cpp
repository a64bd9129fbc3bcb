// The per-connection state machine: see Connection.h.
#include "server/Connection.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "http/RequestParser.h"
#include "http/Response.h"
#include "http/Upgrade.h"
#include "server/ErrorPage.h"
#include "server/ReplyWriter.h"

namespace epserve::server {

using http::Status;
using reactor::OutputQueue;
using reactor::Stream;

namespace {

// Fairness: after this many read rounds in one wake-up the connection yields (posts itself)
// so one pipelining client cannot hold the loop.
constexpr int kMaxReadRounds = 8;
// Back-pressure: stop parsing new requests while this much output is queued.
constexpr std::uint64_t kMaxPendingBytes = 256 * 1024;
constexpr std::size_t kMaxPendingFiles = 32;

constexpr std::string_view kBadChunkedBody =
    "The chunked request body is malformed: each chunk is a hex size line, the bytes, CR LF, "
    "and a 0 size line ends the body.";

}  // namespace

Connection::Connection(LoopContext& context, ConnectionOwner& owner)
    : ctx_(context), owner_(owner), stream_(context.buffers), timer_(this) {}

Connection::~Connection() = default;

void Connection::open(reactor::Fd fd, const reactor::SocketAddress& peer, Purpose purpose) {
  peer_ = peer;
  purpose_ = purpose;
  state_ = State::ReadingHead;
  posted_ = false;
  restartDeadline_ = true;
  scanned_ = 0;
  requestsServed_ = 0;
  pin();
  stream_.open(std::move(fd), ctx_.loop, this);
  drive();
}

void Connection::beginShutdown() {
  switch (state_) {
    case State::ReadingHead:
      // An idle connection closes now; one with responses queued finishes sending them.
      if (stream_.output().empty()) {
        close();
      } else {
        state_ = State::Closing;
      }
      return;
    case State::ReadingBody:
    case State::BufferingBody:
      close();  // its response counts as not started
      return;
    case State::StreamingBody:
    case State::Proxying:
      exchange_->clientClosing();  // finishes within the grace period, then closes
      return;
    case State::Tunnelling:
      return;  // ends with its peers, or when the grace period is over (forceClose)
    case State::Closing:
    case State::ClosingThenLinger:
      return;  // already finishing its last response
    case State::Lingering:
      close();  // its response is sent
      return;
    case State::Closed:
      return;
  }
}

void Connection::onEvents(std::uint32_t events) {
  if (state_ == State::Closed) return;  // a stale event from earlier in this iteration
  if (events == 0) {
    posted_ = false;
  } else {
    stream_.onEvents(events);
  }
  drive();
}

bool Connection::backlogged() const {
  const OutputQueue& out = stream_.output();
  return out.pendingBytes() >= kMaxPendingBytes || out.pendingSegments() >= kMaxPendingFiles;
}

void Connection::drive() {
  int readRounds = 0;
  bool waitingForOutput = false;  // parsing paused by back-pressure or fairness, not input
  Step step = Step::Continue;
  driving_ = true;
  while (step == Step::Continue) {
    switch (state_) {
      case State::ReadingHead:
      case State::ReadingBody:
      case State::BufferingBody:
        step = stepReading(readRounds, waitingForOutput);
        break;
      case State::Proxying:
        step = stepProxying();
        break;
      case State::Tunnelling:
        step = stepTunnelling();
        break;
      case State::StreamingBody:
        step = stepStreaming(readRounds);
        break;
      case State::Closing:
      case State::ClosingThenLinger:
        step = stepClosing();
        break;
      case State::Lingering:
        step = stepLingering();
        break;
      case State::Closed:
        driving_ = false;
        return;
    }
  }
  driving_ = false;
  if (state_ == State::Closed) return;
  // A streamed response keeps its output storage until it is over (see returnBlockIfEmpty).
  if (state_ != State::Proxying) stream_.releaseIdleBuffers();
  updateTimer();
}

// Sends what the socket takes; false when that failed and the connection is closed.
bool Connection::flushOutput() {
  if (stream_.wantsWrite() && stream_.flush() == OutputQueue::FlushResult::Failed) {
    close();
    return false;
  }
  return true;
}

Connection::Step Connection::stepReading(int& readRounds, bool& waitingForOutput) {
  if (!flushOutput()) return Step::Wait;
  bool progressed = processInput();
  if (state_ != State::ReadingHead && state_ != State::ReadingBody &&
      state_ != State::BufferingBody) {
    return Step::Continue;  // go send the error response, or wait for the upstream
  }
  // Nothing is held while reading heads, so a flush either drains the backlog or blocks.
  waitingForOutput = state_ == State::ReadingHead && backlogged();
  if (waitingForOutput) return stream_.writable() ? Step::Continue : Step::Wait;
  if (stream_.wantsRead()) {
    if (++readRounds > kMaxReadRounds) {
      postSelf();
      waitingForOutput = true;  // not idle: more input is waiting
      return Step::Wait;
    }
    switch (stream_.readSome()) {
      case Stream::ReadResult::Failed:
        close();  // ECONNRESET and friends: the client is gone
        return Step::Wait;
      case Stream::ReadResult::Full:
        // Only a request head can fill the buffer, and the parser rejects one this big first.
        failRequest(Status::HeaderFieldsTooLarge);
        return Step::Continue;
      case Stream::ReadResult::Data:
      case Stream::ReadResult::Eof:
      case Stream::ReadResult::Again:
        return Step::Continue;
    }
  }
  if (progressed && stream_.wantsWrite()) return Step::Continue;
  if (stream_.eof()) return peerFinished();
  return Step::Wait;
}

// The client sent its last byte and every complete request is answered: drop a partial
// request (and the reply held for its body), finish sending, close.
Connection::Step Connection::peerFinished() {
  if (state_ == State::ReadingBody && !bodyAnswered_) stream_.output().truncate(heldMark_);
  if (stream_.output().empty()) {
    close();
    return Step::Wait;
  }
  state_ = State::Closing;
  return Step::Continue;
}

Connection::Step Connection::stepClosing() {
  if (!flushOutput()) return Step::Wait;
  if (!stream_.output().empty()) return Step::Wait;  // EPOLLOUT resumes us
  finishOutput();
  return state_ == State::Lingering ? Step::Continue : Step::Wait;
}

Connection::Step Connection::stepLingering() {
  // Discard whatever the client still sends until it closes or the linger timer fires.
  if (stream_.discardInput() == Stream::DiscardResult::Done) close();
  return Step::Wait;
}

bool Connection::processInput() {
  bool progressed = false;
  reactor::Buffer& in = stream_.input();
  for (;;) {
    if (state_ == State::ReadingBody) {
      if (!consumeBody()) break;
      progressed = true;
      continue;
    }
    if (state_ == State::BufferingBody) {
      if (!bufferBody()) break;
      progressed = true;
      continue;
    }
    if (state_ != State::ReadingHead) break;
    if (in.empty() || backlogged()) break;
    // Re-parse only when a line may have completed, or when the bytes already exceed the
    // request-line limit (so 414 comes without waiting for a line end): a slow sender costs
    // one memchr over its new bytes, not a parse per byte.
    std::string_view input = in.view();
    if (scanned_ == 0) requestStart_ = ctx_.loop.now();
    bool newLine = std::memchr(input.data() + scanned_, '\n', input.size() - scanned_) != nullptr;
    scanned_ = input.size();
    if (!newLine && input.size() <= ctx_.limits.maxRequestLine) break;

    http::Request& req = ctx_.scratchRequest();
    http::ParseResult r = http::parseRequest(input, req, ctx_.limits);
    if (r.status == http::ParseStatus::Incomplete) break;
    if (r.status == http::ParseStatus::Error) {
      failRequest(r.error, r.reason);
      break;
    }
    progressed = true;
    handleRequest(req, r.consumed);
  }
  return progressed;
}

// Requests start under the current settings. An exchange or tunnel made under older ones goes
// with them, after this iteration: a finished exchange may be on the stack, driving this.
void Connection::pin() {
  const std::shared_ptr<Generation>& current = ctx_.generation();
  if (gen_ == current) return;
  if ((exchange_ || tunnel_) && !retiredGen_) {
    retiredExchange_ = std::move(exchange_);
    retiredTunnel_ = std::move(tunnel_);
    retiredGen_ = gen_;
    ctx_.loop.defer([this] {
      retiredTunnel_.reset();
      retiredExchange_.reset();
      retiredGen_.reset();
    });
  }
  exchange_.reset();
  tunnel_.reset();
  gen_ = current;
}

void Connection::settle() {
  if (gen_ == ctx_.generation()) return;
  exchange_.reset();
  tunnel_.reset();
  gen_.reset();
}

void Connection::handleRequest(const http::Request& req, std::size_t headLength) {
  pin();
  restartDeadline_ = true;
  ++requestsServed_;
  Reply& reply = ctx_.scratchReply();
  reply.reset();

  bool chunked = req.framing == http::BodyFraming::Chunked;
  bool hasBody = chunked ||
                 (req.framing == http::BodyFraming::ContentLength && req.contentLength > 0);
  bool logged = true;
  if (req.unsupportedExpect) {
    RequestHandler::error(Status::ExpectationFailed, true, reply);
  } else if (req.framing == http::BodyFraming::ContentLength &&
             req.contentLength > gen_->config.maxBodySize) {
    RequestHandler::error(Status::ContentTooLarge, true, reply, ctx_.bodyTooLargeReason());
  } else if (ctx_.health.matches(req.path)) {
    // Before any route, so a proxied "/" cannot shadow it.
    ctx_.health.answer(req.method, ctx_.draining || ctx_.shuttingDown, reply);
    logged = gen_->config.logHealth;
  } else {
    const Route* route = purpose_ == Purpose::Site ? ctx_.route(req.path) : nullptr;
    if (route && route->kind == Route::Kind::Proxy) {
      startProxy(req, headLength, route->index);
      return;
    }
    if (purpose_ == Purpose::Site) {
      ctx_.handler().handle(req, reply, ctx_.loop.now(), route);
    } else {
      ctx_.metricsPage->respond(req, reply);
    }
  }
  bool keepAlive = req.keepAlive && !reply.close;
  reply.close = !keepAlive;

  OutputQueue& out = stream_.output();
  if (hasBody && keepAlive) {
    // The body must be read (and discarded) before the next request can be found. The reply
    // is queued now, while `req`'s views are valid, and held until the body has ended.
    if (req.expectContinue && req.versionMinor == 1) out.append(http::kContinueResponse);
    heldMark_ = out.mark();
    out.hold(heldMark_);
    bodyAnswered_ = false;
    body_ = http::BodyDecoder(
        chunked ? http::ResponseFraming::Chunked : http::ResponseFraming::ContentLength,
        req.contentLength);
  }
  queueReply(reply, &req, logged);

  reactor::Buffer& in = stream_.input();
  in.consume(headLength);  // `req` is invalid from here on
  scanned_ = 0;
  if (!keepAlive) {
    // Unread body bytes or pipelined requests would make close() send an RST.
    startClosing(hasBody || !in.empty());
  } else if (hasBody) {
    state_ = State::ReadingBody;
  }
}

bool Connection::consumeBody() {
  reactor::Buffer& in = stream_.input();
  std::size_t used = 0;
  auto r = body_.feed(in.view(), used, [](std::string_view) {});  // discarded
  in.consume(used);
  if (r == http::BodyDecoder::Result::Error || body_.dataBytes() > gen_->config.maxBodySize) {
    if (bodyAnswered_) {
      startClosing(true);  // its response is out: there is nothing left to answer
      return false;
    }
    stream_.output().truncate(heldMark_);  // the held reply is replaced by the error
    failBody(r == http::BodyDecoder::Result::Error ? Status::BadRequest
                                                   : Status::ContentTooLarge);
    return false;
  }
  if (r == http::BodyDecoder::Result::NeedMore) return false;
  stream_.output().release();
  state_ = State::ReadingHead;
  scanned_ = 0;
  restartDeadline_ = true;
  return true;
}

void Connection::failBody(Status status) {
  std::string_view reason;  // a 408 (the body stalled) says what its default sentence says
  if (status == Status::BadRequest) reason = kBadChunkedBody;
  if (status == Status::ContentTooLarge) reason = ctx_.bodyTooLargeReason();
  failRequest(status, reason);
}

void Connection::failRequest(Status status, std::string_view reason) {
  Reply& reply = ctx_.scratchReply();
  reply.reset();
  RequestHandler::error(status, true, reply, reason);
  queueReply(reply, nullptr);
  startClosing(true);
}

void Connection::queueReply(Reply& reply, const http::Request* req, bool logged) {
  std::uint64_t bodyBytes =
      writeReply(stream_.output(), reply, req, ctx_.date(), gen_->config.extraHeaders);
  if (purpose_ == Purpose::Metrics) return;  // scrapes are neither counted nor logged
  ctx_.stats.requestDone(req ? req->method : http::Method::Other, http::code(reply.status),
                         bodyBytes, ctx_.loop.now() - requestStart_);
  if (http::code(reply.status) >= 400 && spdlog::should_log(spdlog::level::debug)) {
    spdlog::debug("{}: {} {}: {}", peer_.toString(), http::code(reply.status),
                  http::reasonPhrase(reply.status),
                  reply.reason.empty() ? defaultReason(reply.status) : reply.reason);
  }
  AccessLog& log = ctx_.accessLog;
  if (!log.enabled() || !logged) return;
  AccessEntry e;
  e.status = http::code(reply.status);
  e.bytes = bodyBytes;
  if (req) {
    e.method = req->methodText;
    e.target = req->target;
    e.versionMinor = req->versionMinor;
    e.referer = req->find("Referer");
    e.userAgent = req->find("User-Agent");
  }
  e.durationMillis = ctx_.loop.now() - requestStart_;
  log.log(peer_, e, ctx_.loop.wallMillis());
}

void Connection::startClosing(bool linger) {
  if (!linger) {
    state_ = State::Closing;
    return;
  }
  state_ = State::ClosingThenLinger;
  // Any held reply is superseded: a closing connection reads no more bodies.
  stream_.output().release();
}

void Connection::finishOutput() {
  if (state_ == State::Closing || stream_.eof()) {
    close();
    return;
  }
  // Half-close and drain briefly: closing with unread input would reset the connection and
  // could destroy the response before the client reads it.
  stream_.shutdownWrite();
  state_ = State::Lingering;
  arm(Deadline::Linger);
}

void Connection::arm(Deadline d) {
  ctx_.timeouts(d).arm(timer_, ctx_.loop.now());
  deadline_ = d;
}

void Connection::updateTimer() {
  if (state_ == State::Lingering) return;  // armed once when lingering began
  if (state_ == State::Tunnelling) {
    timer_.cancel();  // the tunnel's idle deadline covers both sides
    return;
  }
  OutputQueue& out = stream_.output();
  bool restart = restartDeadline_;
  restartDeadline_ = false;
  Deadline want;
  if (!out.empty() && !stream_.writable()) {
    want = Deadline::Send;
    restart = out.takeProgress();
  } else if (state_ == State::Proxying ||
             (state_ == State::StreamingBody && stream_.readingPaused())) {
    timer_.cancel();  // the upstream's own deadlines run; the client waits
    return;
  } else if (state_ == State::ReadingBody || state_ == State::BufferingBody ||
             state_ == State::StreamingBody ||
             (state_ == State::ReadingHead && !stream_.input().empty())) {
    want = Deadline::Header;
  } else if (state_ == State::ReadingHead) {
    // Idle between requests: the keep-alive timer. A connection that has not sent its first
    // request yet is still waiting for a head: the header timer.
    want = requestsServed_ > 0 ? Deadline::KeepAlive : Deadline::Header;
  } else {
    want = Deadline::Send;
  }
  if (!timer_.armed() || deadline_ != want || restart) arm(want);
}

void Connection::onTimeout() {
  // Only the header deadline means "the request is too slow": the others end the connection.
  bool requestTimedOut = deadline_ == Deadline::Header &&
                         (state_ == State::ReadingBody || state_ == State::BufferingBody ||
                          state_ == State::StreamingBody ||
                          (state_ == State::ReadingHead && !stream_.input().empty()));
  if (!requestTimedOut) {
    close();
    return;
  }
  spdlog::debug("{}: request timed out", peer_.toString());
  if (state_ == State::StreamingBody) {
    failStreamedBody(Status::RequestTimeout);
  } else if (state_ == State::ReadingBody && bodyAnswered_) {
    startClosing(true);  // the rest of an answered request's body is too slow: just close
  } else {
    if (state_ == State::ReadingBody) stream_.output().truncate(heldMark_);
    failRequest(Status::RequestTimeout);
  }
  drive();
}

void Connection::close() {
  if (state_ == State::Closed) return;
  if (exchange_) {
    exchange_->abort();  // the client went away mid-exchange: 499
    // A tunnel is what an exchange became: its line is the exchange's, written now.
    if (tunnel_ && tunnel_->active()) {
      exchange_->tunnelClosed(tunnel_->bytesToClient());
      tunnel_->close();
    }
  }
  state_ = State::Closed;
  timer_.cancel();
  if (posted_) {
    ctx_.loop.unpost(this);
    posted_ = false;
  }
  stream_.close();
  owner_.connectionClosed(this);
}

// --- proxied requests ---

proxy::Exchange& Connection::exchange() {
  if (!exchange_) {
    proxy::ExchangeClient& self = *this;
    exchange_ = std::make_unique<proxy::Exchange>(ctx_, gen_->config, *gen_->gateway, self);
  }
  return *exchange_;
}

void Connection::startProxy(const http::Request& req, std::size_t headLength, std::size_t route) {
  proxy::ExchangeRequest& r = exchange().request();
  if (ctx_.accessLog.enabled()) {  // copies for the line written when the exchange ends
    r.method.assign(req.methodText);
    r.target.assign(req.target);
    r.referer.assign(req.find("Referer"));
    r.userAgent.assign(req.find("User-Agent"));
  }
  r.versionMinor = req.versionMinor;
  r.methodKind = req.method;
  r.headRequest = req.method == http::Method::Head;
  r.idempotent = req.method == http::Method::Get || req.method == http::Method::Head ||
                 req.method == http::Method::Options || req.method == http::Method::Put ||
                 req.method == http::Method::Delete;
  r.clientKeepAlive = req.keepAlive;
  r.upgrade.clear();
  if (http::requestsUpgrade(req)) {
    for (std::size_t i = 0; i < req.headerCount; ++i) {
      if (!http::equalsIgnoreCase(req.headers[i].name, "Upgrade")) continue;
      if (!r.upgrade.empty()) r.upgrade += ", ";
      r.upgrade += req.headers[i].value;
    }
  }
  r.peer = peer_;
  r.started = requestStart_;
  r.pathInfo.assign(ctx_.routedPath());
  bool chunked = req.framing == http::BodyFraming::Chunked;
  r.hasBody = chunked ||
              (req.framing == http::BodyFraming::ContentLength && req.contentLength > 0);
  r.body.reset();
  // uWSGI reads CONTENT_LENGTH, which the uwsgi packet must carry: its bodies are buffered.
  r.streamed = r.hasBody && !gen_->config.proxyRequestBuffering &&
               !gen_->config.proxyRoutes[route].uwsgi();
  if (r.streamed) r.stream.reset(chunked);
  // Buffered, a chunked upload is de-chunked and its length goes in once it is known;
  // streamed, it is re-chunked.
  lengthLater_ = chunked && !r.streamed;
  ctx_.writeUpstreamHead(req, route, peer_,
                         r.streamed ? LoopContext::ChunkedUpload::Rechunked
                                    : LoopContext::ChunkedUpload::LengthLater,
                         r.head);
  route_ = route;
  if (r.hasBody && req.expectContinue && req.versionMinor == 1) {
    stream_.output().append(http::kContinueResponse);  // we read the body, so we say go on
  }
  if (r.hasBody) {
    body_ = http::BodyDecoder(
        chunked ? http::ResponseFraming::Chunked : http::ResponseFraming::ContentLength,
        req.contentLength);
  }
  stream_.input().consume(headLength);  // `req` is invalid from here on
  scanned_ = 0;
  if (r.streamed) {
    state_ = State::StreamingBody;
    exchange_->start(route_);  // may end at once (no server left): exchangeFinished copes
    return;
  }
  if (r.hasBody) {
    state_ = State::BufferingBody;
    return;
  }
  state_ = State::Proxying;
  stream_.pauseReading();
  exchange_->start(route_);
}

// Reads the proxied request's body into the exchange's buffer; true once it is whole and the
// exchange has started.
bool Connection::bufferBody() {
  reactor::Buffer& in = stream_.input();
  proxy::ExchangeRequest& r = exchange_->request();
  bool stored = true;
  std::size_t used = 0;
  auto result = body_.feed(in.view(), used, [&](std::string_view data) {
    if (stored) stored = r.body.append(data);
  });
  in.consume(used);
  if (!stored) {
    spdlog::error("request body: cannot write a temporary file in {}: {}", gen_->config.tempDir,
                  std::strerror(errno));
    failRequest(Status::InternalServerError);
    return false;
  }
  if (result == http::BodyDecoder::Result::Error ||
      body_.dataBytes() > gen_->config.maxBodySize) {
    failBody(result == http::BodyDecoder::Result::Error ? Status::BadRequest
                                                        : Status::ContentTooLarge);
    return false;
  }
  if (result == http::BodyDecoder::Result::NeedMore) return false;
  if (lengthLater_) {
    r.head.resize(r.head.size() - 2);  // reopen the head before its final CRLF
    r.head += "Content-Length: ";
    r.head += std::to_string(r.body.size());
    r.head += "\r\n\r\n";
  }
  state_ = State::Proxying;
  stream_.pauseReading();
  exchange_->start(route_);
  return true;
}

Connection::Step Connection::stepProxying() {
  if (!flushOutput()) return Step::Wait;  // closed, and close() ended the exchange
  if (stream_.output().pendingBytes() < proxy::Exchange::kClientHighWater) {
    exchange_->clientDrained();
  }
  if (state_ != State::Proxying) return Step::Continue;
  if (stream_.hungUp()) {
    // As nginx does: a client that shut down its side while waiting is gone (499).
    spdlog::debug("{}: client closed the connection while proxied", peer_.toString());
    close();
  }
  return Step::Wait;
}

// A streamed body: the upstream takes bytes at its own pace, and the client's are read no
// faster. The exchange answers alongside, so the client's output is flushed here as well.
Connection::Step Connection::stepStreaming(int& readRounds) {
  if (!flushOutput()) return Step::Wait;  // closed, and close() ended the exchange
  if (stream_.output().pendingBytes() < proxy::Exchange::kClientHighWater) {
    exchange_->clientDrained();
    if (state_ != State::StreamingBody) return Step::Continue;
  }
  if (exchange_->bodyIntake() == proxy::Exchange::BodyIntake::Wait) {
    stream_.pauseReading();  // exchangeWantsBody() resumes
    return Step::Wait;
  }
  if (stream_.readingPaused()) {
    stream_.resumeReading();
    restartDeadline_ = true;  // the client's body deadline counts only the client's delays
  }
  if (!stream_.input().empty()) {
    streamBody();  // consumes input, or ends the body, or fails the request
    return Step::Continue;
  }
  if (stream_.wantsRead()) {
    if (++readRounds > kMaxReadRounds) {
      postSelf();
      return Step::Wait;
    }
    // Full cannot happen: the input is passed on before the next read.
    if (stream_.readSome() == Stream::ReadResult::Failed) {
      close();  // the client is gone: 499
      return Step::Wait;
    }
    return Step::Continue;
  }
  if (stream_.eof()) {
    spdlog::debug("{}: client closed the connection mid-body", peer_.toString());
    close();  // 499
  }
  return Step::Wait;
}

// Decodes the body bytes in the input and passes them upstream, or drops them once the
// upstream has answered.
void Connection::streamBody() {
  reactor::Buffer& in = stream_.input();
  bool take = exchange_->bodyIntake() == proxy::Exchange::BodyIntake::Take;
  std::string_view input = in.view();
  if (take) input = input.substr(0, exchange_->bodyRoom());
  std::uint64_t limit = gen_->config.maxBodySize;
  std::size_t used = 0;
  auto result = body_.feed(input, used, [&](std::string_view data) {
    // Nothing past the limit goes upstream (dataBytes() already counts `data`).
    if (take && body_.dataBytes() <= limit) exchange_->bodyData(data);
  });
  in.consume(used);
  if (result == http::BodyDecoder::Result::Error || body_.dataBytes() > limit) {
    failStreamedBody(result == http::BodyDecoder::Result::Error ? Status::BadRequest
                                                                : Status::ContentTooLarge);
    return;
  }
  if (result == http::BodyDecoder::Result::Done) {
    state_ = State::Proxying;  // first: the exchange may finish in bodyFlush()
    stream_.pauseReading();
    if (take) exchange_->bodyEnd();
  }
  if (take) exchange_->bodyFlush();
}

// The streamed body broke the limit, its framing or its deadline: the upstream connection
// goes; the client gets the error, unless part of a response has reached it already.
void Connection::failStreamedBody(Status status) {
  spdlog::debug("{}: streamed request body failed: {}", peer_.toString(), http::code(status));
  stream_.resumeReading();
  if (exchange_->abandon()) {
    close();
    return;
  }
  failBody(status);
}

void Connection::postSelf() {
  if (posted_) return;
  posted_ = true;
  ctx_.loop.post(this);
}

void Connection::exchangeWantsBody() { postSelf(); }

bool Connection::exchangeOutput() {
  if (stream_.wantsWrite() && stream_.flush() == OutputQueue::FlushResult::Failed) return false;
  if (!driving_) updateTimer();
  // A response while the body waits for room upstream: its intake may be Drop now.
  if (state_ == State::StreamingBody && stream_.readingPaused()) postSelf();
  return true;
}

void Connection::exchangeFinished(proxy::ExchangeEnd end) {
  if (state_ == State::StreamingBody && end != proxy::ExchangeEnd::ClientGone) {
    // Answered (or failed) before the whole body came. Keeping alive, the rest of the body is
    // read and dropped, within the body deadline; closing, the connection lingers over it.
    stream_.resumeReading();
    restartDeadline_ = true;
    if (end == proxy::ExchangeEnd::KeepAlive && !ctx_.shuttingDown) {
      state_ = State::ReadingBody;
      bodyAnswered_ = true;
      heldMark_ = stream_.output().mark();
    } else {
      startClosing(true);
    }
    if (!driving_) drive();
    return;
  }
  switch (end) {
    case proxy::ExchangeEnd::KeepAlive:
      stream_.resumeReading();
      restartDeadline_ = true;
      if (ctx_.shuttingDown) {
        startClosing(false);
      } else {
        state_ = State::ReadingHead;
      }
      break;
    case proxy::ExchangeEnd::Close:
      stream_.resumeReading();
      // Pipelined requests already read would make the close send an RST: linger then.
      startClosing(!stream_.input().empty());
      break;
    case proxy::ExchangeEnd::ClientGone:
      close();
      return;
    case proxy::ExchangeEnd::Upgraded:
      startTunnel();
      break;
  }
  if (!driving_) drive();
}

// --- upgraded connections ---

void Connection::startTunnel() {
  if (!tunnel_) {
    proxy::TunnelOwner& self = *this;
    tunnel_ = std::make_unique<proxy::Tunnel>(ctx_.loop, gen_->gateway->tunnelTimeouts(), self);
  }
  // Bytes the client sent after its request head are the new protocol's: the tunnel's first.
  scanned_ = 0;
  tunnel_->start(stream_, exchange_->takeUpstream());
  state_ = State::Tunnelling;
}

Connection::Step Connection::stepTunnelling() {
  if (!tunnel_->drive()) close();
  return Step::Wait;
}

void Connection::tunnelEnded() { close(); }

}  // namespace epserve::server
