// Tests for the metrics table and its outputs: the table's names and types,
// per-worker counting, histogram buckets, snapshots summed over workers, the
// Prometheus and JSON renderings, and docs/METRICS.md kept in step.

#include "proxy/metrics.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "proxy/metrics_render.h"

namespace strata {
namespace {

using std::chrono::microseconds;

// A snapshot in which every metric has something to report.
MetricsSnapshot FullSnapshot() {
  MetricsSnapshot s;
  s.requests[0][1] = 3;
  s.latency_hit.buckets[0] = 3;
  s.has_cache = true;
  s.cache.lookups = 5;
  StripeFigures f;
  f.id = 0;
  f.data_bytes = 1 << 20;
  f.entries = 10;
  f.entry_capacity = 40;
  s.stripes.push_back(f);
  return s;
}

TEST(MetricsTableTest, NamesTypesAndLabelsAreWellFormed) {
  const std::regex name_syntax("[a-zA-Z_:][a-zA-Z0-9_:]*");
  const std::regex label_syntax("[a-zA-Z_][a-zA-Z0-9_]*");
  std::set<std::string_view> names;
  for (const MetricDef& def : AllMetrics()) {
    std::string name(def.name);
    EXPECT_TRUE(names.insert(def.name).second) << "declared twice: " << name;
    EXPECT_TRUE(std::regex_match(name, name_syntax)) << name;
    EXPECT_EQ(name.rfind("strata_", 0), 0u) << name;
    bool total = name.size() > 6 && name.substr(name.size() - 6) == "_total";
    EXPECT_EQ(total, def.type == MetricType::kCounter) << name << ": counters, and only counters, end in _total";
    EXPECT_FALSE(def.help.empty()) << name;
    EXPECT_EQ(def.help.find('\n'), std::string_view::npos) << name;
    std::stringstream labels{std::string(def.labels)};
    for (std::string label; std::getline(labels, label, ',');) {
      EXPECT_TRUE(std::regex_match(label, label_syntax)) << name << " label " << label;
      EXPECT_NE(label, "le") << name;
    }
  }
  EXPECT_GE(names.size(), 30u);
}

// A metric in the table with no samples would be documented but never
// reported; SamplesOf's switch makes that a compile error for new ids, and
// this checks the labels it emits are the declared ones.
TEST(MetricsTableTest, EveryMetricReportsWithItsDeclaredLabels) {
  MetricsSnapshot snapshot = FullSnapshot();
  std::vector<MetricSample> samples;
  for (const MetricDef& def : AllMetrics()) {
    SamplesOf(def.id, snapshot, &samples);
    EXPECT_FALSE(samples.empty()) << def.name;
    for (const MetricSample& sample : samples) {
      std::string labels;
      for (const auto& [label, value] : sample.labels) labels += (labels.empty() ? "" : ",") + std::string(label);
      EXPECT_EQ(labels, def.labels) << def.name;
      EXPECT_EQ(sample.histogram != nullptr, def.type == MetricType::kHistogram) << def.name;
    }
  }
}

TEST(MetricsTableTest, CacheFiguresNeedACache) {
  MetricsSnapshot snapshot;  // no cache
  std::vector<MetricSample> samples;
  SamplesOf(MetricId::kCacheCrcFailures, snapshot, &samples);
  EXPECT_TRUE(samples.empty());
  SamplesOf(MetricId::kStripeEntries, snapshot, &samples);
  EXPECT_TRUE(samples.empty());
  SamplesOf(MetricId::kClientBytes, snapshot, &samples);
  EXPECT_EQ(samples.size(), 1u);
  SamplesOf(MetricId::kCacheSpansOffline, snapshot, &samples);
  EXPECT_TRUE(samples.empty());
  // Every span failed at open: no engine, but the alert must still fire.
  snapshot.spans_failed_without_cache = 2;
  SamplesOf(MetricId::kCacheSpansOffline, snapshot, &samples);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].value, 2);
}

TEST(MetricsCountingTest, HistogramBucketsAreUpperInclusive) {
  LatencyHistogram h;
  h.Observe(microseconds(0));
  h.Observe(microseconds(100));       // le 0.0001
  h.Observe(microseconds(101));       // le 0.00025
  h.Observe(microseconds(1000000));   // le 1
  h.Observe(microseconds(20000000));  // +Inf
  EXPECT_EQ(h.bucket(0), 2u);
  EXPECT_EQ(h.bucket(1), 1u);
  EXPECT_EQ(h.bucket(12), 1u);
  EXPECT_EQ(h.bucket(kLatencyBucketMicros.size()), 1u);
  EXPECT_EQ(h.sum_micros(), 100u + 101u + 1000000u + 20000000u);
}

