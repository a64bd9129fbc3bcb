// Chunked transfer-coding decoder (RFC 9112 §7.1): a byte-resumable state machine that finds the
// end of a chunked body, counting its data bytes and skipping extensions and trailer fields.
#include "http/ChunkedDecoder.h"

#include <algorithm>
#include <array>

namespace epserve::http {

namespace {

enum : std::uint8_t { kTchar = 1, kFieldVchar = 2 };

constexpr std::array<std::uint8_t, 256> makeClasses() {
  std::array<std::uint8_t, 256> t{};
  constexpr std::string_view kTokenPunct = "!#$%&'*+-.^_`|~";
  for (unsigned c = 0; c < 256; ++c) {
    std::uint8_t m = 0;
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (alnum || kTokenPunct.find(static_cast<char>(c)) != std::string_view::npos) m |= kTchar;
    // SP, HTAB, VCHAR, obs-text (RFC 9110 §5.5): what a trailer value or an extension may hold.
    if (c == '\t' || (c >= 0x20 && c != 0x7F)) m |= kFieldVchar;
    t[c] = m;
  }
  return t;
}

constexpr std::array<std::uint8_t, 256> kClass = makeClasses();

int hexValue(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

ChunkedDecoder::Result ChunkedDecoder::feed(std::string_view input, std::size_t& consumed) {
  const auto* s = reinterpret_cast<const unsigned char*>(input.data());
  const std::size_t n = input.size();
  std::size_t i = 0;
  consumed = 0;
  if (state_ == State::Done) return Result::Done;
  if (state_ == State::Failed) return Result::Error;

  auto fail = [&] {
    state_ = State::Failed;
    consumed = i;
    return Result::Error;
  };
  // Size and trailer lines are bounded so a peer cannot make us skip bytes forever for free.
  auto lineByte = [&] { return ++lineBytes_ <= kMaxLine; };
  // The size line ended: a zero size is the last-chunk, which the trailer section follows.
  auto endSizeLine = [&] {
    lineBytes_ = 0;
    state_ = chunkLeft_ == 0 ? State::TrailerStart : State::Data;
  };

  while (i < n) {
    if (state_ == State::Data) {
      const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(chunkLeft_, n - i));
      i += take;
      chunkLeft_ -= take;
      dataBytes_ += take;
      if (chunkLeft_ == 0) state_ = State::DataCr;
      continue;
    }
    const unsigned char c = s[i];
    switch (state_) {
      case State::Size: {
        const int d = hexValue(c);
        if (d >= 0) {
          if (chunkLeft_ > (UINT64_MAX >> 4) || !lineByte()) return fail();
          chunkLeft_ = (chunkLeft_ << 4) | static_cast<std::uint64_t>(d);
          sawDigit_ = true;
          break;
        }
        if (!sawDigit_) return fail();  // chunk-size = 1*HEXDIG
        sawDigit_ = false;
        if (c == '\r') {
          state_ = State::SizeLf;
        } else if (c == '\n') {
          endSizeLine();
        } else if (c == ';') {
          if (!lineByte()) return fail();
          state_ = State::SizeExt;
        } else if (c == ' ' || c == '\t') {
          if (!lineByte()) return fail();
          state_ = State::SizeWs;
        } else {
          return fail();
        }
        break;
      }
      case State::SizeWs:  // chunk-ext = *( BWS ";" ... ): whitespace may only lead to ';'
        if (c == ';') {
          state_ = State::SizeExt;
        } else if (c != ' ' && c != '\t') {
          return fail();
        }
        if (!lineByte()) return fail();
        break;
      case State::SizeExt:
        // Extensions mean nothing to us; their bytes only need to be field-like and bounded.
        if (c == '\r') {
          state_ = State::SizeLf;
        } else if (c == '\n') {
          endSizeLine();
        } else if ((kClass[c] & kFieldVchar) == 0 || !lineByte()) {
          return fail();
        }
        break;
      case State::SizeLf:
        if (c != '\n') return fail();
        endSizeLine();
        break;
      case State::DataCr:
        if (c == '\r') {
          state_ = State::DataLf;
        } else if (c == '\n') {
          state_ = State::Size;
        } else {
          return fail();
        }
        break;
      case State::DataLf:
        if (c != '\n') return fail();
        state_ = State::Size;
        break;
      case State::TrailerStart:
        if (c == '\r') {
          state_ = State::FinalLf;
        } else if (c == '\n') {
          state_ = State::Done;
        } else if ((kClass[c] & kTchar) != 0 && ++trailers_ <= kMaxTrailers) {
          lineBytes_ = 1;
          state_ = State::TrailerName;
        } else {
          return fail();  // not a field line (RFC 9112 §7.1.2), or too many of them
        }
        break;
      case State::TrailerName:
        if (c == ':') {
          state_ = State::TrailerValue;
        } else if ((kClass[c] & kTchar) == 0) {
          return fail();
        }
        if (!lineByte()) return fail();
        break;
      case State::TrailerValue:
        if (c == '\r') {
          state_ = State::TrailerLf;
        } else if (c == '\n') {
          state_ = State::TrailerStart;
        } else if ((kClass[c] & kFieldVchar) == 0 || !lineByte()) {
          return fail();
        }
        break;
      case State::TrailerLf:
        if (c != '\n') return fail();
        state_ = State::TrailerStart;
        break;
      case State::FinalLf:
        if (c != '\n') return fail();
        state_ = State::Done;
        break;
      case State::Data:
      case State::Done:
      case State::Failed:
        break;  // handled above / below
    }
    ++i;
    if (state_ == State::Done) {
      consumed = i;
      return Result::Done;
    }
  }
  consumed = n;
  return Result::NeedMore;
}

}  // namespace epserve::http
