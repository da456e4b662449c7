#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "dir/directory.h"

namespace strata {
namespace {

constexpr uint64_t kKiB = 1024, kMiB = 1024 * 1024;

// A key whose segment, bucket and tag bits are chosen; salt varies the rest.
CacheKey MakeKey(uint32_t segment_bits, uint32_t bucket_bits, uint16_t tag, uint64_t salt) {
  return CacheKey{(uint64_t{segment_bits} << 32) | bucket_bits,
                  (uint64_t{tag & 0xfffu} << 52) | (salt & ((1ull << 52) - 1))};
}

std::unique_ptr<Directory> MakeDir(uint64_t data_bytes, uint64_t avg) {
  std::unique_ptr<Directory> d;
  EXPECT_TRUE(Directory::Create(data_bytes, avg, &d).ok());
  return d;
}

// A directory whose whole data area counts as written in phase 0.
std::unique_ptr<Directory> WrittenDir(uint64_t data_bytes, uint64_t avg) {
  auto d = MakeDir(data_bytes, avg);
  EXPECT_TRUE(d->SetWritePosition(d->geometry().data_blocks, false).ok());
  return d;
}

std::vector<DirEntry> ProbeAll(const Directory& d, const CacheKey& k) {
  std::vector<DirEntry> out;
  d.Probe(k, &out);
  return out;
}

TEST(DirGeometryTest, SizesAndLimits) {
  DirGeometry g;
  ASSERT_TRUE(DirGeometry::Compute(512, 8000, &g).ok());  // minimum: one bucket
  EXPECT_EQ(g.nsegments, 1u);
  EXPECT_EQ(g.buckets_per_segment, 1u);
  EXPECT_EQ(g.data_blocks, 1u);

  ASSERT_TRUE(DirGeometry::Compute(1 * kMiB, 8000, &g).ok());  // 131 entries -> 33 buckets
  EXPECT_EQ(g.nsegments, 1u);
  EXPECT_EQ(g.buckets_per_segment, 33u);
  EXPECT_EQ(g.entries_per_segment(), 132u);

  ASSERT_TRUE(DirGeometry::Compute(512 * kMiB, 8192, &g).ok());  // exactly one full segment
  EXPECT_EQ(g.nsegments, 1u);
  EXPECT_EQ(g.entries_per_segment(), 65536u);
  ASSERT_TRUE(DirGeometry::Compute(512 * kMiB + 8192, 8192, &g).ok());  // one more entry: two segments
  EXPECT_EQ(g.nsegments, 2u);
  EXPECT_EQ(g.buckets_per_segment, 8193u);

  ASSERT_TRUE(DirGeometry::Compute(1024 * kMiB, 8000, &g).ok());  // 134217 entries, as ATS
  EXPECT_EQ(g.nsegments, 3u);
  EXPECT_EQ(g.buckets_per_segment, 11185u);
  EXPECT_GE(g.total_entries(), 134217u);

  ASSERT_TRUE(DirGeometry::Compute(1ull << 40, 8192, &g).ok());  // 1 TiB at 8 KiB: 2^27 entries
  EXPECT_EQ(g.nsegments, 2048u);
  EXPECT_EQ(g.buckets_per_segment, 16384u);
  EXPECT_EQ(g.total_entries() * sizeof(DirEntry), 1342177280u);  // 1.34 GB of RAM

  ASSERT_TRUE(DirGeometry::Compute(512ull << 40, 1ull << 20, &g).ok());  // the largest stripe
  EXPECT_EQ(g.data_blocks, 1ull << 40);

  EXPECT_FALSE(DirGeometry::Compute(1 * kMiB, 0, &g).ok());
  EXPECT_FALSE(DirGeometry::Compute(511, 8000, &g).ok());
  EXPECT_FALSE(DirGeometry::Compute((512ull << 40) + 512, 8000, &g).ok());
}

TEST(DirGeometryTest, KeyBitsPickSegmentBucketTag) {
  auto d = MakeDir(1024 * kMiB, 8000);  // 3 segments of 11185 buckets
  CacheKey k = MakeKey(7, 11186, 0xabc, 1);
  EXPECT_EQ(d->SegmentOf(k), 1u);
  EXPECT_EQ(d->BucketOf(k), 1u);
  EXPECT_EQ(k.tag(), 0xabc);
}

TEST(DirectoryTest, InsertProbeRemove) {
  auto d = WrittenDir(64 * kMiB, 64 * kKiB);
  CacheKey k = CacheKey::Hash("http://example.com/a");
  DirEntry e;
  ASSERT_TRUE(d->Insert(k, DirLocation{100, 4000, true, false}, &e).ok());
  auto got = ProbeAll(*d, k);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].offset(), 100u);
  EXPECT_EQ(got[0].approx_size_bytes(), 4096u);
  EXPECT_EQ(got[0].tag(), k.tag());
  EXPECT_TRUE(got[0].head());
  EXPECT_FALSE(got[0].pinned());
  EXPECT_FALSE(got[0].phase());
  EXPECT_TRUE(got[0].SameDoc(e));
  EXPECT_TRUE(d->IsValid(e));
  EXPECT_TRUE(ProbeAll(*d, CacheKey::Hash("http://example.com/b")).empty());

