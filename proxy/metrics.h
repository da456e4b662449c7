// Metrics: the daemon's counters, gauges and histograms.
//
// Every metric is declared once, in the table in metrics.cc (name, type,
// labels, help). /metrics (Prometheus text), /stats (JSON) and
// docs/METRICS.md (`strata --metrics-doc`) are all generated from that
// table by metrics_render.cc; a metric that is declared but never filled
// does not compile (SamplesOf switches over every MetricId).
//
// Where the figures come from:
//  - traffic counters (requests, bytes, origin connections, latency,
//    collapsed requests, PURGE requests) are kept per worker thread in a
//    WorkerCounters block that only that thread writes: an increment is a
//    relaxed load and store of a uint64 on the thread's own cache lines, no
//    lock, no atomic read-modify-write, no allocation;
//  - events of the admin side (admin purges, config reloads) go to
//    ServerCounters, whose counters are true atomics (several threads may
//    reload);
//  - the cache engine's figures are read from Cache::stats(), the stripes and
//    their directories when a snapshot is taken.
// A scrape (Metrics::Snapshot) sums the blocks on the admin thread. Counter
// blocks are never freed while the Metrics object lives, so a scrape may
// race with any worker safely.
//
// Thread-safety: WorkerCounters: one writer thread, any readers.
// ServerCounters: any threads. Metrics: Snapshot() from any thread;
// AddWorker() before the workers start.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cache/cache.h"

namespace strata {

// A counter written by one thread only: the increment needs no atomic
// read-modify-write, only a store others may read at any time.
class LocalCounter {
 public:
  void Add(uint64_t n) { value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Request latency buckets, in seconds (the Prometheus `le` bounds).
inline constexpr std::array<std::string_view, 16> kLatencyBucketText = {
    "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
    "0.05",   "0.1",     "0.25",   "0.5",   "1",      "2.5",   "5",    "10"};
inline constexpr std::array<uint64_t, 16> kLatencyBucketMicros = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};

// A histogram with the fixed latency buckets, written by one thread.
class LatencyHistogram {
 public:
  void Observe(std::chrono::microseconds elapsed);

  // Per-bucket (not cumulative) counts; the last is the +Inf bucket.
  uint64_t bucket(size_t i) const { return buckets_[i].value(); }
  uint64_t sum_micros() const { return sum_micros_.value(); }

 private:
  std::array<LocalCounter, kLatencyBucketMicros.size() + 1> buckets_;
  LocalCounter sum_micros_;
};

// Label values. The request method label keeps a fixed set (so a client
// cannot grow the series without bound); other methods count as OTHER.
enum class MethodLabel : uint8_t { kGet, kHead, kPost, kPut, kDelete, kOptions, kPatch, kPurge, kOther, kCount };
// The access log's cache result codes (docs/ACCESS_LOG.md); kNone is "-".
enum class ResultLabel : uint8_t {
  kNone,
  kHit,
  kMiss,
  kRefreshHit,
  kRefreshMiss,
  kRefreshFailHit,
  kCfMiss,
  kDenied,
  kCount
};

MethodLabel MethodLabelOf(std::string_view method);
ResultLabel ResultLabelOf(std::string_view access_log_result);
std::string_view MethodLabelName(MethodLabel m);
std::string_view ResultLabelName(ResultLabel r);
// Whether the response came from the cache (the `hit` latency series).
bool IsCacheHit(ResultLabel r);

inline constexpr size_t kMethodLabels = static_cast<size_t>(MethodLabel::kCount);
inline constexpr size_t kResultLabels = static_cast<size_t>(ResultLabel::kCount);

// One worker thread's counters; aligned so two workers never share a line.
struct alignas(64) WorkerCounters {
  std::array<std::array<LocalCounter, kResultLabels>, kMethodLabels> requests;
  LocalCounter client_bytes;  // written to client sockets
  LocalCounter origin_bytes;  // read from origin sockets
  LocalCounter origin_connections_opened;
  LocalCounter origin_connections_reused;
  LocalCounter collapsed_requests;  // followed another request's fill
  LocalCounter purge_requests;      // PURGE method on the proxy port
  LatencyHistogram latency_hit;
  LatencyHistogram latency_miss;

