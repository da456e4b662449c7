// Crash recovery and snapshot cost (docs/PERFORMANCE.md, "Crash recovery").
//
//   recovery_bench DIR [OBJECTS]     (default 1,000,000 objects of 1 KB)
//
// 1. A child process fills a fresh span with OBJECTS small objects, snapshots
//    the directory at 90% of them, writes the rest (so recovery must replay
//    the journal of 10%), flushes, and is killed with SIGKILL.
// 2. The parent reopens the span and reports how long recovery took and how
//    many objects it found.
// 3. With the recovered cache, it measures directory probe latency and
//    insert latency (Put of a small object into the aggregation buffer) for
//    2 s with no snapshot running, then for 2 s while snapshots are written
//    back to back, and prints p50 / p99 / p99.9 / max for each.
//
// The span file is created under DIR and removed at the end.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "cache/cache.h"

namespace strata {
namespace {

using Clock = std::chrono::steady_clock;

CacheKey KeyFor(uint64_t i) { return CacheKey::Hash("http://bench/object/" + std::to_string(i)); }

CacheOptions Options(const std::string& span, uint64_t objects) {
  CacheOptions options;
  SpanConfig config;
  config.path = span;
  // 1.5 KB of data area per object (a 1 KB body is one 1.5 KB Doc) + 25%.
  config.size_bytes = std::max<uint64_t>(64ull << 20, objects * 1536 * 5 / 4);
  options.spans.push_back(config);
  options.layout.average_object_bytes = 1536;
  options.snapshot_interval = std::chrono::milliseconds(0);
  options.ram_cache_bytes = 0;
  return options;
}

void Fill(const std::string& span, uint64_t objects, int ready_fd) {
  std::unique_ptr<Cache> cache;
  Status s = Cache::Open(Options(span, objects), &cache);
  if (!s.ok()) {
    fprintf(stderr, "open: %s\n", s.ToString().c_str());
    _exit(3);
  }
  std::string body(1000, 'x');
  for (uint64_t i = 0; i < objects; ++i) {
    if (i == objects * 9 / 10) cache->Snapshot();
    if (!cache->Put(KeyFor(i), "m", body).ok()) _exit(3);
  }
  cache->Flush();
  char c = 'r';
  if (write(ready_fd, &c, 1) != 1) _exit(3);
  pause();  // killed here
}

struct Percentiles {
  double p50, p99, p999, max;
  size_t n;
};

Percentiles Summarize(std::vector<double>* ns) {
  std::sort(ns->begin(), ns->end());
  auto at = [&](double q) { return (*ns)[std::min(ns->size() - 1, static_cast<size_t>(q * ns->size()))]; };
  return {at(0.5), at(0.99), at(0.999), ns->back(), ns->size()};
}

void Print(const char* what, const Percentiles& p) {
  printf("  %-34s n=%-9zu p50 %7.2f us  p99 %7.2f us  p99.9 %8.2f us  max %9.2f us\n", what, p.n, p.p50 / 1000,
         p.p99 / 1000, p.p999 / 1000, p.max / 1000);
}

// Probes and inserts for `seconds`, timing each call.
void Measure(Cache* cache, uint64_t objects, double seconds, std::vector<double>* probe_ns,
             std::vector<double>* insert_ns) {
  std::vector<DirEntry> found;
  std::string body(1000, 'y');
  uint64_t i = 0, next_insert = objects + 1000000;
  auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    CacheKey key = KeyFor((i * 7919) % objects);
    auto t0 = Clock::now();
    cache->StripeFor(key).Probe(key, true, &found);
    auto t1 = Clock::now();
    probe_ns->push_back(std::chrono::duration<double, std::nano>(t1 - t0).count());
    if (++i % 16 == 0) {
      CacheKey fresh = KeyFor(next_insert++);
      auto t2 = Clock::now();
      cache->Put(fresh, "m", body);
      auto t3 = Clock::now();
      insert_ns->push_back(std::chrono::duration<double, std::nano>(t3 - t2).count());
    }
  }
}

}  // namespace
}  // namespace strata