  ASSERT_TRUE(d->Remove(k, e).ok());
  EXPECT_TRUE(ProbeAll(*d, k).empty());
  EXPECT_EQ(d->Remove(k, e).kind(), Status::Kind::kNotFound);
  DirStats st = d->GetStats();
  EXPECT_EQ(st.used_entries, 0u);
  EXPECT_EQ(st.inserts, 1u);
  EXPECT_EQ(st.removes, 1u);
  EXPECT_EQ(st.free_entries, st.total_entries * 3 / 4);
}

TEST(DirectoryTest, InsertRejectsWhatWouldBeInvalid) {
  auto d = MakeDir(64 * kMiB, 64 * kKiB);
  ASSERT_TRUE(d->SetWritePosition(1000, false).ok());
  ASSERT_TRUE(d->CleanRange(1000, 1000).ok());  // [1000, 2000) being written
  CacheKey k = CacheKey::Hash("k");
  EXPECT_TRUE(d->Insert(k, DirLocation{992, 4096}).ok());  // ends exactly at write_pos
  EXPECT_EQ(d->Insert(k, DirLocation{993, 4096}).kind(), Status::Kind::kInvalidArgument);
  EXPECT_EQ(d->Insert(k, DirLocation{1500, 512}).kind(), Status::Kind::kInvalidArgument);
  DirEntry old;
  ASSERT_TRUE(d->Insert(k, DirLocation{2000, 512}, &old).ok());  // recovery: previous pass
  EXPECT_TRUE(old.phase());
  EXPECT_EQ(d->Insert(k, DirLocation{0, kDirMaxApproxSizeBytes + 1}).kind(), Status::Kind::kInvalidArgument);
  uint64_t end = d->geometry().data_blocks;
  EXPECT_EQ(d->Insert(k, DirLocation{end - 1, 1024}).kind(), Status::Kind::kInvalidArgument);
  EXPECT_EQ(ProbeAll(*d, k).size(), 2u);
}

// The engine places Docs back to back at their exact size; the newest one
// must be visible although its approximate size runs past write_pos.
TEST(DirectoryTest, NewestUnpaddedDocIsVisible) {
  auto d = MakeDir(64 * kMiB, 64 * kKiB);
  ASSERT_TRUE(d->CleanRange(0, 200).ok());
  ASSERT_TRUE(d->SetWritePosition(66, false).ok());  // a 33 KiB Doc at 0
  CacheKey k = CacheKey::Hash("k");
  DirEntry e;
  ASSERT_TRUE(d->Insert(k, DirLocation{0, 33 * kKiB, true}, &e).ok());
  EXPECT_EQ(e.approx_size_blocks(), 72u);
  EXPECT_EQ(ProbeAll(*d, k).size(), 1u);
  EXPECT_EQ(d->Insert(k, DirLocation{0, 33 * kKiB + 1}).kind(), Status::Kind::kInvalidArgument);
}

TEST(DirectoryTest, TagCollisionsAreAllCandidates) {
  auto d = WrittenDir(64 * kMiB, 64 * kKiB);
  CacheKey a = MakeKey(1, 5, 0x123, 1), b = MakeKey(1, 5, 0x123, 2), c = MakeKey(1, 5, 0x124, 3);
  ASSERT_NE(a, b);
  ASSERT_TRUE(d->Insert(a, DirLocation{10, 512, true}).ok());
  ASSERT_TRUE(d->Insert(b, DirLocation{20, 512, true}).ok());
  ASSERT_TRUE(d->Insert(c, DirLocation{30, 512, true}).ok());
  std::set<uint64_t> offs;
  for (const DirEntry& e : ProbeAll(*d, a)) offs.insert(e.offset());
  EXPECT_EQ(offs, (std::set<uint64_t>{10, 20}));
  EXPECT_EQ(ProbeAll(*d, b).size(), 2u);  // the full key in the Doc decides
  ASSERT_EQ(ProbeAll(*d, c).size(), 1u);
  EXPECT_EQ(ProbeAll(*d, c)[0].offset(), 30u);
}

