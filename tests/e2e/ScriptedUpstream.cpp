// The scripted upstream of ScriptedUpstream.h. Every socket is non-blocking and only the
// background thread touches them; what the tests read (script, records, bytes, counters) sits
// behind one mutex. Request framing is written here from RFC 9112 §6.3 and §7.1, independently
// of src/http, because it is the check on how epserve re-frames what it forwards.
#include "ScriptedUpstream.h"

#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "HttpResponse.h"
#include "TempRoot.h"

namespace epserve::e2e {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kPollMillis = 10;                 // the longest the thread sleeps: stop latency
constexpr std::size_t kMaxHead = 1u << 20;      // a head longer than this is a framing error
constexpr std::size_t kMaxChunkLine = 4096;     // chunk-size line, extensions included
constexpr std::uint64_t kMaxChunk = 1ull << 40;
constexpr std::size_t kRecvChunk = 64 * 1024;
constexpr int kReadsPerWake = 16;               // bounded reads per connection per wake-up
constexpr int kAcceptsPerWake = 64;
constexpr auto kLinger = 1000ms;      // after our FIN, read the peer's leftovers at most this long
constexpr auto kResetDrain = 1000ms;  // before an RST, wait at most this long for our bytes to go

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Calls `each(name, value)` for every field line of `head` (the request line skipped).
template <typename Each>
void forEachField(std::string_view head, Each each) {
  std::size_t at = head.find("\r\n");
  while (at != std::string_view::npos) {
    const std::size_t start = at + 2;
    at = head.find("\r\n", start);
    if (at == std::string_view::npos || at == start) return;  // the empty line ends the head
    const std::string_view line = head.substr(start, at - start);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    each(line.substr(0, colon), trim(line.substr(colon + 1)));
  }
}

// The status code of the first status line of `bytes`, or 0.
int statusOf(std::string_view bytes) {
  if (bytes.substr(0, 5) != "HTTP/") return 0;
  const std::size_t space = bytes.find(' ');
  if (space == std::string_view::npos || bytes.size() < space + 4) return 0;
  int status = 0;
  const char* first = bytes.data() + space + 1;
  const auto [ptr, ec] = std::from_chars(first, first + 3, status);
  return ec == std::errc() && ptr == first + 3 ? status : 0;
}

enum class Framed { Incomplete, Complete, Broken };

// Frames one request at the start of `in` into `out` (head, body, chunked, trailers, error);
// `used` is its length when Complete. Incomplete leaves `out` half-filled: frame again later.
Framed frameRequest(std::string_view in, ScriptedUpstream::Received& out, std::size_t& used) {
  const std::size_t headEnd = in.find("\r\n\r\n");
  if (headEnd == std::string_view::npos) {
    if (in.size() <= kMaxHead) return Framed::Incomplete;
    out.error = "no end of the head within " + std::to_string(kMaxHead) + " bytes";
    return Framed::Broken;
  }
  out.head = std::string(in.substr(0, headEnd + 4));
  std::size_t at = headEnd + 4;

  // Transfer-Encoding outranks Content-Length (RFC 9112 §6.3 rules 3 and 4); the list may be
  // split over several field lines, so its last coding is the last of the last line.
  std::string_view lastCodings;
  bool hasTransferEncoding = false;
  std::vector<std::string_view> lengths;
  forEachField(out.head, [&](std::string_view name, std::string_view value) {
    if (equalsIgnoreCase(name, "Transfer-Encoding")) {
      hasTransferEncoding = true;
      lastCodings = value;
    } else if (equalsIgnoreCase(name, "Content-Length")) {
      lengths.push_back(value);
    }
  });

  if (hasTransferEncoding) {
    const std::size_t comma = lastCodings.rfind(',');
    const std::string_view last =
        trim(comma == std::string_view::npos ? lastCodings : lastCodings.substr(comma + 1));
    if (!equalsIgnoreCase(last, "chunked")) {
      out.error = "Transfer-Encoding whose last coding is not chunked: '" +
                  std::string(lastCodings) + "'";
      return Framed::Broken;
    }
    out.chunked = true;
    out.body.clear();
    out.trailers.clear();
    // chunked-body = *chunk last-chunk trailer-section CRLF
    // chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF   (RFC 9112 §7.1)
    for (;;) {
      const std::size_t lineEnd = in.find("\r\n", at);
      if (lineEnd == std::string_view::npos) {
        if (in.size() - at <= kMaxChunkLine) return Framed::Incomplete;
        out.error = "chunk-size line longer than " + std::to_string(kMaxChunkLine) + " bytes";
        return Framed::Broken;
      }
      const std::string_view line = in.substr(at, lineEnd - at);
      // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ): whitespace only before ';'
      std::string_view sizeText = line.substr(0, line.find(';'));
      if (sizeText.size() != line.size()) sizeText = trim(sizeText);
      std::uint64_t size = 0;
      const auto [ptr, ec] =
          std::from_chars(sizeText.data(), sizeText.data() + sizeText.size(), size, 16);
      if (sizeText.empty() || sizeText.size() > 16 || ec != std::errc() ||
          ptr != sizeText.data() + sizeText.size() || size > kMaxChunk) {
        out.error = "bad chunk-size line: '" + std::string(line) + "'";
        return Framed::Broken;
      }
      at = lineEnd + 2;
      if (size == 0) break;
      const std::size_t length = static_cast<std::size_t>(size);
      if (in.size() - at < length + 2) return Framed::Incomplete;
      if (in.substr(at + length, 2) != "\r\n") {
        out.error = "chunk data of " + std::to_string(length) + " bytes not followed by CRLF";
        return Framed::Broken;
      }
      out.body.append(in.substr(at, length));
      at += length + 2;
    }
    for (;;) {  // trailer-section = *( field-line CRLF ), then the empty line
      const std::size_t lineEnd = in.find("\r\n", at);
      if (lineEnd == std::string_view::npos) {
        if (in.size() - at <= kMaxHead) return Framed::Incomplete;
        out.error = "trailer section without its empty line";
        return Framed::Broken;
      }
      if (lineEnd == at) {
        used = at + 2;
        return Framed::Complete;
      }
      out.trailers.append(in.substr(at, lineEnd + 2 - at));
      at = lineEnd + 2;
    }
  }

  if (!lengths.empty()) {
    std::size_t length = 0;
    for (std::size_t i = 0; i < lengths.size(); ++i) {
      const std::string_view text = lengths[i];
      std::size_t value = 0;
      const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() ||
          (i > 0 && value != length)) {
        out.error = "bad or conflicting Content-Length: '" + std::string(text) + "'";
        return Framed::Broken;
      }
      length = value;
    }
    if (in.size() - at < length) return Framed::Incomplete;
    out.body = std::string(in.substr(at, length));
    at += length;
  }
  used = at;  // neither field: no body (RFC 9112 §6.3 rule 7)
  return Framed::Complete;
}

}  // namespace

