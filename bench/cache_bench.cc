// cache_bench: micro-benchmarks of the storage engine (dir/, cache/) with
// Google Benchmark. Run by bench/cache_bench.sh (`make bench`), never by
// `make check`; docs/PERFORMANCE.md records the figures and the commands.
//
//   BM_DirProbe/fill%/hit         Directory::Probe per second on ~1M entries
//   BM_DirInsertRemove/fill%      Insert + Remove pairs per second
//   BM_DirMemory/entries          RAM bytes per directory entry (counters)
//   BM_CachePut/object_bytes      Cache::Put into a file-backed span, timed
//                                 up to Flush() + fdatasync (manual time)
//   BM_RawWrite/object_bytes      pwrite of 4 MB blocks + fdatasync of the
//                                 bytes BM_CachePut puts on disk
//   BM_CacheGetRam/object_bytes   Cache::Get answered by the RAM cache
//   BM_CacheGetDisk/bytes/cold    Cache::Get with no RAM cache; cold = the
//                                 span's page cache dropped first
//                                 (POSIX_FADV_DONTNEED), checked with mincore
//
// Span files live in $STRATA_BENCH_DIR (default /var/tmp), which must be on
// a real disk; each is removed when its benchmark is done. Environment:
// STRATA_BENCH_WRITE_MB (512) bytes per write run, STRATA_BENCH_SPAN_MB
// (1024) span size.
//
// Thread-safety: Google Benchmark runs one benchmark at a time; the shared
// fixtures below are built by the first thread of a run (Setup hooks) and
// only read by the benchmark threads.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "cache/cache.h"
#include "cache/doc.h"
#include "dir/directory.h"

