// Randomised and concurrent Directory tests: a model check against a
// std::multimap, a simulated stripe written through many wraps, and lock-free
// probes racing a writer (run under -fsanitize=thread too).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "dir/directory.h"

namespace strata {
namespace {

constexpr uint64_t kKiB = 1024, kMiB = 1024 * 1024;

CacheKey MakeKey(uint32_t segment_bits, uint32_t bucket_bits, uint16_t tag, uint64_t salt) {
  return CacheKey{(uint64_t{segment_bits} << 32) | bucket_bits,
                  (uint64_t{tag & 0xfffu} << 52) | (salt & ((1ull << 52) - 1))};
}

// 200k random inserts, removes and probes against a multimap, on a two-
// segment directory with crowded buckets and tags (many collisions, long
// chains) but room enough that nothing is evicted.
TEST(DirectoryModelTest, MatchesMultimap) {
  std::unique_ptr<Directory> d;
  ASSERT_TRUE(Directory::Create(64 * kMiB, 512, &d).ok());  // 131072 entries, 2 segments
  ASSERT_EQ(d->geometry().nsegments, 2u);
  const uint64_t L = d->geometry().data_blocks;
  ASSERT_TRUE(d->SetWritePosition(L, false).ok());

  std::mt19937_64 rng(12345);
  std::vector<CacheKey> keys;
  for (int i = 0; i < 3000; ++i) keys.push_back(MakeKey(rng() % 4, rng() % 64, rng() % 4, rng()));
  // Keys that share segment, bucket and tag are each other's candidates.
  auto cls = [&](const CacheKey& k) { return std::tuple(d->SegmentOf(k), d->BucketOf(k), k.tag()); };
  std::multimap<CacheKey, DirEntry> model;
  std::map<decltype(cls(keys[0])), std::multiset<uint64_t>> by_class;  // class -> offsets
  uint64_t next_offset = 0;
  std::vector<DirEntry> got;
  int inserts = 0, removes = 0, probes = 0, misses = 0;
  for (int op = 0; op < 200000; ++op) {
    const CacheKey& k = keys[rng() % keys.size()];
    uint32_t r = rng() % 100;
    if (r < 45 && next_offset < L) {
      DirEntry e;
      DirLocation loc{next_offset++, 512, rng() % 2 == 0, rng() % 8 == 0};
      ASSERT_TRUE(d->Insert(k, loc, &e).ok());
      model.emplace(k, e);
      by_class[cls(k)].insert(e.offset());
      ++inserts;
    } else if (r < 80) {
      auto [lo, hi] = model.equal_range(k);
      if (lo == hi) {
        DirEntry bogus;
        bogus.set_used(true);
        bogus.set_tag(k.tag());
        bogus.set_offset(L - 1);
        ASSERT_EQ(d->Remove(k, bogus).kind(), Status::Kind::kNotFound);
        ++misses;
        continue;
      }
      auto it = std::next(lo, rng() % std::distance(lo, hi));
      ASSERT_TRUE(d->Remove(k, it->second).ok());
      auto& offs = by_class[cls(k)];
      offs.erase(offs.find(it->second.offset()));
      model.erase(it);
      ++removes;
    } else {
      d->Probe(k, &got);
      const auto& offs = by_class[cls(k)];
      std::vector<uint64_t> want(offs.begin(), offs.end()), have;
      for (const DirEntry& e : got) {
        have.push_back(e.offset());
        ASSERT_EQ(e.tag(), k.tag());
      }
      std::sort(have.begin(), have.end());
      ASSERT_EQ(want, have) << "op " << op;
      ++probes;
    }
  }
  DirStats st = d->GetStats();
  EXPECT_EQ(st.used_entries, model.size());
  EXPECT_EQ(st.evictions, 0u);
  const uint64_t empty_heads = st.chain_length_histogram[0];
  EXPECT_EQ(st.free_entries + st.used_entries + empty_heads, st.total_entries);
  EXPECT_GT(inserts, 50000);
  EXPECT_GT(removes, 40000);
  EXPECT_GT(probes, 30000);
  EXPECT_GT(misses, 0);
}

// A simulated stripe written through 30 wraps with random Doc sizes. Every
// probe candidate must point at bytes still on "disk" (no stale entry ever
// looks valid, in particular not two passes later when the phase bit
// repeats), and the newest copy of every key whose bytes are intact must be
// found (invalidation never hides live data).
TEST(DirectoryWrapTest, ProbesOnlyReturnIntactDocsAcrossWraps) {
  std::unique_ptr<Directory> d;
  ASSERT_TRUE(Directory::Create(2 * kMiB, 31, &d).ok());  // 4096 blocks, 2 segments
  ASSERT_EQ(d->geometry().nsegments, 2u);
  const uint64_t L = d->geometry().data_blocks;
  std::vector<uint64_t> disk(L, 0);  // serial of the Doc that last wrote each block
  struct Written {
    uint64_t serial;
    DirEntry entry;
  };
  // entry -> (serial, exact blocks) of the Doc it was inserted for
  std::map<std::tuple<uint64_t, bool, uint16_t, uint8_t>, std::pair<uint64_t, uint64_t>> written;
  auto id = [](const DirEntry& e) { return std::tuple(e.offset(), e.phase(), e.tag(), e.size_code()); };
  std::mt19937_64 rng(99);
  std::vector<CacheKey> keys;
  for (int i = 0; i < 300; ++i) keys.push_back(MakeKey(rng() % 2, rng() % 100, rng() % 8, i));
  std::vector<std::optional<Written>> latest(keys.size());
  uint64_t w = 0, serial = 0;
  bool phase = false;
  int wraps = 0, checked = 0;
  std::vector<DirEntry> got;
  auto intact = [&](const DirEntry& e) {
    auto it = written.find(id(e));
    if (it == written.end()) return false;
    for (uint64_t b = e.offset(); b < e.offset() + it->second.second; ++b) {
      if (disk[b] != it->second.first) return false;
    }
    return true;
  };
  while (wraps < 30) {
    size_t ki = rng() % keys.size();
    uint64_t bytes = 1 + rng() % (40 * kKiB);
    uint64_t blocks = (bytes + 511) / 512;  // like the engine: no padding to the approximate size
    if (w + blocks > L) {
      // A wrap gives up the unwritten tail: its Docs are a pass old and the
      // directory declares them dead (the phase bit is about to repeat).
      std::fill(disk.begin() + w, disk.end(), 0);
      phase = !phase;
      w = 0;
      ++wraps;
      ASSERT_TRUE(d->SetWritePosition(0, phase).ok());
    }
    ASSERT_TRUE(d->CleanRange(w, blocks).ok());
    ++serial;
    for (uint64_t b = w; b < w + blocks; ++b) disk[b] = serial;
    ASSERT_TRUE(d->SetWritePosition(w + blocks, phase).ok());
    DirEntry e;
    ASSERT_TRUE(d->Insert(keys[ki], DirLocation{w, bytes, true}, &e).ok());
    written[id(e)] = {serial, blocks};
    // The engine sometimes removes the previous copy, sometimes relies on
    // invalidation to drop it.
    if (latest[ki] && rng() % 2) (void)d->Remove(keys[ki], latest[ki]->entry);
    latest[ki] = Written{serial, e};
    w += blocks;

    for (int p = 0; p < 3; ++p) {
      size_t pi = rng() % keys.size();
      d->Probe(keys[pi], &got);
      bool found_latest = false;
      for (const DirEntry& c : got) {
        ASSERT_TRUE(intact(c)) << "stale entry at " << c.offset() << " wrap " << wraps;
        if (latest[pi] && c.SameDoc(latest[pi]->entry)) found_latest = true;
        ++checked;
      }
      if (latest[pi] && intact(latest[pi]->entry)) {
        ASSERT_TRUE(found_latest) << "live entry lost, wrap " << wraps;
      }
    }
  }
  DirStats st = d->GetStats();
  EXPECT_EQ(st.evictions, 0u);
  EXPECT_GT(st.reclaimed, 1000u);  // about half the Docs die by invalidation alone
  EXPECT_GT(checked, 1000);
  // Nothing stale lingers: every entry still present is intact.
  d->ForEachEntry([&](uint32_t, uint32_t, const DirEntry& e, bool valid) {
    if (valid) {
      EXPECT_TRUE(intact(e));
    }
  });
}

// Probes from 3 threads while a writer inserts, overwrites and removes in a
// loop. Each Doc's size and flags are a function of its offset and its key,
// so a torn entry (words from two versions) would not check out.
TEST(DirectoryConcurrencyTest, ProbesSeeOnlyWholeInsertedEntries) {
  std::unique_ptr<Directory> d;
  ASSERT_TRUE(Directory::Create(1024 * kMiB, 4 * kMiB, &d).ok());  // 256 entries, 64 buckets
  const uint64_t L = d->geometry().data_blocks;
  ASSERT_TRUE(d->SetWritePosition(L, false).ok());
  std::vector<CacheKey> keys;
  for (uint32_t i = 0; i < 24; ++i) keys.push_back(MakeKey(0, i % 4, i % 3, i));  // 4 crowded buckets
  auto size_for = [](uint64_t off) { return 1 + (off * 2654435761u) % (4 * kMiB); };
  auto head_for = [](uint64_t off) { return (off >> 3) % 2 == 0; };
  auto pinned_for = [](uint64_t off) { return (off >> 4) % 3 == 0; };
  const uint64_t kStride = 8192;  // offsets are i*kStride + key index
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> probes{0}, seen{0}, bad{0};
  auto reader = [&] {
    std::vector<DirEntry> got;
    uint64_t n = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      size_t ki = n++ % keys.size();
      d->Probe(keys[ki], &got);
      for (const DirEntry& e : got) {
        uint64_t off = e.offset();
        size_t owner = off % kStride;
        bool ok = e.used() && owner < keys.size() && keys[owner].tag() == e.tag() &&
                  keys[owner].tag() == keys[ki].tag() && d->BucketOf(keys[owner]) == d->BucketOf(keys[ki]) &&
                  e.size_code() == EncodeApproxSize(size_for(off)) && e.head() == head_for(off) &&
                  e.pinned() == pinned_for(off) && !e.phase();
        if (!ok) bad.fetch_add(1);
        seen.fetch_add(1, std::memory_order_relaxed);
      }
      probes.fetch_add(1, std::memory_order_relaxed);
    }
  };
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i) readers.emplace_back(reader);