// ---- Received ------------------------------------------------------------------------------

std::string ScriptedUpstream::Received::requestLine() const {
  return head.substr(0, head.find("\r\n"));
}

std::string ScriptedUpstream::Received::method() const {
  const std::string line = requestLine();
  return line.substr(0, line.find(' '));
}

std::string ScriptedUpstream::Received::target() const {
  const std::string line = requestLine();
  const std::size_t first = line.find(' ');
  if (first == std::string::npos) return {};
  const std::size_t second = line.find(' ', first + 1);
  return line.substr(first + 1, second == std::string::npos ? std::string::npos
                                                            : second - first - 1);
}

std::string ScriptedUpstream::Received::header(std::string_view name) const {
  std::string found;
  bool seen = false;
  forEachField(head, [&](std::string_view key, std::string_view value) {
    if (!seen && equalsIgnoreCase(key, name)) {
      found = std::string(value);
      seen = true;
    }
  });
  return found;
}

std::size_t ScriptedUpstream::Received::headerCount(std::string_view name) const {
  std::size_t count = 0;
  forEachField(head, [&](std::string_view key, std::string_view) {
    count += equalsIgnoreCase(key, name) ? 1 : 0;
  });
  return count;
}

// ---- Reply builders ------------------------------------------------------------------------

ScriptedUpstream::Reply ScriptedUpstream::ok(std::string body, std::string extraHeaders) {
  Reply reply;
  reply.bytes = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
                extraHeaders + "\r\n" + body;
  return reply;
}

ScriptedUpstream::Reply ScriptedUpstream::chunked(std::vector<std::string> chunks,
                                                  std::string extraHeaders) {
  Reply reply;
  reply.bytes = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n" + extraHeaders + "\r\n";
  for (const std::string& chunk : chunks) {
    if (chunk.empty()) continue;  // an empty chunk would be the last-chunk
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
    reply.bytes.append(size).append(chunk).append("\r\n");
  }
  reply.bytes.append("0\r\n\r\n");
  return reply;
}