namespace strata {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kDirAverageObject = 8000;     // LayoutOptions' default
constexpr uint64_t kDirEntries = 1ull << 20;     // ~1M entries, 16 segments
constexpr uint64_t kRawBlockBytes = 4ull << 20;  // the aggregation buffer size

[[noreturn]] void Die(const std::string& what, const Status& s = Status::OK()) {
  std::fprintf(stderr, "cache_bench: %s %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

uint64_t EnvU64(const char* name, uint64_t fallback) {
  const char* v = getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

std::string BenchDir() {
  const char* v = getenv("STRATA_BENCH_DIR");
  return v != nullptr && *v != '\0' ? v : "/var/tmp";
}

uint64_t SpanBytes() { return EnvU64("STRATA_BENCH_SPAN_MB", 1024) * kMiB; }
uint64_t WriteBytes() { return EnvU64("STRATA_BENCH_WRITE_MB", 512) * kMiB; }

std::string SpanPath(const std::string& name) {
  return BenchDir() + "/strata_cache_bench." + std::to_string(getpid()) + "." + name;
}

// splitmix64: well-spread keys without hashing in the timed loops.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

CacheKey KeyOf(uint64_t stream, uint64_t i) { return CacheKey{Mix(stream * 0x100000000ULL + 2 * i), Mix(~i + stream)}; }

std::vector<CacheKey> Keys(uint64_t stream, size_t n) {
  std::vector<CacheKey> keys(n);
  for (size_t i = 0; i < n; ++i) keys[i] = KeyOf(stream, i);
  return keys;
}

std::string Payload(size_t n) {
  std::string s(n, '\0');
  std::mt19937_64 rng(n);
  for (size_t i = 0; i < n; i += 8) {
    uint64_t r = rng();
    std::memcpy(&s[i], &r, std::min<size_t>(8, n - i));
  }
  return s;
}

size_t HeapBytes() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;  // arena bytes in use + mmapped chunks
}

// --- (a) Directory probes and updates ---

// A directory of kDirEntries entries, `fill_percent` of them used by keys
// KeyOf(1, i), with the write position at the end of the data area so that
// every inserted entry is valid.
struct DirFixture {
  std::unique_ptr<Directory> dir;
  std::vector<CacheKey> present;
  std::vector<CacheKey> absent;
  uint64_t data_blocks = 0;

  // Called by every thread of a run: the first one builds.
  static DirFixture& Get(int fill_percent) {
    static std::mutex mu;
    static std::map<int, std::unique_ptr<DirFixture>> fixtures;
    std::lock_guard<std::mutex> lock(mu);
    auto& f = fixtures[fill_percent];
    if (f == nullptr) f = Build(fill_percent);
    return *f;
  }

  static std::unique_ptr<DirFixture> Build(int fill_percent) {
    auto f = std::make_unique<DirFixture>();
    Status s = Directory::Create(kDirEntries * kDirAverageObject, kDirAverageObject, &f->dir);
    if (!s.ok()) Die("Directory::Create", s);
    f->data_blocks = f->dir->geometry().data_blocks;
    s = f->dir->SetWritePosition(f->data_blocks, false);
    if (!s.ok()) Die("SetWritePosition", s);
    size_t n = f->dir->geometry().total_entries() * fill_percent / 100;
    f->present = Keys(1, n);
    f->absent = Keys(2, n);
    for (size_t i = 0; i < n; ++i) {
      s = f->dir->Insert(f->present[i], f->Location(i));
      if (!s.ok()) Die("Insert", s);
    }
    return f;
  }

  DirLocation Location(uint64_t i) const {
    DirLocation loc;
    loc.offset_blocks = Mix(i) % (data_blocks - 16);
    loc.size_bytes = kDirAverageObject;
    loc.head = true;
    return loc;
  }
};

void BM_DirProbe(benchmark::State& state) {
  DirFixture& f = DirFixture::Get(static_cast<int>(state.range(0)));
  const bool hit = state.range(1) != 0;
  const std::vector<CacheKey>& keys = hit ? f.present : f.absent;
  std::vector<DirEntry> out;
  out.reserve(8);
  // The keys are random, so walking the list in order probes the
  // directory at random; threads start in different places.
  size_t i = static_cast<size_t>(state.thread_index()) * keys.size() / 2;
  uint64_t found = 0;
  for (auto _ : state) {
    found += f.dir->Probe(keys[i], &out);
    if (++i == keys.size()) i = 0;
  }
  benchmark::DoNotOptimize(found);
  state.SetItemsProcessed(state.iterations());
  state.counters["found_per_probe"] =
      benchmark::Counter(static_cast<double>(found), benchmark::Counter::kAvgIterations);
}

void BM_DirInsertRemove(benchmark::State& state) {
  DirFixture& f = DirFixture::Get(static_cast<int>(state.range(0)));
  uint64_t i = (static_cast<uint64_t>(state.thread_index()) + 1) << 40;
  for (auto _ : state) {
    CacheKey key = KeyOf(3, ++i);
    DirEntry entry;
    Status s = f.dir->Insert(key, f.Location(i), &entry);
    if (s.ok()) s = f.dir->Remove(key, entry);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());  // one item = an Insert and a Remove
}

void DirArgs(benchmark::internal::Benchmark* b, bool with_hit) {
  for (int fill : {50, 90}) {
    if (with_hit) {
      b->Args({fill, 1})->Args({fill, 0});
    } else {
      b->Arg(fill);
    }
  }
}

BENCHMARK(BM_DirProbe)->Apply([](auto* b) {
                        DirArgs(b, true);
                      }) -> ArgNames({"fill", "hit"}) -> Threads(1) -> Threads(2) -> UseRealTime();
BENCHMARK(BM_DirInsertRemove)
    ->Apply([](auto* b) { DirArgs(b, false); }) -> ArgName("fill") -> Threads(1) -> Threads(2) -> UseRealTime();

// --- (b) RAM per directory entry ---

void BM_DirMemory(benchmark::State& state) {
  const uint64_t entries = static_cast<uint64_t>(state.range(0));
  std::unique_ptr<Directory> dir;
  size_t before = 0, after = 0;
  for (auto _ : state) {
    dir.reset();
    before = HeapBytes();
    Status s = Directory::Create(entries * kDirAverageObject, kDirAverageObject, &dir);
    if (!s.ok()) Die("Directory::Create", s);
    after = HeapBytes();
  }
  const DirGeometry& geo = dir->geometry();
  double allocated = static_cast<double>(after - before);  // the Directory object included
  double total = static_cast<double>(geo.total_entries());
  state.counters["total_entries"] = total;
  state.counters["segments"] = geo.nsegments;
  state.counters["allocated_bytes"] = allocated;
  state.counters["bytes_per_entry"] = allocated / total;
  state.counters["overhead_bytes"] = allocated - 10.0 * total;
}

// 1M entries; 8.6M = a 64 GiB stripe (LayoutOptions::max_stripe_bytes).
BENCHMARK(BM_DirMemory)->Arg(kDirEntries)->Arg((64ull << 30) / kDirAverageObject)->Iterations(1);

// --- (c) Small-object writes through the aggregation buffer ---

Status OpenCache(const std::string& path, uint64_t ram_bytes, std::unique_ptr<Cache>* cache) {
  CacheOptions options;
  SpanConfig span;
  span.path = path;
  span.size_bytes = SpanBytes();
  span.origin = "cache_bench";
  options.spans.push_back(span);
  options.ram_cache_bytes = ram_bytes;
  options.ram_admit_on_first_offer = true;
  return Cache::Open(options, cache);
}

// fdatasync through a descriptor of our own: the engine's Flush() only
// hands the buffers to the kernel.
void SyncFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDWR);
  if (fd < 0 || fdatasync(fd) != 0) Die("fdatasync " + path);
  close(fd);
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

void BM_CachePut(benchmark::State& state) {
  const size_t object = static_cast<size_t>(state.range(0));
  const size_t n = WriteBytes() / object;
  const std::string data = Payload(object);
  const std::vector<CacheKey> keys = Keys(4, n);
  const std::string path = SpanPath("put");
  double payload_s = 0, cached_s = 0, durable_s = 0;
  uint64_t disk_bytes = 0, agg_writes = 0;
  for (auto _ : state) {
    unlink(path.c_str());
    std::unique_ptr<Cache> cache;
    Status s = OpenCache(path, 0, &cache);
    if (!s.ok()) Die("Cache::Open", s);
    CacheStats before = cache->stats();
    Clock::time_point t0 = Clock::now();
    for (size_t i = 0; i < n; ++i) {
      s = cache->Put(keys[i], {}, data);
      if (!s.ok()) Die("Put", s);
    }
    Clock::time_point t1 = Clock::now();
    s = cache->Flush();
    if (!s.ok()) Die("Flush", s);
    Clock::time_point t2 = Clock::now();
    SyncFile(path);
    Clock::time_point t3 = Clock::now();
    state.SetIterationTime(Seconds(t3 - t0));
    CacheStats after = cache->stats();
    disk_bytes += after.agg_bytes - before.agg_bytes;
    agg_writes += after.agg_writes - before.agg_writes;
    payload_s += Seconds(t1 - t0);
    cached_s += Seconds(t2 - t0);
    durable_s += Seconds(t3 - t0);
    cache.reset();  // persists the directory: not timed
    unlink(path.c_str());
  }
  double payload = static_cast<double>(n) * object * state.iterations();
  state.SetBytesProcessed(static_cast<int64_t>(payload));
  state.SetItemsProcessed(static_cast<int64_t>(n * state.iterations()));
  state.counters["payload_MiBps"] = payload / kMiB / durable_s;
  state.counters["disk_MiBps"] = disk_bytes / static_cast<double>(kMiB) / durable_s;
  state.counters["to_page_cache_MiBps"] = payload / kMiB / cached_s;
  state.counters["put_loop_MiBps"] = payload / kMiB / payload_s;
  state.counters["disk_bytes_per_object"] = static_cast<double>(disk_bytes) / (n * state.iterations());
  state.counters["mean_agg_write_KiB"] = disk_bytes / 1024.0 / std::max<uint64_t>(1, agg_writes);
}

// The bytes BM_CachePut puts on disk for the same objects: one Doc each.
uint64_t DocBytes(size_t object, size_t n) { return DocSize(EncodeMetadata({}, {}).size(), object) * n; }

void BM_RawWrite(benchmark::State& state) {
  const size_t object = static_cast<size_t>(state.range(0));
  const uint64_t bytes = DocBytes(object, WriteBytes() / object);
  const std::string block = Payload(kRawBlockBytes);
  const std::string path = SpanPath("raw");
  for (auto _ : state) {
    unlink(path.c_str());
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, static_cast<off_t>(SpanBytes())) != 0) Die("create " + path);
    Clock::time_point t0 = Clock::now();
    for (uint64_t off = 0; off < bytes; off += kRawBlockBytes) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(kRawBlockBytes, bytes - off));
      if (pwrite(fd, block.data(), n, static_cast<off_t>(off)) != static_cast<ssize_t>(n)) Die("pwrite " + path);
    }
    if (fdatasync(fd) != 0) Die("fdatasync " + path);
    state.SetIterationTime(Seconds(Clock::now() - t0));
    close(fd);
    unlink(path.c_str());
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes * state.iterations()));
}

