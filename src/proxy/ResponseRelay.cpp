// Upstream response → client response: see ResponseRelay.h.
#include "proxy/ResponseRelay.h"

#include <array>

#include "http/CgiHead.h"
#include "http/ChunkedEncoder.h"
#include "http/HopByHop.h"
#include "http/Response.h"
#include "http/Syntax.h"
#include "http/Upgrade.h"

namespace epserve::proxy {

namespace {

// Upstream fields epserve writes itself (its own Date and Server, as for files) or re-frames.
// X-Accel-Buffering is a word to the proxy, not to the client (nginx hides it too).
constexpr std::array<std::string_view, 4> kReplaced = {"Content-Length", "Date", "Server",
                                                       "X-Accel-Buffering"};
constexpr std::array<std::string_view, 3> kReplacedKeepLength = {"Date", "Server",
                                                                 "X-Accel-Buffering"};

ResponseRelay::Buffering bufferingOf(const http::ParsedResponse& r) {
  std::string_view accel = r.find("X-Accel-Buffering");
  if (http::equalsIgnoreCase(accel, "no")) return ResponseRelay::Buffering::Stream;
  if (http::equalsIgnoreCase(accel, "yes")) return ResponseRelay::Buffering::Buffer;
  std::string_view type = r.find("Content-Type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  if (http::equalsIgnoreCase(type, "text/event-stream")) return ResponseRelay::Buffering::Stream;
  return ResponseRelay::Buffering::Default;
}

}  // namespace

void ResponseRelay::reset(const Params& p) {
  params_ = p;
  state_ = State::Head;
  status_ = 0;
  chunkedOut_ = closeOut_ = keepAlive_ = false;
  buffering_ = Buffering::Default;
  bodyBytes_ = 0;
  error_ = {};
}

ResponseRelay::Result ResponseRelay::feed(std::string_view input, std::size_t& consumed,
                                          RelaySink& sink) {
  consumed = 0;
  if (state_ == State::Head) {
    Result r = readHead(input, consumed, sink);
    if (r != Result::NeedMore || state_ == State::Head) return r;
  }
  if (state_ == State::Done) return Result::Done;
  std::size_t used = 0;
  auto result = decoder_.feed(input.substr(consumed), used,
                              [&](std::string_view d) { writeData(d, sink); });
  consumed += used;
  if (result == http::BodyDecoder::Result::Error) {
    error_ = decoder_.error();
    return Result::Truncated;
  }
  if (result == http::BodyDecoder::Result::Done) return bodyEnded(sink);
  return Result::NeedMore;
}

ResponseRelay::Result ResponseRelay::readHead(std::string_view input, std::size_t& consumed,
                                              RelaySink& sink) {
  http::ResponseLimits limits;
  limits.maxHeaderBytes = kMaxHead;
  limits.maxStatusLine = kMaxHead;
  // Room for the fields epserve adds (Date, Server, framing, Connection, --header lines), so the
  // relayed head stays within what a parser as strict as ours accepts.
  limits.maxHeaderCount = http::kMaxHeaders - 8;
  for (;;) {
    std::string_view rest = input.substr(consumed);
    if (params_.cgiHeads) {
      std::size_t cgiLength = 0;
      switch (http::cgiToHttpHead(rest, cgiHead_, cgiLength)) {
        case http::CgiHead::Incomplete:
          if (rest.size() > kMaxHead) {
            error_ = "the response head is too large";
            return Result::BadHead;
          }
          return Result::NeedMore;
        case http::CgiHead::Invalid:
          error_ = "an invalid CGI Status field";
          return Result::BadHead;
        case http::CgiHead::Converted:
          if (cgiLength > kMaxHead) {
            error_ = "the response head is too large";
            return Result::BadHead;
          }
          return cgiHeadRead(cgiLength, limits, consumed, sink);
        case http::CgiHead::NotCgi:
          break;
      }
    }
    http::ResponseParseResult r = http::parseResponse(rest, params_.headRequest, parsed_, limits);
    if (r.status == http::ParseStatus::Incomplete) {
      if (rest.size() > kMaxHead) {
        error_ = "the response head is too large";
        return Result::BadHead;
      }
      return Result::NeedMore;  // the caller keeps the unconsumed bytes for the next call
    }
    if (r.status == http::ParseStatus::Error) {
      error_ = r.error;
      return Result::BadHead;
    }
    if (parsed_.interim()) {
      if (parsed_.status == 101) {
        Result switched = switchProtocols(sink);
        if (switched == Result::Upgraded) consumed += r.consumed;
        return switched;
      }
      consumed += r.consumed;  // 100, 102, 103: nothing the client needs from us
      continue;
    }
    Result head = headRead(sink);
    if (head != Result::BadHead) consumed += r.consumed;
    return head;
  }
}

// The CGI head, now an HTTP/1.1 one in cgiHead_, goes through the same parser and checks.
ResponseRelay::Result ResponseRelay::cgiHeadRead(std::size_t cgiLength,
                                                 const http::ResponseLimits& limits,
                                                 std::size_t& consumed, RelaySink& sink) {
  http::ResponseParseResult r = http::parseResponse(cgiHead_, params_.headRequest, parsed_, limits);
  if (r.status != http::ParseStatus::Complete || parsed_.interim()) {
    error_ = r.status == http::ParseStatus::Error ? r.error : "an invalid CGI response head";
    return Result::BadHead;
  }
  Result head = headRead(sink);
  if (head != Result::BadHead) consumed += cgiLength;
  return head;
}

// A final head, parsed from either form: refused, or written for the client.
ResponseRelay::Result ResponseRelay::headRead(RelaySink& sink) {
  // RFC 9112 §6.3 lets a response with a coding other than a final chunked run until the
  // close; a proxy cannot re-frame what it cannot decode, so it is refused like nginx does.
  if (parsed_.framing == http::ResponseFraming::UntilClose &&
      parsed_.find("Transfer-Encoding").data() != nullptr) {
    error_ = "a transfer coding other than chunked";
    return Result::BadHead;
  }
  writeHead(sink);  // before the views into the head are given up
  state_ = State::Body;
  decoder_ = http::BodyDecoder(parsed_.framing, parsed_.contentLength);
  keepAlive_ = parsed_.keepAlive && parsed_.framing != http::ResponseFraming::UntilClose;
  return Result::NeedMore;
}

void ResponseRelay::writeHead(RelaySink& sink) {
  status_ = parsed_.status;
  buffering_ = bufferingOf(parsed_);
  const bool bodyless = params_.headRequest || http::forbidsContent(http::statusFromCode(status_));
  http::ResponseHead h;
  h.status = http::statusFromCode(status_);
  h.reason = parsed_.reason;
  h.date = params_.date;
  if (bodyless) {
    // A HEAD or 304 answer keeps the upstream's Content-Length: it describes the resource.
    h.framing = http::ContentFraming::None;
  } else if (parsed_.framing == http::ResponseFraming::ContentLength) {
    h.contentLength = parsed_.contentLength;
  } else if (params_.clientVersionMinor >= 1) {
    h.framing = http::ContentFraming::Chunked;
    chunkedOut_ = true;
  } else {
    h.framing = http::ContentFraming::UntilClose;  // an HTTP/1.0 client has no chunked coding
    closeOut_ = true;
  }
  if (!params_.clientKeepAlive || closeOut_) {
    h.connection = http::ConnectionHeader::Close;
  } else if (params_.clientVersionMinor == 0) {
    h.connection = http::ConnectionHeader::KeepAlive;
  }

  std::span<const http::Header> fields(parsed_.headers.data(), parsed_.headerCount);
  http::HopByHopFilter hop(fields);
  passThrough_.resize(http::endToEndSize(fields));
  std::size_t n =
      bodyless && status_ != 204
          ? http::writeEndToEnd(fields, hop, passThrough_.data(), kReplacedKeepLength)
          : http::writeEndToEnd(fields, hop, passThrough_.data(), kReplaced);
  passThrough_.resize(n);
  h.passThrough = passThrough_;
  h.extraHeaders = params_.extraHeaders;

  head_.resize(http::maxHeadSize(h));
  head_.resize(http::writeResponseHead(h, head_.data()));
  sink.write(head_);
}

// A 101 goes to the client only when it asked for the switch and the protocol is one it
// offered; its head keeps the end-to-end fields (Sec-WebSocket-Accept...) and re-sends the
// hop-by-hop pair that makes it a switch on this hop too.
ResponseRelay::Result ResponseRelay::switchProtocols(RelaySink& sink) {
  if (params_.upgradeOffered.empty()) {
    error_ = "switched protocols, which was not asked for";
    return Result::BadHead;
  }
  const std::string_view chosen = parsed_.find("Upgrade");
  if (chosen.data() == nullptr || !http::upgradeOffered(params_.upgradeOffered, chosen)) {
    error_ = "switched to a protocol the client did not offer";
    return Result::BadHead;
  }
  status_ = 101;
  http::ResponseHead h;
  h.status = http::Status::SwitchingProtocols;
  h.reason = parsed_.reason;
  h.date = params_.date;
  h.framing = http::ContentFraming::None;
  std::span<const http::Header> fields(parsed_.headers.data(), parsed_.headerCount);
  http::HopByHopFilter hop(fields);
  constexpr std::string_view kUpgrade = "Upgrade: ";
  constexpr std::string_view kConnection = "\r\nConnection: upgrade\r\n";
  passThrough_.resize(http::endToEndSize(fields) + kUpgrade.size() + chosen.size() +
                      kConnection.size());
  std::size_t n = http::writeEndToEnd(fields, hop, passThrough_.data(), kReplaced);
  passThrough_.resize(n);
  passThrough_.append(kUpgrade).append(chosen).append(kConnection);
  h.passThrough = passThrough_;
  h.extraHeaders = params_.extraHeaders;
  head_.resize(http::maxHeadSize(h));
  head_.resize(http::writeResponseHead(h, head_.data()));
  sink.write(head_);
  state_ = State::Done;
  return Result::Upgraded;
}

void ResponseRelay::writeData(std::string_view data, RelaySink& sink) {
  bodyBytes_ += data.size();
  if (!chunkedOut_) {
    sink.write(data);
    return;
  }
  char header[http::kMaxChunkHeader];
  sink.write(std::string_view(header, http::writeChunkHeader(data.size(), header)));
  sink.write(data);
  sink.write(http::kChunkDataEnd);
}

ResponseRelay::Result ResponseRelay::bodyEnded(RelaySink& sink) {
  if (chunkedOut_) sink.write(http::kLastChunk);
  state_ = State::Done;
  return Result::Done;
}

ResponseRelay::Result ResponseRelay::finish(RelaySink& sink) {
  switch (state_) {
    case State::Head:
      error_ = "the connection closed before a complete response head";
      return Result::BadHead;
    case State::Body:
      if (decoder_.finish() == http::BodyDecoder::Result::Done) return bodyEnded(sink);
      error_ = "the connection closed before the body ended";
      return Result::Truncated;
    case State::Done:
      return Result::Done;
  }
  return Result::Done;
}

}  // namespace epserve::proxy
