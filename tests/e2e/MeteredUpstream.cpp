// The metered upload upstream of MeteredUpstream.h: one blocking session thread per accepted
// connection, short socket timeouts so every thread notices the stop flag, and the body framed
// and checked as it streams through a 64 KiB window.
#include "MeteredUpstream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace epserve::e2e {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::size_t kWindow = 64 * 1024;
constexpr std::size_t kMaxHead = 64 * 1024;
constexpr std::size_t kMaxLine = 4096;
constexpr auto kIdleBound = 15s;  // a session with no byte for this long gives up

static_assert(std::endian::native == std::endian::little, "uploadPattern copies words");

std::uint64_t mix(std::uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::string fieldOf(std::string_view head, std::string_view name) {
  const std::string want = lower(name);
  std::size_t at = head.find("\r\n");
  while (at != std::string_view::npos) {
    const std::size_t start = at + 2;
    at = head.find("\r\n", start);
    if (at == std::string_view::npos || at == start) break;
    const std::string_view line = head.substr(start, at - start);
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos && lower(line.substr(0, colon)) == want) {
      return std::string(trim(line.substr(colon + 1)));
    }
  }
  return "";
}

// Thrown inside a session when its connection ends or fails mid-message.
struct ConnectionEnded {};
// Thrown when the session closes on purpose (closeAfterAnswer).
struct ClosingNow {};

}  // namespace

void uploadPattern(std::uint64_t offset, char* out, std::size_t n) {
  std::size_t i = 0;
  while (i < n) {
    const std::uint64_t pos = offset + i;
    const std::uint64_t word = mix(pos >> 3);
    const unsigned shift = static_cast<unsigned>(pos & 7);
    if (shift == 0 && n - i >= 8) {
      std::memcpy(out + i, &word, 8);
      i += 8;
    } else {
      out[i++] = static_cast<char>(word >> (8 * shift));
    }
  }
}

std::string MeteredUpstream::Upload::header(std::string_view name) const {
  return fieldOf(head, name);
}

// One accepted connection: requests in order, each body checked, each answered.
class MeteredUpstream::Session {
 public:
  Session(MeteredUpstream& owner, int fd, int index) : owner_(owner), fd_(fd), index_(index) {}
  ~Session() { ::close(fd_); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void run() {
    try {
      while (!owner_.stop_) {
        if (!serveOne()) return;
      }
    } catch (const ConnectionEnded&) {
    } catch (const ClosingNow&) {
    }
  }

 private:
  // False once the peer closed between requests.
  bool serveOne() {
    std::size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (buf_.size() > kMaxHead) throw ConnectionEnded{};
      if (!fill(false)) {
        if (buf_.empty()) return false;
        throw ConnectionEnded{};
      }
    }
    Upload u;
    u.connection = index_;
    u.head = buf_.substr(0, end + 4);
    buf_.erase(0, end + 4);
    ++owner_.heads_;
    started_ = Clock::now();  // the rate is per body: time between requests earns nothing
    pacedBytes_ = 0;
    upload_ = &u;
    answered_ = false;
    try {
      if (lower(u.header("Transfer-Encoding")) == "chunked") {
        u.chunked = true;
        readChunked(u);
      } else if (std::string cl = u.header("Content-Length"); !cl.empty()) {
        std::uint64_t n = 0;
        std::from_chars(cl.data(), cl.data() + cl.size(), n);
        readContent(n);
      }
      u.complete = true;
    } catch (const ConnectionEnded&) {
      u.cutShort = true;
      upload_ = nullptr;
      owner_.record(std::move(u));
      throw;
    } catch (const ClosingNow&) {
      upload_ = nullptr;
      owner_.record(std::move(u));
      throw;
    }
    upload_ = nullptr;
    if (!answered_) {
      answer("bytes=" + std::to_string(u.bytes) + " mismatch=" +
             std::to_string(u.firstMismatch));
    }
    owner_.record(std::move(u));
    return true;
  }

