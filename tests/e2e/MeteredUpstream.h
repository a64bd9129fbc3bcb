// An upstream for upload tests: reads each request body at a chosen rate, checks every byte
// against uploadPattern() and counts them (nothing is stored, so 1 GiB costs nothing), then
// answers 200 with what it counted. Blocking I/O, a thread per connection, 127.0.0.1 only.
//
// The body is framed here from RFC 9112 §6.3 and §7.1, independently of src/http: a
// Content-Length body or a chunked one (extensions skipped, trailers recorded). A request
// whose body is cut short (EOF or reset mid-body) is recorded too, with cutShort set.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace epserve::e2e {

// The byte at `offset` of every test upload: a keyed mix of the position, so a dropped,
// repeated or reordered span shows up at its first byte (no short period to hide in).
void uploadPattern(std::uint64_t offset, char* out, std::size_t n);

class MeteredUpstream {
 public:
  struct Options {
    std::uint64_t bytesPerSecond = 0;  // 0: read as fast as it comes
    // > 0: answer (200 "early") once this many body bytes are in, before the body ends...
    std::uint64_t answerAfter = 0;
    // ... then close at once (the unread rest makes that a reset) instead of reading on.
    bool closeAfterAnswer = false;
  };

  // One request body as the upstream saw it.
  struct Upload {
    std::string head;             // request line and fields, through the empty line
    bool chunked = false;         // Transfer-Encoding: chunked
    std::string trailers;         // chunked: the trailer lines (each ending in CRLF)
    bool extensions = false;      // chunked: some chunk-size line carried an extension
    std::uint64_t bytes = 0;      // body content received
    std::int64_t firstMismatch = -1;  // first offset not matching uploadPattern(), or -1
    bool complete = false;        // the framing ended the body
    bool cutShort = false;        // the connection ended or failed before that
    bool answeredEarly = false;   // Options::answerAfter applied
    int connection = -1;          // accept order, from 0

    // The first field named `name` (case-insensitive), trimmed; "" if absent.
    std::string header(std::string_view name) const;
  };

  MeteredUpstream();
  explicit MeteredUpstream(Options options);
  // Stops accepting, wakes every connection thread (within ~100 ms) and joins them.
  ~MeteredUpstream();
  MeteredUpstream(const MeteredUpstream&) = delete;
  MeteredUpstream& operator=(const MeteredUpstream&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Finished uploads (complete or cut short), in the order they finished.
  std::vector<Upload> uploads() const;
  bool waitForUploads(std::size_t n, std::chrono::milliseconds bound) const;
  // Live counters: request heads read, body bytes read (across requests), connections.
  std::size_t headsSeen() const { return heads_.load(); }
  std::uint64_t bodyBytesSeen() const { return bodyBytes_.load(); }
  std::size_t connectionsAccepted() const { return accepted_.load(); }
  bool waitForBodyBytes(std::uint64_t n, std::chrono::milliseconds bound) const;
  bool waitForHeads(std::size_t n, std::chrono::milliseconds bound) const;

 private:
  class Session;

  void acceptLoop();
  void record(Upload upload);

  Options options_;
  int listenFd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> heads_{0};
  std::atomic<std::uint64_t> bodyBytes_{0};
  std::atomic<std::size_t> accepted_{0};

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<Upload> uploads_;
  std::vector<std::thread> sessions_;  // the accept thread's alone until the destructor

  std::thread acceptor_;  // last: started once everything above exists
};

}  // namespace epserve::e2e