TEST(DirectoryTest, ChainsLongerThanABucketBorrowFreeEntries) {
  auto d = WrittenDir(64 * kMiB, 64 * kKiB);  // 1024 entries, 256 buckets
  std::vector<CacheKey> keys;
  std::vector<DirEntry> ents;
  for (uint16_t i = 0; i < 10; ++i) {
    keys.push_back(MakeKey(0, 42, i, i));
    DirEntry e;
    ASSERT_TRUE(d->Insert(keys.back(), DirLocation{uint64_t{i} * 8, 1000, i % 2 == 0}, &e).ok());
    ents.push_back(e);
  }
  DirStats st = d->GetStats();
  EXPECT_EQ(st.used_entries, 10u);
  EXPECT_EQ(st.head_entries, 5u);
  EXPECT_EQ(st.chain_length_histogram[10], 1u);
  EXPECT_EQ(st.chain_length_histogram[0], 255u);
  EXPECT_EQ(st.free_entries, 768u - 9);
  for (int i = 0; i < 10; ++i) {
    auto got = ProbeAll(*d, keys[i]);
    ASSERT_EQ(got.size(), 1u) << i;
    EXPECT_EQ(got[0].offset(), uint64_t(i) * 8);
  }
  // Remove the head, a middle entry and the entry the head links to.
  ASSERT_TRUE(d->Remove(keys[0], ents[0]).ok());
  ASSERT_TRUE(d->Remove(keys[5], ents[5]).ok());
  ASSERT_TRUE(d->Remove(keys[9], ents[9]).ok());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(ProbeAll(*d, keys[i]).size(), (i == 0 || i == 5 || i == 9) ? 0u : 1u) << i;
  st = d->GetStats();
  EXPECT_EQ(st.used_entries, 7u);
  EXPECT_EQ(st.chain_length_histogram[7], 1u);
  EXPECT_EQ(st.free_entries, 768u - 6);
}

TEST(DirectoryTest, OverwriteReplacesInPlace) {
  auto d = WrittenDir(64 * kMiB, 64 * kKiB);
  CacheKey k = CacheKey::Hash("k");
  DirEntry old, now;
  ASSERT_TRUE(d->Insert(k, DirLocation{10, 512, true}, &old).ok());
  ASSERT_TRUE(d->Overwrite(k, old, DirLocation{50, 9000, true, true}, &now).ok());
  auto got = ProbeAll(*d, k);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].offset(), 50u);
  EXPECT_TRUE(got[0].pinned());
  EXPECT_EQ(d->Overwrite(k, old, DirLocation{60, 512}).kind(), Status::Kind::kNotFound);
  EXPECT_EQ(d->GetStats().used_entries, 1u);
}

// One bucket of 4 entries: every insert past 4 must evict.
TEST(DirectoryTest, EvictionPrefersOldestUnpinned) {
  auto d = WrittenDir(4 * 64 * kKiB, 64 * kKiB);
  ASSERT_EQ(d->geometry().total_entries(), 4u);
  CacheKey k = CacheKey::Hash("k");
  // Offsets 10, 20, 30 pinned; 40 not: 40 is the newest but the only victim.
  for (uint64_t off : {10, 20, 30, 40}) ASSERT_TRUE(d->Insert(k, DirLocation{off, 512, true, off != 40}).ok());
  ASSERT_TRUE(d->Insert(k, DirLocation{50, 512, true, true}).ok());
  std::set<uint64_t> offs;
  for (const DirEntry& e : ProbeAll(*d, k)) offs.insert(e.offset());
  EXPECT_EQ(offs, (std::set<uint64_t>{10, 20, 30, 50}));
  // All pinned: the oldest (closest ahead of the write cursor) goes.
  ASSERT_TRUE(d->Insert(k, DirLocation{60, 512}).ok());
  offs.clear();
  for (const DirEntry& e : ProbeAll(*d, k)) offs.insert(e.offset());
  EXPECT_EQ(offs, (std::set<uint64_t>{20, 30, 50, 60}));
  EXPECT_EQ(d->GetStats().evictions, 2u);
}