  // One finished transaction.
  void CountRequest(std::string_view method, std::string_view cache_result, std::chrono::microseconds elapsed);
};

// Counters of the admin side: any thread may bump them.
struct ServerCounters {
  std::atomic<uint64_t> purges_url{0};     // admin purge by URL (a PURGE request counts in WorkerCounters)
  std::atomic<uint64_t> purges_prefix{0};  // admin purge by prefix
  std::atomic<uint64_t> config_reloads{0};
  std::atomic<uint64_t> config_reload_failures{0};
  // Spans configured when every one failed to open and the daemon runs
  // without a cache (then there is no engine to ask).
  std::atomic<uint64_t> spans_failed_without_cache{0};
};

// ------------------------------------------------------------ the table

enum class MetricType { kCounter, kGauge, kHistogram };

enum class MetricId {
  kRequests,
  kRequestDuration,
  kClientBytes,
  kOriginBytes,
  kOriginConnectionsOpened,
  kOriginConnectionsReused,
  kCollapsedRequests,
  kPurges,
  kConfigReloads,
  kConfigReloadFailures,
  kCacheLookups,
  kCacheLookupHits,
  kCacheObjectsWritten,
  kCacheWritesAborted,
  kCacheWriteRefusals,
  kCacheAggWrites,
  kCacheAggBytes,
  kCacheRamHits,
  kCacheRamMisses,
  kCacheRamBytes,
  kCacheRamEntries,
  kCacheCrcFailures,
  kCacheReadErrors,
  kCacheWriteErrors,
  kCacheSnapshots,
  kCacheSnapshotFailures,
  kCacheSpansOffline,
  kCacheRecoverySeconds,
  kCacheObjectsInFlight,
  kStripeDataBytes,
  kStripeWritePosition,
  kStripeEntries,
  kStripeEntryCapacity,
  kStripeFillRatio,
  kStripeObjects,
};

struct MetricDef {
  MetricId id;
  std::string_view name;  // Prometheus name; counters end in _total
  MetricType type;
  std::string_view labels;  // label names, comma-separated; "" = none
  std::string_view help;    // one line
};

// The whole table, in output order.
std::span<const MetricDef> AllMetrics();
std::string_view MetricTypeName(MetricType type);

// ------------------------------------------------------------ snapshots

// One stripe's figures at snapshot time.
struct StripeFigures {
  uint32_t id = 0;
  uint64_t data_bytes = 0;
  uint64_t write_position_bytes = 0;
  uint64_t entries = 0;  // valid directory entries
  uint64_t entry_capacity = 0;
  uint64_t objects = 0;  // first-Doc (head) entries
  uint64_t objects_in_flight = 0;
};

struct HistogramTotals {
  std::array<uint64_t, kLatencyBucketMicros.size() + 1> buckets{};  // per bucket, last = +Inf
  uint64_t sum_micros = 0;
};

// Everything a scrape reports, summed over the workers.
struct MetricsSnapshot {
  std::array<std::array<uint64_t, kResultLabels>, kMethodLabels> requests{};
  uint64_t client_bytes = 0;
  uint64_t origin_bytes = 0;
  uint64_t origin_connections_opened = 0;
  uint64_t origin_connections_reused = 0;
  uint64_t collapsed_requests = 0;
  uint64_t purge_requests = 0;
  uint64_t purges_url = 0;
  uint64_t purges_prefix = 0;
  uint64_t config_reloads = 0;
  uint64_t config_reload_failures = 0;
  uint64_t spans_failed_without_cache = 0;
  HistogramTotals latency_hit;
  HistogramTotals latency_miss;
  bool has_cache = false;
  CacheStats cache;
  std::vector<StripeFigures> stripes;
};

// One series of a metric: label pairs and a value (or histogram totals).
struct MetricSample {
  std::vector<std::pair<std::string_view, std::string>> labels;
  double value = 0;
  const HistogramTotals* histogram = nullptr;  // for histograms; points into the snapshot
};

// The series of metric `id` in `snapshot` (none when it does not apply, e.g.
// cache figures without a cache).
void SamplesOf(MetricId id, const MetricsSnapshot& snapshot, std::vector<MetricSample>* out);

class Metrics {
 public:
  Metrics() = default;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // A block for one more worker thread; valid as long as this object.
  WorkerCounters* AddWorker();
  ServerCounters& server() { return server_; }

  // Sums every block; reads the cache's figures when `cache` is not null
  // (this scans every stripe's directory: admin thread only, not per request).
  MetricsSnapshot Snapshot(Cache* cache) const;

 private:
  std::vector<std::unique_ptr<WorkerCounters>> workers_;
  ServerCounters server_;
};

}  // namespace strata
