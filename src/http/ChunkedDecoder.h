// Decodes (and discards) a chunked request body (RFC 9112 §7.1), resumable across reads.
// A static server has no use for request bodies: it only needs to know where the body ends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace epserve::http {

class ChunkedDecoder {
 public:
  enum class Result { NeedMore, Done, Error };

  // Consumes a prefix of `input`; `consumed` is how many bytes belong to the body (chunk framing,
  // data, trailer section). Done: the body ended at input[consumed]. Error: malformed framing,
  // a chunk-size overflow, or an extension/trailer line longer than kMaxLine.
  // NeedMore: all of `input` was consumed (consumed == input.size()) and the decoder keeps its
  // place, so the next call gets only the bytes that follow. Bare LF is accepted for CRLF, as in
  // the request parser. After Done or Error, further calls return the same and consume nothing.
  Result feed(std::string_view input, std::size_t& consumed);

  // Total chunk-data bytes seen so far (the caller enforces its body-size limit with this).
  std::uint64_t dataBytes() const { return dataBytes_; }

  static constexpr std::size_t kMaxLine = 4096;

 private:
  // One state per position in the grammar, so any byte boundary can end a feed() call.
  enum class State : std::uint8_t {
    Size,          // chunk-size hex digits
    SizeWs,        // BWS after the size, before ';'
    SizeExt,       // chunk-ext, skipped up to the line end
    SizeLf,        // CR seen at the end of the size line
    Data,          // chunk-data
    DataCr,        // the CRLF after chunk-data
    DataLf,
    TrailerStart,  // start of a trailer field line, or of the final empty line
    TrailerName,
    TrailerValue,
    TrailerLf,
    FinalLf,
    Done,
    Failed,
  };
  static constexpr std::size_t kMaxTrailers = 100;

  State state_ = State::Size;
  std::uint64_t chunkLeft_ = 0;  // size being read, then data bytes left in the chunk
  std::uint64_t dataBytes_ = 0;
  std::size_t lineBytes_ = 0;  // bytes in the current size/extension/trailer line
  std::size_t trailers_ = 0;
  bool sawDigit_ = false;
};

}  // namespace epserve::http
