// Reads one message body as its head frames it (RFC 9112 §6.3): nothing, Content-Length bytes,
// chunked (§7.1, framing removed) or until close. Resumable; the server's and the client's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/ResponseParser.h"

namespace epserve::http {

class BodyDecoder {
 public:
  enum class Result { NeedMore, Done, Error };

  // One call of next(): `consumed` bytes of the input were taken, `data` (a view into the input,
  // possibly empty) is body content among them.
  struct Step {
    Result result = Result::NeedMore;
    std::size_t consumed = 0;
    std::string_view data;
  };

  // ResponseFraming has all four framings; a request body is never UntilClose (§6.3 rule 7).
  explicit BodyDecoder(ResponseFraming framing = ResponseFraming::None,
                       std::uint64_t contentLength = 0);

  // Consumes a prefix of `input` up to and including at most one span of content. NeedMore with
  // consumed < input.size() means: call again with the rest. Done: the body ended at
  // input[consumed]; later bytes belong to the next message. Error: input[consumed] broke the
  // framing (see error()). After Done or Error, further calls return the same and consume nothing.
  Step next(std::string_view input);

  // next() until `input` is used up or the body ends, passing each content span to `sink`. NeedMore
  // always means consumed == input.size(). A template so that a lambda sink costs no allocation or
  // indirect call.
  template <typename Sink>
  Result feed(std::string_view input, std::size_t &consumed, Sink &&sink) {
    consumed = 0;
    for (;;) {
      const Step s = next(input.substr(consumed));
      consumed += s.consumed;
      if (!s.data.empty()) sink(s.data);
      if (s.result != Result::NeedMore || consumed == input.size()) return s.result;
    }
  }

  // The peer closed the connection: Done if that ends this body, else Error.
  Result finish();

  // Content bytes so far (the server enforces its body-size limit with this).
  std::uint64_t dataBytes() const { return dataBytes_; }
  // Why the body failed; empty unless a call returned Error.
  std::string_view error() const { return error_; }

  static constexpr std::size_t kMaxLine = 4096;  // chunk-size line or trailer field line
  static constexpr std::size_t kMaxTrailers = 100;

 private:
  // One state per position in the chunked grammar, so any byte boundary can end a call.
  enum class State : std::uint8_t {
    Size,     // chunk-size hex digits
    SizeWs,   // BWS after the size, before ';'
    SizeExt,  // chunk-ext, skipped up to the line end
    SizeLf,   // CR seen at the end of the size line
    Data,     // chunk-data, or the whole body when not chunked
    DataCr,   // the CRLF after chunk-data
    DataLf,
    TrailerStart,  // start of a trailer field line, or of the final empty line
    TrailerName,
    TrailerValue,
    TrailerLf,
    FinalLf,
    Done,
    Failed,
  };

  Step nextChunked(std::string_view input);
  Step fail(std::size_t at, std::string_view why);

  ResponseFraming framing_;
  State state_ = State::Data;
  std::uint64_t left_ = 0;  // Content-Length bytes left, or chunk-size being read / data left
  std::uint64_t dataBytes_ = 0;
  std::string_view error_;
  std::size_t lineBytes_ = 0;  // bytes in the current size/extension/trailer line
  std::size_t trailers_ = 0;
  bool sawDigit_ = false;
};

}  // namespace epserve::http
