// Everything an OutputQueue holds, as a peer receives it: flushed through a fresh non-blocking
// socketpair and read back until the queue is empty, for unit tests of what gets queued.
#pragma once

#include <doctest/doctest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "reactor/Fd.h"
#include "reactor/OutputQueue.h"

namespace epserve::testing {

inline std::string drainQueue(reactor::OutputQueue& q) {
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
  const reactor::Fd writer(sv[0]), reader(sv[1]);
  std::string out;
  char buf[65536];
  for (int i = 0; i < 100000 && !q.empty(); ++i) {
    REQUIRE(q.flush(writer.get()) != reactor::OutputQueue::FlushResult::Failed);
    for (ssize_t n; (n = ::read(reader.get(), buf, sizeof buf)) > 0;) {
      out.append(buf, static_cast<std::size_t>(n));
    }
  }
  return out;
}

}  // namespace epserve::testing
