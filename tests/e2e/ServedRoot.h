// The usual test setup: a fresh TempRoot served by a fresh epserve on an ephemeral port.
// Members are declared root-first, so the server stops before its files are removed.
#pragma once

#include <string>
#include <vector>

#include "Client.h"
#include "ServerProcess.h"
#include "TempRoot.h"

namespace epserve::e2e {

struct ServedRoot {
  TempRoot files;
  ServerProcess server;

  explicit ServedRoot(const std::vector<std::string>& extraArgs = {})
      : files(), server(files.root(), extraArgs) {}

  Client connect() const { return Client(server.port()); }
  std::string url(const std::string& target) const {
    return "http://127.0.0.1:" + std::to_string(server.port()) + target;
  }
};

}  // namespace epserve::e2e
