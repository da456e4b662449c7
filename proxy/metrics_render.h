// The outputs of the metrics table (proxy/metrics.h): Prometheus text
// exposition format 0.0.4 for /metrics, JSON for /stats, and Markdown for
// docs/METRICS.md. All three walk AllMetrics() in order, so a metric appears
// in each exactly as declared.
//
// Thread-safety: pure functions of their arguments.
#pragma once

#include <string>

#include "common/json_escape.h"  // JsonString, used with RenderJson
#include "proxy/metrics.h"

namespace strata {

// "# HELP", "# TYPE" and the samples of every metric; histograms as
// _bucket{le=...} (cumulative, ending in +Inf), _sum and _count.
std::string RenderPrometheus(const MetricsSnapshot& snapshot);

// {"metrics": {NAME: {"type", "help", "samples": [{"labels": {...}, "value"}
// or {"labels", "buckets": [{"le", "count"}], "sum", "count"}]}},
//  "stripes": [{"stripe", "data_bytes", ...}]}
std::string RenderJson(const MetricsSnapshot& snapshot);

// docs/METRICS.md.
std::string MetricsMarkdown();

}  // namespace strata
