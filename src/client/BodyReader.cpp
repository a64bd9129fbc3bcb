// Response body framing and chunked decoding for epserve-get: see BodyReader.h.
#include "client/BodyReader.h"

#include <algorithm>

namespace epserve::client {

namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool isTchar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// SP, HTAB, VCHAR, obs-text: what chunk extensions and trailer values may hold.
bool isFieldByte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7F);
}

}  // namespace

BodyReader::BodyReader(http::ResponseFraming framing, std::uint64_t contentLength)
    : framing_(framing) {
  switch (framing) {
    case http::ResponseFraming::None:
      state_ = Result::Done;
      break;
    case http::ResponseFraming::ContentLength:
      left_ = contentLength;
      if (left_ == 0) state_ = Result::Done;
      break;
    case http::ResponseFraming::Chunked:
    case http::ResponseFraming::UntilClose:
      break;
  }
}

BodyReader::Result BodyReader::fail(std::string_view why) {
  error_ = why;
  state_ = Result::Error;
  return state_;
}

BodyReader::Result BodyReader::feed(std::string_view input, std::size_t& consumed,
                                    const Sink& sink) {
  consumed = 0;
  if (state_ != Result::NeedMore) return state_;
  switch (framing_) {
    case http::ResponseFraming::ContentLength: {
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(left_, input.size()));
      if (n > 0) sink(input.substr(0, n));
      consumed = n;
      left_ -= n;
      received_ += n;
      if (left_ == 0) state_ = Result::Done;
      return state_;
    }
    case http::ResponseFraming::UntilClose:
      if (!input.empty()) sink(input);
      consumed = input.size();
      received_ += input.size();
      return state_;
    case http::ResponseFraming::Chunked:
      return feedChunked(input, consumed, sink);
    case http::ResponseFraming::None:
      break;
  }
  return state_;
}

BodyReader::Result BodyReader::finish() {
  if (state_ != Result::NeedMore) return state_;
  // Only a close-delimited body may end with the connection (RFC 9112 §6.3 rule 8); any other
  // body cut short is incomplete (§8).
  if (framing_ == http::ResponseFraming::UntilClose) {
    state_ = Result::Done;
    return state_;
  }
  return fail(framing_ == http::ResponseFraming::Chunked
                  ? "connection closed inside the chunked body"
                  : "connection closed before the end of the body");
}

// chunked-body = *chunk last-chunk trailer-section CRLF (RFC 9112 §7.1). Bare LF is accepted for
// CRLF, as in the head (§2.2). Every byte of framing is judged the moment it arrives.
BodyReader::Result BodyReader::feedChunked(std::string_view in, std::size_t& consumed,
                                           const Sink& sink) {
  std::size_t i = 0;
  while (i < in.size()) {
    const char c = in[i];
    switch (chunk_) {
      case Chunk::Size: {
        const int v = hexValue(c);
        if (v < 0) {
          if (!sawDigit_) return fail("malformed chunk size");
          chunk_ = Chunk::AfterSize;
          continue;  // judge this byte in the next state
        }
        if (left_ > (UINT64_MAX >> 4)) return fail("chunk size too large");
        if (++lineBytes_ > kMaxLine) return fail("chunk size line too long");
        left_ = left_ * 16 + static_cast<std::uint64_t>(v);
        sawDigit_ = true;
        ++i;
        break;
      }
      case Chunk::AfterSize:
      case Chunk::Extension:
        if (c == '\r' || c == '\n') {
          chunk_ = c == '\r' ? Chunk::SizeLf : (left_ == 0 ? Chunk::TrailerStart : Chunk::Data);
        } else if (chunk_ == Chunk::AfterSize && c == ';') {
          chunk_ = Chunk::Extension;  // chunk-ext: names and values are of no use to us
        } else if (chunk_ == Chunk::AfterSize ? (c != ' ' && c != '\t') : !isFieldByte(c)) {
          return fail("malformed chunk size line");
        }
        if (++lineBytes_ > kMaxLine) return fail("chunk size line too long");
        ++i;
        break;
      case Chunk::SizeLf:
        if (c != '\n') return fail("malformed chunk size line");
        chunk_ = left_ == 0 ? Chunk::TrailerStart : Chunk::Data;
        ++i;
        break;
      case Chunk::Data: {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left_, in.size() - i));
        sink(in.substr(i, n));
        i += n;
        left_ -= n;
        received_ += n;
        if (left_ == 0) chunk_ = Chunk::DataEnd;
        break;
      }
      case Chunk::DataEnd:
      case Chunk::DataLf:
        if (chunk_ == Chunk::DataEnd && c == '\r') {
          chunk_ = Chunk::DataLf;
        } else if (c == '\n') {
          chunk_ = Chunk::Size;
          lineBytes_ = 0;
          sawDigit_ = false;
        } else {
          return fail("missing line end after chunk data");
        }
        ++i;
        break;
      case Chunk::TrailerStart:
        if (c == '\r' || c == '\n') {
          ++i;
          if (c == '\n') {
            consumed = i;
            state_ = Result::Done;
            return state_;
          }
          chunk_ = Chunk::FinalLf;
          break;
        }
        // Trailer fields are read and dropped: a client printing a body has no use for them.
        if (++trailers_ > kMaxTrailers) return fail("too many trailer fields");
        chunk_ = Chunk::TrailerName;
        lineBytes_ = 0;
        continue;
      case Chunk::TrailerName:
        if (c == ':' && lineBytes_ > 0) {
          chunk_ = Chunk::TrailerValue;
        } else if (!isTchar(c)) {
          return fail("malformed trailer field");
        }
        if (++lineBytes_ > kMaxLine) return fail("trailer field too long");
        ++i;
        break;
      case Chunk::TrailerValue:
        if (c == '\r' || c == '\n') {
          chunk_ = c == '\r' ? Chunk::TrailerLf : Chunk::TrailerStart;
        } else if (!isFieldByte(c)) {
          return fail("malformed trailer field");
        } else if (++lineBytes_ > kMaxLine) {
          return fail("trailer field too long");
        }
        ++i;
        break;
      case Chunk::TrailerLf:
      case Chunk::FinalLf:
        if (c != '\n') return fail(chunk_ == Chunk::FinalLf ? "missing line end after chunked body"
                                                            : "malformed trailer field");
        ++i;
        if (chunk_ == Chunk::FinalLf) {
          consumed = i;
          state_ = Result::Done;
          return state_;
        }
        chunk_ = Chunk::TrailerStart;
        break;
    }
  }
  consumed = i;
  return state_;
}

}  // namespace epserve::client