TEST(MetricsCountingTest, RequestsByMethodAndResult) {
  EXPECT_EQ(MethodLabelOf("GET"), MethodLabel::kGet);
  EXPECT_EQ(MethodLabelOf("PURGE"), MethodLabel::kPurge);
  EXPECT_EQ(MethodLabelOf("get"), MethodLabel::kOther);  // methods are case-sensitive
  EXPECT_EQ(MethodLabelOf("BREW"), MethodLabel::kOther);
  EXPECT_EQ(ResultLabelOf("-"), ResultLabel::kNone);
  EXPECT_EQ(ResultLabelOf("TCP_REFRESH_FAIL_HIT"), ResultLabel::kRefreshFailHit);
  EXPECT_EQ(ResultLabelName(ResultLabel::kNone), "none");
  EXPECT_TRUE(IsCacheHit(ResultLabel::kRefreshHit));
  EXPECT_FALSE(IsCacheHit(ResultLabel::kCfMiss));

  Metrics metrics;
  WorkerCounters* a = metrics.AddWorker();
  WorkerCounters* b = metrics.AddWorker();
  a->CountRequest("GET", "TCP_HIT", microseconds(50));
  b->CountRequest("GET", "TCP_HIT", microseconds(50));
  b->CountRequest("BREW", "TCP_MISS", microseconds(3000));
  b->CountRequest("PURGE", "TCP_HIT", microseconds(3000));  // found, not served from the cache
  a->client_bytes.Add(10);
  b->client_bytes.Add(5);
  metrics.server().config_reloads.fetch_add(2);
  MetricsSnapshot s = metrics.Snapshot(nullptr);
  EXPECT_EQ(s.requests[static_cast<size_t>(MethodLabel::kGet)][static_cast<size_t>(ResultLabel::kHit)], 2u);
  EXPECT_EQ(s.requests[static_cast<size_t>(MethodLabel::kOther)][static_cast<size_t>(ResultLabel::kMiss)], 1u);
  EXPECT_EQ(s.latency_hit.buckets[0], 2u);
  EXPECT_EQ(s.latency_miss.buckets[5], 2u);  // le 0.005
  EXPECT_EQ(s.client_bytes, 15u);
  EXPECT_EQ(s.config_reloads, 2u);
  EXPECT_FALSE(s.has_cache);
}

TEST(MetricsRenderTest, PrometheusTextHasHelpTypeAndCumulativeBuckets) {
  Metrics metrics;
  WorkerCounters* w = metrics.AddWorker();
  w->CountRequest("GET", "TCP_HIT", microseconds(80));
  w->CountRequest("GET", "TCP_HIT", microseconds(2000));
  w->CountRequest("POST", "-", microseconds(2000));
  std::string text = RenderPrometheus(metrics.Snapshot(nullptr));
  for (const MetricDef& def : AllMetrics()) {
    std::string help = "# HELP " + std::string(def.name) + " ";
    std::string type = "# TYPE " + std::string(def.name) + " " + std::string(MetricTypeName(def.type)) + "\n";
    size_t at = text.find(help);
    ASSERT_NE(at, std::string::npos) << def.name;
    EXPECT_EQ(text.find(type), text.find('\n', at) + 1) << def.name << ": TYPE follows HELP";
  }
  EXPECT_NE(text.find("strata_requests_total{method=\"GET\",cache_result=\"TCP_HIT\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("strata_requests_total{method=\"POST\",cache_result=\"none\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("strata_request_duration_seconds_bucket{cache=\"hit\",le=\"0.0001\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("strata_request_duration_seconds_bucket{cache=\"hit\",le=\"0.0025\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("strata_request_duration_seconds_bucket{cache=\"hit\",le=\"+Inf\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("strata_request_duration_seconds_sum{cache=\"hit\"} 0.00208\n"), std::string::npos) << text;
  EXPECT_NE(text.find("strata_request_duration_seconds_count{cache=\"hit\"} 2\n"), std::string::npos);
  EXPECT_EQ(text.find("\nstrata_cache_"), std::string::npos) << "no cache samples without a cache";
  EXPECT_NE(text.find("# HELP strata_cache_crc_failures_total "), std::string::npos) << "but still declared";
  EXPECT_EQ(text.back(), '\n');
}

TEST(MetricsRenderTest, JsonCarriesTheSameFigures) {
  MetricsSnapshot s = FullSnapshot();
  std::string json = RenderJson(s);
  EXPECT_NE(json.find("\"strata_cache_lookups_total\":{\"type\":\"counter\""), std::string::npos) << json;
  EXPECT_NE(json.find("{\"labels\":{},\"value\":5}"), std::string::npos) << json;
  EXPECT_NE(json.find("\"fill_ratio\":0.25"), std::string::npos) << json;
  EXPECT_EQ(JsonString("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
}

// docs/METRICS.md is generated by `strata --metrics-doc`; it must not drift
// from the table.
TEST(MetricsDocsTest, MetricsMarkdownMatchesTheTable) {
  const char* srcdir = getenv("STRATA_SRCDIR");
  if (srcdir == nullptr) GTEST_SKIP() << "STRATA_SRCDIR not set";
  std::ifstream file(std::string(srcdir) + "/docs/METRICS.md");
  ASSERT_TRUE(file.good());
  std::stringstream text;
  text << file.rdbuf();
  EXPECT_EQ(text.str(), MetricsMarkdown()) << "regenerate it: build/proxy/strata --metrics-doc > docs/METRICS.md";
  for (const MetricDef& def : AllMetrics()) {
    EXPECT_NE(text.str().find("| `" + std::string(def.name) + "` |"), std::string::npos) << def.name;
  }
}

}  // namespace
}  // namespace strata
