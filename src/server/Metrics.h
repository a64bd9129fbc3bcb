// The figures behind --metrics-listen: what each loop counts as it serves (LoopStats, written by
// that loop alone) and Metrics, which sums every loop's figures into the page /metrics answers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "fs/FileCache.h"
#include "http/Request.h"
#include "proxy/UpstreamStats.h"
#include "reactor/Counter.h"
#include "reactor/Histogram.h"
#include "server/Config.h"
#include "server/MetricsExposition.h"
#include "server/Reply.h"

namespace epserve::server {

inline constexpr std::size_t kMethodLabels = 8;  // one per http::Method, Other ("other") last

// One loop's connection and request figures. Only that loop's thread writes them (relaxed
// atomics, see reactor::Counter), and alignas keeps them off every other thread's cache lines:
// the request path takes no lock and writes no shared line. A scrape on another loop reads them.
struct alignas(64) LoopStats {
  reactor::Counter accepted;        // connections taken on
  reactor::Gauge open;              // of those, open now
  reactor::Counter refusedAtLimit;  // answered 503 at --max-connections and closed
  std::array<proxy::StatusCounters, kMethodLabels> requests;  // responses, by method and status
  reactor::Histogram duration;      // first byte of the request head to the response queued
  reactor::Counter responseBytes;   // body bytes, as the access log counts them

  void requestDone(http::Method method, int status, std::uint64_t bodyBytes, reactor::Millis ms) {
    requests[static_cast<std::size_t>(method)][proxy::statusSlot(status)].add();
    responseBytes.add(bodyBytes);
    duration.observe(ms);
  }
};

class Metrics {
 public:
  // What one loop exposes: pointers into its server and its current Generation.
  struct Sources {
    const LoopStats* loop = nullptr;
    const reactor::Counter* shed = nullptr;  // the acceptor's, out of descriptors
    std::vector<const fs::CacheStats*> fileCaches;
    // Every proxy route's every URL: its text (the label) and its figures.
    std::vector<std::pair<std::string, const proxy::UpstreamStats*>> upstreams;
  };
  // One loop's Sources as its thread last published them. A reload replaces the Generation
  // whose caches and upstreams `sources` points into, on that loop's thread, while a scrape
  // reads them on the metrics loop's: the loop publishes the new pointers under the lock before
  // it lets the old Generation go, and a scrape reads only under the lock, so it never follows a
  // pointer into a Generation already gone. A rebuilt cache or upstream starts from 0, which
  // Prometheus reads as a counter reset.
  struct Published {
    mutable std::mutex lock;
    Sources sources;
  };

  // Adds one loop's figures; before any loop runs (the list itself is not locked).
  void add(const Published* loop);
  // The whole exposition: every loop's figures summed, then the process_* ones.
  void render(std::string& out) const;
  // The metrics listener's answer: GET and HEAD /metrics get the page (OPTIONS its Allow),
  // other methods 405, other paths 404.
  void respond(const http::Request& req, Reply& reply) const;

 private:
  void renderUpstreams(MetricsExposition& m) const;

  std::vector<const Published*> loops_;
};

}  // namespace epserve::server