void WriteArgs(benchmark::internal::Benchmark* b) {
  b->ArgName("object")->Arg(4096)->Arg(16384)->Iterations(1)->Repetitions(3)->UseManualTime();
  b->Unit(benchmark::kMillisecond);
}
BENCHMARK(BM_RawWrite)->Apply(WriteArgs);
BENCHMARK(BM_CachePut)->Apply(WriteArgs);

// --- (d) Reads from the RAM cache and from disk ---

// A span holding 128 MiB of 16 KiB objects and 128 MiB of 1 MiB objects
// (one 1 MiB fragment plus a first Doc each), flushed and synced.
struct ReadFixture {
  std::string path;
  std::unique_ptr<Cache> cache;
  std::map<size_t, std::vector<CacheKey>> keys;  // by object size

  static std::unique_ptr<ReadFixture>& Slot(bool ram) {
    static std::unique_ptr<ReadFixture> slots[2];
    return slots[ram ? 1 : 0];
  }
  static ReadFixture& Get(bool ram) {
    auto& f = Slot(ram);
    if (f == nullptr) f = Build(ram);
    return *f;
  }
  static void DestroyAll() {
    for (bool ram : {false, true}) {
      auto& f = Slot(ram);
      if (f == nullptr) continue;
      f->cache.reset();
      unlink(f->path.c_str());
      f.reset();
    }
  }

