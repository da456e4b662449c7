#include "proxy/metrics.h"

#include <cstdio>

namespace strata {
namespace {

using T = MetricType;
using M = MetricId;

// THE metrics table. Add a metric here and a case in SamplesOf; the outputs
// and docs/METRICS.md follow.
// clang-format off
const MetricDef kMetrics[] = {
    {M::kRequests, "strata_requests_total", T::kCounter, "method,cache_result",
     "Transactions finished, by request method and access-log cache result (none = no cache or a local answer)."},
    {M::kRequestDuration, "strata_request_duration_seconds", T::kHistogram, "cache",
     "Time from the first byte of the request head to the last byte of the response; cache=hit when a GET "
     "or HEAD was answered from the cache, miss otherwise."},
    {M::kClientBytes, "strata_client_bytes_total", T::kCounter, "",
     "Bytes written to client connections (heads and bodies)."},
    {M::kOriginBytes, "strata_origin_bytes_total", T::kCounter, "",
     "Bytes read from origin connections (heads and bodies)."},
    {M::kOriginConnectionsOpened, "strata_origin_connections_opened_total", T::kCounter, "",
     "Connections to origins started (a connection that then fails to connect counts too)."},
    {M::kOriginConnectionsReused, "strata_origin_connections_reused_total", T::kCounter, "",
     "Requests sent on a pooled keep-alive origin connection instead of a new one."},
    {M::kCollapsedRequests, "strata_collapsed_requests_total", T::kCounter, "",
     "Cache misses that followed another request's fill of the same URL instead of asking the origin "
     "(collapsed forwarding)."},
    {M::kPurges, "strata_purges_total", T::kCounter, "kind",
     "Purges: kind=method (PURGE requests), url (admin purge by URL), prefix (admin purge by prefix)."},
    {M::kConfigReloads, "strata_config_reloads_total", T::kCounter, "",
     "Configuration reloads that were applied."},
    {M::kConfigReloadFailures, "strata_config_reload_failures_total", T::kCounter, "",
     "Configuration reloads refused because the new configuration was invalid (the old one kept serving)."},
    {M::kCacheLookups, "strata_cache_lookups_total", T::kCounter, "",
     "Lookups in the cache engine (a request may make several: variants index, alternate)."},
    {M::kCacheLookupHits, "strata_cache_lookup_hits_total", T::kCounter, "",
     "Engine lookups that found a readable object."},
    {M::kCacheObjectsWritten, "strata_cache_objects_written_total", T::kCounter, "",
     "Objects committed to the cache."},
    {M::kCacheWritesAborted, "strata_cache_writes_aborted_total", T::kCounter, "",
     "Object writes abandoned before commit (not storable after all, client or origin failure, disk behind)."},
    {M::kCacheWriteRefusals, "strata_cache_write_refusals_total", T::kCounter, "",
     "Writes refused because the disk was behind (the object was not stored)."},
    {M::kCacheAggWrites, "strata_cache_agg_writes_total", T::kCounter, "",
     "Aggregation buffers written to disk."},
    {M::kCacheAggBytes, "strata_cache_agg_bytes_total", T::kCounter, "",
     "Bytes written to disk by aggregation buffer writes."},
    {M::kCacheRamHits, "strata_cache_ram_hits_total", T::kCounter, "",
     "Doc reads answered by the RAM cache."},
    {M::kCacheRamMisses, "strata_cache_ram_misses_total", T::kCounter, "",
     "Doc reads the RAM cache could not answer."},
    {M::kCacheRamBytes, "strata_cache_ram_bytes", T::kGauge, "",
     "Bytes held by the RAM cache."},
    {M::kCacheRamEntries, "strata_cache_ram_entries", T::kGauge, "",
     "Docs held by the RAM cache."},
    {M::kCacheCrcFailures, "strata_cache_crc_failures_total", T::kCounter, "",
     "Docs whose checksum failed on read (a miss; the entry is removed)."},
    {M::kCacheReadErrors, "strata_cache_read_errors_total", T::kCounter, "",
     "Disk reads that failed (the object was a miss)."},
    {M::kCacheWriteErrors, "strata_cache_write_errors_total", T::kCounter, "",
     "Disk writes that failed (their objects were lost)."},
    {M::kCacheSnapshots, "strata_cache_snapshots_total", T::kCounter, "",
     "Directory snapshots written."},
    {M::kCacheSnapshotFailures, "strata_cache_snapshot_failures_total", T::kCounter, "",
     "Directory snapshots that failed."},
    {M::kCacheSpansOffline, "strata_cache_spans_offline", T::kGauge, "",
     "Spans that failed at open or since (I/O errors); when every span failed, Strata runs without a cache "
     "and this is the number of spans configured."},
    {M::kCacheRecoverySeconds, "strata_cache_recovery_seconds", T::kGauge, "",
     "Time the cache took to recover its directories at start-up."},
    {M::kCacheObjectsInFlight, "strata_cache_objects_in_flight", T::kGauge, "",
     "Objects being written now (OpenDir entries; see /inflight)."},
    {M::kStripeDataBytes, "strata_cache_stripe_data_bytes", T::kGauge, "stripe",
     "Size of the stripe's data area."},
    {M::kStripeWritePosition, "strata_cache_stripe_write_position_bytes", T::kGauge, "stripe",
     "Where the stripe's next write goes, from the start of its data area (it wraps)."},
    {M::kStripeEntries, "strata_cache_stripe_entries", T::kGauge, "stripe",
     "Valid directory entries (Docs that can be found) in the stripe."},
    {M::kStripeEntryCapacity, "strata_cache_stripe_entry_capacity", T::kGauge, "stripe",
     "Directory entries the stripe has room for."},
    {M::kStripeFillRatio, "strata_cache_stripe_fill_ratio", T::kGauge, "stripe",
     "Cache fill of the stripe: valid entries / entry capacity."},
    {M::kStripeObjects, "strata_cache_stripe_objects", T::kGauge, "stripe",
     "Objects (first-Doc entries) in the stripe's directory."},
};
// clang-format on

constexpr std::string_view kMethodNames[] = {"GET",     "HEAD",  "POST",  "PUT",  "DELETE",
                                             "OPTIONS", "PATCH", "PURGE", "OTHER"};
static_assert(std::size(kMethodNames) == kMethodLabels);

// Access-log spelling first; the label is the same text, "-" spelled none.
constexpr std::string_view kResultCodes[] = {
    "-",           "TCP_HIT",   "TCP_MISS", "TCP_REFRESH_HIT", "TCP_REFRESH_MISS", "TCP_REFRESH_FAIL_HIT",
    "TCP_CF_MISS", "TCP_DENIED"};
static_assert(std::size(kResultCodes) == kResultLabels);

void AddHistogram(const LatencyHistogram& h, HistogramTotals* out) {
  for (size_t i = 0; i < out->buckets.size(); ++i) out->buckets[i] += h.bucket(i);
  out->sum_micros += h.sum_micros();
}

MetricSample Plain(double value) {
  MetricSample s;
  s.value = value;
  return s;
}

MetricSample Labeled(std::string_view name, std::string value, double v) {
  MetricSample s;
  s.labels.emplace_back(name, std::move(value));
  s.value = v;
  return s;
}

}  // namespace

std::span<const MetricDef> AllMetrics() { return kMetrics; }

std::string_view MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

MethodLabel MethodLabelOf(std::string_view method) {
  for (size_t i = 0; i + 1 < kMethodLabels; ++i) {
    if (method == kMethodNames[i]) return static_cast<MethodLabel>(i);
  }
  return MethodLabel::kOther;
}

ResultLabel ResultLabelOf(std::string_view result) {
  for (size_t i = 0; i < kResultLabels; ++i) {
    if (result == kResultCodes[i]) return static_cast<ResultLabel>(i);
  }
  return ResultLabel::kNone;
}

std::string_view MethodLabelName(MethodLabel m) { return kMethodNames[static_cast<size_t>(m)]; }

std::string_view ResultLabelName(ResultLabel r) {
  return r == ResultLabel::kNone ? "none" : kResultCodes[static_cast<size_t>(r)];
}

bool IsCacheHit(ResultLabel r) {
  return r == ResultLabel::kHit || r == ResultLabel::kRefreshHit || r == ResultLabel::kRefreshFailHit;
}

void LatencyHistogram::Observe(std::chrono::microseconds elapsed) {
  uint64_t us = elapsed.count() < 0 ? 0 : static_cast<uint64_t>(elapsed.count());
  size_t i = 0;
  while (i < kLatencyBucketMicros.size() && us > kLatencyBucketMicros[i]) ++i;
  buckets_[i].Add(1);
  sum_micros_.Add(us);
}

void WorkerCounters::CountRequest(std::string_view method, std::string_view cache_result,
                                  std::chrono::microseconds elapsed) {
  ResultLabel result = ResultLabelOf(cache_result);
  MethodLabel m = MethodLabelOf(method);
  requests[static_cast<size_t>(m)][static_cast<size_t>(result)].Add(1);
  // Only GET and HEAD are served from the cache (a PURGE that found its
  // object also logs TCP_HIT).
  bool served_from_cache = IsCacheHit(result) && (m == MethodLabel::kGet || m == MethodLabel::kHead);
  (served_from_cache ? latency_hit : latency_miss).Observe(elapsed);
}

WorkerCounters* Metrics::AddWorker() {
  workers_.push_back(std::make_unique<WorkerCounters>());
  return workers_.back().get();
}

MetricsSnapshot Metrics::Snapshot(Cache* cache) const {
  MetricsSnapshot s;
  for (const auto& w : workers_) {
    for (size_t m = 0; m < kMethodLabels; ++m) {
      for (size_t r = 0; r < kResultLabels; ++r) s.requests[m][r] += w->requests[m][r].value();
    }
    s.client_bytes += w->client_bytes.value();
    s.origin_bytes += w->origin_bytes.value();
    s.origin_connections_opened += w->origin_connections_opened.value();
    s.origin_connections_reused += w->origin_connections_reused.value();
    s.collapsed_requests += w->collapsed_requests.value();
    s.purge_requests += w->purge_requests.value();
    AddHistogram(w->latency_hit, &s.latency_hit);
    AddHistogram(w->latency_miss, &s.latency_miss);
  }
  s.purges_url = server_.purges_url.load(std::memory_order_relaxed);
  s.purges_prefix = server_.purges_prefix.load(std::memory_order_relaxed);
  s.config_reloads = server_.config_reloads.load(std::memory_order_relaxed);
  s.config_reload_failures = server_.config_reload_failures.load(std::memory_order_relaxed);
  s.spans_failed_without_cache = server_.spans_failed_without_cache.load(std::memory_order_relaxed);
  if (cache != nullptr) {
    s.has_cache = true;
    s.cache = cache->stats();
    for (size_t i = 0; i < cache->stripe_count(); ++i) {
      Stripe& stripe = cache->stripe(i);
      DirStats dir = stripe.directory().GetStats();
      StripeFigures f;
      f.id = stripe.id();
      f.data_bytes = stripe.layout().data_bytes;
      f.write_position_bytes = stripe.stats().write_pos_blocks * 512;
      f.entries = dir.valid_entries;
      f.entry_capacity = dir.total_entries;
      f.objects = dir.head_entries;
      f.objects_in_flight = stripe.open_dir().open_count();
      s.stripes.push_back(f);
    }
  }
  return s;
}

void SamplesOf(MetricId id, const MetricsSnapshot& s, std::vector<MetricSample>* out) {
  out->clear();
  auto stripe_gauge = [&](auto field) {
    for (const StripeFigures& f : s.stripes) {
      out->push_back(Labeled("stripe", std::to_string(f.id), static_cast<double>(field(f))));
    }
  };
  switch (id) {
    case M::kRequests:
      for (size_t m = 0; m < kMethodLabels; ++m) {
        for (size_t r = 0; r < kResultLabels; ++r) {
          if (s.requests[m][r] == 0) continue;  // only series that happened
          MetricSample sample;
          sample.labels.emplace_back("method", std::string(kMethodNames[m]));
          sample.labels.emplace_back("cache_result", std::string(ResultLabelName(static_cast<ResultLabel>(r))));
          sample.value = static_cast<double>(s.requests[m][r]);
          out->push_back(std::move(sample));
        }
      }
      return;
    case M::kRequestDuration: {
      MetricSample hit = Labeled("cache", "hit", 0);
      hit.histogram = &s.latency_hit;
      MetricSample miss = Labeled("cache", "miss", 0);
      miss.histogram = &s.latency_miss;
      out->push_back(std::move(hit));
      out->push_back(std::move(miss));
      return;
    }
    case M::kClientBytes:
      out->push_back(Plain(static_cast<double>(s.client_bytes)));
      return;
    case M::kOriginBytes:
      out->push_back(Plain(static_cast<double>(s.origin_bytes)));
      return;
    case M::kOriginConnectionsOpened:
      out->push_back(Plain(static_cast<double>(s.origin_connections_opened)));
      return;
    case M::kOriginConnectionsReused:
      out->push_back(Plain(static_cast<double>(s.origin_connections_reused)));
      return;
    case M::kCollapsedRequests:
      out->push_back(Plain(static_cast<double>(s.collapsed_requests)));
      return;
    case M::kPurges:
      out->push_back(Labeled("kind", "method", static_cast<double>(s.purge_requests)));
      out->push_back(Labeled("kind", "url", static_cast<double>(s.purges_url)));
      out->push_back(Labeled("kind", "prefix", static_cast<double>(s.purges_prefix)));
      return;
    case M::kConfigReloads:
      out->push_back(Plain(static_cast<double>(s.config_reloads)));
      return;
    case M::kConfigReloadFailures:
      out->push_back(Plain(static_cast<double>(s.config_reload_failures)));
      return;
    default:
      break;
  }
  if (!s.has_cache) {  // the engine's figures exist only with a cache
    if (id == M::kCacheSpansOffline && s.spans_failed_without_cache > 0) {
      out->push_back(Plain(static_cast<double>(s.spans_failed_without_cache)));
    }
    return;
  }
  const CacheStats& c = s.cache;
  switch (id) {
    case M::kCacheLookups:
      out->push_back(Plain(static_cast<double>(c.lookups)));
      return;
    case M::kCacheLookupHits:
      out->push_back(Plain(static_cast<double>(c.lookup_hits)));
      return;
    case M::kCacheObjectsWritten:
      out->push_back(Plain(static_cast<double>(c.objects_written)));
      return;
    case M::kCacheWritesAborted:
      out->push_back(Plain(static_cast<double>(c.writes_aborted)));
      return;
    case M::kCacheWriteRefusals:
      out->push_back(Plain(static_cast<double>(c.write_refusals)));
      return;
    case M::kCacheAggWrites:
      out->push_back(Plain(static_cast<double>(c.agg_writes)));
      return;
    case M::kCacheAggBytes:
      out->push_back(Plain(static_cast<double>(c.agg_bytes)));
      return;
    case M::kCacheRamHits:
      out->push_back(Plain(static_cast<double>(c.ram.hits)));
      return;
    case M::kCacheRamMisses:
      out->push_back(Plain(static_cast<double>(c.ram.misses)));
      return;
    case M::kCacheRamBytes:
      out->push_back(Plain(static_cast<double>(c.ram.bytes)));
      return;
    case M::kCacheRamEntries:
      out->push_back(Plain(static_cast<double>(c.ram.entries)));
      return;
    case M::kCacheCrcFailures:
      out->push_back(Plain(static_cast<double>(c.crc_failures)));
      return;
    case M::kCacheReadErrors:
      out->push_back(Plain(static_cast<double>(c.read_errors)));
      return;
    case M::kCacheWriteErrors:
      out->push_back(Plain(static_cast<double>(c.write_errors)));
      return;
    case M::kCacheSnapshots:
      out->push_back(Plain(static_cast<double>(c.snapshots)));
      return;
    case M::kCacheSnapshotFailures:
      out->push_back(Plain(static_cast<double>(c.snapshot_failures)));
      return;
    case M::kCacheSpansOffline:
      out->push_back(Plain(static_cast<double>(c.spans_offline)));
      return;
    case M::kCacheRecoverySeconds:
      out->push_back(Plain(c.recovery_seconds));
      return;
    case M::kCacheObjectsInFlight: {
      uint64_t n = 0;
      for (const StripeFigures& f : s.stripes) n += f.objects_in_flight;
      out->push_back(Plain(static_cast<double>(n)));
      return;
    }
    case M::kStripeDataBytes:
      stripe_gauge([](const StripeFigures& f) { return f.data_bytes; });
      return;
    case M::kStripeWritePosition:
      stripe_gauge([](const StripeFigures& f) { return f.write_position_bytes; });
      return;
    case M::kStripeEntries:
      stripe_gauge([](const StripeFigures& f) { return f.entries; });
      return;
    case M::kStripeEntryCapacity:
      stripe_gauge([](const StripeFigures& f) { return f.entry_capacity; });
      return;
    case M::kStripeFillRatio:
      for (const StripeFigures& f : s.stripes) {
        double ratio = f.entry_capacity == 0 ? 0 : static_cast<double>(f.entries) / f.entry_capacity;
        out->push_back(Labeled("stripe", std::to_string(f.id), ratio));
      }
      return;
    case M::kStripeObjects:
      stripe_gauge([](const StripeFigures& f) { return f.objects; });
      return;
    case M::kRequests:
    case M::kRequestDuration:
    case M::kClientBytes:
    case M::kOriginBytes:
    case M::kOriginConnectionsOpened:
    case M::kOriginConnectionsReused:
    case M::kCollapsedRequests:
    case M::kPurges:
    case M::kConfigReloads:
    case M::kConfigReloadFailures:
      return;  // handled above
  }
}

}  // namespace strata
