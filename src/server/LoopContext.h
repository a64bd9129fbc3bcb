// What every connection on one event loop shares: the loop, its buffers, date, access log,
// timeout lists, and the current Generation (sites, router, handler, gateway) that a reload
// replaces. One per worker; nothing is locked.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fs/Resolver.h"
#include "http/HttpDate.h"
#include "http/Request.h"
#include "http/RequestParser.h"
#include "proxy/Gateway.h"
#include "reactor/Buffer.h"
#include "reactor/EventLoop.h"
#include "reactor/TimeoutList.h"
#include "server/AccessLog.h"
#include "server/Config.h"
#include "server/Generation.h"
#include "server/Metrics.h"
#include "server/HealthCheck.h"
#include "server/Reply.h"
#include "server/RequestHandler.h"
#include "server/Router.h"
#include "server/Site.h"

namespace epserve::server {

// What a connection's one timer is waiting for; each has its own fixed-duration list.
enum class Deadline : std::uint8_t {
  Header,     // a request head (or body) is still arriving: 408 when it runs out
  KeepAlive,  // idle between requests: close quietly
  Send,       // queued output the client does not read: close
  Linger,     // after an error response, discarding input before the close
};
inline constexpr std::size_t kDeadlines = 4;

class LoopContext {
 public:
  // `resolver` is rooted at the document root.
  LoopContext(reactor::EventLoop& loop, const Config& config, fs::Resolver resolver);
  ~LoopContext();
  LoopContext(const LoopContext&) = delete;
  LoopContext& operator=(const LoopContext&) = delete;

  reactor::EventLoop& loop;
  // The current settings (those of generation()). A reload replaces them between events: what
  // must stay the same for one request reads the Generation the request pinned instead.
  const Config& config;
  reactor::BufferPool buffers;
  const http::ParseLimits limits;
  AccessLog accessLog;
  proxy::Gateway* gateway = nullptr;  // generation()'s; null when no route is proxied
  bool shuttingDown = false;                // set by the server's graceful shutdown
  // Metrics: this loop's own figures, and the page for the metrics listener's connections
  // (set on the one loop that serves --metrics-listen, else null).
  LoopStats stats;
  const Metrics* metricsPage = nullptr;
  // Where this loop's figures are, for Metrics::add: republished by every reload.
  const Metrics::Published& publishedMetrics() const { return published_; }
  // The acceptor's count of connections shed for want of descriptors.
  void setShedCounter(const reactor::Counter* shed);

  // The settings new requests start under (Connection pins it per request).
  const std::shared_ptr<Generation>& generation() const { return generation_; }
  // Makes `next` (already validated) the settings of new requests. False, with one error line, when it cannot be applied (a directory vanished):
  // the current settings stay.
  bool reload(std::shared_ptr<const Config> next);

  // --health-path, and whether it answers 503: --shutdown-delay is running (or shuttingDown).
  const HealthCheck health;
  bool draining = false;
  // The 413 sentence, with the current --max-body-size in it.
  std::string_view bodyTooLargeReason() const { return bodyTooLarge_; }

  // The --static or --proxy route a request path falls under, or nullptr when the root answers
  // it (including the 400 for a path that climbs above the root). Valid while the loop runs.
  const Route* route(std::string_view path);
  // The normalised path route() was last asked about.
  const std::string& routedPath() const { return routePath_; }
  // How a chunked upload goes upstream: buffered, its length is known only at its end (the
  // head then ends without it, and the caller adds it); streamed, it is re-chunked.
  enum class ChunkedUpload : std::uint8_t { LengthLater, Rechunked };
  // The head for the upstream of proxy route `route`, for the request route() was last
  // asked about.
  void writeUpstreamHead(const http::Request& req, std::size_t route,
                         const reactor::SocketAddress& peer, ChunkedUpload chunked,
                         std::string& out);

  reactor::TimeoutList& timeouts(Deadline d) { return timeouts_[static_cast<std::size_t>(d)]; }
  RequestHandler& handler() { return generation_->handler(); }
  // The Date value for this iteration's wall clock.
  std::string_view date() { return dates_.get(loop.wallSeconds()); }
  // Reused for every request on this loop (one is handled at a time): no allocation per
  // request. Valid until the next request is parsed.
  http::Request& scratchRequest() { return *request_; }
  Reply& scratchReply() { return reply_; }

 private:
  // Points published_ at `g`'s caches and upstreams; the caller holds published_.lock.
  void publishMetricsOf(const Generation& g);
  // The 413 sentence for the current --max-body-size.
  void setBodyTooLargeReason();

  Config live_;  // what `config` refers to: a copy of generation_->config
  std::shared_ptr<Generation> generation_;
  Metrics::Published published_;
  std::string routePath_;  // the normalised path of the last route() request
  std::string target_;        // scratch for writeUpstreamHead
  http::DateCache dates_;
  std::unique_ptr<http::Request> request_;  // ~3 KiB of header views
  Reply reply_;
  std::array<reactor::TimeoutList, kDeadlines> timeouts_;
  reactor::EventLoop::HookId flushHook_ = 0;
  std::string bodyTooLarge_;
};

}  // namespace epserve::server
