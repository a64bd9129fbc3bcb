// A latency histogram over fixed buckets (Prometheus' default bounds, 5 ms to 10 s) fed in the
// loop's milliseconds; like reactor::Counter, one thread writes it and any thread may read it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "reactor/Counter.h"
#include "reactor/TimeoutList.h"

namespace epserve::reactor {

class Histogram {
 public:
  // Upper bounds in milliseconds; a last, implicit bucket (+Inf) takes the rest.
  static constexpr std::array<Millis, 11> kBoundsMillis = {5,   10,  25,   50,   100,  250,
                                                           500, 1000, 2500, 5000, 10000};
  static constexpr std::size_t kBuckets = kBoundsMillis.size() + 1;

  void observe(Millis ms) {
    std::size_t i = 0;
    while (i < kBoundsMillis.size() && ms > kBoundsMillis[i]) ++i;
    counts_[i].add();
    sumMillis_.add(static_cast<std::uint64_t>(ms > 0 ? ms : 0));
  }

  // Observations in bucket `i` alone (not cumulative); i == kBuckets - 1 is the +Inf bucket.
  std::uint64_t count(std::size_t i) const { return counts_[i].value(); }
  std::uint64_t sumMillis() const { return sumMillis_.value(); }

 private:
  std::array<Counter, kBuckets> counts_;
  Counter sumMillis_;
};

}  // namespace epserve::reactor