  static std::unique_ptr<ReadFixture> Build(bool ram) {
    auto f = std::make_unique<ReadFixture>();
    f->path = SpanPath(ram ? "read_ram" : "read_disk");
    unlink(f->path.c_str());
    Status s = OpenCache(f->path, ram ? 1024 * kMiB : 0, &f->cache);
    if (!s.ok()) Die("Cache::Open", s);
    for (size_t object : {size_t{16384}, size_t{1} << 20}) {
      std::string data = Payload(object);
      std::vector<CacheKey>& keys = f->keys[object];
      keys = Keys(5 + object, 128 * kMiB / object);
      for (const CacheKey& key : keys) {
        s = f->cache->Put(key, {}, data);
        if (!s.ok()) Die("Put", s);
      }
      std::shuffle(keys.begin(), keys.end(), std::mt19937_64(object));  // read order != write order
    }
    s = f->cache->Flush();
    if (!s.ok()) Die("Flush", s);
    SyncFile(f->path);
    return f;
  }

  // One pass of Get over every object of that size (warms the RAM cache, or
  // the page cache).
  void ReadAll(size_t object) {
    std::string meta, data;
    for (const CacheKey& key : keys[object]) {
      Status s = cache->Get(key, &meta, &data);
      if (!s.ok() || data.size() != object) Die("Get", s);
    }
  }
};

// Pages of the file resident in the page cache, by mincore(2).
uint64_t ResidentBytes(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) Die("open " + path);
  void* map = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (map == MAP_FAILED) Die("mmap " + path);
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> vec((st.st_size + page - 1) / page);
  uint64_t resident = 0;
  if (mincore(map, static_cast<size_t>(st.st_size), vec.data()) == 0) {
    for (unsigned char v : vec) resident += v & 1;
  }
  munmap(map, static_cast<size_t>(st.st_size));
  return resident * page;
}

bool DropPageCache(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return false;
  bool ok = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0;
  close(fd);
  return ok;
}

void ReadLoop(benchmark::State& state, ReadFixture& f, size_t object) {
  const std::vector<CacheKey>& keys = f.keys[object];
  std::string meta, data;
  size_t i = 0;
  for (auto _ : state) {
    Status s = f.cache->Get(keys[i], &meta, &data);
    if (!s.ok() || data.size() != object) {
      state.SkipWithError(("Get: " + s.ToString()).c_str());
      break;
    }
    if (++i == keys.size()) i = 0;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * object));
  state.SetItemsProcessed(state.iterations());
}

void BM_CacheGetRam(benchmark::State& state) {
  const size_t object = static_cast<size_t>(state.range(0));
  ReadFixture& f = ReadFixture::Get(/*ram=*/true);
  f.ReadAll(object);  // the first read of each Doc offers it to the RAM cache
  RamCache::Stats before = f.cache->stats().ram;
  ReadLoop(state, f, object);
  RamCache::Stats after = f.cache->stats().ram;
  uint64_t hits = after.hits - before.hits, misses = after.misses - before.misses;
  state.counters["ram_hit_ratio"] = hits + misses ? static_cast<double>(hits) / (hits + misses) : 0.0;
}

// One pass over the objects in shuffled order (Iterations = object count).
void BM_CacheGetDisk(benchmark::State& state) {
  const size_t object = static_cast<size_t>(state.range(0));
  const bool cold = state.range(1) != 0;
  ReadFixture& f = ReadFixture::Get(/*ram=*/false);
  if (cold) {
    if (!DropPageCache(f.path)) state.SkipWithError("posix_fadvise(DONTNEED) failed");
  } else {
    f.ReadAll(object);
  }
  state.counters["resident_MiB_before"] = static_cast<double>(ResidentBytes(f.path)) / kMiB;
  ReadLoop(state, f, object);
  state.counters["resident_MiB_after"] = static_cast<double>(ResidentBytes(f.path)) / kMiB;
}

BENCHMARK(BM_CacheGetRam)->ArgName("object")->Arg(16384)->Arg(1 << 20)->UseRealTime();
BENCHMARK(BM_CacheGetDisk)
    ->ArgNames({"object", "cold"})
    ->Args({16384, 0})
    ->Args({16384, 1})
    ->Iterations(128 * kMiB / 16384)
    ->UseRealTime();
BENCHMARK(BM_CacheGetDisk)
    ->ArgNames({"object", "cold"})
    ->Args({1 << 20, 0})
    ->Args({1 << 20, 1})
    ->Iterations(128)
    ->UseRealTime();

}  // namespace
}  // namespace strata

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  strata::ReadFixture::DestroyAll();
  return 0;
}