ScriptedUpstream::Reply ScriptedUpstream::closeDelimited(std::string body,
                                                         std::string extraHeaders) {
  Reply reply;
  reply.bytes = "HTTP/1.1 200 OK\r\n" + extraHeaders + "\r\n" + body;
  reply.closeAfter = true;
  return reply;
}

// ---- One connection, as the thread sees it -------------------------------------------------

struct ScriptedUpstream::Connection {
  enum class Phase {
    Idle,        // waiting for a request to answer
    Delaying,    // reply taken; writing starts at `at`
    Writing,     // `out` left to write; with pieces, the next one at `at`
    Silent,      // neverAnswer: reads and records, answers nothing, ever
    Tunnel,      // after a 101 in tunnelAfter101 mode: echoes what it reads
    ResetDrain,  // reply written; RST once the kernel has sent it (or at `at`)
    Lingering,   // FIN sent; reading the peer's leftovers until its EOF (or `at`)
    Closed,
  };

  int fd = -1;
  int index = 0;
  Phase phase = Phase::Idle;
  std::string pending;          // read but not framed yet
  bool framingStopped = false;  // a framing error: nothing more is parsed on this connection
  bool holdFraming = false;     // an Upgrade request is unanswered: what follows may be a tunnel
  bool continueSent = false;    // continueOnExpect: a 100 went out for the request coming in
  std::size_t unanswered = 0;   // framed requests not answered yet
  bool peerClosed = false;      // EOF (or hang-up) read: nothing more to read
  Reply reply;                  // the one being answered
  std::string out;              // bytes left to write
  Clock::time_point at{};
  Clock::time_point lastActivity{};
};

// ---- Lifetime ------------------------------------------------------------------------------

ScriptedUpstream::ScriptedUpstream() : ScriptedUpstream(Options{}) {}

ScriptedUpstream::ScriptedUpstream(Options options) : options_(std::move(options)) {
  const auto fail = [this](const std::string& what) {
    const int saved = errno;
    if (listenFd_ >= 0) ::close(listenFd_);
    if (unixFd_ >= 0) ::close(unixFd_);
    std::error_code ignored;
    if (!unixDir_.empty()) std::filesystem::remove_all(unixDir_, ignored);
    throw std::system_error(saved, std::generic_category(), "scripted upstream: " + what);
  };

  listenFd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listenFd_ < 0) fail("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;  // ephemeral
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listenFd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    fail("bind 127.0.0.1:0");
  }
  if (::listen(listenFd_, 128) != 0) fail("listen");
  socklen_t length = sizeof address;
  if (::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    fail("getsockname");
  }
  port_ = ntohs(address.sin_port);

  if (options_.unixSocket) {
    unixDir_ = makeTempDir("epserve-e2e-upstream-");
    unixPath_ = unixDir_ / "upstream.sock";
    sockaddr_un unixAddress{};
    unixAddress.sun_family = AF_UNIX;
    const std::string path = unixPath_.string();
    if (path.size() >= sizeof unixAddress.sun_path) {
      errno = ENAMETOOLONG;
      fail("unix socket path " + path);
    }
    std::memcpy(unixAddress.sun_path, path.c_str(), path.size() + 1);
    unixFd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (unixFd_ < 0) fail("unix socket");
    if (::bind(unixFd_, reinterpret_cast<sockaddr*>(&unixAddress), sizeof unixAddress) != 0) {
      fail("bind " + path);
    }
    if (::listen(unixFd_, 128) != 0) fail("listen on " + path);
  }

  thread_ = std::thread([this] { run(); });
}

ScriptedUpstream::~ScriptedUpstream() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();  // the thread checks stop_ at least every kPollMillis
  for (auto& connection : connections_) {
    if (connection->fd >= 0) ::close(connection->fd);
  }
  if (listenFd_ >= 0) ::close(listenFd_);
  if (unixFd_ >= 0) ::close(unixFd_);
  std::error_code ignored;
  if (!unixDir_.empty()) std::filesystem::remove_all(unixDir_, ignored);
}

// ---- Test-side accessors -------------------------------------------------------------------

void ScriptedUpstream::push(Reply reply) {
  std::lock_guard lock(mutex_);
  script_.push_back(std::move(reply));
}

