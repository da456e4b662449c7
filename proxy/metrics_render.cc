#include "proxy/metrics_render.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace strata {
namespace {

// The shortest text that reads back as the same double (integers exactly).
std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[40];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc() ? std::string(buf, end) : std::string("NaN");
}

std::string FormatSeconds(uint64_t micros) { return FormatValue(static_cast<double>(micros) / 1e6); }

// Label values: backslash, double quote and line feed are escaped.
void AppendLabelValue(std::string_view v, std::string* out) {
  for (char c : v) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '"') {
      *out += "\\\"";
    } else if (c == '\n') {
      *out += "\\n";
    } else {
      *out += c;
    }
  }
}

// HELP text: backslash and line feed are escaped.
void AppendHelp(std::string_view v, std::string* out) {
  for (char c : v) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '\n') {
      *out += "\\n";
    } else {
      *out += c;
    }
  }
}

// {a="x",b="y"} plus an optional extra pair (le for buckets); nothing when empty.
void AppendLabels(const MetricSample& sample, std::string_view extra_name, std::string_view extra_value,
                  std::string* out) {
  if (sample.labels.empty() && extra_name.empty()) return;
  *out += '{';
  bool first = true;
  for (const auto& [name, value] : sample.labels) {
    if (!first) *out += ',';
    first = false;
    out->append(name).append("=\"");
    AppendLabelValue(value, out);
    *out += '"';
  }
  if (!extra_name.empty()) {
    if (!first) *out += ',';
    out->append(extra_name).append("=\"");
    AppendLabelValue(extra_value, out);
    *out += '"';
  }
  *out += '}';
}

uint64_t HistogramCount(const HistogramTotals& h) {
  uint64_t n = 0;
  for (uint64_t b : h.buckets) n += b;
  return n;
}

void AppendJsonLabels(const MetricSample& sample, std::string* out) {
  *out += "\"labels\":{";
  bool first = true;
  for (const auto& [name, value] : sample.labels) {
    if (!first) *out += ',';
    first = false;
    *out += JsonString(name) + ":" + JsonString(value);
  }
  *out += '}';
}

}  // namespace

std::string RenderPrometheus(const MetricsSnapshot& snapshot) {
  std::string out;
  std::vector<MetricSample> samples;
  for (const MetricDef& def : AllMetrics()) {
    out.append("# HELP ").append(def.name).append(" ");
    AppendHelp(def.help, &out);
    out.append("\n# TYPE ").append(def.name).append(" ").append(MetricTypeName(def.type)).append("\n");
    SamplesOf(def.id, snapshot, &samples);
    for (const MetricSample& sample : samples) {
      if (sample.histogram == nullptr) {
        out.append(def.name);
        AppendLabels(sample, "", "", &out);
        out.append(" ").append(FormatValue(sample.value)).append("\n");
        continue;
      }
      const HistogramTotals& h = *sample.histogram;
      uint64_t cumulative = 0;
      for (size_t i = 0; i < h.buckets.size(); ++i) {
        cumulative += h.buckets[i];
        std::string_view le = i < kLatencyBucketText.size() ? kLatencyBucketText[i] : std::string_view("+Inf");
        out.append(def.name).append("_bucket");
        AppendLabels(sample, "le", le, &out);
        out.append(" ").append(std::to_string(cumulative)).append("\n");
      }
      out.append(def.name).append("_sum");
      AppendLabels(sample, "", "", &out);
      out.append(" ").append(FormatSeconds(h.sum_micros)).append("\n");
      out.append(def.name).append("_count");
      AppendLabels(sample, "", "", &out);
      out.append(" ").append(std::to_string(cumulative)).append("\n");
    }
  }
  return out;
}

std::string RenderJson(const MetricsSnapshot& snapshot) {
  std::string out = "{\"metrics\":{";
  std::vector<MetricSample> samples;
  bool first_metric = true;
  for (const MetricDef& def : AllMetrics()) {
    if (!first_metric) out += ',';
    first_metric = false;
    out += "\n" + JsonString(def.name) + ":{\"type\":" + JsonString(MetricTypeName(def.type)) +
           ",\"help\":" + JsonString(def.help) + ",\"samples\":[";
    SamplesOf(def.id, snapshot, &samples);
    bool first = true;
    for (const MetricSample& sample : samples) {
      if (!first) out += ',';
      first = false;
      out += '{';
      AppendJsonLabels(sample, &out);
      if (sample.histogram == nullptr) {
        out += ",\"value\":" + FormatValue(sample.value) + "}";
        continue;
      }
      const HistogramTotals& h = *sample.histogram;
      out += ",\"buckets\":[";
      uint64_t cumulative = 0;
      for (size_t i = 0; i < h.buckets.size(); ++i) {
        cumulative += h.buckets[i];
        std::string_view le = i < kLatencyBucketText.size() ? kLatencyBucketText[i] : std::string_view("+Inf");
        if (i > 0) out += ',';
        out += "{\"le\":" + JsonString(le) + ",\"count\":" + std::to_string(cumulative) + "}";
      }
      out += "],\"sum\":" + FormatSeconds(h.sum_micros) + ",\"count\":" + std::to_string(HistogramCount(h)) + "}";
    }
    out += "]}";
  }
  out += "},\n\"stripes\":[";
  bool first = true;
  for (const StripeFigures& f : snapshot.stripes) {
    if (!first) out += ',';
    first = false;
    double fill = f.entry_capacity == 0 ? 0 : static_cast<double>(f.entries) / f.entry_capacity;
    out += "\n{\"stripe\":" + std::to_string(f.id) + ",\"data_bytes\":" + std::to_string(f.data_bytes) +
           ",\"write_position_bytes\":" + std::to_string(f.write_position_bytes) +
           ",\"entries\":" + std::to_string(f.entries) + ",\"entry_capacity\":" + std::to_string(f.entry_capacity) +
           ",\"fill_ratio\":" + FormatValue(fill) + ",\"objects\":" + std::to_string(f.objects) +
           ",\"objects_in_flight\":" + std::to_string(f.objects_in_flight) + "}";
  }
  out += "]}\n";
  return out;
}

std::string MetricsMarkdown() {
  std::string out =
      "# Metrics\n"
      "\n"
      "Generated by `strata --metrics-doc` from the metrics table in proxy/metrics.cc; do not edit by hand.\n"
      "The admin listener serves them at `/metrics` (Prometheus text format) and `/stats` (JSON); see\n"
      "[ADMIN.md](ADMIN.md).\n"
      "\n"
      "Counters count since the daemon started. Cache figures appear only when a cache is configured.\n"
      "Histogram buckets (seconds):";
  for (std::string_view le : kLatencyBucketText) out.append(" ").append(le);
  out +=
      " and +Inf.\n"
      "\n"
      "| metric | type | labels | description |\n"
      "|---|---|---|---|\n";
  for (const MetricDef& def : AllMetrics()) {
    std::string labels;
    for (char c : def.labels) labels += c == ',' ? std::string(", ") : std::string(1, c);
    out.append("| `").append(def.name).append("` | ").append(MetricTypeName(def.type)).append(" | ");
    out.append(labels.empty() ? "" : labels).append(" | ").append(def.help).append(" |\n");
  }
  return out;
}

}  // namespace strata
