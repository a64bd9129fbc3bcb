// The byte tunnel an upgraded (101) exchange becomes: relays both ways between the client's
// Stream and the upstream connection until both sides have finished, with bounded buffering.
#pragma once

#include <cstdint>
#include <memory>

#include "proxy/UpstreamConnection.h"
#include "reactor/Buffer.h"
#include "reactor/EventLoop.h"
#include "reactor/Stream.h"
#include "reactor/TimeoutList.h"

namespace epserve::proxy {

// The client connection that owns the tunnel learns here that it is over.
class TunnelOwner {
 public:
  // Called last from an upstream event or the idle timeout; the owner closes the tunnel and
  // itself. (From drive() the owner learns it by the return value instead.)
  virtual void tunnelEnded() = 0;

 protected:
  ~TunnelOwner() = default;
};

class Tunnel final : private UpstreamUser {
 public:
  // Reading one side stops while this many bytes wait to be sent to the other, and resumes
  // once fewer do: a slow reader holds back the fast writer through the kernel's windows. One
  // pool block, so a busy tunnel holds at most a block per direction and never a heap buffer.
  static constexpr std::uint64_t kHighWater = reactor::BufferPool::kBlockSize;

  // `idleTimeouts` has --tunnel-idle-timeout as its duration.
  Tunnel(reactor::EventLoop& loop, reactor::TimeoutList& idleTimeouts, TunnelOwner& owner);
  ~Tunnel();
  Tunnel(const Tunnel&) = delete;
  Tunnel& operator=(const Tunnel&) = delete;

  // Starts relaying between `client` (owned by the caller, which passes its events on by
  // calling drive()) and `upstream`. Bytes already read on either side go first.
  void start(reactor::Stream& client, std::unique_ptr<UpstreamConnection> upstream);
  // Moves what both sides allow now; false once the tunnel is over: both directions finished
  // (each EOF passed on as a FIN) or either side failed. The caller then calls close().
  bool drive();
  // Closes the upstream connection; the client's Stream is its owner's to close.
  void close();
  bool active() const { return upstream_ != nullptr; }

  std::uint64_t bytesToClient() const { return down_.bytes; }
  std::uint64_t bytesToUpstream() const { return up_.bytes; }

 private:
  // One direction: bytes read from `from` are queued on `to`.
  struct Direction {
    reactor::Stream* from = nullptr;
    reactor::Stream* to = nullptr;
    std::uint64_t bytes = 0;
    bool finished = false;  // `from` ended and `to` was sent its FIN
  };

  // False when a side failed. `moved` is set when bytes moved, `capped` when reading stopped
  // for fairness with input still waiting.
  bool pump(Direction& d, bool& moved, bool& capped);
  void onUpstreamEvents(UpstreamConnection& c) override;
  void onUpstreamTimeout(UpstreamConnection& c) override;

  reactor::EventLoop& loop_;
  reactor::TimeoutList& idleTimeouts_;
  TunnelOwner& owner_;
  std::unique_ptr<UpstreamConnection> upstream_;
  Direction up_;    // client → upstream
  Direction down_;  // upstream → client
};

}  // namespace epserve::proxy
