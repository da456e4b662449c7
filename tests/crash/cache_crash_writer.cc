// The process that tests/integration/test_crash_recovery.py kills.
//
//   cache_crash_writer fill SPAN SIZE_MB LOG RUN
//       Opens the cache on SPAN and writes objects named "r<RUN>-<i>" whose
//       bodies are derived from their names, removing every tenth object's
//       fifth predecessor, until it is killed. After each Flush() (every 20
//       changes or 30 ms) it appends to LOG what that Flush made durable:
//       "P name" for a put, "R name" for a remove. Flush() returns only when
//       the aggregation writes holding those changes have completed, so LOG
//       lists exactly what a crash must not lose.
//   cache_crash_writer verify SPAN SIZE_MB LOG RUN
//       Reopens the cache (crash recovery), checks every object LOG names and
//       every object a scan finds, and prints one JSON line: how many durable
//       objects of run RUN were found again, and any object served with the
//       wrong bytes or brought back after its remove.
//
// Exit status: 0 when it ran (the test judges the JSON), 2 for bad usage, 3
// when the cache could not be opened or a write failed.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cache/cache.h"

namespace strata {
namespace {

CacheKey KeyFor(const std::string& name) { return CacheKey::Hash("crash://" + name); }

// Mostly small objects; every 13th is fragmented (fragments are 64 KB).
size_t SizeFor(const std::string& name) {
  CacheKey k = KeyFor(name);
  if (k.lo % 13 == 0) return 100000 + k.hi % 200000;
  return 200 + k.hi % 20000;
}

std::string BodyFor(const std::string& name) {
  CacheKey k = KeyFor(name);
  std::mt19937_64 rng(k.hi ^ k.lo);
  std::string body(SizeFor(name), '\0');
  for (size_t i = 0; i < body.size(); i += 8) {
    uint64_t v = rng();
    memcpy(body.data() + i, &v, std::min<size_t>(8, body.size() - i));
  }
  return body;
}

CacheOptions Options(const std::string& span, uint64_t size_mb) {
  CacheOptions options;
  SpanConfig config;
  config.path = span;
  config.size_bytes = size_mb << 20;
  options.spans.push_back(config);
  options.stripe.agg_buffer_bytes = 1 << 20;
  options.stripe.flush_delay = std::chrono::milliseconds(5);
  // Snapshots while writing, so kills land before, during and after them.
  options.snapshot_interval = std::chrono::milliseconds(150);
  options.fragment_bytes = 64 << 10;
  options.ram_cache_bytes = 0;
  options.io_threads = 2;
  return options;
}

int Fill(const std::string& span, uint64_t size_mb, const std::string& log_path, const std::string& run) {
  std::unique_ptr<Cache> cache;
  Status s = Cache::Open(Options(span, size_mb), &cache);
  if (!s.ok()) {
    fprintf(stderr, "open: %s\n", s.ToString().c_str());
    return 3;
  }
  int log = open(log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (log < 0) return 3;
  std::string pending;
  int changes = 0;
  auto last_flush = std::chrono::steady_clock::now();
  for (uint64_t i = 0;; ++i) {
    std::string name = "r" + run + "-" + std::to_string(i);
    s = cache->Put(KeyFor(name), name, BodyFor(name));
    if (!s.ok()) {
      fprintf(stderr, "put %s: %s\n", name.c_str(), s.ToString().c_str());
      return 3;
    }
    pending += "P " + name + "\n";
    ++changes;
    if (i % 10 == 9) {
      std::string victim = "r" + run + "-" + std::to_string(i - 5);
      // The flusher may make the remove durable before the next Flush():
      // say at once that the victim's fate is open until its "R" line.
      std::string intent = "X " + victim + "\n";
      if (write(log, intent.data(), intent.size()) != static_cast<ssize_t>(intent.size())) return 3;
      if (cache->Remove(KeyFor(victim)).ok()) {
        pending += "R " + victim + "\n";
        ++changes;
      }
    }
    auto now = std::chrono::steady_clock::now();
    if (changes >= 20 || now - last_flush > std::chrono::milliseconds(30)) {
      s = cache->Flush();
      if (!s.ok()) return 3;
      // One write: a kill leaves whole lines (the reader ignores a torn one).
      if (write(log, pending.data(), pending.size()) != static_cast<ssize_t>(pending.size())) return 3;
      pending.clear();
      changes = 0;
      last_flush = now;
    }
    // About 25 MB/s: a run never laps the span, so nothing durable of the
    // run being killed can have been overwritten.
    std::this_thread::sleep_for(std::chrono::microseconds(300));
  }
}

int Verify(const std::string& span, uint64_t size_mb, const std::string& log_path, const std::string& run) {
  auto started = std::chrono::steady_clock::now();
  std::unique_ptr<Cache> cache;
  Status s = Cache::Open(Options(span, size_mb), &cache);
  if (!s.ok()) {
    fprintf(stderr, "open: %s\n", s.ToString().c_str());
    return 3;
  }
  double open_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // name -> 'P' stored, 'X' being removed (either outcome is right), 'R'
  // removed. An R beats an X beats a P, whatever the order of the lines.
  std::map<std::string, char> removed;
  std::ifstream log(log_path);
  std::string line;
  while (std::getline(log, line)) {
    if (line.size() < 3 || (line[0] != 'P' && line[0] != 'R' && line[0] != 'X') || line[1] != ' ') continue;
    char& state = removed[line.substr(2)];
    if (state == 0 || state == 'P' || line[0] == 'R') state = line[0];
  }
  const std::string prefix = "r" + run + "-";
  uint64_t durable = 0, found = 0, missing = 0, older_found = 0, older_missing = 0, wrong = 0, resurrected = 0;
  for (const auto& [name, state] : removed) {
    std::string meta, body;
    Status got = cache->Get(KeyFor(name), &meta, &body);
    if (got.ok() && (meta != name || body != BodyFor(name))) ++wrong;
    if (state == 'X') continue;
    if (state == 'R') {
      if (got.ok()) ++resurrected;
      continue;
    }
    bool this_run = name.compare(0, prefix.size(), prefix) == 0;
    if (this_run) ++durable;
    if (got.ok()) {
      ++(this_run ? found : older_found);
    } else {
      ++(this_run ? missing : older_missing);
    }
  }
  uint64_t scanned = 0, scanned_wrong = 0;
  cache->Scan([&](const ObjectInfo& info) {
    ++scanned;
    std::string data;
    Status r = cache->Read(info, 0, info.length, &data);
    if (r.ok() && (!(info.key == KeyFor(info.metadata)) || data != BodyFor(info.metadata))) ++scanned_wrong;
    return true;
  });
  CacheStats stats = cache->stats();
  const Stripe& stripe = cache->stripe(0);
  printf(
      "{\"durable\": %llu, \"found\": %llu, \"missing\": %llu, \"older_found\": %llu, \"older_missing\": %llu, "
      "\"wrong\": %llu, \"resurrected\": %llu, \"scanned\": %llu, \"scanned_wrong\": %llu, \"crc_failures\": %llu, "
      "\"snapshot_copies_bad\": %llu, \"records_rejected\": %llu, \"writes_replayed\": %llu, "
      "\"recovery_seconds\": %.4f, \"open_seconds\": %.4f, \"data_offset\": %llu, \"data_bytes\": %llu, "
      "\"write_pos_bytes\": %llu, \"dir_a_offset\": %llu, \"dir_b_offset\": %llu, \"dir_copy_bytes\": %llu}\n",
      (unsigned long long)durable, (unsigned long long)found, (unsigned long long)missing,
      (unsigned long long)older_found, (unsigned long long)older_missing, (unsigned long long)wrong,
      (unsigned long long)resurrected, (unsigned long long)scanned, (unsigned long long)scanned_wrong,
      (unsigned long long)stats.crc_failures, (unsigned long long)stats.recovery_snapshot_copies_bad,
      (unsigned long long)stats.recovery_records_rejected, (unsigned long long)stats.recovery_writes_replayed,
      stats.recovery_seconds, open_seconds, (unsigned long long)stripe.layout().data_offset,
      (unsigned long long)stripe.layout().data_bytes,
      (unsigned long long)(stripe.stats().write_pos_blocks * kBlockBytes),
      (unsigned long long)stripe.layout().dir_a_offset, (unsigned long long)stripe.layout().dir_b_offset,
      (unsigned long long)stripe.layout().dir_copy_bytes);
  return 0;
}

}  // namespace
}  // namespace strata

int main(int argc, char** argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s fill|verify SPAN SIZE_MB LOG RUN\n", argv[0]);
    return 2;
  }
  std::string mode = argv[1];
  uint64_t size_mb = strtoull(argv[3], nullptr, 10);
  if (mode == "fill") return strata::Fill(argv[2], size_mb, argv[4], argv[5]);
  if (mode == "verify") return strata::Verify(argv[2], size_mb, argv[4], argv[5]);
  fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
