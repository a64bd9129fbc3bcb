// The one error type of epserve-get: a connection, protocol or output failure, already worded
// for the user. main() prints "epserve-get: <what>" and exits with code 2 for each of these.
#pragma once

#include <stdexcept>
#include <string>

namespace epserve::client {

class ClientError : public std::runtime_error {
 public:
  explicit ClientError(const std::string& what, int errnum = 0)
      : std::runtime_error(what), errnum_(errnum) {}

  // The errno behind the failure, or 0; lets the caller tell "the peer closed" from the rest.
  int errnum() const { return errnum_; }

 private:
  int errnum_;
};

}  // namespace epserve::client