int main(int argc, char** argv) {
  using namespace strata;
  if (argc < 2) {
    fprintf(stderr, "usage: %s DIR [OBJECTS]\n", argv[0]);
    return 2;
  }
  const std::string span = std::string(argv[1]) + "/recovery_bench.span";
  const uint64_t objects = argc > 2 ? strtoull(argv[2], nullptr, 10) : 1000000;
  unlink(span.c_str());
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return 3;
  auto fill_start = Clock::now();
  pid_t child = fork();
  if (child == 0) {
    close(pipe_fds[0]);
    Fill(span, objects, pipe_fds[1]);
  }
  close(pipe_fds[1]);
  char c;
  if (read(pipe_fds[0], &c, 1) != 1) {
    fprintf(stderr, "the filling process failed\n");
    return 3;
  }
  double fill_s = std::chrono::duration<double>(Clock::now() - fill_start).count();
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  printf("filled %llu objects in %.1f s, snapshot at 90%%, then kill -9\n", (unsigned long long)objects, fill_s);

  CacheOptions options = Options(span, objects);
  std::unique_ptr<Cache> cache;
  auto open_start = Clock::now();
  Status s = Cache::Open(options, &cache);
  double open_s = std::chrono::duration<double>(Clock::now() - open_start).count();
  if (!s.ok()) {
    fprintf(stderr, "reopen: %s\n", s.ToString().c_str());
    return 3;
  }
  uint64_t found = 0;
  for (uint64_t i = 0; i < objects; i += 97) {
    ObjectInfo info;
    found += cache->Lookup(KeyFor(i), &info).ok();
  }
  CacheStats stats = cache->stats();
  printf(
      "recovery: %.3f s (Cache::Open %.3f s incl. the snapshot after replay); %llu aggregation writes replayed; "
      "sampled lookups found %llu of %llu\n",
      stats.recovery_seconds, open_s, (unsigned long long)stats.recovery_writes_replayed, (unsigned long long)found,
      (unsigned long long)((objects + 96) / 97));

  std::vector<double> probe_idle, insert_idle, probe_snap, insert_snap;
  Measure(cache.get(), objects, 2.0, &probe_idle, &insert_idle);
  std::atomic<bool> stop{false};
  std::atomic<int> snapshots{0};
  std::thread snapshotter([&] {
    while (!stop) {
      cache->Snapshot();
      ++snapshots;
    }
  });
  Measure(cache.get(), objects, 2.0, &probe_snap, &insert_snap);
  stop = true;
  snapshotter.join();
  // The longest the snapshot holds a directory's writer lock: one segment's copy.
  double copy_max_us = 0;
  for (size_t i = 0; i < cache->stripe_count(); ++i) {
    Directory& dir = cache->stripe(i).directory();
    std::vector<uint16_t> words(dir.segment_word_count());
    for (uint32_t seg = 0; seg < dir.geometry().nsegments; ++seg) {
      auto t0 = Clock::now();
      dir.CopySegmentWords(seg, words.data());
      copy_max_us = std::max(copy_max_us, std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
  }
  printf(
      "a snapshot holds a directory's writer lock for one segment copy at a time: longest %.1f us "
      "(%u segments of %u entries)\n",
      copy_max_us, cache->stripe(0).directory().geometry().nsegments,
      cache->stripe(0).directory().geometry().entries_per_segment());
  printf("latency, no snapshot running vs %d snapshots written back to back:\n", snapshots.load());
  Print("probe, idle", Summarize(&probe_idle));
  Print("probe, during snapshots", Summarize(&probe_snap));
  Print("insert (Put 1 KB), idle", Summarize(&insert_idle));
  Print("insert (Put 1 KB), during snapshots", Summarize(&insert_snap));
  cache.reset();
  unlink(span.c_str());
  return 0;
}
