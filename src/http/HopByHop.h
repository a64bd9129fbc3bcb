// Which header fields belong to one connection only and are never forwarded (RFC 9110 §7.6.1),
// and the writer that copies the other, end-to-end fields of a message into another head.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string_view>

#include "http/Request.h"

namespace epserve::http {

// Built once per message from its fields: the fixed hop-by-hop names plus every field its
// Connection fields name (all of them, however many times Connection appears). Holds views into
// `fields`, which must outlive it. No allocation: a few named options are kept, and a message
// naming more is answered by rescanning its Connection values, so every option still counts.
class HopByHopFilter {
 public:
  static constexpr std::size_t kMaxKept = 8;

  HopByHopFilter() = default;
  explicit HopByHopFilter(std::span<const Header> fields);

  // Connection, Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade, and the
  // options of Connection; ASCII case-insensitive, whole names only ("TE-Foo" is end-to-end).
  bool isHopByHop(std::string_view name) const;

 private:
  bool namedByConnection(std::string_view name) const;

  std::span<const Header> fields_;
  std::array<std::string_view, kMaxKept> kept_{};
  std::size_t keptCount_ = 0;
  bool overflow_ = false;  // more options than kept_ holds: rescan fields_ instead
};

// An upper bound on writeEndToEnd's output for `fields`.
std::size_t endToEndSize(std::span<const Header> fields);

// Writes "Name: value\r\n" for each field of `fields`, in order and as received, that is neither
// hop-by-hop by `hop` nor named (case-insensitively) in `alsoDrop`: the fields a proxy replaces
// itself, such as Content-Length when it re-frames the body. `out` has endToEndSize(fields)
// bytes; returns the bytes written.
std::size_t writeEndToEnd(std::span<const Header> fields, const HopByHopFilter& hop, char* out,
                          std::span<const std::string_view> alsoDrop = {});

}  // namespace epserve::http
