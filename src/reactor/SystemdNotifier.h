// Readiness and stopping notices to a service manager: the sd_notify(3) protocol (one datagram
// such as "READY=1" on the unix socket named by $NOTIFY_SOCKET), written here without libsystemd.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <string_view>

#include "reactor/Fd.h"

namespace epserve::reactor {

class SystemdNotifier {
 public:
  // Reads $NOTIFY_SOCKET (a path, or "@name" in the abstract namespace) and unsets it, so
  // nothing this process starts writes to our manager. Without it (or with an address that is
  // neither), every notify() does nothing. Call before any thread starts (it edits environ).
  static SystemdNotifier fromEnvironment();

  bool active() const { return socket_.valid(); }

  // Sends `state`, newline-separated assignments ("READY=1\nSTATUS=serving"), as one datagram.
  // Never blocks: a manager that does not read loses the notice, and a failure is logged at
  // warn, since the service keeps running either way. Thread-safe (one sendto).
  void notify(std::string_view state) const;

 private:
  Fd socket_;
  sockaddr_un address_{};
  socklen_t addressLength_ = 0;
};

}  // namespace epserve::reactor
