// The per-connection state machine: see Connection.h.
#include "server/Connection.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "http/RequestParser.h"
#include "http/Response.h"
#include "server/ReplyWriter.h"
#include "server/RequestHandler.h"
#include "server/Server.h"

namespace epserve::server {

using http::Status;

namespace {

// Fairness: after this many read rounds in one wake-up the connection yields (posts itself)
// so one pipelining client cannot hold the loop.
constexpr int kMaxReadRounds = 8;
// Back-pressure: stop parsing new requests while this much output is queued.
constexpr std::uint64_t kMaxPendingBytes = 256 * 1024;
constexpr std::size_t kMaxPendingFiles = 32;

constexpr std::uint32_t kEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

}  // namespace

Connection::Connection(Server& server)
    : server_(server), in_(server.buffers()), out_(server.buffers()), timer_(this) {}

void Connection::open(reactor::Fd fd, const reactor::SocketAddress& peer) {
  fd_ = std::move(fd);
  peer_ = peer;
  state_ = State::ReadingHead;
  readable_ = true;  // TCP_DEFER_ACCEPT: the request is usually already there
  writable_ = true;
  peerClosed_ = peerHangup_ = shuttingDown_ = lingerAfterClose_ = posted_ = false;
  rearm_ = true;
  scanned_ = 0;
  bodyLeft_ = 0;
  chunkedBody_ = false;
  requestsServed_ = 0;
  server_.loop().add(fd_.get(), kEvents, this);
  drive();
}

void Connection::beginShutdown() {
  shuttingDown_ = true;
  if (state_ == State::Closed) return;
  if (out_.empty() || state_ == State::ReadingBody) {
    close();  // nothing in flight (a held response counts as not started)
    return;
  }
  if (state_ == State::ReadingHead) state_ = State::Closing;
}

void Connection::onEvents(std::uint32_t events) {
  if (state_ == State::Closed) return;  // a stale event from earlier in this iteration
  if (events == 0) {
    posted_ = false;
  } else {
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readable_ = true;
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) writable_ = true;
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) peerHangup_ = true;
  }
  drive();
}

bool Connection::backlogged() const {
  return out_.pendingBytes() >= kMaxPendingBytes || out_.pendingSegments() >= kMaxPendingFiles;
}

void Connection::drive() {
  int rounds = 0;
  bool waitingForOutput = false;  // parsing paused by back-pressure, not by missing input
  while (state_ != State::Closed) {
    if (!out_.empty() && writable_) {
      switch (out_.flush(fd_.get())) {
        case OutputQueue::FlushResult::Failed:
          close();
          return;
        case OutputQueue::FlushResult::Blocked:
          writable_ = false;
          break;
        case OutputQueue::FlushResult::Drained:
          break;
      }
    }
    if (state_ == State::Closing) {
      if (out_.empty()) finishOutput();
      if (state_ != State::Lingering) break;
    }
    if (state_ == State::Lingering) {
      // Discard whatever the client still sends until it closes or the linger timer fires.
      char sink[4096];
      ssize_t n;
      while ((n = ::recv(fd_.get(), sink, sizeof(sink), 0)) > 0) {
      }
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) close();
      break;
    }

    bool progressed = processInput();
    if (state_ == State::Closing) continue;  // go send the error response
    // Nothing is held while reading heads, so a flush either drains the backlog or blocks.
    waitingForOutput = state_ == State::ReadingHead && backlogged();
    if (waitingForOutput) {
      if (writable_) continue;
      break;  // EPOLLOUT resumes us
    }
    if (readable_ && !peerClosed_) {
      if (++rounds > kMaxReadRounds) {
        if (!posted_) {
          posted_ = true;
          server_.loop().post(this);
        }
        waitingForOutput = true;  // not idle: more input is waiting
        break;
      }
      if (!readSome()) return;  // closed
      continue;
    }
    if (progressed && !out_.empty() && writable_) continue;
    break;
  }
  if (state_ == State::Closed) return;

  if (peerClosed_ && !waitingForOutput &&
      (state_ == State::ReadingHead || state_ == State::ReadingBody)) {
    // The client sent its last byte and every complete request is answered: drop a partial
    // request (and the reply held for its body), finish sending, close.
    if (state_ == State::ReadingBody) out_.truncate(heldMark_);
    if (out_.empty()) {
      close();
      return;
    }
    state_ = State::Closing;
    if (writable_) {
      drive();
      return;
    }
  }
  in_.releaseIfEmpty();
  out_.releaseIfEmpty();
  updateTimer();
}

