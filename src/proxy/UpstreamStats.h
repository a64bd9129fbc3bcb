// What one loop's exchanges did with one configured upstream URL, for the metrics: responses by
// status, failures by cause, response times, pooled idle connections. Written by that loop only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "reactor/Counter.h"
#include "reactor/Histogram.h"

namespace epserve::proxy {

// One counter per status code 100..599, the codes a response can carry here (ResponseParser
// accepts no other from an upstream, and epserve's own are in that range).
inline constexpr std::size_t kStatusCodes = 500;
using StatusCounters = std::array<reactor::Counter, kStatusCodes>;
inline constexpr int kFirstStatusCode = 100;
inline constexpr std::size_t statusSlot(int code) {
  auto slot = static_cast<std::size_t>(code - kFirstStatusCode);
  return slot < kStatusCodes ? slot : kStatusCodes - 1;
}

// Why an attempt at an upstream failed (the metric's `cause` label).
enum class UpstreamFailure : std::uint8_t {
  Refused,          // the connect failed (refused, unreachable, denied), or no address is known
  Timeout,          // connect, send or read timeout, or the host name's lookup ran out of time
  InvalidResponse,  // reset or closed before a head, a malformed head, a body cut short
};
inline constexpr std::size_t kUpstreamFailures = 3;

// alignas: one loop's stats never share a cache line with another loop's writes.
struct alignas(64) UpstreamStats {
  StatusCounters responses;  // response heads received, by status
  std::array<reactor::Counter, kUpstreamFailures> failures;
  reactor::Histogram responseTime;  // from the exchange's start to the response head
  reactor::Gauge idle;              // connections in the servers' idle pools

  void failed(UpstreamFailure cause) { failures[static_cast<std::size_t>(cause)].add(); }
};

}  // namespace epserve::proxy
