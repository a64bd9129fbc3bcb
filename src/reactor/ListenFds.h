// Socket activation: the listening sockets a service manager (systemd, systemd-socket-activate)
// passed in, read from the LISTEN_PID / LISTEN_FDS / LISTEN_FDNAMES protocol (sd_listen_fds(3)).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "reactor/Fd.h"

namespace epserve::reactor {

struct InheritedListener {
  Fd fd;             // a listening TCP socket, now non-blocking and close-on-exec
  std::string name;  // its LISTEN_FDNAMES entry (systemd's FileDescriptorName=), or ""
};

// An inherited descriptor that is not a listening TCP stream socket, or LISTEN_FDS that is not
// a count: the unit is misconfigured, which is a start-up error like a bad flag.
class ListenFdsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// When LISTEN_PID names this process and LISTEN_FDS >= 1, takes fds 3 .. 3+LISTEN_FDS-1 (each
// checked with SO_ACCEPTCONN and SO_TYPE); otherwise (unset, another process's PID) returns
// nothing and the caller binds as usual. Unsets the three variables either way, so nothing this
// process starts mistakes them for its own. Call before any thread starts (it edits environ).
// Throws ListenFdsError.
std::vector<InheritedListener> takeListenFds();

}  // namespace epserve::reactor
