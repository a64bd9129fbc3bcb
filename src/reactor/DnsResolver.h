// Asynchronous host-name lookups with c-ares on one event loop: the channel's sockets are watched
// by the loop's epoll, its retransmissions ride a loop timer, answers come back from the loop.
#pragma once

#include <ares.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "reactor/EventLoop.h"
#include "reactor/IoHandler.h"
#include "reactor/SocketAddress.h"
#include "reactor/TimeoutList.h"

namespace epserve::reactor {

// One name server as written after --resolver: "10.0.0.2", "10.0.0.2:5353", "[::1]:53", "[::1]"
// or "::1" (port 53 when absent). False when it is none of these.
bool parseNameServer(std::string_view text, SocketAddress& out);

// The outcome of one lookup. `addresses` (port 0) keep the answer's order, without duplicates.
struct DnsAnswer {
  bool ok = false;
  std::string error;  // c-ares's message when !ok ("Domain name not found", ...)
  std::vector<SocketAddress> addresses;
};

// One c-ares channel; one per loop thread (a channel is not shared between threads).
class DnsResolver final : private IoHandler, private TimeoutHandler {
 public:
  using Callback = std::function<void(DnsAnswer answer)>;

  // `nameServers` empty: the system's configuration (/etc/resolv.conf); /etc/hosts is consulted
  // first either way, so `localhost` and container-runtime names work. Throws std::runtime_error
  // when c-ares cannot start.
  DnsResolver(EventLoop& loop, const std::vector<SocketAddress>& nameServers);
  ~DnsResolver();  // lookups in flight are dropped: their callbacks never run
  DnsResolver(const DnsResolver&) = delete;
  DnsResolver& operator=(const DnsResolver&) = delete;

  // Looks up A and AAAA records of `name`. `done` runs exactly once, from the loop (a posted
  // handler), never inside resolve() nor inside c-ares: it may start lookups of its own.
  void resolve(const std::string& name, Callback done);
  std::size_t inFlight() const { return inFlight_; }

  // How often c-ares's retransmission timers are checked while a lookup is in flight: its own
  // timeouts are seconds, so a tick of this size is late by at most a tenth of one.
  static constexpr Millis kTickMillis = 100;

 private:
  struct Lookup;
  struct Watch;
  struct Ready {
    Callback done;
    DnsAnswer answer;
  };

  static void onSocketState(void* self, ares_socket_t fd, int readable, int writable);
  static void onLookupDone(void* lookup, int status, int timeouts, ares_addrinfo* result);
  void onEvents(std::uint32_t events) override;  // posted: delivers finished lookups
  void onTimeout() override;                     // the tick: c-ares's timeouts
  void process(ares_socket_t readFd, ares_socket_t writeFd);
  void armTick();

  EventLoop& loop_;
  TimeoutList ticks_{kTickMillis};
  Timer tick_{this};
  ares_channel channel_ = nullptr;
  std::vector<std::unique_ptr<Watch>> watches_;  // a freed one (fd -1) is reused, never deleted
  std::vector<Ready> ready_;
  std::vector<Ready> delivering_;
  std::size_t inFlight_ = 0;
  bool posted_ = false;
  bool destroying_ = false;
};

}  // namespace epserve::reactor