  std::mt19937_64 rng(5);
  std::vector<std::vector<DirEntry>> live(keys.size());
  uint64_t round = 1, ops = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  while (std::chrono::steady_clock::now() < deadline) {
    for (int batch = 0; batch < 64; ++batch, ++ops) {
      size_t ki = rng() % keys.size();
      uint64_t off = (round++ % ((L - 8 * 8192) / kStride)) * kStride + ki;
      DirLocation loc{off, size_for(off), head_for(off), pinned_for(off)};
      auto& lv = live[ki];
      DirEntry e;
      uint32_t r = rng() % 3;
      if (r == 0 || lv.empty()) {
        ASSERT_TRUE(d->Insert(keys[ki], loc, &e).ok());
        lv.push_back(e);
      } else if (r == 1) {
        size_t j = rng() % lv.size();
        if (d->Overwrite(keys[ki], lv[j], loc, &e).ok()) lv[j] = e;
      } else {
        size_t j = rng() % lv.size();
        (void)d->Remove(keys[ki], lv[j]);  // may have been evicted
        lv.erase(lv.begin() + j);
      }
      if (lv.size() > 20) lv.erase(lv.begin());
    }
  }
  stop.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GT(probes.load(), 100u);
  EXPECT_GT(seen.load(), 100u);
  EXPECT_GT(ops, 1000u);
}

