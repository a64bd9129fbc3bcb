// The usual proxy test setup: a scripted upstream, a fresh TempRoot, and epserve proxying
// PREFIX (default /app/) to the upstream, everything on 127.0.0.1 ephemeral ports.
#pragma once

#include <string>
#include <vector>

#include "Client.h"
#include "ScriptedUpstream.h"
#include "ServerProcess.h"
#include "TempRoot.h"

namespace epserve::e2e {

inline std::string upstreamUrl(const ScriptedUpstream& u, const std::string& path = "") {
  return "http://127.0.0.1:" + std::to_string(u.port()) + path;
}

struct ProxiedRoot {
  TempRoot files;
  ScriptedUpstream upstream;
  ServerProcess server;

  explicit ProxiedRoot(std::vector<std::string> extraArgs = {}, std::string prefix = "/app/",
                       std::string urlPath = "", ScriptedUpstream::Options options = {})
      : files(),
        upstream(std::move(options)),
        server(files.root(), withProxy(std::move(extraArgs), prefix, upstreamUrl(upstream, urlPath))) {}

  Client connect() const { return Client(server.port()); }

  static std::vector<std::string> withProxy(std::vector<std::string> args, const std::string& prefix,
                                            const std::string& url) {
    args.push_back("--proxy");
    args.push_back(prefix + "=" + url);
    return args;
  }
};

}  // namespace epserve::e2e