// A full segment, random keys: each eviction takes the oldest entry of the
// target bucket (here: the lowest offset), and victims spread over slots.
TEST(DirectoryTest, EvictionVictimsVary) {
  auto d = WrittenDir(16 * kMiB, 256 * kKiB);  // 64 entries, 16 buckets
  ASSERT_EQ(d->geometry().total_entries(), 64u);
  std::mt19937_64 rng(7);
  std::vector<uint64_t> offsets(d->geometry().data_blocks - 1);
  for (size_t i = 0; i < offsets.size(); ++i) offsets[i] = i;
  std::shuffle(offsets.begin(), offsets.end(), rng);
  std::map<uint64_t, uint32_t> bucket_of;  // offset -> bucket of its key
  std::map<uint32_t, int> victim_slots;
  uint64_t evictions = 0;
  for (size_t n = 0; n < 2000; ++n) {
    CacheKey k{rng(), rng()};
    std::map<uint64_t, uint32_t> before;  // offset -> slot
    d->ForEachEntry([&](uint32_t, uint32_t index, const DirEntry& e, bool) { before[e.offset()] = index; });
    ASSERT_TRUE(d->Insert(k, DirLocation{offsets[n], 512, true}).ok());
    bucket_of[offsets[n]] = d->BucketOf(k);
    uint64_t ev = d->GetStats().evictions;
    if (ev == evictions) continue;
    evictions = ev;
    std::set<uint64_t> after;
    d->ForEachEntry([&](uint32_t, uint32_t, const DirEntry& e, bool) { after.insert(e.offset()); });
    std::vector<uint64_t> gone;
    uint64_t oldest_in_bucket = UINT64_MAX;
    for (const auto& [off, index] : before) {
      if (!after.count(off)) gone.push_back(off);
      if (bucket_of[off] == d->BucketOf(k)) oldest_in_bucket = std::min(oldest_in_bucket, off);
    }
    ASSERT_EQ(gone.size(), 1u);
    EXPECT_EQ(gone[0], oldest_in_bucket);
    ++victim_slots[before[gone[0]]];
  }
  EXPECT_GT(evictions, 1500u);
  EXPECT_GT(victim_slots.size(), 40u) << "victims concentrate on few slots";
  int most = 0;
  for (const auto& [slot, count] : victim_slots) most = std::max(most, count);
  EXPECT_LT(most, static_cast<int>(evictions / 10));
}

TEST(DirectoryTest, FullSegmentReclaimsInvalidBeforeEvicting) {
  auto d = MakeDir(4 * 64 * kKiB, 64 * kKiB);  // 4 entries, 512 blocks
  ASSERT_TRUE(d->SetWritePosition(400, false).ok());
  CacheKey k = CacheKey::Hash("k");
  for (uint64_t off : {0, 100, 200, 300}) ASSERT_TRUE(d->Insert(k, DirLocation{off, 512}).ok());
  // Wrap and overwrite [0, 150): entries at 0 and 100 die.
  ASSERT_TRUE(d->SetWritePosition(0, true).ok());
  EXPECT_EQ(ProbeAll(*d, k).size(), 4u);
  ASSERT_TRUE(d->CleanRange(0, 150).ok());
  EXPECT_EQ(ProbeAll(*d, k).size(), 2u);
  ASSERT_TRUE(d->SetWritePosition(150, true).ok());
  ASSERT_TRUE(d->Insert(k, DirLocation{0, 512}).ok());
  ASSERT_TRUE(d->Insert(k, DirLocation{1, 512}).ok());
  EXPECT_EQ(ProbeAll(*d, k).size(), 4u);
  DirStats st = d->GetStats();
  EXPECT_EQ(st.evictions, 0u);
  EXPECT_EQ(st.reclaimed, 2u);
}

TEST(DirectoryTest, WrapInvalidatesAndCleanRangeFrees) {
  auto d = MakeDir(1 * kMiB, 2 * kKiB);  // 2048 blocks, 512 entries, one segment
  const uint64_t L = d->geometry().data_blocks;
  std::vector<CacheKey> keys;
  uint64_t w = 0;
  for (int i = 0; w + 8 <= L; ++i, w += 8) {  // fill the stripe with 4 KiB Docs
    keys.push_back(CacheKey::Hash("obj" + std::to_string(i)));
    ASSERT_TRUE(d->CleanRange(w, 8).ok());
    ASSERT_TRUE(d->SetWritePosition(w + 8, false).ok());
    ASSERT_TRUE(d->Insert(keys.back(), DirLocation{w, 4096, true}).ok());
  }
  EXPECT_EQ(d->GetStats().used_entries, keys.size());
  ASSERT_TRUE(d->SetWritePosition(0, true).ok());  // wrap: all still valid
  for (const auto& k : keys) ASSERT_EQ(ProbeAll(*d, k).size(), 1u);
  ASSERT_TRUE(d->CleanRange(0, 80).ok());  // about to overwrite 10 Docs
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(ProbeAll(*d, keys[i]).size(), i < 10 ? 0u : 1u) << i;
  // Hidden at once; their space comes back when the advance has paid for a
  // sweep of the segment (or when the segment fills: reclaim before evict).
  EXPECT_EQ(d->GetStats().used_entries, keys.size());
  // Writing further without CleanRange still hides what it passes.
  ASSERT_TRUE(d->SetWritePosition(160, true).ok());
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(ProbeAll(*d, keys[i]).size(), i < 20 ? 0u : 1u) << i;
  EXPECT_FALSE(d->SetWritePosition(100, true).ok());  // backwards
  EXPECT_FALSE(d->SetWritePosition(5, false).ok());   // a wrap restarts at 0
  EXPECT_FALSE(d->CleanRange(100, 10).ok());          // behind the cursor
  EXPECT_FALSE(d->CleanRange(L - 1, 2).ok());         // past the end
}

