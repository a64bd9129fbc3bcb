// A tiny DNS server for the resolver tests: UDP on 127.0.0.1 (ephemeral port), answering A and
// AAAA queries from a table the test may change at any time; counts queries, can delay or drop.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace epserve::testing {

class DnsTestServer {
 public:
  DnsTestServer();   // throws std::runtime_error if the socket cannot be bound
  ~DnsTestServer();  // stops the thread (within ~10 ms) and closes the socket
  DnsTestServer(const DnsTestServer&) = delete;
  DnsTestServer& operator=(const DnsTestServer&) = delete;

  std::uint16_t port() const { return port_; }
  // "127.0.0.1:PORT", what --resolver takes.
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // `name` (any case, no trailing dot) answers with these IPv4/IPv6 literals, A and AAAA
  // records by their kind (none of a kind: NOERROR with no records). A name not in the table
  // is NXDOMAIN.
  void set(const std::string& name, std::vector<std::string> addresses);
  void remove(const std::string& name);
  // Answers go out this long after their query (others are still received meanwhile).
  void setDelay(std::chrono::milliseconds delay);
  // Queries are counted but never answered.
  void setSilent(bool silent);

  // A and AAAA queries received for `name`, and answers sent for it.
  std::size_t queries(const std::string& name) const;
  std::size_t answers(const std::string& name) const;
  // True once queries(name) >= n; false if that takes longer than `bound`.
  bool waitForQueries(const std::string& name, std::size_t n, std::chrono::milliseconds bound) const;

 private:
  struct Pending {
    std::chrono::steady_clock::time_point due;
    std::string name;
    std::string bytes;
    std::vector<unsigned char> peer;  // a sockaddr_in, as received
  };

  void run();
  void receive();
  void sendDue();
  std::string answer(const std::string& query, std::string& name);

  int fd_ = -1;
  std::uint16_t port_ = 0;
  mutable std::mutex mutex_;  // guards everything below
  bool stop_ = false;
  std::map<std::string, std::vector<std::string>> table_;
  std::map<std::string, std::size_t> queries_;
  std::map<std::string, std::size_t> answers_;
  std::chrono::milliseconds delay_{0};
  bool silent_ = false;
  std::vector<Pending> pending_;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace epserve::testing
