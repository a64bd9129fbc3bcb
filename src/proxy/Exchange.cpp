// One proxied exchange, from server choice to the pooled upstream connection: see Exchange.h.
#include "proxy/Exchange.h"

#include <spdlog/spdlog.h>

#include <sys/epoll.h>

#include <cerrno>
#include <cstring>

#include "http/RequestParser.h"
#include "proxy/RequestHead.h"
#include "proxy/UwsgiRequest.h"
#include "server/ErrorPage.h"
#include "server/LoopContext.h"
#include "server/ReplyWriter.h"
#include "server/RequestHandler.h"

namespace epserve::proxy {

using reactor::OutputQueue;
using reactor::Stream;

namespace {

// Reads of one upstream per wake-up before it yields to other connections (it resumes in the
// next iteration by a post).
constexpr int kMaxReadRounds = 16;

// An input buffer can never fill with a head still in progress: the relay refuses it first.
static_assert(ResponseRelay::kMaxHead < reactor::BufferPool::kBlockSize);

}  // namespace

Exchange::Exchange(server::LoopContext& ctx, const server::Config& config, Gateway& gateway,
                   ExchangeClient& client)
    : ctx_(ctx),
      config_(config),
      gateway_(gateway),
      client_(client),
      req_(config.tempDir),
      connector_(ctx.loop, gateway.connectTimeouts()),
      spool_(client.clientOutput(), config.tempDir, config.proxyMaxTempFile) {}

Exchange::~Exchange() {
  connector_.cancel();
  ConnectionPool::retire(ctx_.loop, std::move(conn_));
}

void Exchange::start(std::size_t route) {
  upstream_ = &gateway_.upstream(route);
  server_ = nullptr;
  tried_ = 0;
  connectFailStatus_ = 502;
  retried_ = false;
  gotResponseBytes_ = false;
  bodyWaiting_ = false;
  startedAt_ = ctx_.loop.now();
  ResponseRelay::Params p;
  p.headRequest = req_.headRequest;
  p.clientVersionMinor = req_.versionMinor;
  // Shutting down: the head says the connection ends after this response.
  p.clientKeepAlive = req_.clientKeepAlive && !ctx_.shuttingDown;
  p.date = ctx_.date();
  p.extraHeaders = config_.extraHeaders;
  p.upgradeOffered = req_.upgrade;
  uwsgi_ = config_.proxyRoutes[route].uwsgi();
  p.cgiHeads = uwsgi_;
  relay_.reset(p);
  if (uwsgi_ && !encodeUwsgi(route)) return;
  connectNext();
}

// The canonical HTTP head (every forwarding rule applied) becomes the uwsgi packet: one set of
// rules for both protocols. False: the request was answered (431).
bool Exchange::encodeUwsgi(std::size_t route) {
  http::ParseLimits limits;
  limits.maxRequestLine = limits.maxHeaderBytes = 1 << 20;  // the packet's own limits decide
  http::Request canonical;
  if (http::parseRequest(req_.head, canonical, limits).status != http::ParseStatus::Complete) {
    fail(431, "the request has more fields than a uwsgi packet may carry");
    return false;
  }
  char ip[64];
  const std::size_t ipLength = formatClientIp(req_.peer, ip, sizeof ip);
  const std::string port = std::to_string(req_.peer.port());
  UwsgiParams params;
  params.pathInfo = req_.pathInfo;
  params.remoteAddr = std::string_view(ip, ipLength);
  params.remotePort = port;
  params.documentRoot = config_.root;
  params.bufferSize = config_.uwsgiBufferSize;
  packet_.clear();
  switch (writeUwsgiRequest(canonical, params, packet_)) {
    case UwsgiResult::Ok:
      req_.head.swap(packet_);
      return true;
    case UwsgiResult::TooLarge:
      spdlog::warn("upstream {}: the request's uwsgi variables exceed 65535 bytes, what the "
                   "protocol can carry: answering 431",
                   config_.proxyRoutes[route].upstreams.front().text);
      break;
    case UwsgiResult::OverBuffer:
      spdlog::warn("upstream {}: the request's uwsgi variables exceed --uwsgi-buffer-size {}: "
                   "answering 431 (raise uWSGI's buffer-size and --uwsgi-buffer-size together)",
                   config_.proxyRoutes[route].upstreams.front().text,
                   config_.uwsgiBufferSize);
      break;
  }
  fail(431, nullptr);
  return false;
}

void Exchange::connectNext() {
  // A host name without an answer yet, or one asked again after failed connects: wait for its
  // lookup (state Connecting meanwhile).
  if (upstream_->mustWait(resolveWait_, gateway_.connectTimeouts(), ctx_.loop.now(), tried_)) {
    state_ = State::Connecting;
    return;
  }
  server_ = upstream_->pick(ctx_.loop.now(), tried_);
  if (!server_) {
    // Every server was tried (each failure was logged and counted), or its name has no
    // address yet.
    if (!tried_) upstreamStats().failed(UpstreamFailure::Refused);
    fail(connectFailStatus_, tried_ ? nullptr : "no address known for the upstream's host name");
    return;
  }
  if (auto pooled = server_->pool.take()) {
    conn_ = std::move(pooled);
    conn_->setUser(this);
    send();
    return;
  }
  connectTo(*server_);
}

void Exchange::connectTo(UpstreamServer& server) {
  state_ = State::Connecting;
  if (server.isUnix) {
    connector_.start(server.unixAddress, *this);
  } else {
    connector_.start(server.tcp, *this);
  }
}

void Exchange::resolveWaitOver(bool timedOut) {
  if (timedOut) {
    upstreamStats().failed(UpstreamFailure::Timeout);
    fail(504, "timed out resolving the upstream's host name");
    return;
  }
  connectNext();
}

void Exchange::onConnected(reactor::Connector&, reactor::Fd fd) {
  conn_ = std::make_unique<UpstreamConnection>(ctx_.buffers);
  conn_->open(std::move(fd), ctx_.loop, this);
  send();
}

void Exchange::onConnectFailed(reactor::Connector&, reactor::ConnectError error, int errnum) {
  spdlog::warn("upstream {}: connect failed: {} ({})", server_->label, reactor::describe(error),
               std::strerror(errnum));
  upstream_->markDown(*server_, ctx_.loop.now(), gateway_.failTimeout());
  const bool timeout = error == reactor::ConnectError::Timeout;
  upstreamStats().failed(timeout ? UpstreamFailure::Timeout : UpstreamFailure::Refused);
  if (timeout) connectFailStatus_ = 504;
  connectNext();
}

void Exchange::send() {
  ++conn_->requests;
  requestFailed_ = false;
  OutputQueue& out = conn_->stream().output();
  out.append(req_.head);
  if (req_.hasBody && !req_.streamed) req_.body.queueInto(out);
  state_ = State::Sending;
  gateway_.sendTimeouts().arm(conn_->timer(), ctx_.loop.now());
  drive();
}

void Exchange::onUpstreamEvents(UpstreamConnection&) { drive(); }

void Exchange::onUpstreamTimeout(UpstreamConnection&) {
  if (state_ != State::Idle && state_ != State::Connecting) {
    upstreamStats().failed(UpstreamFailure::Timeout);
  }
  switch (state_) {
    case State::Sending:
      fail(504, "timed out sending the request");
      return;
    case State::ReadingHead:
      fail(504, "timed out waiting for the response");
      return;
    case State::ReadingBody:
      truncated("timed out reading the response body");
      return;
    case State::Idle:
    case State::Connecting:
      return;
  }
}

void Exchange::drive() {
  Stream& s = conn_->stream();
  if (s.wantsWrite() && s.flush() == OutputQueue::FlushResult::Failed) {
    // The upstream stopped taking the request. It may have answered first (an early 413 to an
    // upload, then a close): what it sent is read before the failure counts, and a failed
    // socket reads to its end (an error is readable), so this cannot wait forever.
    requestFailed_ = true;
    s.output().clear();
    s.onEvents(EPOLLERR);
  }
  if (state_ == State::Sending && !requestFailed_) sent();
  for (int rounds = 0; s.wantsRead(); ++rounds) {
    if (rounds == kMaxReadRounds) {
      conn_->post();
      return;
    }
    Stream::ReadResult r = s.readSome();
    if (r == Stream::ReadResult::Failed) {
      upstreamEnded(requestFailed_ ? "the connection failed while the request was sent"
                                   : "the connection was reset");
      return;
    }
    if (r == Stream::ReadResult::Data && state_ != State::Sending) {
      gateway_.readTimeouts().arm(conn_->timer(), ctx_.loop.now());  // the timeout is per read
    }
    if (!process()) return;
  }
  if (s.eof()) {
    upstreamEnded(requestFailed_ ? "the connection failed while the request was sent"
                                 : "the connection closed");
  }
}

// After a flush while the request is being sent: its timer, the turn to the response, and a
// streamed body's intake.
void Exchange::sent() {
  OutputQueue& out = conn_->stream().output();
  if (out.empty() && (!req_.streamed || req_.stream.ended())) {
    state_ = State::ReadingHead;
    gateway_.readTimeouts().arm(conn_->timer(), ctx_.loop.now());
    return;
  }
  // A stall is time without progress, so a large body to a slow upstream is not cut short.
  // With nothing queued the upstream waits for the client (whose body deadline runs), and it
  // may answer meanwhile: its read timeout.
  if (out.takeProgress()) {
    (out.empty() ? gateway_.readTimeouts() : gateway_.sendTimeouts())
        .arm(conn_->timer(), ctx_.loop.now());
  }
  if (bodyWaiting_ && BodyStream::room(out) > 0) {
    bodyWaiting_ = false;
    client_.exchangeWantsBody();
  }
}

Exchange::BodyIntake Exchange::bodyIntake() {
  if (requestFailed_) return BodyIntake::Drop;
  switch (state_) {
    case State::Sending:
      if (bodyRoom() > 0) return BodyIntake::Take;
      break;
    case State::Connecting:
      break;
    case State::Idle:
    case State::ReadingHead:
    case State::ReadingBody:
      return BodyIntake::Drop;
  }
  bodyWaiting_ = true;
  return BodyIntake::Wait;
}

// Consumes what the upstream sent; false once the exchange has ended (conn_ may be gone).
bool Exchange::process() {
  reactor::Buffer& in = conn_->stream().input();
  if (in.empty() && !relay_.headSent()) return true;
  gotResponseBytes_ = true;
  std::size_t used = 0;
  ResponseRelay::Result r = relay_.feed(in.view(), used, spool_);
  in.consume(used);
  spool_.commit();
  switch (r) {
    case ResponseRelay::Result::Done:
      if (state_ != State::ReadingBody) headReceived();  // head and body in one read
      bodyDone();
      return false;
    case ResponseRelay::Result::BadHead:
      upstreamStats().failed(UpstreamFailure::InvalidResponse);
      fail(502, relay_.error().data());
      return false;
    case ResponseRelay::Result::Truncated:
      if (state_ != State::ReadingBody) headReceived();  // a head, then a bad body at once
      upstreamStats().failed(UpstreamFailure::InvalidResponse);
      truncated(relay_.error().empty() ? "invalid body framing" : relay_.error().data());
      return false;
    case ResponseRelay::Result::Upgraded:
      headReceived();
      conn_->timer().cancel();  // the tunnel keeps its own idle deadline
      conn_->setUser(nullptr);
      connector_.cancel();
      finish(ExchangeEnd::Upgraded);
      return false;
    case ResponseRelay::Result::NeedMore:
      break;
  }
  if (!relay_.headSent()) return true;
  // The whole request is sent by now unless the upstream answered early; then the rest of the
  // request is dropped with the connection, which is not reused (see bodyDone).
  if (state_ != State::ReadingBody) headReceived();
  state_ = State::ReadingBody;
  if (!client_.exchangeOutput()) {
    finish(ExchangeEnd::ClientGone);
    return false;
  }
  if (!spool_.mayRead(buffering())) conn_->stream().pauseReading();  // clientDrained() resumes
  return true;
}

bool Exchange::buffering() const {
  switch (relay_.buffering()) {
    case ResponseRelay::Buffering::Buffer:
      return true;
    case ResponseRelay::Buffering::Stream:
      return false;
    case ResponseRelay::Buffering::Default:
      break;
  }
  return config_.proxyBuffering;
}

void Exchange::clientDrained() {
  if (state_ != State::ReadingBody) return;
  spool_.drained();
  if (!conn_->stream().readingPaused()) return;
  conn_->stream().resumeReading();
  drive();
}

void Exchange::bodyDone() {
  // Bytes after the body (more than the framing announced) leave the connection out of step:
  // it is closed, never reused, and the extra bytes go nowhere.
  Stream& s = conn_->stream();
  // uWSGI serves one request per connection on its uwsgi socket, whatever its head says.
  bool reusable = !uwsgi_ && relay_.upstreamReusable() && s.input().empty() && !s.eof() &&
                  s.output().empty() && !requestFailed_ &&
                  (!req_.streamed || req_.stream.ended());
  releaseUpstream(reusable);
  logAccess(relay_.status(), relay_.bodyBytes());
  finish(relay_.clientMustClose() ? ExchangeEnd::Close : ExchangeEnd::KeepAlive);
}

void Exchange::upstreamEnded(const char* why) {
  if (relay_.headSent()) {
    ResponseRelay::Result r = relay_.finish(spool_);
    spool_.commit();
    if (r == ResponseRelay::Result::Done) {
      bodyDone();  // a close-delimited body ends here
      return;
    }
    upstreamStats().failed(UpstreamFailure::InvalidResponse);
    truncated(why);
    return;
  }
  // Nothing of a response yet. A pooled connection the upstream closed just as we reused it
  // is not the request's fault: an idempotent request goes once more, on a fresh connection.
  // A streamed body is gone once sent: never retried.
  if (!gotResponseBytes_ && conn_->requests > 1 && req_.idempotent && !req_.streamed &&
      !retried_) {
    retried_ = true;
    ConnectionPool::retire(ctx_.loop, std::move(conn_));
    spdlog::debug("upstream {}: reused connection closed ({}); retrying", label(), why);
    connectTo(*server_);
    return;
  }
  upstreamStats().failed(UpstreamFailure::InvalidResponse);
  fail(502, gotResponseBytes_ ? "the response head was cut short" : why);
}

void Exchange::fail(int status, const char* why) {
  if (relay_.headSent()) {
    truncated(why);
    return;
  }
  if (why) spdlog::warn("upstream {}: {}: answering {}", label(), why, status);
  releaseUpstream(false);
  server::Reply& reply = ctx_.scratchReply();
  reply.reset();
  server::RequestHandler::error(http::statusFromCode(status), true, reply);
  std::uint64_t bytes = server::writeReply(client_.clientOutput(), reply, nullptr, ctx_.date(),
                                           config_.extraHeaders);
  logAccess(status, bytes);
  finish(ExchangeEnd::Close);
}

void Exchange::truncated(const char* why) {
  spdlog::warn("upstream {}: {} after {} body bytes: closing the client connection",
               label(), why, relay_.bodyBytes());
  releaseUpstream(false);
  logAccess(relay_.status(), relay_.bodyBytes());
  finish(ExchangeEnd::Close);
}

void Exchange::releaseUpstream(bool reusable) {
  connector_.cancel();
  resolveWait_.cancel();
  if (!conn_) return;
  if (reusable) {
    server_->pool.put(std::move(conn_));
  } else {
    ConnectionPool::retire(ctx_.loop, std::move(conn_));
  }
}

void Exchange::abort() {
  if (state_ == State::Idle) return;
  releaseUpstream(false);
  spool_.release();
  logAccess(499, relay_.bodyBytes());
  state_ = State::Idle;
  req_.body.reset();
}

bool Exchange::abandon() {
  if (state_ == State::Idle) return false;
  bool started = relay_.headSent();
  releaseUpstream(false);
  if (started) logAccess(relay_.status(), relay_.bodyBytes());
  state_ = State::Idle;
  req_.body.reset();
  return started;
}

std::string_view Exchange::label() const {
  return server_ ? std::string_view(server_->label) : std::string_view("-");
}

UpstreamStats& Exchange::upstreamStats() {
  return upstream_->stats(server_ ? server_->urlIndex : 0);
}

// Counted once per response head, when the relay has taken it.
void Exchange::headReceived() {
  UpstreamStats& s = upstreamStats();
  s.responses[statusSlot(relay_.status())].add();
  s.responseTime.observe(ctx_.loop.now() - startedAt_);
}

void Exchange::logAccess(int status, std::uint64_t bodyBytes) {
  const reactor::Millis duration = ctx_.loop.now() - req_.started;
  ctx_.stats.requestDone(req_.methodKind, status, bodyBytes, duration);
  server::AccessLog& log = ctx_.accessLog;
  if (!log.enabled()) return;
  server::AccessEntry e;
  e.status = status;
  e.bytes = bodyBytes;
  e.method = req_.method;
  e.target = req_.target;
  e.versionMinor = req_.versionMinor;
  e.referer = req_.referer;
  e.userAgent = req_.userAgent;
  e.upstream = label();
  e.upstreamMillis = ctx_.loop.now() - startedAt_;
  e.durationMillis = duration;
  log.log(req_.peer, e, ctx_.loop.wallMillis());
}

void Exchange::finish(ExchangeEnd end) {
  state_ = State::Idle;
  if (spool_.spooledBytes() > 0) {
    spdlog::debug("upstream {}: {} response bytes went through a temporary file", label(),
                  spool_.spooledBytes());
  }
  spool_.release();
  // A buffered body's temporary file (up to the size limit on disk) goes now, not when this
  // connection's next proxied request comes, which may be never.
  req_.body.reset();
  if (end == ExchangeEnd::ClientGone) {
    releaseUpstream(false);
    logAccess(499, relay_.bodyBytes());
  }
  client_.exchangeFinished(end);
}

}  // namespace epserve::proxy
