// Summing every loop's figures into the exposition: see Metrics.h.
#include "server/Metrics.h"

#include <algorithm>
#include <charconv>

#include "server/MetricsExposition.h"
#include "server/ProcessMetrics.h"
#include "server/RequestHandler.h"

namespace epserve::server {

namespace {

using Type = MetricsExposition::Type;

constexpr std::array<std::string_view, kMethodLabels> kMethodNames = {
    "GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH", "other"};
static_assert(static_cast<std::size_t>(http::Method::Other) == kMethodLabels - 1);

constexpr std::array<std::string_view, proxy::kUpstreamFailures> kFailureCauses = {
    "refused", "timeout", "invalid_response"};

// The histogram bounds in seconds, the unit Prometheus expects.
constexpr std::array<double, reactor::Histogram::kBoundsMillis.size()> boundsInSeconds() {
  std::array<double, reactor::Histogram::kBoundsMillis.size()> out{};
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<double>(reactor::Histogram::kBoundsMillis[i]) / 1000.0;
  }
  return out;
}
constexpr auto kBoundsSeconds = boundsInSeconds();

// Several histograms (one per loop) as one series.
struct HistogramSum {
  std::array<std::uint64_t, reactor::Histogram::kBuckets> counts{};
  std::uint64_t sumMillis = 0;

  void add(const reactor::Histogram& h) {
    for (std::size_t i = 0; i < counts.size(); ++i) counts[i] += h.count(i);
    sumMillis += h.sumMillis();
  }
  void write(MetricsExposition& m, std::string_view name, MetricLabels labels) const {
    m.histogram(name, labels, kBoundsSeconds, counts, static_cast<double>(sumMillis) / 1000.0);
  }
};

struct CodeText {
  char text[4];
  explicit CodeText(std::size_t slot) {
    auto [end, ec] =
        std::to_chars(text, text + 3, static_cast<int>(slot) + proxy::kFirstStatusCode);
    *end = '\0';
  }
  std::string_view view() const { return text; }
};

}  // namespace

void Metrics::add(const Published* loop) { loops_.push_back(loop); }

void Metrics::render(std::string& out) const {
  // Every loop's lock for the whole page, always in this order: a loop takes only its own.
  std::vector<std::unique_lock<std::mutex>> held;
  held.reserve(loops_.size());
  for (const Published* p : loops_) held.emplace_back(p->lock);

  MetricsExposition m(out);
  m.family("epserve_build_info", Type::Gauge, "The running epserve's version, as a label.");
  m.sample("epserve_build_info", {{"version", EPSERVE_VERSION}}, std::uint64_t{1});

  std::uint64_t accepted = 0, atLimit = 0, shed = 0, bytes = 0, hits = 0, misses = 0;
  std::int64_t open = 0;
  HistogramSum duration;
  for (const Published* p : loops_) {
    const Sources& s = p->sources;
    accepted += s.loop->accepted.value();
    open += s.loop->open.value();
    atLimit += s.loop->refusedAtLimit.value();
    bytes += s.loop->responseBytes.value();
    duration.add(s.loop->duration);
    if (s.shed) shed += s.shed->value();
    for (const fs::CacheStats* c : s.fileCaches) {
      hits += c->hits.value();
      misses += c->misses.value();
    }
  }
  m.family("epserve_connections_accepted_total", Type::Counter,
           "Client connections accepted and served (refused ones not included).");
  m.sample("epserve_connections_accepted_total", {}, accepted);
  m.family("epserve_connections_open", Type::Gauge, "Client connections open now.");
  m.sample("epserve_connections_open", {}, open);
  m.family("epserve_connections_refused_total", Type::Counter,
           "Client connections closed on arrival: at --max-connections (503) or out of file "
           "descriptors.");
  m.sample("epserve_connections_refused_total", {{"reason", "limit"}}, atLimit);
  m.sample("epserve_connections_refused_total", {{"reason", "descriptors"}}, shed);

  m.family("epserve_requests_total", Type::Counter,
           "Responses to client requests, by request method and status code.");
  for (std::size_t method = 0; method < kMethodLabels; ++method) {
    for (std::size_t slot = 0; slot < proxy::kStatusCodes; ++slot) {
      std::uint64_t n = 0;
      for (const Published* p : loops_) n += p->sources.loop->requests[method][slot].value();
      if (n == 0) continue;
      CodeText code(slot);
      m.sample("epserve_requests_total", {{"method", kMethodNames[method]}, {"code", code.view()}},
               n);
    }
  }
  m.family("epserve_request_duration_seconds", Type::Histogram,
           "From the first byte of a request head to its response queued whole (the loop's "
           "millisecond clock).");
  duration.write(m, "epserve_request_duration_seconds", {});
  m.family("epserve_response_bytes_total", Type::Counter,
           "Response body bytes queued to clients, as the access log counts them.");
  m.sample("epserve_response_bytes_total", {}, bytes);
  m.family("epserve_file_cache_hits_total", Type::Counter,
           "File lookups answered from the open-file cache.");
  m.sample("epserve_file_cache_hits_total", {}, hits);
  m.family("epserve_file_cache_misses_total", Type::Counter,
           "File lookups that went to the disk.");
  m.sample("epserve_file_cache_misses_total", {}, misses);

  renderUpstreams(m);

  const ProcessFigures p = readProcessFigures();
  m.family("process_resident_memory_bytes", Type::Gauge, "Resident memory size in bytes.");
  m.sample("process_resident_memory_bytes", {}, p.residentBytes);
  m.family("process_open_fds", Type::Gauge, "Number of open file descriptors.");
  m.sample("process_open_fds", {}, p.openFds);
  m.family("process_max_fds", Type::Gauge, "Maximum number of open file descriptors.");
  m.sample("process_max_fds", {}, p.maxFds);
  m.family("process_cpu_seconds_total", Type::Counter,
           "Total user and system CPU time spent in seconds.");
  m.sample("process_cpu_seconds_total", {}, p.cpuSeconds);
  m.family("process_start_time_seconds", Type::Gauge,
           "Start time of the process since unix epoch in seconds.");
  m.sample("process_start_time_seconds", {}, p.startTimeSeconds);
}