// Position changes race probes too: a probe never returns an entry whose
// range a completed CleanRange covered.
TEST(DirectoryConcurrencyTest, CleanRangeHidesEntriesFromConcurrentProbes) {
  std::unique_ptr<Directory> d;
  ASSERT_TRUE(Directory::Create(8 * kMiB, 64 * kKiB, &d).ok());  // 16384 blocks, 128 entries
  const uint64_t L = d->geometry().data_blocks;
  ASSERT_TRUE(d->SetWritePosition(L, false).ok());
  CacheKey k = MakeKey(0, 3, 1, 1);
  for (uint64_t i = 0; i < 64; ++i) ASSERT_TRUE(d->Insert(k, DirLocation{i * 256, 512}).ok());
  ASSERT_TRUE(d->SetWritePosition(0, true).ok());
  std::atomic<uint64_t> cleaned{0};  // published after CleanRange returns
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> bad{0};
  auto reader = [&] {
    std::vector<DirEntry> got;
    while (!stop.load()) {
      uint64_t c = cleaned.load(std::memory_order_acquire);
      d->Probe(k, &got);
      for (const DirEntry& e : got) {
        if (e.offset() < c) bad.fetch_add(1);
      }
    }
  };
  std::vector<std::thread> readers;
  for (int i = 0; i < 2; ++i) readers.emplace_back(reader);
  for (uint64_t c = 0; c + 16 <= L; c += 16) {
    ASSERT_TRUE(d->CleanRange(c, 16).ok());
    cleaned.store(c + 16, std::memory_order_release);
    ASSERT_TRUE(d->SetWritePosition(c + 16, true).ok());
  }
  stop.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_EQ(d->GetStats().used_entries, 0u);
}

}  // namespace
}  // namespace strata
