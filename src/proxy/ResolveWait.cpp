// A parked wait for an upstream's DNS answer: see ResolveWait.h.
#include "proxy/ResolveWait.h"

#include "proxy/Upstream.h"

namespace epserve::proxy {

void ResolveWait::cancel() {
  timer_.cancel();
  afterFailures_ = false;
  if (upstream_) upstream_->unpark(*this);
}

void ResolveWait::onTimeout() {
  if (!upstream_) return;  // woken already: the waiter went on to connect
  upstream_->unpark(*this);
  waiter_.resolveWaitOver(!afterFailures_);
}

}  // namespace epserve::proxy
