// A request's wait for an upstream host name's DNS answer (its first one, or the one a failed
// connect asked for): parked on the Upstream until a lookup ends, bounded by a timer (the connect
// timeout). Cancelling or destroying it unparks it.
#pragma once

#include <cstdint>

#include "reactor/TimeoutList.h"

namespace epserve::proxy {

class Upstream;

class ResolveWaiter {
 public:
  // A lookup ended (pick a server now), or `timedOut`: the deadline passed before the first
  // answer. A wait for a new answer after failed connects that runs out is not a timeout:
  // the request goes on with the servers it knows (and answers what their connects gave).
  virtual void resolveWaitOver(bool timedOut) = 0;

 protected:
  ~ResolveWaiter() = default;
};

class ResolveWait final : private reactor::TimeoutHandler {
 public:
  explicit ResolveWait(ResolveWaiter& waiter) : waiter_(waiter) {}
  ~ResolveWait() { cancel(); }
  ResolveWait(const ResolveWait&) = delete;
  ResolveWait& operator=(const ResolveWait&) = delete;

  bool parked() const { return upstream_ != nullptr; }
  // Unparks and disarms: no resolveWaitOver call follows.
  void cancel();

 private:
  friend class Upstream;
  void onTimeout() override;

  ResolveWaiter& waiter_;
  Upstream* upstream_ = nullptr;
  std::uint64_t epoch_ = 0;  // the upstream's wake round it was parked in
  // A wait after every known server failed this request: `generation_` is the server list's
  // then, and `retried_` makes it once per request.
  bool afterFailures_ = false;
  bool retried_ = false;
  std::uint64_t generation_ = 0;
  // Armed at the first park of a request and kept across re-parks, so the wait stays bounded.
  reactor::Timer timer_{this};
};

}  // namespace epserve::proxy
