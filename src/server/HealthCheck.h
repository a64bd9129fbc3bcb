// The --health-path endpoint a load balancer or a Kubernetes probe polls: 200 while this
// worker takes new clients, 503 once it is draining (--shutdown-delay, then the shutdown).
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "http/Request.h"
#include "server/Reply.h"

namespace epserve::server {

class HealthCheck {
 public:
  // `path` is --health-path: an absolute path, "" when the endpoint is off.
  explicit HealthCheck(std::string path) : path_(std::move(path)) {}

  // Whether a request's path[?query] (as sent) names the endpoint; a query is ignored.
  bool matches(std::string_view target) const {
    if (path_.empty() || target.size() < path_.size()) return false;
    if (target.compare(0, path_.size(), path_) != 0) return false;
    return target.size() == path_.size() || target[path_.size()] == '?';
  }

  // Fills `reply` (already reset): GET and HEAD get 200 "ok" or, `draining`, 503 "draining";
  // other known methods 405 with Allow: GET, HEAD; unknown ones 501, as anywhere else.
  static void answer(http::Method method, bool draining, Reply& reply);

 private:
  std::string path_;
};

}  // namespace epserve::server
