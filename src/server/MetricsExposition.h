// The Prometheus text exposition format, version 0.0.4: HELP and TYPE lines, samples with
// escaped label values, histograms as cumulative buckets with +Inf, _sum and _count. Pure text.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace epserve::server {

inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

struct MetricLabel {
  std::string_view name;   // a valid label name: the caller's constant
  std::string_view value;  // any bytes; escaped on output
};
using MetricLabels = std::initializer_list<MetricLabel>;

class MetricsExposition {
 public:
  enum class Type : std::uint8_t { Counter, Gauge, Histogram };

  explicit MetricsExposition(std::string& out) : out_(out) {}

  // Starts a metric family: its HELP (escaped) and TYPE lines. Its samples follow.
  void family(std::string_view name, Type type, std::string_view help);
  void sample(std::string_view name, MetricLabels labels, std::uint64_t value);
  void sample(std::string_view name, MetricLabels labels, double value);
  void sample(std::string_view name, MetricLabels labels, std::int64_t value);
  // One histogram series: `counts[i]` observations fell at or below `bounds[i]` and above the
  // bound before (not cumulative); counts has one more entry than bounds, the +Inf bucket.
  void histogram(std::string_view name, MetricLabels labels, std::span<const double> bounds,
                 std::span<const std::uint64_t> counts, double sum);

 private:
  void head(std::string_view name, std::string_view suffix, MetricLabels labels,
            const MetricLabel* extra);

  std::string& out_;
};

// Label values escape backslash, double quote and line feed; HELP text backslash and line feed.
void appendLabelValue(std::string& out, std::string_view value);
void appendHelpText(std::string& out, std::string_view help);
// Go's ParseFloat reads what this writes: the shortest round-trip form, "+Inf", "-Inf", "NaN".
void appendMetricValue(std::string& out, double value);

}  // namespace epserve::server