void ScriptedUpstream::script(std::vector<Reply> replies) {
  std::lock_guard lock(mutex_);
  for (Reply& reply : replies) script_.push_back(std::move(reply));
}

void ScriptedUpstream::setDefaultReply(Reply reply) {
  std::lock_guard lock(mutex_);
  options_.defaultReply = std::move(reply);
}

std::size_t ScriptedUpstream::scriptLeft() const {
  std::lock_guard lock(mutex_);
  return script_.size();
}

std::vector<ScriptedUpstream::Received> ScriptedUpstream::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

std::size_t ScriptedUpstream::connectionsAccepted() const {
  std::lock_guard lock(mutex_);
  return accepted_;
}

std::size_t ScriptedUpstream::openConnections() const {
  std::lock_guard lock(mutex_);
  return open_;
}

bool ScriptedUpstream::waitForRequests(std::size_t n, std::chrono::milliseconds bound) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, bound, [&] { return received_.size() >= n; });
}

bool ScriptedUpstream::waitForConnections(std::size_t n, std::chrono::milliseconds bound) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, bound, [&] { return accepted_ >= n; });
}

bool ScriptedUpstream::waitForOpenConnections(std::size_t n,
                                              std::chrono::milliseconds bound) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, bound, [&] { return open_ == n; });
}

std::string ScriptedUpstream::allBytes(int connectionIndex) const {
  std::lock_guard lock(mutex_);
  const auto found = allBytes_.find(connectionIndex);
  return found == allBytes_.end() ? std::string() : found->second;
}

ScriptedUpstream::Reply ScriptedUpstream::takeReply() {
  std::lock_guard lock(mutex_);
  if (script_.empty()) return options_.defaultReply;
  Reply reply = std::move(script_.front());
  script_.pop_front();
  return reply;
}

// ---- The thread ----------------------------------------------------------------------------

void ScriptedUpstream::run() {
  try {
    for (;;) {
      {
        std::lock_guard lock(mutex_);
        if (stop_) break;
      }
      pollOnce();
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "scripted upstream: thread stopped: %s\n", error.what());
  }
  for (auto& connection : connections_) {
    if (connection->fd >= 0) closeNow(*connection, false);
  }
  connections_.clear();
}

void ScriptedUpstream::pollOnce() {
  // Sleep until the next timer of any connection, but never longer than kPollMillis.
  auto now = Clock::now();
  auto wake = now + std::chrono::milliseconds(kPollMillis);
  std::vector<pollfd> watched;
  std::vector<Connection*> owners;
  watched.push_back({listenFd_, POLLIN, 0});
  if (unixFd_ >= 0) watched.push_back({unixFd_, POLLIN, 0});
  const std::size_t listeners = watched.size();
  const auto idleLimit = std::chrono::milliseconds(options_.closeIdleAfterMillis);
  for (auto& owned : connections_) {
    Connection& c = *owned;
    using Phase = Connection::Phase;
    const bool readable = !c.peerClosed;
    const bool writable = (c.phase == Phase::Writing && c.at <= now) ||
                          (c.phase == Phase::Tunnel && !c.out.empty());
    const bool timed = c.phase == Phase::Delaying || c.phase == Phase::Lingering ||
                       (c.phase == Phase::Writing && c.at > now);
    if (timed) wake = std::min(wake, c.at);
    if (c.phase == Phase::ResetDrain) wake = std::min(wake, now + 1ms);
    if (c.phase == Phase::Idle && options_.closeIdleAfterMillis > 0) {
      wake = std::min(wake, c.lastActivity + idleLimit);
    }
    if (c.phase == Phase::Idle && c.unanswered > 0) wake = now;  // more queued than one round
    if (!readable && !writable) continue;  // a closed peer, nothing to write: timers only
    const short events = static_cast<short>((readable ? POLLIN : 0) | (writable ? POLLOUT : 0));
    watched.push_back({c.fd, events, 0});
    owners.push_back(&c);
  }
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(wake - now).count();
  const int timeout = static_cast<int>(std::clamp<long long>(left, 0, kPollMillis));
  const int ready = ::poll(watched.data(), watched.size(), timeout);
  if (ready < 0 && errno != EINTR) throw std::system_error(errno, std::generic_category(), "poll");

  if (ready > 0) {
    for (std::size_t i = 0; i < listeners; ++i) {
      if (watched[i].revents & POLLIN) acceptFrom(watched[i].fd, watched[i].fd == listenFd_);
    }
    for (std::size_t i = listeners; i < watched.size(); ++i) {
      Connection& c = *owners[i - listeners];
      // A hang-up or error is read too: recv() then reports the EOF or the error itself.
      if (watched[i].revents & (POLLIN | POLLHUP | POLLERR)) readFrom(c);
    }
  }
  for (auto& owned : connections_) {
    if (owned->fd >= 0) advance(*owned);
  }
  std::erase_if(connections_, [](const auto& owned) { return owned->fd < 0; });
}

