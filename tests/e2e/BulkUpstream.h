// An upstream that answers each request with a large generated body, written as fast as the
// proxy takes it, and tells when it is done: for the response buffering and memory tests.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>

namespace epserve::e2e {

class BulkUpstream {
 public:
  struct Options {
    std::uint64_t bodyBytes = 1ULL << 30;
    bool chunked = false;       // Transfer-Encoding: chunked, else Content-Length
    std::string extraHeaders;   // each ending in CRLF
  };

  // Byte `i` of every body: a period (251) that no buffer or chunk size divides, so a byte
  // lost, doubled or reordered anywhere shows.
  static char bodyByte(std::uint64_t i) { return static_cast<char>(i % 251); }
  // Whether `data` is the body's bytes from offset `at` on.
  static bool isBody(std::string_view data, std::uint64_t at);

  explicit BulkUpstream(Options options);
  ~BulkUpstream();  // stops within ~50 ms and joins
  BulkUpstream(const BulkUpstream&) = delete;
  BulkUpstream& operator=(const BulkUpstream&) = delete;

  std::uint16_t port() const { return port_; }
  // Body bytes the kernel took from us so far (for the current or last response).
  std::uint64_t written() const { return written_.load(); }
  // The last response was written whole.
  bool done() const { return done_.load(); }
  std::uint64_t responses() const { return responses_.load(); }

 private:
  void run();
  bool serve(int fd);
  bool writeAll(int fd, std::string_view data);

  Options options_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> written_{0};
  std::atomic<bool> done_{false};
  std::atomic<std::uint64_t> responses_{0};
  std::thread thread_;
};

}  // namespace epserve::e2e