bool Connection::readSome() {
  std::size_t room = in_.prepareWrite();
  if (room == 0) {
    // Only a request head can fill the buffer, and the parser rejects one this big first.
    failRequest(Status::HeaderFieldsTooLarge);
    return true;
  }
  for (;;) {
    ssize_t n = ::recv(fd_.get(), in_.writePtr(), room, 0);
    if (n > 0) {
      in_.commit(static_cast<std::size_t>(n));
      // Under edge triggering a short read means the socket is empty now, unless the peer
      // hung up (then read on to see the EOF).
      if (static_cast<std::size_t>(n) < room && !peerHangup_) readable_ = false;
      return true;
    }
    if (n == 0) {
      peerClosed_ = true;
      readable_ = false;
      return true;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      readable_ = false;
      return true;
    }
    close();  // ECONNRESET and friends: the client is gone
    return false;
  }
}

bool Connection::processInput() {
  bool progressed = false;
  while (state_ == State::ReadingHead || state_ == State::ReadingBody) {
    if (state_ == State::ReadingBody) {
      if (!consumeBody()) break;
      progressed = true;
      continue;
    }
    if (in_.empty() || shuttingDown_ || backlogged()) break;
    // Re-parse only when a line may have completed, or when the bytes already exceed the
    // request-line limit (so 414 comes without waiting for a line end): a slow sender costs
    // one memchr over its new bytes, not a parse per byte.
    std::string_view input = in_.view();
    const auto& limits = server_.parseLimits();
    bool newLine = std::memchr(input.data() + scanned_, '\n', input.size() - scanned_) != nullptr;
    scanned_ = input.size();
    if (!newLine && input.size() <= limits.maxRequestLine) break;

    http::Request& req = server_.scratchRequest();
    http::ParseResult r = http::parseRequest(input, req, limits);
    if (r.status == http::ParseStatus::Incomplete) break;
    if (r.status == http::ParseStatus::Error) {
      failRequest(r.error);
      break;
    }
    progressed = true;
    handleRequest(req, r.consumed);
  }
  return progressed;
}

void Connection::handleRequest(const http::Request& req, std::size_t headLength) {
  rearm_ = true;
  ++requestsServed_;
  Reply& reply = server_.scratchReply();
  reply.reset();

  bool hasBody = req.framing == http::BodyFraming::Chunked ||
                 (req.framing == http::BodyFraming::ContentLength && req.contentLength > 0);
  if (req.unsupportedExpect) {
    RequestHandler::error(Status::ExpectationFailed, true, reply);
  } else if (req.framing == http::BodyFraming::ContentLength &&
             req.contentLength > server_.config().maxBodySize) {
    RequestHandler::error(Status::ContentTooLarge, true, reply);
  } else {
    server_.handler().handle(req, reply, server_.loop().now());
  }
  bool keepAlive = req.keepAlive && !reply.close && !shuttingDown_;
  reply.close = !keepAlive;

  if (hasBody && keepAlive) {
    // The body must be read (and discarded) before the next request can be found. The reply
    // is queued now, while `req`'s views are valid, and held until the body has ended.
    if (req.expectContinue && req.versionMinor == 1) out_.append(http::kContinueResponse);
    heldMark_ = out_.mark();
    out_.hold(heldMark_);
    chunkedBody_ = req.framing == http::BodyFraming::Chunked;
    bodyLeft_ = chunkedBody_ ? 0 : req.contentLength;
    chunked_ = http::BodyDecoder(http::ResponseFraming::Chunked);
  }
  queueReply(reply, &req);

  in_.consume(headLength);  // `req` is invalid from here on
  scanned_ = 0;
  if (!keepAlive) {
    // Unread body bytes or pipelined requests would make close() send an RST.
    lingerAfterClose_ = hasBody || !in_.empty();
    startClosing();
  } else if (hasBody) {
    state_ = State::ReadingBody;
  }
}

