// Request/response exchange for epserve-get over a reused connection: see HttpClient.h.
#include "client/HttpClient.h"

#include <cerrno>
#include <cstring>

#include "client/ClientError.h"
#include "http/BodyDecoder.h"

namespace epserve::client {

HttpClient::HttpClient(const ClientOptions& options, std::FILE* body, std::FILE* log)
    : options_(options), body_(body), log_(log) {}

int HttpClient::fetch(const std::string& path) {
  const std::string request = requestFor(path);
  for (;;) {
    const bool reused = connection_.has_value();
    if (reused) {
      if (options_.verbose) {
        std::fprintf(log_, "* reusing the connection to %s (local port %u)\n",
                     options_.serverName.c_str(), unsigned{connection_->localPort()});
      }
    } else {
      connect();
    }
    int status = 0;
    if (exchange(request, reused, status) == Exchange::Done) return status;
    // The server closed the idle connection (its keep-alive timeout) before it read this request.
    // GET and HEAD are idempotent, so sending it again on a new connection is safe (RFC 9112
    // §9.3.1); a fresh connection never comes back here, so this happens at most once.
    if (options_.verbose) std::fprintf(log_, "* the server had closed the connection\n");
    disconnect();
  }
}

std::string HttpClient::requestFor(const std::string& path) const {
  std::string r = options_.head ? "HEAD " : "GET ";
  r += path;
  r += options_.http10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n";
  r += "Host: " + options_.serverName + "\r\n";
  r += "User-Agent: epserve-get/" EPSERVE_VERSION "\r\n";
  r += "Accept: */*\r\n\r\n";
  return r;
}

void HttpClient::connect() {
  connection_.emplace(options_.server, options_.timeout);
  buffer_.clear();
  if (options_.verbose) {
    std::fprintf(log_, "* connected to %s (local port %u)\n", options_.serverName.c_str(),
                 unsigned{connection_->localPort()});
  }
}

void HttpClient::disconnect() {
  connection_.reset();
  buffer_.clear();
}

HttpClient::Exchange HttpClient::exchange(const std::string& request, bool reused, int& status) {
  if (options_.verbose) logRequest(request);
  try {
    connection_->sendAll(request);
  } catch (const ClientError& e) {
    if (reused && (e.errnum() == EPIPE || e.errnum() == ECONNRESET)) {
      return Exchange::ServerHadClosed;
    }
    throw;
  }
  const std::optional<FinalHead> head = readFinalHead(reused);
  if (!head) return Exchange::ServerHadClosed;
  status = head->status;
  const bool closed = readBody(*head);
  if (std::fflush(body_) != 0) throw ClientError(std::string("write: ") + std::strerror(errno));
  if (!head->keepAlive || closed || options_.http10) {
    if (options_.verbose) std::fprintf(log_, "* closing the connection\n");
    disconnect();
  }
  return Exchange::Done;
}

std::optional<HttpClient::FinalHead> HttpClient::readFinalHead(bool reused) {
  const std::string& peer = connection_->peer();
  bool anyByte = !buffer_.empty();
  // Any interim 1xx heads (RFC 9110 §15.2) are logged and skipped; the final one is returned.
  for (;;) {
    const http::ResponseParseResult r = http::parseResponse(buffer_, options_.head, head_);
    if (r.status == http::ParseStatus::Error) {
      throw ClientError("bad response from " + peer + ": " + std::string(r.error));
    }
    if (r.status == http::ParseStatus::Complete) {
      logHead(head_);
      // We never ask to upgrade, so a 101 would leave us speaking an unknown protocol.
      if (head_.status == 101) {
        throw ClientError("bad response from " + peer + ": 101 without an upgrade request");
      }
      const FinalHead head{head_.status, head_.framing, head_.contentLength, head_.keepAlive};
      const bool interim = head_.interim();
      buffer_.erase(0, r.consumed);  // head_'s views dangle from here on
      if (interim) continue;
      return head;
    }
    std::size_t n = 0;
    try {
      n = fill();
    } catch (const ClientError& e) {
      if (reused && !anyByte && e.errnum() == ECONNRESET) return std::nullopt;
      throw;
    }
    if (n == 0) {
      if (reused && !anyByte) return std::nullopt;
      throw ClientError(peer + " closed the connection " +
                        (anyByte ? "in the middle of a response head" : "without a response"));
    }
    anyByte = true;
  }
}

bool HttpClient::readBody(const FinalHead& head) {
  http::BodyDecoder body(head.framing, head.length);
  const auto sink = [this](std::string_view bytes) { writeBody(bytes); };
  http::BodyDecoder::Result result = http::BodyDecoder::Result::NeedMore;
  bool closed = false;
  while (result == http::BodyDecoder::Result::NeedMore) {
    std::size_t used = 0;
    result = body.feed(buffer_, used, sink);
    buffer_.erase(0, used);
    if (result == http::BodyDecoder::Result::NeedMore && fill() == 0) {
      closed = true;
      result = body.finish();
    }
  }
  if (result == http::BodyDecoder::Result::Done) return closed;
  std::string why = "bad response from " + connection_->peer() + ": " + std::string(body.error());
  if (closed) {
    why += " (" + std::to_string(body.dataBytes());
    why += head.framing == http::ResponseFraming::ContentLength
               ? " of " + std::to_string(head.length) + " bytes)"
               : " bytes decoded)";
  }
  throw ClientError(why);
}

std::size_t HttpClient::fill() {
  char chunk[64 * 1024];
  const std::size_t n = connection_->receive(chunk, sizeof(chunk));
  buffer_.append(chunk, n);
  return n;
}

void HttpClient::logRequest(std::string_view request) const {
  while (!request.empty()) {
    const std::size_t end = request.find("\r\n");
    if (end == 0) {
      std::fputs(">\n", log_);
    } else {
      std::fprintf(log_, "> %.*s\n", static_cast<int>(end), request.data());
    }
    request.remove_prefix(end + 2);
  }
}

void HttpClient::logHead(const http::ParsedResponse& head) const {
  if (!options_.verbose) return;
  std::fprintf(log_, "< %.*s\n", static_cast<int>(head.statusLine.size()),
               head.statusLine.data());
  for (std::size_t i = 0; i < head.headerCount; ++i) {
    const http::Header& h = head.headers[i];
    std::fprintf(log_, "< %.*s: %.*s\n", static_cast<int>(h.name.size()), h.name.data(),
                 static_cast<int>(h.value.size()), h.value.data());
  }
  std::fprintf(log_, "<\n");
}

void HttpClient::writeBody(std::string_view bytes) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), body_) != bytes.size()) {
    throw ClientError(std::string("write: ") + std::strerror(errno));
  }
}

}  // namespace epserve::client
