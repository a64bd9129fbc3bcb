// A request body held whole before it goes upstream: in memory up to a limit, beyond that in
// an unlinked temporary file (O_TMPFILE), so a slow upload never ties up an application worker.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fs/TempFile.h"
#include "reactor/OutputQueue.h"

namespace epserve::proxy {

class BodyBuffer {
 public:
  static constexpr std::size_t kMemoryLimit = 64 * 1024;

  explicit BodyBuffer(std::string tempDir) : tempDir_(std::move(tempDir)) {}

  void reset();
  // Appends body bytes; false (with errno set) when the temporary file cannot be made or
  // written: the request then fails with 500.
  bool append(std::string_view data);
  std::uint64_t size() const { return size_; }
  bool inFile() const { return file_ != nullptr; }

  // Queues the whole body after whatever `out` holds: from memory, or the file by sendfile.
  void queueInto(reactor::OutputQueue& out) const;

 private:
  bool spill();

  std::string tempDir_;
  std::string memory_;
  std::shared_ptr<fs::TempFile> file_;  // shared with the output queue while it is sent
  std::uint64_t size_ = 0;
};

}  // namespace epserve::proxy