  void readChunked(Upload& u) {
    for (;;) {
      std::string line = readLine();
      std::size_t stop = line.find_first_of("; \t");
      if (stop != std::string::npos && line[stop] == ';') u.extensions = true;
      std::string_view digits = std::string_view(line).substr(0, stop);
      std::uint64_t size = 0;
      auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), size, 16);
      if (ec != std::errc() || ptr != digits.data() + digits.size()) throw ConnectionEnded{};
      if (size == 0) break;
      readContent(size);
      if (!readLine().empty()) throw ConnectionEnded{};  // the CRLF after chunk-data
    }
    for (std::string line; !(line = readLine()).empty();) u.trailers += line + "\r\n";
  }

  std::string readLine() {
    std::size_t at;
    while ((at = buf_.find("\r\n")) == std::string::npos) {
      if (buf_.size() > kMaxLine || !fill(false)) throw ConnectionEnded{};
    }
    std::string line = buf_.substr(0, at);
    buf_.erase(0, at + 2);
    return line;
  }

  // Takes `n` body bytes through the check, from the buffer first, then the socket.
  void readContent(std::uint64_t n) {
    while (n > 0) {
      if (buf_.empty() && !fill(true)) throw ConnectionEnded{};
      auto take = static_cast<std::size_t>(std::min<std::uint64_t>(n, buf_.size()));
      check(buf_.data(), take);
      buf_.erase(0, take);
      n -= take;
    }
  }

  void check(const char* p, std::size_t len) {
    Upload& u = *upload_;
    expected_.resize(std::max(expected_.size(), len));
    uploadPattern(u.bytes, expected_.data(), len);
    if (u.firstMismatch < 0 && std::memcmp(p, expected_.data(), len) != 0) {
      for (std::size_t i = 0; i < len; ++i) {
        if (p[i] != expected_[i]) {
          u.firstMismatch = static_cast<std::int64_t>(u.bytes + i);
          break;
        }
      }
    }
    u.bytes += len;
    owner_.bodyBytes_ += len;
    const Options& o = owner_.options_;
    if (o.answerAfter > 0 && !answered_ && u.bytes >= o.answerAfter) {
      u.answeredEarly = true;
      answer("early");
      if (o.closeAfterAnswer) throw ClosingNow{};
    }
  }

  void answer(const std::string& body) {
    answered_ = true;
    std::string out = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                      "\r\n\r\n" + body;
    std::string_view rest = out;
    while (!rest.empty()) {
      ssize_t n = ::send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw ConnectionEnded{};
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // One recv into buf_; false on EOF or error. `paced`: body bytes, held to the rate.
  bool fill(bool paced) {
    auto lastByte = Clock::now();
    for (;;) {
      if (owner_.stop_) throw ConnectionEnded{};
      std::size_t room = kWindow;
      const std::uint64_t rate = owner_.options_.bytesPerSecond;
      if (paced && rate > 0) {
        const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
        const auto allowed = static_cast<std::uint64_t>(seconds * static_cast<double>(rate));
        if (pacedBytes_ >= allowed) {
          std::this_thread::sleep_for(1ms);
          lastByte = Clock::now();  // waiting on ourselves is not the peer's silence
          continue;
        }
        room = static_cast<std::size_t>(std::min<std::uint64_t>(room, allowed - pacedBytes_));
      }
      char chunk[kWindow];
      const ssize_t n = ::recv(fd_, chunk, room, 0);
      if (n > 0) {
        buf_.append(chunk, static_cast<std::size_t>(n));
        if (paced) pacedBytes_ += static_cast<std::uint64_t>(n);
        return true;
      }
      if (n == 0) return false;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
      if (Clock::now() - lastByte > kIdleBound) return false;
    }
  }

  MeteredUpstream& owner_;
  int fd_;
  int index_;
  std::string buf_;
  std::vector<char> expected_;
  Upload* upload_ = nullptr;
  bool answered_ = false;
  Clock::time_point started_;
  std::uint64_t pacedBytes_ = 0;
};

MeteredUpstream::MeteredUpstream() : MeteredUpstream(Options{}) {}

MeteredUpstream::MeteredUpstream(Options options) : options_(options) {
  listenFd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listenFd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(listenFd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listenFd_, 64) != 0 ||
      ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    const int saved = errno;
    ::close(listenFd_);
    throw std::system_error(saved, std::generic_category(), "metered upstream listen");
  }
  port_ = ntohs(a.sin_port);
  const timeval tick{0, 100 * 1000};  // accept() and every recv() wake up to see stop_
  ::setsockopt(listenFd_, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick);
  acceptor_ = std::thread([this] { acceptLoop(); });
}

MeteredUpstream::~MeteredUpstream() {
  stop_ = true;
  acceptor_.join();
  for (std::thread& t : sessions_) t.join();
  ::close(listenFd_);
}

void MeteredUpstream::acceptLoop() {
  while (!stop_) {
    const int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;  // the 100 ms tick, or a transient error
    const timeval tick{0, 100 * 1000};
    const timeval five{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &five, sizeof five);
    const int index = static_cast<int>(accepted_++);
    sessions_.emplace_back([this, fd, index] { Session(*this, fd, index).run(); });
  }
}

void MeteredUpstream::record(Upload upload) {
  std::lock_guard lock(mutex_);
  uploads_.push_back(std::move(upload));
  changed_.notify_all();
}

std::vector<MeteredUpstream::Upload> MeteredUpstream::uploads() const {
  std::lock_guard lock(mutex_);
  return uploads_;
}

bool MeteredUpstream::waitForUploads(std::size_t n, std::chrono::milliseconds bound) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, bound, [&] { return uploads_.size() >= n; });
}

bool MeteredUpstream::waitForBodyBytes(std::uint64_t n, std::chrono::milliseconds bound) const {
  const auto deadline = Clock::now() + bound;
  while (bodyBytes_.load() < n) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

bool MeteredUpstream::waitForHeads(std::size_t n, std::chrono::milliseconds bound) const {
  const auto deadline = Clock::now() + bound;
  while (heads_.load() < n) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

}  // namespace epserve::e2e
