// One blocking TCP connection to the server, with every step bounded: connect by poll(), sends
// and receives by SO_SNDTIMEO/SO_RCVTIMEO. Failures become ClientErrors naming the server.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "reactor/Fd.h"
#include "reactor/SocketAddress.h"

namespace epserve::client {

class TcpConnection {
 public:
  // Connects within `timeout`, which then also bounds each send and receive.
  // Throws ClientError("connect ADDR:PORT: Connection refused") and the like.
  TcpConnection(const reactor::SocketAddress& server, std::chrono::milliseconds timeout);

  // Sends every byte. Throws ClientError; its errnum is EPIPE or ECONNRESET if the server had
  // already closed the connection.
  void sendAll(std::string_view bytes);
  // Receives up to `size` bytes; 0 once the server has closed its side. Throws ClientError on a
  // timeout or an error (errnum ECONNRESET if the server reset the connection).
  std::size_t receive(char* buf, std::size_t size);

  std::uint16_t localPort() const;
  const std::string& peer() const { return peer_; }

 private:
  reactor::Fd fd_;
  std::string peer_;
  std::chrono::milliseconds timeout_;
};

}  // namespace epserve::client
