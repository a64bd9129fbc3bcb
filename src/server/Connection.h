// One client connection: reads requests, answers them in order, keeps alive or closes.
// An explicit state machine driven by edge-triggered epoll events and its one timer.
#pragma once

#include <cstdint>

#include "http/BodyDecoder.h"
#include "http/Request.h"
#include "reactor/Buffer.h"
#include "reactor/Fd.h"
#include "reactor/IoHandler.h"
#include "reactor/SocketAddress.h"
#include "reactor/TimeoutList.h"
#include "server/OutputQueue.h"
#include "server/Reply.h"

namespace epserve::server {

class Server;

class Connection final : public reactor::IoHandler, public reactor::TimeoutHandler {
 public:
  // What the connection is doing with its input. Output (OutputQueue) drains alongside:
  // pipelined requests are parsed while earlier responses are still being sent.
  enum class State : std::uint8_t {
    ReadingHead,  // waiting for or accumulating a request head (idle when nothing is buffered)
    ReadingBody,  // discarding a request body; the response waits (held) until it ends
    Closing,      // no more requests: send what is queued, then close
    Lingering,    // response sent after an error: discard input briefly so no RST eats it
    Closed,
  };

  explicit Connection(Server& server);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Takes a freshly accepted socket and starts watching it.
  void open(reactor::Fd fd, const reactor::SocketAddress& peer);
  // The server is stopping: finish the response in flight (if any), then close.
  void beginShutdown();
  // Closes at once, whatever is in flight (the shutdown grace period is over).
  void forceClose() { close(); }

  void onEvents(std::uint32_t events) override;
  void onTimeout() override;

  State state() const { return state_; }

  std::size_t serverIndex = 0;  // position in Server's list of open connections

 private:
  void drive();
  bool readSome();
  bool processInput();
  bool consumeBody();
  void handleRequest(const http::Request& req, std::size_t headLength);
  void failRequest(http::Status status);
  void queueReply(Reply& reply, const http::Request* req);
  bool backlogged() const;
  void startClosing();
  void finishOutput();
  void updateTimer();
  void close();

  Server& server_;
  reactor::Fd fd_;
  reactor::SocketAddress peer_;
  State state_ = State::Closed;
  bool readable_ = false;    // edge-triggered: input may be waiting in the kernel
  bool writable_ = false;    // edge-triggered: the socket took our last write
  bool peerClosed_ = false;  // read() returned 0: no more requests will come
  bool peerHangup_ = false;  // EPOLLRDHUP seen: read to EOF, a short read proves nothing
  bool shuttingDown_ = false;
  bool lingerAfterClose_ = false;
  bool rearm_ = true;        // a request completed: restart the timer for the new phase
  bool posted_ = false;
  reactor::Buffer in_;
  std::size_t scanned_ = 0;
  std::uint32_t requestsServed_ = 0;  // bytes of in_ already searched for a line end
  OutputQueue out_;
  OutputQueue::Mark heldMark_{};
  std::uint64_t bodyLeft_ = 0;
  bool chunkedBody_ = false;
  http::BodyDecoder chunked_;
  reactor::Timer timer_;
  reactor::TimeoutList* timerList_ = nullptr;  // the list timer_ was last armed on
};

}  // namespace epserve::server