bool Connection::consumeBody() {
  if (!chunkedBody_) {
    auto take = static_cast<std::size_t>(std::min<std::uint64_t>(bodyLeft_, in_.size()));
    in_.consume(take);
    bodyLeft_ -= take;
    if (bodyLeft_ > 0) return false;
  } else {
    std::size_t used = 0;
    auto r = chunked_.feed(in_.view(), used, [](std::string_view) {});  // discarded
    in_.consume(used);
    if (r == http::BodyDecoder::Result::Error ||
        chunked_.dataBytes() > server_.config().maxBodySize) {
      out_.truncate(heldMark_);  // the held reply is replaced by the error
      failRequest(r == http::BodyDecoder::Result::Error ? Status::BadRequest
                                                        : Status::ContentTooLarge);
      return false;
    }
    if (r == http::BodyDecoder::Result::NeedMore) return false;
  }
  out_.release();
  state_ = State::ReadingHead;
  scanned_ = 0;
  rearm_ = true;
  return true;
}

void Connection::failRequest(Status status) {
  Reply& reply = server_.scratchReply();
  reply.reset();
  RequestHandler::error(status, true, reply);
  queueReply(reply, nullptr);
  lingerAfterClose_ = true;
  startClosing();
}

void Connection::queueReply(Reply& reply, const http::Request* req) {
  std::uint64_t bodyBytes = writeReply(out_, reply, req, server_.date(),
                                       server_.config().extraHeaders);
  AccessLog& log = server_.accessLog();
  if (!log.enabled()) return;
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
  log.log(peer_, e, server_.loop().wallSeconds());
}

void Connection::startClosing() {
  state_ = State::Closing;
  if (!lingerAfterClose_) return;
  // Any held reply is superseded: a closing connection reads no more bodies.
  out_.release();
}

void Connection::finishOutput() {
  if (!lingerAfterClose_ || peerClosed_) {
    close();
    return;
  }
  // Half-close and drain briefly: closing with unread input would reset the connection and
  // could destroy the response before the client reads it.
  ::shutdown(fd_.get(), SHUT_WR);
  state_ = State::Lingering;
  server_.lingerTimeouts().arm(timer_, server_.loop().now());
  timerList_ = &server_.lingerTimeouts();
  readable_ = true;
}

void Connection::updateTimer() {
  reactor::TimeoutList* want = nullptr;
  bool restart = rearm_;
  if (state_ == State::Lingering) {
    return;  // armed once when lingering began
  } else if (!out_.empty() && !writable_) {
    want = &server_.sendTimeouts();
    restart = out_.takeProgress();
  } else if (state_ == State::ReadingBody || (state_ == State::ReadingHead && !in_.empty())) {
    want = &server_.headerTimeouts();
  } else if (state_ == State::ReadingHead) {
    // Idle between requests: the keep-alive timer. A connection that has not sent its first
    // request yet is still waiting for a head: the header timer.
    want = requestsServed_ > 0 ? &server_.keepAliveTimeouts() : &server_.headerTimeouts();
  } else {
    want = &server_.sendTimeouts();
  }
  if (timer_.list() != want || restart) want->arm(timer_, server_.loop().now());
  timerList_ = want;
  rearm_ = false;
}

void Connection::onTimeout() {
  // Only the header list means "the request is too slow": the others end the connection.
  bool requestTimedOut = timerList_ == &server_.headerTimeouts() &&
                         (state_ == State::ReadingBody ||
                          (state_ == State::ReadingHead && !in_.empty()));
  if (requestTimedOut) {
    spdlog::debug("{}: request timed out", peer_.toString());
    if (state_ == State::ReadingBody) out_.truncate(heldMark_);
    failRequest(Status::RequestTimeout);
    drive();
    return;
  }
  close();
}

void Connection::close() {
  if (state_ == State::Closed) return;
  state_ = State::Closed;
  timer_.cancel();
  if (posted_) {
    server_.loop().unpost(this);
    posted_ = false;
  }
  out_.clear();
  in_.clear();
  in_.releaseIfEmpty();
  // Closing the fd also removes it from the epoll set (it is never duplicated).
  fd_.reset();
  server_.connectionClosed(this);
}

}  // namespace epserve::server
