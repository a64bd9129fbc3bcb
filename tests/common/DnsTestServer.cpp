// The test DNS server: see DnsTestServer.h. Only what c-ares asks is understood: one question,
// no compression in it; the answer points back at the question's name (RFC 1035 §4.1.4).
#include "DnsTestServer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <stdexcept>

namespace epserve::testing {

namespace {

constexpr std::uint16_t kTypeA = 1;
constexpr std::uint16_t kTypeAaaa = 28;
constexpr std::uint16_t kNxDomain = 3;
constexpr std::uint16_t kFormErr = 1;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

void put16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}

std::uint16_t get16(const std::string& s, std::size_t at) {
  return static_cast<std::uint16_t>((static_cast<unsigned char>(s[at]) << 8) |
                                    static_cast<unsigned char>(s[at + 1]));
}

}  // namespace

DnsTestServer::DnsTestServer() {
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("DnsTestServer: socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd_);
    throw std::runtime_error("DnsTestServer: bind");
  }
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { run(); });
}

DnsTestServer::~DnsTestServer() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  thread_.join();
  ::close(fd_);
}

void DnsTestServer::set(const std::string& name, std::vector<std::string> addresses) {
  std::lock_guard lock(mutex_);
  table_[lower(name)] = std::move(addresses);
}

void DnsTestServer::remove(const std::string& name) {
  std::lock_guard lock(mutex_);
  table_.erase(lower(name));
}

void DnsTestServer::setDelay(std::chrono::milliseconds delay) {
  std::lock_guard lock(mutex_);
  delay_ = delay;
}

void DnsTestServer::setSilent(bool silent) {
  std::lock_guard lock(mutex_);
  silent_ = silent;
}

std::size_t DnsTestServer::queries(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = queries_.find(lower(name));
  return it == queries_.end() ? 0 : it->second;
}

std::size_t DnsTestServer::answers(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = answers_.find(lower(name));
  return it == answers_.end() ? 0 : it->second;
}

bool DnsTestServer::waitForQueries(const std::string& name, std::size_t n,
                                   std::chrono::milliseconds bound) const {
  auto deadline = std::chrono::steady_clock::now() + bound;
  for (;;) {
    if (queries(name) >= n) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void DnsTestServer::run() {
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stop_) return;
    }
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 5) > 0) receive();
    sendDue();
  }
}

void DnsTestServer::receive() {
  for (int i = 0; i < 64; ++i) {
    char buf[1500];
    sockaddr_in peer{};
    socklen_t len = sizeof(peer);
    ssize_t n = ::recvfrom(fd_, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&peer), &len);
    if (n <= 0) return;
    std::string name;
    std::string reply = answer(std::string(buf, static_cast<std::size_t>(n)), name);
    std::lock_guard lock(mutex_);
    ++queries_[name];
    if (silent_ || reply.empty()) continue;
    Pending p;
    p.due = std::chrono::steady_clock::now() + delay_;
    p.name = name;
    p.bytes = std::move(reply);
    const auto* raw = reinterpret_cast<const unsigned char*>(&peer);
    p.peer.assign(raw, raw + sizeof(peer));
    pending_.push_back(std::move(p));
  }
}

void DnsTestServer::sendDue() {
  std::vector<Pending> due;
  {
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    auto it = std::stable_partition(pending_.begin(), pending_.end(),
                                    [now](const Pending& p) { return p.due > now; });
    due.assign(std::make_move_iterator(it), std::make_move_iterator(pending_.end()));
    pending_.erase(it, pending_.end());
    for (const Pending& p : due) ++answers_[p.name];
  }
  for (const Pending& p : due) {
    ::sendto(fd_, p.bytes.data(), p.bytes.size(), 0,
             reinterpret_cast<const sockaddr*>(p.peer.data()),
             static_cast<socklen_t>(p.peer.size()));
  }
}

// The response to one query ("" to ignore it); `name` gets the question's name.
std::string DnsTestServer::answer(const std::string& query, std::string& name) {
  if (query.size() < 12 || get16(query, 4) != 1) return "";
  std::size_t at = 12;
  while (at < query.size() && query[at] != 0) {
    auto len = static_cast<unsigned char>(query[at]);
    if (len > 63 || at + 1 + len >= query.size()) return "";
    if (!name.empty()) name += '.';
    name.append(query, at + 1, len);
    at += 1 + len;
  }
  if (at + 5 > query.size()) return "";
  name = lower(name);
  const std::size_t questionEnd = at + 5;  // the root label, QTYPE, QCLASS
  const std::uint16_t type = get16(query, at + 1);

  std::vector<std::string> records;
  std::uint16_t rcode = 0;
  {
    std::lock_guard lock(mutex_);
    auto it = table_.find(name);
    if (it == table_.end()) {
      rcode = kNxDomain;
    } else {
      for (const std::string& address : it->second) {
        unsigned char bytes[16];
        if (type == kTypeA && ::inet_pton(AF_INET, address.c_str(), bytes) == 1) {
          records.emplace_back(reinterpret_cast<char*>(bytes), 4);
        } else if (type == kTypeAaaa && ::inet_pton(AF_INET6, address.c_str(), bytes) == 1) {
          records.emplace_back(reinterpret_cast<char*>(bytes), 16);
        }
      }
    }
  }
  if (type != kTypeA && type != kTypeAaaa) rcode = kFormErr;

  std::string out;
  out.append(query, 0, 2);  // the id
  // QR, the query's opcode and RD, AA, RA, the rcode.
  const std::uint16_t flags = get16(query, 2);
  put16(out, static_cast<std::uint16_t>(0x8000 | (flags & 0x7900) | 0x0400 | 0x0080 | rcode));
  put16(out, 1);
  put16(out, static_cast<std::uint16_t>(records.size()));
  put16(out, 0);
  put16(out, 0);
  out.append(query, 12, questionEnd - 12);
  for (const std::string& rdata : records) {
    put16(out, 0xc00c);  // the name: a pointer to the question's
    put16(out, type);
    put16(out, 1);       // IN
    put16(out, 0);
    put16(out, 1);       // TTL 1 s
    put16(out, static_cast<std::uint16_t>(rdata.size()));
    out += rdata;
  }
  return out;
}

}  // namespace epserve::testing
