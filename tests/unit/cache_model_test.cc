// Randomized model test of the storage engine: threads put, get and remove
// objects of 1 B to 8 MiB against a std::map reference, in spans small
// enough to wrap many times. Every get must return exactly the reference
// bytes and metadata, or a miss that the wrap (or a directory eviction)
// explains; a removed or never-written key must always miss.
//
// "Could have been overwritten", soundly: before each put the test records
// every stripe's cumulative StripeStats::bytes_appended. A Doc placed at
// cursor c is overwritten only once the cursor comes back to c, i.e. after
// its stripe has appended data_bytes minus what a wrap skips (less than one
// buffer) minus how far CleanRange runs ahead (one buffer). Since the record
// precedes every Doc of the put, a miss is legal only if some stripe has
// appended at least (smallest data_bytes - 2 x buffer - 8 MiB) since; the
// extra 8 MiB is slack. Each thread owns its keys, so the reference of a key
// is never ambiguous.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "cache/cache.h"
#include "cache/doc.h"

namespace strata {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/strata_model_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Object bytes are a function of (seed, size), so the reference keeps no
// bodies.
void Fill(uint64_t seed, size_t n, std::string* out) {
  out->resize(n);
  char* p = out->data();
  size_t i = 0;
  for (uint64_t w = 0; i + 8 <= n; i += 8, ++w) {
    uint64_t v = SplitMix(seed ^ (w * 0xd1b54a32d192ed03ULL));
    memcpy(p + i, &v, 8);
  }
  uint64_t v = SplitMix(seed + 0x5555);
  for (; i < n; ++i, v >>= 8) p[i] = static_cast<char>(v);
}

size_t LogUniform(std::mt19937_64& rng, double lo, double hi) {
  std::uniform_real_distribution<double> u(std::log(lo), std::log(hi));
  return static_cast<size_t>(std::exp(u(rng)));
}

// Mostly small objects, ~3% large ones (fragmented).
size_t ObjectSize(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> pct(0, 99);
  if (pct(rng) < 3) return std::min<size_t>(LogUniform(rng, 64 << 10, 8 << 20), 8 << 20);
  return std::clamp<size_t>(LogUniform(rng, 1, 64 << 10), 1, 64 << 10);
}

struct ModelParam {
  const char* name;
  uint64_t ram_cache_bytes;
};

class CacheModelTest : public ::testing::TestWithParam<ModelParam> {};

struct RefObject {
  uint64_t seed = 0;
  size_t size = 0;
  std::string meta;
  std::vector<uint64_t> appended_before;  // per stripe, recorded before the put
};

struct Totals {
  std::atomic<uint64_t> ops{0}, puts{0}, gets{0}, removes{0}, bytes_put{0}, hits{0}, legal_misses{0}, absent_misses{0};
};

TEST_P(CacheModelTest, RandomOpsMatchTheReference) {
  constexpr int kThreads = 4;
  constexpr int kOpsPerThread = 25000;
  constexpr int kKeysPerThread = 300;
  constexpr uint64_t kAggBytes = 4 << 20;

  TempDir dir;
  CacheOptions options;
  for (uint64_t mib : {48, 64}) {
    SpanConfig span;
    span.path = dir.path() + "/span" + std::to_string(mib);
    span.size_bytes = mib << 20;
    options.spans.push_back(span);
  }
  // A directory far larger than the objects need: evictions stay rare.
  options.layout.average_object_bytes = 512;
  options.stripe.agg_buffer_bytes = kAggBytes;
  options.fragment_bytes = 1 << 20;
  options.ram_cache_bytes = GetParam().ram_cache_bytes;
  options.ram_admit_on_first_offer = true;
  options.io_threads = 2;
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(options, &cache).ok());
  const size_t nstripes = cache->stripe_count();
  ASSERT_EQ(nstripes, 2u);
  uint64_t min_data = UINT64_MAX;
  for (size_t s = 0; s < nstripes; ++s) min_data = std::min(min_data, cache->stripe(s).layout().data_bytes);
  const uint64_t legal_after = min_data - 2 * kAggBytes - (8 << 20);

  auto appended = [&] {
    std::vector<uint64_t> v(nstripes);
    for (size_t s = 0; s < nstripes; ++s) v[s] = cache->stripe(s).stats().bytes_appended;
    return v;
  };
  auto evictions = [&] {
    uint64_t n = 0;
    for (size_t s = 0; s < nstripes; ++s) n += cache->stripe(s).directory().GetStats().evictions;
    return n;
  };
  Totals totals;
  std::mutex failure_mu;
  std::string first_failure;
  std::atomic<bool> failed{false};
  auto fail = [&](const std::string& what) {
    std::lock_guard<std::mutex> lock(failure_mu);
    if (first_failure.empty()) first_failure = what;
    failed = true;
  };

