// Accepts connections on a listening socket owned by this object and hands each one on.
// Survives descriptor exhaustion (EMFILE/ENFILE) without spinning, by a reserved spare fd.
#pragma once

#include <functional>

#include "reactor/Counter.h"
#include "reactor/EventLoop.h"
#include "reactor/Fd.h"
#include "reactor/SocketAddress.h"

namespace epserve::reactor {

class Acceptor final : public IoHandler {
 public:
  using NewConnection = std::function<void(Fd, const SocketAddress&)>;
  // Own: this loop's own socket (one SO_REUSEPORT socket per worker, or the only loop).
  // Shared: a socket several loops watch at once (an inherited one, a dup per worker), so it
  // is registered with EPOLLEXCLUSIVE: see Acceptor.cpp.
  enum class Sharing { Own, Shared };

  Acceptor(EventLoop& loop, Fd listener, NewConnection onAccept, Sharing sharing = Sharing::Own);
  ~Acceptor();

  // Stops accepting: unregisters and closes the listening socket (new connects are refused).
  void close();

  void onEvents(std::uint32_t events) override;

  // Connections accepted and closed at once because descriptors ran out.
  const Counter& shed() const { return shed_; }

 private:
  void shedOneConnection();

  EventLoop& loop_;
  Fd listener_;
  Fd spare_;  // an open /dev/null given up to accept-and-close when fds run out
  NewConnection onAccept_;
  Millis lastExhaustionLog_ = -1'000'000;
  Counter shed_;
};

}  // namespace epserve::reactor