void ScriptedUpstream::acceptFrom(int listener, bool tcp) {
  for (int round = 0; round < kAcceptsPerWake; ++round) {
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or an aborted connection: nothing (more) to accept
    if (tcp) {
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // pieces stay pieces
    }
    auto connection = std::make_unique<Connection>();
    connection->fd = fd;
    connection->lastActivity = Clock::now();
    {
      std::lock_guard lock(mutex_);
      connection->index = static_cast<int>(accepted_++);
      ++open_;
      allBytes_[connection->index];
    }
    changed_.notify_all();
    connections_.push_back(std::move(connection));
  }
}

void ScriptedUpstream::readFrom(Connection& c) {
  using Phase = Connection::Phase;
  for (int round = 0; round < kReadsPerWake && !c.peerClosed; ++round) {
    char chunk[kRecvChunk];
    const ssize_t n = ::recv(c.fd, chunk, sizeof chunk, 0);
    if (n > 0) {
      const std::string_view bytes(chunk, static_cast<std::size_t>(n));
      {
        std::lock_guard lock(mutex_);
        allBytes_[c.index].append(bytes);
      }
      c.lastActivity = Clock::now();
      if (c.phase == Phase::Tunnel) {
        c.out.append(bytes);
      } else if (c.phase != Phase::ResetDrain && c.phase != Phase::Lingering) {
        c.pending.append(bytes);
      }
      continue;
    }
    if (n == 0) {
      c.peerClosed = true;
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    closeNow(c, false);  // ECONNRESET and the like: the peer is gone
    return;
  }
}

void ScriptedUpstream::frameRequests(Connection& c) {
  // Bounded: every round consumes bytes or stops framing.
  while (!c.framingStopped && !c.holdFraming && !c.pending.empty()) {
    Received request;
    std::size_t used = 0;
    const Framed framed = frameRequest(c.pending, request, used);
    if (framed == Framed::Incomplete) {
      if (options_.continueOnExpect && !c.continueSent && !request.head.empty() &&
          c.unanswered == 0 && c.phase == Connection::Phase::Idle &&
          equalsIgnoreCase(request.header("Expect"), "100-continue")) {
        // RFC 9110 §10.1.1. Idle means nothing is being written: 25 bytes fit the send buffer.
        constexpr std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
        ::send(c.fd, interim.data(), interim.size(), MSG_NOSIGNAL);
        c.continueSent = true;
      }
      return;
    }
    c.continueSent = false;
    request.connectionIndex = c.index;
    request.receivedAt = Clock::now();
    if (framed == Framed::Broken) {
      request.raw = std::move(c.pending);
      c.pending.clear();
      c.framingStopped = true;  // recorded, never answered
    } else {
      request.raw = c.pending.substr(0, used);
      c.pending.erase(0, used);
      ++c.unanswered;
      if (options_.tunnelAfter101 && request.headerCount("Upgrade") > 0) c.holdFraming = true;
    }
    {
      std::lock_guard lock(mutex_);
      received_.push_back(std::move(request));
    }
    changed_.notify_all();
  }
}

void ScriptedUpstream::advance(Connection& c) {
  using Phase = Connection::Phase;
  // Each round moves the connection on a phase or stops; a keep-alive connection can answer
  // at most a few queued requests per wake-up, which keeps this loop bounded.
  for (int round = 0; round < 16 && c.fd >= 0; ++round) {
    const auto now = Clock::now();
    if (c.phase == Phase::Idle || c.phase == Phase::Delaying || c.phase == Phase::Writing ||
        c.phase == Phase::Silent) {
      frameRequests(c);
    }
    switch (c.phase) {
      case Phase::Idle:
        if (c.unanswered > 0) {
          --c.unanswered;
          startReply(c);
          continue;
        }
        if (c.peerClosed) {
          closeNow(c, false);
        } else if (options_.closeIdleAfterMillis > 0 &&
                   now - c.lastActivity >=
                       std::chrono::milliseconds(options_.closeIdleAfterMillis)) {
          closeGracefully(c);
        }
        return;
      case Phase::Delaying:
        if (now < c.at) return;
        c.phase = Phase::Writing;
        c.at = now;
        continue;
      case Phase::Writing:
        writeSome(c);
        if (c.fd < 0 || !c.out.empty()) return;
        finishReply(c);
        continue;
      case Phase::Silent:
        if (c.peerClosed) closeNow(c, false);
        return;
      case Phase::Tunnel:
        writeSome(c);
        if (c.fd >= 0 && c.out.empty() && c.peerClosed) closeNow(c, false);
        return;
      case Phase::ResetDrain: {
        int unsent = 0;
        if (::ioctl(c.fd, SIOCOUTQ, &unsent) != 0 || unsent == 0 || now >= c.at) closeNow(c, true);
        return;
      }
      case Phase::Lingering:
        if (c.peerClosed || now >= c.at) closeNow(c, false);
        return;
      case Phase::Closed:
        return;
    }
  }
}

void ScriptedUpstream::startReply(Connection& c) {
  using Phase = Connection::Phase;
  c.reply = takeReply();
  if (c.reply.neverAnswer) {
    c.phase = Phase::Silent;
  } else if (c.reply.closeWithoutAnswer) {
    closeGracefully(c);
  } else {
    c.out = c.reply.bytes;
    c.phase = Phase::Delaying;
    c.at = Clock::now() + std::chrono::milliseconds(c.reply.delayMillis);
  }
}

void ScriptedUpstream::writeSome(Connection& c) {
  // Bounded: each round writes bytes, or waits (for a piece's time or for POLLOUT).
  while (!c.out.empty()) {
    const auto now = Clock::now();
    if (c.phase == Connection::Phase::Writing && now < c.at) return;
    std::size_t size = c.out.size();
    const bool pieces = c.phase == Connection::Phase::Writing && c.reply.writeInPieces > 0;
    if (pieces) size = std::min(size, c.reply.writeInPieces);
    const ssize_t n = ::send(c.fd, c.out.data(), size, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      closeNow(c, false);  // EPIPE, ECONNRESET: the peer is gone
      return;
    }
    c.out.erase(0, static_cast<std::size_t>(n));
    c.lastActivity = now;
    if (pieces && !c.out.empty()) {
      c.at = now + std::chrono::milliseconds(c.reply.pieceDelayMillis);
      return;
    }
  }
}

void ScriptedUpstream::finishReply(Connection& c) {
  using Phase = Connection::Phase;
  c.lastActivity = Clock::now();
  // Framing halts behind an Upgrade request, so this answers it iff nothing else is queued.
  const bool upgrading = c.holdFraming && c.unanswered == 0;
  if (upgrading) c.holdFraming = false;
  if (c.reply.resetAfter) {
    c.phase = Phase::ResetDrain;
    c.at = Clock::now() + kResetDrain;
  } else if (c.reply.closeAfter || options_.closeAfterEachResponse) {
    closeGracefully(c);
  } else if (options_.tunnelAfter101 && upgrading && statusOf(c.reply.bytes) == 101) {
    c.phase = Phase::Tunnel;
    c.out = std::move(c.pending);  // bytes sent right behind the upgrade request
    c.pending.clear();
    c.unanswered = 0;
  } else {
    c.phase = Phase::Idle;
  }
}

void ScriptedUpstream::closeGracefully(Connection& c) {
  if (c.peerClosed) {
    closeNow(c, false);
    return;
  }
  // FIN first, then read until the peer's EOF: closing with unread bytes would send an RST.
  ::shutdown(c.fd, SHUT_WR);
  c.phase = Connection::Phase::Lingering;
  c.at = Clock::now() + kLinger;
}

void ScriptedUpstream::closeNow(Connection& c, bool reset) {
  if (c.fd < 0) return;
  if (reset) {
    const linger abortive{1, 0};  // RFC 9293 §3.6: unsent data dropped, RST sent
    ::setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
  }
  ::close(c.fd);
  c.fd = -1;
  c.phase = Connection::Phase::Closed;
  {
    std::lock_guard lock(mutex_);
    --open_;
  }
  changed_.notify_all();
}

}  // namespace epserve::e2e