TEST(DirectoryTest, CleanRangeSweepsAProportionalSlice) {
  auto d = MakeDir(4 * kMiB, 16);  // 8192 blocks, 4 segments
  ASSERT_EQ(d->geometry().nsegments, 4u);
  ASSERT_TRUE(d->CleanRange(0, 1).ok());  // tiny: a fraction of a segment, carried
  EXPECT_EQ(d->GetStats().segments_swept, 0u);
  ASSERT_TRUE(d->CleanRange(1, 4096).ok());  // half the stripe (+ the carried fraction): 2 segments
  EXPECT_EQ(d->GetStats().segments_swept, 2u);
  ASSERT_TRUE(d->SetWritePosition(0, true).ok());  // wrap cleans the tail: 4095 blocks + the fraction = 2
  EXPECT_EQ(d->GetStats().segments_swept, 2u + 2);
  ASSERT_TRUE(d->CleanRange(0, 8192).ok());  // a whole pass at once: every segment
  EXPECT_EQ(d->GetStats().segments_swept, 4u + 4);
  // Many small advances add up to the same: one pass in 8-block steps sweeps
  // every segment once.
  ASSERT_TRUE(d->SetWritePosition(0, false).ok());
  uint64_t before = d->GetStats().segments_swept;
  for (uint64_t w = 0; w < 8192; w += 8) ASSERT_TRUE(d->CleanRange(w, 8).ok());
  EXPECT_EQ(d->GetStats().segments_swept, before + 4);
}

TEST(DirectoryTest, SnapshotRoundTripAndCorruption) {
  auto d = WrittenDir(64 * kMiB, 64 * kKiB);
  std::vector<CacheKey> keys;
  for (int i = 0; i < 300; ++i) {
    keys.push_back(MakeKey(0, i % 7, i % 5, i));
    ASSERT_TRUE(d->Insert(keys.back(), DirLocation{uint64_t(i), 512, true}).ok());
  }
  std::vector<uint16_t> words(d->segment_word_count());
  d->CopySegmentWords(0, words.data());
  EXPECT_TRUE(std::equal(words.begin(), words.end(), d->segment_words(0)));

  auto r = MakeDir(64 * kMiB, 64 * kKiB);
  ASSERT_TRUE(r->RestoreSegment(0, words.data(), words.size()).ok());
  ASSERT_TRUE(r->RestorePosition(d->position()).ok());
  for (const auto& k : keys) {
    auto a = ProbeAll(*d, k), b = ProbeAll(*r, k);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(a[i].SameDoc(b[i]));
  }
  DirStats sd = d->GetStats(), sr = r->GetStats();
  EXPECT_EQ(sd.used_entries, sr.used_entries);
  EXPECT_EQ(sd.free_entries, sr.free_entries);
  // The restored freelist works: keep inserting until full.
  for (int i = 0; i < 700; ++i) ASSERT_TRUE(r->Insert(MakeKey(0, i, 1, i), DirLocation{uint64_t(i), 512}).ok());
  EXPECT_EQ(r->GetStats().evictions, 0u);

  // A loop in bucket 0's chain is refused and leaves the segment alone.
  std::vector<uint16_t> bad = words;
  uint16_t second = bad[0 * 5 + 3];
  ASSERT_NE(second, 0);
  bad[second * 5 + 3] = second;
  EXPECT_EQ(r->RestoreSegment(0, bad.data(), bad.size()).kind(), Status::Kind::kCorruption);
  EXPECT_EQ(r->GetStats().used_entries, 1000u);
  EXPECT_FALSE(r->RestoreSegment(0, words.data(), words.size() - 1).ok());
  EXPECT_FALSE(r->RestorePosition(DirPosition{10, 5, false}).ok());
}

}  // namespace
}  // namespace strata