  auto run = [&](int t) {
    std::mt19937_64 rng(0x5eed0000 + t * 7919 + GetParam().ram_cache_bytes);
    std::vector<CacheKey> keys(kKeysPerThread);
    for (int k = 0; k < kKeysPerThread; ++k) {
      keys[k] = CacheKey::Hash("model/" + std::to_string(t) + "/" + std::to_string(k));
    }
    std::map<int, RefObject> ref;
    std::vector<int> recent;  // recently put keys: gets favour them
    std::uniform_int_distribution<int> pct(0, 99), any_key(0, kKeysPerThread - 1);
    std::string meta, data, want;
    // Why a miss of `obj` may be legal; empty if it may not.
    auto miss_reason = [&](const RefObject& obj) -> std::string {
      std::vector<uint64_t> now = appended();
      for (size_t s = 0; s < nstripes; ++s) {
        if (now[s] - obj.appended_before[s] >= legal_after) return "wrapped";
      }
      if (evictions() > 0) return "evicted";
      return "";
    };
    auto describe = [&](int op, int k, const std::string& what) {
      return "thread " + std::to_string(t) + " op " + std::to_string(op) + " key " + std::to_string(k) + ": " + what;
    };

    for (int op = 0; op < kOpsPerThread && !failed; ++op) {
      totals.ops.fetch_add(1, std::memory_order_relaxed);
      int r = pct(rng);
      if (r < 35) {  // put
        int k = any_key(rng);
        RefObject obj;
        obj.seed = rng();
        obj.size = ObjectSize(rng);
        obj.meta = "m" + std::to_string(obj.seed % 100000) + std::string(obj.seed % 200, 'x');
        obj.appended_before = appended();
        Fill(obj.seed, obj.size, &want);
        Status s = cache->Put(keys[k], obj.meta, want);
        if (!s.ok()) {
          fail(describe(op, k, "put of " + std::to_string(obj.size) + " bytes failed: " + s.ToString()));
          break;
        }
        totals.puts.fetch_add(1, std::memory_order_relaxed);
        totals.bytes_put.fetch_add(obj.size, std::memory_order_relaxed);
        ref[k] = std::move(obj);
        recent.push_back(k);
        if (recent.size() > 16) recent.erase(recent.begin());
      } else if (r < 80) {  // get: a recent key, any key, or one never written
        int k;
        int pick = pct(rng);
        if (pick < 50 && !recent.empty()) {
          k = recent[rng() % recent.size()];
        } else if (pick < 95) {
          k = any_key(rng);
        } else {
          k = -1;
        }
        totals.gets.fetch_add(1, std::memory_order_relaxed);
        CacheKey key = k >= 0 ? keys[k] : CacheKey::Hash("never/" + std::to_string(t) + "/" + std::to_string(op));
        Status s = cache->Get(key, &meta, &data);
        auto it = k >= 0 ? ref.find(k) : ref.end();
        if (it == ref.end()) {
          if (s.kind() != Status::Kind::kNotFound) {
            fail(describe(op, k,
                          "absent key answered " + s.ToString() + " with " + std::to_string(data.size()) + " bytes"));
            break;
          }
          totals.absent_misses.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        const RefObject& obj = it->second;
        if (s.ok()) {
          Fill(obj.seed, obj.size, &want);
          if (meta != obj.meta || data != want) {
            size_t diff = 0;
            while (diff < std::min(data.size(), want.size()) && data[diff] == want[diff]) ++diff;
            fail(describe(op, k,
                          "wrong bytes: want " + std::to_string(want.size()) + " bytes meta '" + obj.meta.substr(0, 8) +
                              "', got " + std::to_string(data.size()) + " bytes meta '" + meta.substr(0, 8) +
                              "', first difference at " + std::to_string(diff)));
            break;
          }
          totals.hits.fetch_add(1, std::memory_order_relaxed);
        } else if (s.kind() == Status::Kind::kNotFound) {
          if (miss_reason(obj).empty()) {
            fail(describe(op, k, "illegal miss of " + std::to_string(obj.size) + " bytes (" + s.ToString() + ")"));
            break;
          }
          totals.legal_misses.fetch_add(1, std::memory_order_relaxed);
        } else {
          fail(describe(op, k, "get failed: " + s.ToString()));
          break;
        }
      } else {  // remove (often of an absent key)
        int k = any_key(rng);
        totals.removes.fetch_add(1, std::memory_order_relaxed);
        Status s = cache->Remove(keys[k]);
        auto it = ref.find(k);
        if (it == ref.end()) {
          if (s.kind() != Status::Kind::kNotFound) {
            fail(describe(op, k, "remove of an absent key answered " + s.ToString()));
            break;
          }
        } else if (!s.ok()) {
          if (s.kind() != Status::Kind::kNotFound || miss_reason(it->second).empty()) {
            fail(describe(op, k, "remove of " + std::to_string(it->second.size) + " bytes: " + s.ToString()));
            break;
          }
          totals.legal_misses.fetch_add(1, std::memory_order_relaxed);
        }
        if (it != ref.end()) ref.erase(it);
        // A get right after the remove must miss.
        s = cache->Get(keys[k], &meta, &data);
        if (s.kind() != Status::Kind::kNotFound) {
          fail(describe(op, k, "get after remove answered " + s.ToString()));
          break;
        }
      }
    }
  };

  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(run, t);
  for (auto& th : threads) th.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(failed) << first_failure;

  uint64_t agg_bytes = 0, min_wraps = UINT64_MAX;
  std::string wraps;
  for (size_t s = 0; s < nstripes; ++s) {
    StripeStats st = cache->stripe(s).stats();
    agg_bytes += st.agg_bytes;
    min_wraps = std::min(min_wraps, st.wraps);
    wraps += (s ? "," : "") + std::to_string(st.wraps);
    EXPECT_EQ(st.crc_failures, 0u) << s;
    EXPECT_EQ(st.write_errors, 0u) << s;
    EXPECT_EQ(st.read_errors, 0u) << s;
  }
  uint64_t evicted = evictions();
  EXPECT_GE(min_wraps, 3u);
  EXPECT_EQ(totals.ops, uint64_t{kThreads} * kOpsPerThread);
  printf(
      "[ model %s ] %.1f s: %llu ops (%llu puts, %llu gets, %llu removes), %.2f GB put, %.2f GB aggregated, "
      "wraps %s, %llu hits, %llu legal misses, %llu absent misses, %llu evictions, ram hits %llu\n",
      GetParam().name, seconds, (unsigned long long)totals.ops, (unsigned long long)totals.puts,
      (unsigned long long)totals.gets, (unsigned long long)totals.removes, totals.bytes_put / 1e9, agg_bytes / 1e9,
      wraps.c_str(), (unsigned long long)totals.hits, (unsigned long long)totals.legal_misses,
      (unsigned long long)totals.absent_misses, (unsigned long long)evicted,
      (unsigned long long)cache->stats().ram.hits);
  // Most gets of present objects must hit, or the test proves little.
  EXPECT_GT(totals.hits, totals.legal_misses);
}

INSTANTIATE_TEST_SUITE_P(RamCache, CacheModelTest,
                         ::testing::Values(ModelParam{"RamOff", 0}, ModelParam{"Ram8MB", 8 << 20}),
                         [](const ::testing::TestParamInfo<ModelParam>& info) { return info.param.name; });

// Regression: the RAM cache is keyed by (key, stripe, offset). When a key is
// written again at the very offset its previous version occupied one pass
// earlier, the RAM cache must not answer with the previous version.
TEST(CacheModelRegressionTest, RamCacheNeverAnswersForAnOverwrittenLocation) {
  TempDir dir;
  CacheOptions options;
  SpanConfig span;
  span.path = dir.path() + "/span";
  span.size_bytes = 16 << 20;
  options.spans.push_back(span);
  options.layout.average_object_bytes = 4096;
  options.stripe.agg_buffer_bytes = 1 << 20;
  options.fragment_bytes = 256 << 10;
  options.ram_cache_bytes = 8 << 20;
  options.ram_admit_on_first_offer = true;
  options.io_threads = 2;
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(options, &cache).ok());
  Stripe& stripe = cache->stripe(0);
  const size_t body = 100000;
  const uint64_t doc = DocSize(EncodeMetadata("v1", {}).size(), body);
  std::string v1, v2;
  Fill(1, body, &v1);
  Fill(2, body, &v2);
  CacheKey key = CacheKey::Hash("http://example/same-place");
  ASSERT_TRUE(cache->Put(key, "v1", v1).ok());
  std::string meta, data;
  ASSERT_TRUE(cache->Get(key, &meta, &data).ok());  // now in the RAM cache
  ObjectInfo info;
  ASSERT_TRUE(cache->Lookup(key, &info).ok());
  // The first Doc of a stripe follows the first aggregation write's header.
  const uint64_t first_doc_blocks = kAggHeaderBytes / kBlockBytes;
  ASSERT_EQ(info.entry.offset(), first_doc_blocks);
  // Fill the rest of the pass with Docs of the same size, so that the next
  // one wraps to the first Doc's offset (the margin is a buffer's header and
  // journal blocks).
  std::string filler;
  for (int i = 0; stripe.stats().write_pos_blocks * kBlockBytes + doc + 2048 <= stripe.layout().data_bytes; ++i) {
    Fill(100 + i, body, &filler);
    ASSERT_TRUE(cache->Put(CacheKey::Hash("filler" + std::to_string(i)), "f1", filler).ok());
  }
  ASSERT_EQ(stripe.stats().wraps, 0u);
  ASSERT_TRUE(cache->Put(key, "v2", v2).ok());
  ASSERT_EQ(stripe.stats().wraps, 1u);
  ASSERT_TRUE(cache->Lookup(key, &info).ok());
  EXPECT_EQ(info.entry.offset(), first_doc_blocks);
  ASSERT_TRUE(cache->Get(key, &meta, &data).ok());
  EXPECT_EQ(meta, "v2");
  EXPECT_TRUE(data == v2) << "served the previous version from the RAM cache";
}

}  // namespace
}  // namespace strata
