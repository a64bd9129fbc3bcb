// The response half of a proxied exchange, as pure code: upstream bytes in, the bytes the
// client gets out (the head re-written, the body re-framed). No I/O, so it is fuzzable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/BodyDecoder.h"
#include "http/ResponseParser.h"

namespace epserve::proxy {

// Where the relay puts the client's bytes (the client connection's output queue).
class RelaySink {
 public:
  virtual void write(std::string_view bytes) = 0;

 protected:
  ~RelaySink() = default;
};

class ResponseRelay {
 public:
  // An upstream response head larger than this is refused (RFC 9112 sets no limit; nginx's
  // proxy_buffer_size is 4 KiB, HAProxy's buffer 16 KiB).
  static constexpr std::size_t kMaxHead = 16 * 1024;

  struct Params {
    bool headRequest = false;
    int clientVersionMinor = 1;
    bool clientKeepAlive = true;   // false: the head says Connection: close
    std::string_view date;         // epserve's Date value
    std::string_view extraHeaders;  // the server-wide --header lines
    // The request asked to switch protocols (http::requestsUpgrade): its Upgrade value, which a
    // 101 must choose from. Empty: a 101 is refused.
    std::string_view upgradeOffered;
    // The upstream may answer with a CGI head (a Status field instead of a status line): uwsgi.
    bool cgiHeads = false;
  };

  enum class Result : std::uint8_t {
    NeedMore,   // everything given was consumed; more upstream bytes are awaited
    Done,       // the response is complete: bytes after `consumed` are not part of it
    BadHead,    // the head broke the rules (error() says how): nothing was written, 502
    Truncated,  // the body broke its framing after the head went out: close the client
    Upgraded,   // a 101 to an upgrade request: its head is written, bytes after `consumed`
                // belong to the new protocol (a byte tunnel from here on)
  };

  void reset(const Params& p);
  // The client connection ends after this response (a shutdown began): the head, if not yet
  // written, says Connection: close.
  void clientClosing() { params_.clientKeepAlive = false; }
  // Consumes a prefix of `input`, writing the client's bytes to `sink`.
  Result feed(std::string_view input, std::size_t& consumed, RelaySink& sink);
  // The upstream closed: Done when that ends a close-delimited body, else Truncated (or BadHead
  // when no head had arrived).
  Result finish(RelaySink& sink);

  // What the upstream's head asks of response buffering: nginx's X-Accel-Buffering field
  // decides; failing that, server-sent events stream (each event must reach the client now).
  enum class Buffering : std::uint8_t { Default, Buffer, Stream };
  Buffering buffering() const { return buffering_; }

  bool headSent() const { return state_ != State::Head; }
  int status() const { return status_; }
  std::uint64_t bodyBytes() const { return bodyBytes_; }
  std::string_view error() const { return error_; }
  // The upstream connection can carry another request: it asked to keep alive and the body
  // had its own framing (call after Done, with whether bytes followed the response).
  bool upstreamReusable() const { return keepAlive_; }
  // The client must be closed after this response (its body is delimited by the close).
  bool clientMustClose() const { return closeOut_ || !params_.clientKeepAlive; }

 private:
  enum class State : std::uint8_t { Head, Body, Done };

  Result readHead(std::string_view input, std::size_t& consumed, RelaySink& sink);
  Result cgiHeadRead(std::size_t cgiLength, const http::ResponseLimits& limits,
                     std::size_t& consumed, RelaySink& sink);
  Result headRead(RelaySink& sink);
  void writeHead(RelaySink& sink);
  Result switchProtocols(RelaySink& sink);
  void writeData(std::string_view data, RelaySink& sink);
  Result bodyEnded(RelaySink& sink);

  Params params_;
  State state_ = State::Head;
  http::ParsedResponse parsed_;
  http::BodyDecoder decoder_;
  int status_ = 0;
  bool chunkedOut_ = false;
  bool closeOut_ = false;
  bool keepAlive_ = false;
  Buffering buffering_ = Buffering::Default;
  std::uint64_t bodyBytes_ = 0;
  std::string_view error_;
  std::string head_;         // the client's head, reused
  std::string cgiHead_;      // a CGI head rewritten as HTTP/1.1, reused
  std::string passThrough_;  // the response's end-to-end fields, reused
};

}  // namespace epserve::proxy