void Metrics::renderUpstreams(MetricsExposition& m) const {
  // Each distinct URL text once, in the order the loops list them.
  std::vector<std::string_view> labels;
  for (const Published* p : loops_) {
    for (const auto& [text, stats] : p->sources.upstreams) {
      if (std::find(labels.begin(), labels.end(), text) == labels.end()) {
        labels.push_back(text);
      }
    }
  }
  if (labels.empty()) return;
  // Every loop's stats of every route URL that carries this label.
  auto forEach = [this, &labels](std::size_t label, auto&& f) {
    for (const Published* p : loops_) {
      for (const auto& [text, stats] : p->sources.upstreams) {
        if (text == labels[label]) f(*stats);
      }
    }
  };
  m.family("epserve_upstream_requests_total", Type::Counter,
           "Response heads received from an upstream, by status code.");
  for (std::size_t label = 0; label < labels.size(); ++label) {
    std::array<std::uint64_t, proxy::kStatusCodes> codes{};
    forEach(label, [&](const proxy::UpstreamStats& u) {
      for (std::size_t slot = 0; slot < codes.size(); ++slot) codes[slot] += u.responses[slot].value();
    });
    for (std::size_t slot = 0; slot < codes.size(); ++slot) {
      if (codes[slot] == 0) continue;
      CodeText code(slot);
      m.sample("epserve_upstream_requests_total",
               {{"upstream", labels[label]}, {"code", code.view()}}, codes[slot]);
    }
  }
  m.family("epserve_upstream_failures_total", Type::Counter,
           "Failed attempts at an upstream: connect refused, a timeout, or an invalid response.");
  for (std::size_t label = 0; label < labels.size(); ++label) {
    std::array<std::uint64_t, proxy::kUpstreamFailures> causes{};
    forEach(label, [&](const proxy::UpstreamStats& u) {
      for (std::size_t c = 0; c < causes.size(); ++c) causes[c] += u.failures[c].value();
    });
    for (std::size_t c = 0; c < causes.size(); ++c) {
      m.sample("epserve_upstream_failures_total",
               {{"upstream", labels[label]}, {"cause", kFailureCauses[c]}}, causes[c]);
    }
  }
  m.family("epserve_upstream_response_duration_seconds", Type::Histogram,
           "From the start of a proxied exchange (connecting included) to the upstream's "
           "response head.");
  for (std::size_t label = 0; label < labels.size(); ++label) {
    HistogramSum h;
    forEach(label, [&](const proxy::UpstreamStats& u) { h.add(u.responseTime); });
    h.write(m, "epserve_upstream_response_duration_seconds",
            {{"upstream", labels[label]}});
  }
  m.family("epserve_upstream_idle_connections", Type::Gauge,
           "Keep-alive connections to an upstream idle in the pools now.");
  for (std::size_t label = 0; label < labels.size(); ++label) {
    std::int64_t idle = 0;
    forEach(label, [&](const proxy::UpstreamStats& u) { idle += u.idle.value(); });
    m.sample("epserve_upstream_idle_connections", {{"upstream", labels[label]}}, idle);
  }
}

void Metrics::respond(const http::Request& req, Reply& reply) const {
  std::string_view path = req.path.substr(0, req.path.find('?'));
  if (path != "/metrics") {
    RequestHandler::error(http::Status::NotFound, false, reply);
    return;
  }
  switch (req.method) {
    case http::Method::Get:
    case http::Method::Head:
      break;
    case http::Method::Options:
      reply.status = http::Status::NoContent;
      reply.allow = true;
      return;
    default:
      RequestHandler::error(http::Status::MethodNotAllowed, false, reply);
      reply.allow = true;
      return;
  }
  reply.generated.clear();
  render(reply.generated);
  reply.status = http::Status::Ok;
  reply.contentType = kMetricsContentType;
  reply.cacheControl = "no-store";
  reply.body = reply.generated;
  reply.contentLength = reply.body.size();
}

}  // namespace epserve::server
