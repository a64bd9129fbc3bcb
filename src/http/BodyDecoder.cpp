// Body framing and the chunked transfer-coding decoder (RFC 9112 §6.3, §7.1): see BodyDecoder.h.
// The chunked part is a byte-resumable state machine; content spans are views into the input.
#include "http/BodyDecoder.h"

#include <algorithm>

#include "http/Syntax.h"

namespace epserve::http {

BodyDecoder::BodyDecoder(ResponseFraming framing, std::uint64_t contentLength) : framing_(framing) {
  switch (framing) {
    case ResponseFraming::None:
      state_ = State::Done;
      break;
    case ResponseFraming::ContentLength:
      left_ = contentLength;
      state_ = left_ == 0 ? State::Done : State::Data;
      break;
    case ResponseFraming::Chunked:
      state_ = State::Size;
      break;
    case ResponseFraming::UntilClose:
      state_ = State::Data;
      break;
  }
}

BodyDecoder::Step BodyDecoder::fail(std::size_t at, std::string_view why) {
  state_ = State::Failed;
  error_ = why;
  return {Result::Error, at, {}};
}

BodyDecoder::Step BodyDecoder::next(std::string_view input) {
  if (state_ == State::Done) return {Result::Done, 0, {}};
  if (state_ == State::Failed) return {Result::Error, 0, {}};
  switch (framing_) {
    case ResponseFraming::ContentLength: {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left_, input.size()));
      left_ -= n;
      dataBytes_ += n;
      if (left_ == 0) state_ = State::Done;
      return {left_ == 0 ? Result::Done : Result::NeedMore, n, input.substr(0, n)};
    }
    case ResponseFraming::UntilClose:
      dataBytes_ += input.size();
      return {Result::NeedMore, input.size(), input};
    case ResponseFraming::Chunked:
      return nextChunked(input);
    case ResponseFraming::None:
      break;
  }
  return {Result::Done, 0, {}};
}

BodyDecoder::Result BodyDecoder::finish() {
  if (state_ == State::Done) return Result::Done;
  if (state_ == State::Failed) return Result::Error;
  // Only a close-delimited body may end with the connection (RFC 9112 §6.3 rule 8); any other body
  // cut short is incomplete (§8).
  if (framing_ == ResponseFraming::UntilClose) {
    state_ = State::Done;
    return Result::Done;
  }
  fail(0, framing_ == ResponseFraming::Chunked ? "connection closed inside the chunked body"
                                               : "connection closed before the end of the body");
  return Result::Error;
}

// chunked-body = *chunk last-chunk trailer-section CRLF (RFC 9112 §7.1). Bare LF is accepted for
// CRLF, as in the head (§2.2). Every byte of framing is judged the moment it arrives.
BodyDecoder::Step BodyDecoder::nextChunked(std::string_view input) {
  const std::size_t n = input.size();
  std::size_t i = 0;

  // Size and trailer lines are bounded so a peer cannot make us skip bytes forever for free.
  auto lineByte = [&] { return ++lineBytes_ <= kMaxLine; };
  // The size line ended: a zero size is the last-chunk, which the trailer section follows.
  auto endSizeLine = [&] {
    lineBytes_ = 0;
    state_ = left_ == 0 ? State::TrailerStart : State::Data;
  };

  while (i < n) {
    if (state_ == State::Data) {
      const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(left_, n - i));
      left_ -= take;
      dataBytes_ += take;
      if (left_ == 0) state_ = State::DataCr;
      return {Result::NeedMore, i + take, input.substr(i, take)};
    }
    const auto c = static_cast<unsigned char>(input[i]);
    switch (state_) {
      case State::Size: {
        const int d = hexValue(c);
        if (d >= 0) {
          if (left_ > (UINT64_MAX >> 4)) return fail(i, "chunk size too large");
          if (!lineByte()) return fail(i, "chunk size line too long");
          left_ = (left_ << 4) | static_cast<std::uint64_t>(d);
          sawDigit_ = true;
          break;
        }
        if (!sawDigit_) return fail(i, "malformed chunk size");  // chunk-size = 1*HEXDIG
        sawDigit_ = false;
        if (c == '\r') {
          state_ = State::SizeLf;
        } else if (c == '\n') {
          endSizeLine();
        } else if (c == ';' || isOws(static_cast<char>(c))) {
          if (!lineByte()) return fail(i, "chunk size line too long");
          state_ = c == ';' ? State::SizeExt : State::SizeWs;
        } else {
          return fail(i, "malformed chunk size line");
        }
        break;
      }
      case State::SizeWs:  // chunk-ext = *( BWS ";" ... ): whitespace may only lead to ';'
        if (c == ';') {
          state_ = State::SizeExt;
        } else if (!isOws(static_cast<char>(c))) {
          return fail(i, "malformed chunk size line");
        }
        if (!lineByte()) return fail(i, "chunk size line too long");
        break;
      case State::SizeExt:
        // Extensions mean nothing to us; their bytes only need to be field-like and bounded.
        if (c == '\r') {
          state_ = State::SizeLf;
        } else if (c == '\n') {
          endSizeLine();
        } else if (!has(c, kFieldVchar)) {
          return fail(i, "malformed chunk extension");
        } else if (!lineByte()) {
          return fail(i, "chunk size line too long");
        }
        break;
      case State::SizeLf:
        if (c != '\n') return fail(i, "malformed chunk size line");
        endSizeLine();
        break;
      case State::DataCr:
        if (c == '\r') {
          state_ = State::DataLf;
        } else if (c == '\n') {
          state_ = State::Size;
        } else {
          return fail(i, "missing line end after chunk data");
        }
        break;
      case State::DataLf:
        if (c != '\n') return fail(i, "missing line end after chunk data");
        state_ = State::Size;
        break;
      case State::TrailerStart:
        if (c == '\r') {
          state_ = State::FinalLf;
        } else if (c == '\n') {
          state_ = State::Done;
        } else if (!has(c, kTchar)) {
          return fail(i, "malformed trailer field");  // not a field line (RFC 9112 §7.1.2)
        } else if (++trailers_ > kMaxTrailers) {
          return fail(i, "too many trailer fields");
        } else {
          // Trailer fields are read and dropped: neither side has a use for them.
          lineBytes_ = 1;
          state_ = State::TrailerName;
        }
        break;
      case State::TrailerName:
        if (c == ':') {
          state_ = State::TrailerValue;
        } else if (!has(c, kTchar)) {
          return fail(i, "malformed trailer field");
        }
        if (!lineByte()) return fail(i, "trailer field too long");
        break;
      case State::TrailerValue:
        if (c == '\r') {
          state_ = State::TrailerLf;
        } else if (c == '\n') {
          state_ = State::TrailerStart;
        } else if (!has(c, kFieldVchar)) {
          return fail(i, "malformed trailer field");
        } else if (!lineByte()) {
          return fail(i, "trailer field too long");
        }
        break;
      case State::TrailerLf:
        if (c != '\n') return fail(i, "malformed trailer field");
        state_ = State::TrailerStart;
        break;
      case State::FinalLf:
        if (c != '\n') return fail(i, "missing line end after chunked body");
        state_ = State::Done;
        break;
      case State::Data:
      case State::Done:
      case State::Failed:
        break;  // handled above / below
    }
    ++i;
    if (state_ == State::Done) return {Result::Done, i, {}};
  }
  return {Result::NeedMore, n, {}};
}

}  // namespace epserve::http
