// Reads one response body as its head frames it (RFC 9112 §6.3) and hands the content to a sink:
// Content-Length bytes, chunked (decoded, §7.1), until close, or nothing. Resumable across reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "http/ResponseParser.h"

namespace epserve::client {

class BodyReader {
 public:
  enum class Result { NeedMore, Done, Error };
  using Sink = std::function<void(std::string_view)>;

  BodyReader(http::ResponseFraming framing, std::uint64_t contentLength);

  // Consumes a prefix of `input`, passing the body's content (chunk framing removed) to `sink`.
  // Done: the body ended at input[consumed]; later bytes belong to the next response.
  // NeedMore: all of `input` was consumed. Error: malformed chunked framing (see error()).
  // After Done or Error, further calls return the same and consume nothing.
  Result feed(std::string_view input, std::size_t& consumed, const Sink& sink);
  // The server closed the connection: Done if that ends this body, else Error.
  Result finish();

  std::uint64_t received() const { return received_; }  // content bytes so far
  std::string_view error() const { return error_; }

  static constexpr std::size_t kMaxLine = 4096;      // chunk-size line or trailer field line
  static constexpr std::size_t kMaxTrailers = 100;

 private:
  // Positions in the chunked grammar (RFC 9112 §7.1), so any byte boundary can end a feed().
  enum class Chunk : std::uint8_t {
    Size,          // chunk-size hex digits
    AfterSize,     // BWS before ';' or the line end
    Extension,     // chunk-ext, skipped up to the line end
    SizeLf,        // CR seen at the end of the size line
    Data,          // chunk-data
    DataEnd,       // the CRLF after chunk-data
    DataLf,
    TrailerStart,  // a trailer field line, or the empty line that ends the body
    TrailerName,
    TrailerValue,
    TrailerLf,
    FinalLf,
  };

  Result feedChunked(std::string_view input, std::size_t& consumed, const Sink& sink);
  Result fail(std::string_view why);

  http::ResponseFraming framing_;
  Result state_ = Result::NeedMore;
  std::uint64_t left_ = 0;  // Content-Length bytes left, or chunk-size being read / data left
  std::uint64_t received_ = 0;
  std::string_view error_;
  Chunk chunk_ = Chunk::Size;
  std::size_t lineBytes_ = 0;
  std::size_t trailers_ = 0;
  bool sawDigit_ = false;
};

}  // namespace epserve::client
