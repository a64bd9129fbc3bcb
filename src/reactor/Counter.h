// Figures one loop thread writes and any thread may read (the metrics scrape): a monotonic
// Counter and an up-and-down Gauge, each a relaxed atomic updated by load + store.
#pragma once

#include <atomic>
#include <cstdint>

namespace epserve::reactor {

// Only the owning thread writes, so an increment needs no read-modify-write instruction (no
// `lock` prefix): a relaxed load and store compile to a plain add on x86-64 and Arm64. A reader
// on another thread sees some recent value, never a torn one; that is all a scrape needs.
class Counter {
 public:
  void add(std::uint64_t n = 1) { value_.store(value_.load(kRelaxed) + n, kRelaxed); }
  std::uint64_t value() const { return value_.load(kRelaxed); }

 private:
  static constexpr std::memory_order kRelaxed = std::memory_order_relaxed;
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void add(std::int64_t n) { value_.store(value_.load(kRelaxed) + n, kRelaxed); }
  std::int64_t value() const { return value_.load(kRelaxed); }

 private:
  static constexpr std::memory_order kRelaxed = std::memory_order_relaxed;
  std::atomic<std::int64_t> value_{0};
};

}  // namespace epserve::reactor
