// Unit tests for the chunked encoder: exact header bytes, buffer-size refusals, and bodies encoded
// in pieces that BodyDecoder reads back to the same content.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "http/BodyDecoder.h"
#include "http/ChunkedEncoder.h"

using namespace std::literals;
using epserve::http::BodyDecoder;
using epserve::http::kLastChunk;
using epserve::http::kMaxChunkHeader;
using epserve::http::ResponseFraming;
using epserve::http::writeChunkDataEnd;
using epserve::http::writeChunkHeader;
using epserve::http::writeLastChunk;

namespace {

std::string header(std::uint64_t size) {
  std::array<char, kMaxChunkHeader> buf{};
  const std::size_t n = writeChunkHeader(size, buf);
  return std::string(buf.data(), n);
}

// The chunked encoding of `content` cut into pieces of `piece` bytes, written through the encoder.
std::string encode(std::string_view content, std::size_t piece) {
  std::string out;
  std::array<char, kMaxChunkHeader> buf{};
  for (std::size_t at = 0; at < content.size(); at += piece) {
    const std::string_view part = content.substr(at, piece);
    out.append(buf.data(), writeChunkHeader(part.size(), buf));
    out += part;
    out.append(buf.data(), writeChunkDataEnd(buf));
  }
  out.append(buf.data(), writeLastChunk(buf));
  return out;
}

}  // namespace

TEST_CASE("chunked encoder: chunk headers") {
  CHECK(header(1) == "1\r\n");
  CHECK(header(0xa) == "a\r\n");
  CHECK(header(16) == "10\r\n");
  CHECK(header(0x1f2e) == "1f2e\r\n");
  CHECK(header(UINT64_MAX) == "ffffffffffffffff\r\n");
  CHECK(header(UINT64_MAX).size() == kMaxChunkHeader);
  CHECK(header(0).empty());  // a zero-size chunk would end the body

  // Too small a buffer is refused whole, never written in part.
  std::array<char, 4> small{'.', '.', '.', '.'};
  CHECK(writeChunkHeader(0x100, small) == 0);
  CHECK(std::string_view(small.data(), small.size()) == "....");
  CHECK(writeChunkHeader(0xff, small) == 4);
  CHECK(std::string_view(small.data(), 4) == "ff\r\n");
}

TEST_CASE("chunked encoder: data end and last-chunk") {
  std::array<char, 8> buf{};
  CHECK(writeChunkDataEnd(buf) == 2);
  CHECK(std::string_view(buf.data(), 2) == "\r\n");
  CHECK(writeLastChunk(buf) == kLastChunk.size());
  CHECK(std::string_view(buf.data(), kLastChunk.size()) == "0\r\n\r\n");
  CHECK(writeChunkDataEnd(std::span<char>(buf.data(), 1)) == 0);
  CHECK(writeLastChunk(std::span<char>(buf.data(), 4)) == 0);
}

TEST_CASE("chunked encoder: encode then decode round trip") {
  std::string content;
  for (int i = 0; i < 3000; ++i) content += static_cast<char>('a' + i % 26);
  content += "\r\n0\r\n\r\n";  // framing-like bytes inside the content stay content
  for (std::size_t piece : {1u, 7u, 16u, 255u, 256u, 4096u}) {
    INFO("piece ", piece);
    const std::string wire = encode(content, piece) + "NEXT";
    BodyDecoder d(ResponseFraming::Chunked);
    std::string decoded;
    std::size_t consumed = 0;
    CHECK(d.feed(wire, consumed, [&](std::string_view s) { decoded += s; }) ==
          BodyDecoder::Result::Done);
    CHECK(decoded == content);
    CHECK(d.dataBytes() == content.size());
    CHECK(wire.substr(consumed) == "NEXT");
  }
  // An empty body is the last-chunk alone.
  CHECK(encode("", 10) == "0\r\n\r\n");
}
