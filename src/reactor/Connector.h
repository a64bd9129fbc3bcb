// A non-blocking outbound connect (TCP over IPv4/IPv6, or a unix-domain socket) driven by an
// EventLoop, with a deadline; hands the connected socket, or a classified failure, to a handler.
#pragma once

#include <cstdint>

#include "reactor/EventLoop.h"
#include "reactor/Fd.h"
#include "reactor/SocketAddress.h"
#include "reactor/TimeoutList.h"
#include "reactor/UnixAddress.h"

namespace epserve::reactor {

// Coarse classes of connect failure, for retry policy and log lines; the errno stays available.
enum class ConnectError {
  Refused,      // nobody listens: ECONNREFUSED, a missing unix path (ENOENT), a full unix backlog
  Unreachable,  // no route to it: ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL, ENETDOWN, EHOSTDOWN
  Timeout,      // ETIMEDOUT from the kernel, or our own deadline passed
  Permission,   // EACCES (unix socket file mode), EPERM (a firewall rule)
  Other,        // anything else (EMFILE from socket(), EAFNOSUPPORT, ...)
};

// The class an errno from socket()/connect()/SO_ERROR falls in. EAGAIN is Refused: on a unix
// socket it means the listener's backlog is full, and an upstream that cannot take the
// connection now is, for the caller's retry or fail-over decision, one that refused it.
ConnectError classifyConnectErrno(int errnum);

// A short lower-case phrase for log lines ("refused", "timed out", ...).
const char* describe(ConnectError error);

class Connector;

// Receives the outcome of Connector::start, always from the event loop (never from inside
// start()). Either call may destroy the Connector or start it again.
class ConnectHandler {
 public:
  // `fd` is connected, non-blocking, close-on-exec, TCP_NODELAY on TCP, and not registered
  // with the loop: the new owner adds it with its own handler.
  virtual void onConnected(Connector& connector, Fd fd) = 0;
  // `errnum` is the errno behind `error` (ETIMEDOUT for our own deadline).
  virtual void onConnectFailed(Connector& connector, ConnectError error, int errnum) = 0;

 protected:
  ~ConnectHandler() = default;
};

// One attempt at a time, reusable. The deadline is a Timer on `deadlines`, whose duration is
// the connect timeout; the caller owns that list and must have given it to the loop
// (EventLoop::addTimeoutList). The deadline counts from loop.now(), like every loop timer.
//
// Like every IoHandler, a Connector must not be destroyed by another handler in the same loop
// iteration in which its socket may have become ready (the loop may hold its pointer): destroy
// it from its own ConnectHandler call, from posted work, or between iterations. Restarting it
// from there is safe: a wakeup left over from the abandoned attempt is recognised and ignored.
class Connector final : IoHandler, TimeoutHandler {
 public:
  Connector(EventLoop& loop, TimeoutList& deadlines);
  ~Connector();  // mid-connect: closes the socket, cancels the deadline, no handler call
  Connector(const Connector&) = delete;
  Connector& operator=(const Connector&) = delete;

  // Begins connecting to `to`; exactly one `handler` call follows unless cancel() or the
  // destructor comes first. Starting while connecting abandons the earlier attempt silently.
  // Throws std::system_error only when the loop cannot register the socket (EventLoop::add).
  void start(const SocketAddress& to, ConnectHandler& handler);
  // The same for a unix-domain socket. On Linux these connect or fail within connect() (no
  // EINPROGRESS), so the deadline never runs; the outcome still comes from the loop.
  void start(const UnixAddress& to, ConnectHandler& handler);
  // Abandons the attempt in progress, if any: closes its socket, no handler call.
  void cancel();

  bool connecting() const { return state_ != State::Idle; }

 private:
  enum class State {
    Idle,
    Connecting,  // connect() returned EINPROGRESS: registered for EPOLLOUT, deadline armed
    Completing,  // the outcome was known inside start(): posted, to be delivered from the loop
  };

  void onEvents(std::uint32_t events) override;
  void onTimeout() override;

  void begin(const sockaddr* to, socklen_t length, ConnectHandler& handler);
  void finishConnect();
  void completeLater(int errnum);
  void succeed();
  void fail(ConnectError error, int errnum);
  bool isSelfConnect() const;

  EventLoop& loop_;
  TimeoutList& deadlines_;
  Timer deadline_{this};
  Fd fd_;
  State state_ = State::Idle;
  int pendingErrno_ = 0;  // Completing: 0 for success, else the errno to report
  ConnectHandler* handler_ = nullptr;
  bool tcp_ = false;
  SocketAddress tcpTarget_;  // when tcp_: for the self-connect check
};

}  // namespace epserve::reactor
