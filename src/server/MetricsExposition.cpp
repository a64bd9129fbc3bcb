// The text exposition format: see MetricsExposition.h.
#include "server/MetricsExposition.h"

#include <charconv>
#include <cmath>

namespace epserve::server {

namespace {

std::string_view typeName(MetricsExposition::Type type) {
  switch (type) {
    case MetricsExposition::Type::Counter:
      return "counter";
    case MetricsExposition::Type::Gauge:
      return "gauge";
    case MetricsExposition::Type::Histogram:
      return "histogram";
  }
  return "untyped";
}

template <typename T>
void appendInteger(std::string& out, T value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

}  // namespace

void appendLabelValue(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

void appendHelpText(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void appendMetricValue(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    out.append(buf, end);
  }
}

void MetricsExposition::family(std::string_view name, Type type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  appendHelpText(out_, help);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += typeName(type);
  out_ += '\n';
}

void MetricsExposition::head(std::string_view name, std::string_view suffix, MetricLabels labels,
                             const MetricLabel* extra) {
  out_ += name;
  out_ += suffix;
  if (labels.size() == 0 && !extra) {
    out_ += ' ';
    return;
  }
  char sep = '{';
  auto label = [&](const MetricLabel& l) {
    out_ += sep;
    out_ += l.name;
    out_ += "=\"";
    appendLabelValue(out_, l.value);
    out_ += '"';
    sep = ',';
  };
  for (const MetricLabel& l : labels) label(l);
  if (extra) label(*extra);
  out_ += "} ";
}

void MetricsExposition::sample(std::string_view name, MetricLabels labels, std::uint64_t value) {
  head(name, {}, labels, nullptr);
  appendInteger(out_, value);
  out_ += '\n';
}

void MetricsExposition::sample(std::string_view name, MetricLabels labels, std::int64_t value) {
  head(name, {}, labels, nullptr);
  appendInteger(out_, value);
  out_ += '\n';
}

void MetricsExposition::sample(std::string_view name, MetricLabels labels, double value) {
  head(name, {}, labels, nullptr);
  appendMetricValue(out_, value);
  out_ += '\n';
}

void MetricsExposition::histogram(std::string_view name, MetricLabels labels,
                                  std::span<const double> bounds,
                                  std::span<const std::uint64_t> counts, double sum) {
  std::uint64_t cumulative = 0;
  std::string le;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    le.clear();
    if (i < bounds.size()) {
      appendMetricValue(le, bounds[i]);
    } else {
      le = "+Inf";
    }
    MetricLabel bucket{"le", le};
    head(name, "_bucket", labels, &bucket);
    appendInteger(out_, cumulative);
    out_ += '\n';
  }
  head(name, "_sum", labels, nullptr);
  appendMetricValue(out_, sum);
  out_ += '\n';
  head(name, "_count", labels, nullptr);
  appendInteger(out_, cumulative);
  out_ += '\n';
}

}  // namespace epserve::server
