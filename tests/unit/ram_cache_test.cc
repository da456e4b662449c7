#include "cache/ram_cache.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

namespace strata {
namespace {

RamKey KeyAt(uint64_t n, uint64_t offset = 0) {
  RamKey k;
  k.key = CacheKey::Hash("object-" + std::to_string(n));
  k.offset_blocks = offset;
  return k;
}

RamCache::Bytes Doc(size_t size, char fill) { return std::make_shared<const std::string>(size, fill); }

TEST(RamCacheTest, HitReturnsTheSameBytesWithoutCopying) {
  RamCache cache(1 << 20, /*admit_on_first_offer=*/true);
  RamCache::Bytes doc = Doc(1000, 'a');
  cache.Offer(KeyAt(1), doc);
  RamCache::Bytes hit = cache.Lookup(KeyAt(1));
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit.get(), doc.get());
  EXPECT_EQ(cache.stats().hits, 1u);
}

TEST(RamCacheTest, LocationIsPartOfTheKey) {
  RamCache cache(1 << 20, true);
  cache.Offer(KeyAt(1, /*offset=*/10), Doc(100, 'a'));
  EXPECT_EQ(cache.Lookup(KeyAt(1, /*offset=*/20)), nullptr);  // a newer version lives elsewhere
  EXPECT_NE(cache.Lookup(KeyAt(1, 10)), nullptr);
}

TEST(RamCacheTest, SecondHitAdmission) {
  RamCache cache(1 << 20);
  cache.Offer(KeyAt(7), Doc(100, 'x'));
  EXPECT_EQ(cache.Lookup(KeyAt(7)), nullptr) << "a single offer must not admit";
  cache.Offer(KeyAt(7), Doc(100, 'x'));
  EXPECT_NE(cache.Lookup(KeyAt(7)), nullptr);
  EXPECT_EQ(cache.stats().rejected, 1u);
  EXPECT_EQ(cache.stats().admitted, 1u);
}

TEST(RamCacheTest, StaysWithinCapacityAndEvictsLeastRecentlyUsed) {
  const size_t capacity = 16 * 64 * 1024;  // 16 shards of 64 KB
  RamCache cache(capacity, true);
  for (uint64_t i = 0; i < 2000; ++i) {
    cache.Offer(KeyAt(i), Doc(4096, 'z'));
    // Keep object 0 hot: it must survive the churn.
    ASSERT_NE(cache.Lookup(KeyAt(0)), nullptr) << i;
  }
  RamCache::Stats stats = cache.stats();
  EXPECT_LE(stats.bytes, capacity);
  EXPECT_GT(stats.evicted, 0u);
  EXPECT_EQ(cache.Lookup(KeyAt(1)), nullptr);  // cold and old: evicted
}

TEST(RamCacheTest, EraseAndZeroCapacity) {
  RamCache cache(1 << 20, true);
  cache.Offer(KeyAt(3), Doc(10, 'q'));
  cache.Erase(KeyAt(3));
  EXPECT_EQ(cache.Lookup(KeyAt(3)), nullptr);
  RamCache off(0, true);
  off.Offer(KeyAt(3), Doc(10, 'q'));
  EXPECT_EQ(off.Lookup(KeyAt(3)), nullptr);
}

TEST(RamCacheTest, ConcurrentUseKeepsAccounting) {
  RamCache cache(1 << 20, true);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (uint64_t i = 0; i < 5000; ++i) {
        cache.Offer(KeyAt(i % 300 + t * 1000), Doc(512, 'c'));
        RamCache::Bytes b = cache.Lookup(KeyAt(i % 300 + t * 1000));
        if (b != nullptr) {
          ASSERT_EQ(b->size(), 512u);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  RamCache::Stats stats = cache.stats();
  EXPECT_EQ(stats.bytes, stats.entries * 512);
  EXPECT_LE(stats.bytes, size_t{1} << 20);
}

}  // namespace
}  // namespace strata
