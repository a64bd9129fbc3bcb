// Where a relayed response goes on its way to the client: straight into the client's output
// queue while the client keeps up, into an unlinked temporary file once it falls behind.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fs/TempFile.h"
#include "proxy/ResponseRelay.h"
#include "reactor/OutputQueue.h"

namespace epserve::proxy {

class ResponseSpool final : public RelaySink {
 public:
  // Queued client output beyond this is spooled to disk (or, not buffering, stops the reads).
  static constexpr std::uint64_t kHighWater = 64 * 1024;

  // maxFile: the most one temporary file takes (0: never spool).
  ResponseSpool(reactor::OutputQueue& out, std::string tempDir, std::uint64_t maxFile)
      : out_(out), tempDir_(std::move(tempDir)), maxFile_(maxFile) {}

  void write(std::string_view bytes) override;
  // The relay's writes of one round are done: what went to the file is queued for the client.
  void commit();
  // After the client's output was flushed: whether the upstream may be read further. With
  // `buffering`, a client that falls behind moves the response to a temporary file, and the
  // upstream is only held back once that file is full.
  bool mayRead(bool buffering);
  // The client's queued output fell below kHighWater: a full file is let go, so what follows
  // goes to memory (and a new file, should the client fall behind again).
  void drained();
  // The exchange is over: the queued segments keep the file until they are sent.
  void release();
  bool spooling() const { return file_ != nullptr; }
  std::uint64_t spooledBytes() const { return spooled_; }

 private:
  bool begin();

  reactor::OutputQueue& out_;
  std::string tempDir_;
  std::uint64_t maxFile_;
  std::shared_ptr<fs::TempFile> file_;
  std::string staged_;          // written since the last commit, for one write() to the file
  std::uint64_t spooled_ = 0;   // bytes that went through a file, for the log
  bool failed_ = false;         // the temp directory failed once: not tried again
};

}  // namespace epserve::proxy
