// Crash recovery of the storage engine: snapshots, the journal written with
// every aggregation write, and spans that fail.
//
// A crash is simulated in-process: every write through the FaultInjectionEnv
// fails from the moment of the "crash", then the Cache is destroyed (its
// clean-shutdown writes fail and change nothing) and the span reopened. What
// is on disk is then exactly what a killed process would have left. The
// out-of-process kill -9 loop is tests/integration/test_crash_recovery.py.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "cache/cache.h"
#include "common/fault_env.h"
#include "tests/unit/test_support.h"

namespace strata {
namespace {

using test_support::Bytes;
using test_support::TempDir;

CacheKey Key(const std::string& name) { return CacheKey::Hash("http://recovery/" + name); }

// Sizes cross the fragment size (64 KB) now and then.
std::string BodyFor(int i) { return Bytes(i % 7 == 0 ? 150000 + i : 1000 + 37 * i, 1000 + i); }

class RecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override { AddSpan(32 << 20); }

  void AddSpan(uint64_t bytes) {
    SpanConfig span;
    span.path = dir_.path() + "/span" + std::to_string(options_.spans.size());
    span.size_bytes = bytes;
    options_.spans.push_back(span);
    options_.layout.average_object_bytes = 4096;
    options_.stripe.agg_buffer_bytes = 1 << 20;
    options_.stripe.flush_delay = std::chrono::hours(1);        // only size and Flush() seal buffers
    options_.snapshot_interval = std::chrono::milliseconds(0);  // only when the test asks
    options_.fragment_bytes = 64 << 10;
    options_.ram_cache_bytes = 0;
    options_.io_threads = 2;
    options_.env = &env_;
  }

  Status Open() { return Cache::Open(options_, &cache_); }

  // The process dies: nothing more reaches the disk.
  void Crash() {
    env_.FailWrites({});
    cache_.reset();
    env_.ClearFaults();
  }

  void Put(int i) { ASSERT_TRUE(cache_->Put(Key(std::to_string(i)), "meta" + std::to_string(i), BodyFor(i)).ok()); }

  // OK and byte-exact, NotFound, or a failure naming what was wrong.
  Status::Kind Check(int i) {
    std::string meta, body;
    Status s = cache_->Get(Key(std::to_string(i)), &meta, &body);
    if (s.ok()) {
      EXPECT_EQ(meta, "meta" + std::to_string(i));
      EXPECT_TRUE(body == BodyFor(i)) << "object " << i << " served with wrong bytes";
    }
    return s.kind();
  }

  void FlipByte(uint64_t offset) {
    std::fstream f(options_.spans[0].path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    char c;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5a);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(&c, 1);
  }

  TempDir dir_;
  FaultInjectionEnv env_;
  CacheOptions options_;
  std::unique_ptr<Cache> cache_;
};

TEST_F(RecoveryTest, ObjectsFlushedAfterTheLastSnapshotSurviveACrash) {
  ASSERT_TRUE(Open().ok());
  for (int i = 0; i < 60; ++i) Put(i);
  ASSERT_TRUE(cache_->Flush().ok());
  Crash();
  ASSERT_TRUE(Open().ok());
  for (int i = 0; i < 60; ++i) EXPECT_EQ(Check(i), Status::Kind::kOk) << i;
  EXPECT_GT(cache_->stats().recovery_writes_replayed, 0u);
  EXPECT_EQ(cache_->stats().recovery_records_rejected, 0u);
}

TEST_F(RecoveryTest, RemovesAreJournaledSoAPurgedObjectStaysGone) {
  ASSERT_TRUE(Open().ok());
  for (int i = 0; i < 30; ++i) Put(i);
  ASSERT_TRUE(cache_->Snapshot().ok());  // the removes come after the snapshot
  for (int i = 0; i < 30; i += 2) ASSERT_TRUE(cache_->Remove(Key(std::to_string(i))).ok());
  ASSERT_TRUE(cache_->Flush().ok());  // a journal-only write carries them
  Crash();
  ASSERT_TRUE(Open().ok());
  for (int i = 0; i < 30; ++i) EXPECT_EQ(Check(i), i % 2 == 0 ? Status::Kind::kNotFound : Status::Kind::kOk) << i;
}

TEST_F(RecoveryTest, WhatWasNotFlushedIsLostWhole) {
  ASSERT_TRUE(Open().ok());
  for (int i = 0; i < 20; ++i) Put(i);
  ASSERT_TRUE(cache_->Flush().ok());
  for (int i = 20; i < 25; ++i) Put(i);  // still in the aggregation buffer
  Crash();
  ASSERT_TRUE(Open().ok());
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Check(i), Status::Kind::kOk) << i;
  for (int i = 20; i < 25; ++i) EXPECT_EQ(Check(i), Status::Kind::kNotFound) << i;
}

TEST_F(RecoveryTest, CleanRestartReplaysNothing) {
  ASSERT_TRUE(Open().ok());
  for (int i = 0; i < 20; ++i) Put(i);
  cache_.reset();
  ASSERT_TRUE(Open().ok());
  EXPECT_EQ(cache_->stats().recovery_writes_replayed, 0u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Check(i), Status::Kind::kOk) << i;
}

TEST_F(RecoveryTest, SnapshotInterruptedHalfwayLeavesTheOtherCopyAndTheJournal) {
  // A directory of 2.5 MB, so a snapshot takes several writes.
  options_.spans.clear();
  AddSpan(128 << 20);
  options_.layout.average_object_bytes = 512;
  ASSERT_TRUE(Open().ok());  // snapshot 1 (empty) goes to copy A at open
  for (int i = 0; i < 20; ++i) Put(i);
  ASSERT_TRUE(cache_->Snapshot().ok());  // snapshot 2: copy B
  for (int i = 20; i < 40; ++i) Put(i);
  ASSERT_TRUE(cache_->Flush().ok());
  // Snapshot 3 (copy A) dies after its first write.
  env_.FailWrites({options_.spans[0].path, /*after=*/1});
  EXPECT_FALSE(cache_->Snapshot().ok());
  Crash();
  ASSERT_TRUE(Open().ok());
  // Copy B (serial 2) and the journal after it.
  EXPECT_EQ(cache_->stats().recovery_snapshot_copies_bad, 0u);
  EXPECT_GT(cache_->stats().recovery_writes_replayed, 0u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(Check(i), Status::Kind::kOk) << i;
}

TEST_F(RecoveryTest, InterruptedSnapshotIsDetectedWhenTheOtherCopyIsDamagedToo) {
  options_.spans.clear();
  AddSpan(128 << 20);
  options_.layout.average_object_bytes = 512;
  ASSERT_TRUE(Open().ok());  // snapshot 1: copy A
  for (int i = 0; i < 20; ++i) Put(i);
  ASSERT_TRUE(cache_->Snapshot().ok());  // snapshot 2: copy B
  for (int i = 20; i < 40; ++i) Put(i);
  ASSERT_TRUE(cache_->Flush().ok());
  env_.FailWrites({options_.spans[0].path, /*after=*/1});  // snapshot 3 tears copy A
  EXPECT_FALSE(cache_->Snapshot().ok());
  const StripeLayout layout = cache_->stripe(0).layout();
  Crash();
  FlipByte(layout.dir_b_offset + kDirCopyHeaderBytes + 3);
  ASSERT_TRUE(Open().ok());
  // Neither copy is usable (A's header is intact but its body is half new):
  // the whole chain since the stripe was initialised is replayed.
  EXPECT_EQ(cache_->stats().recovery_snapshot_copies_bad, 2u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(Check(i), Status::Kind::kOk) << i;
}

TEST_F(RecoveryTest, DamagedNewestCopyFallsBackToTheOlderOneAndTheLongerJournal) {
  ASSERT_TRUE(Open().ok());  // snapshot 1: copy A, empty
  for (int i = 0; i < 20; ++i) Put(i);
  ASSERT_TRUE(cache_->Snapshot().ok());  // snapshot 2: copy B
  for (int i = 20; i < 40; ++i) Put(i);
  ASSERT_TRUE(cache_->Flush().ok());
  const StripeLayout layout = cache_->stripe(0).layout();
  Crash();
  FlipByte(layout.dir_b_offset + kDirCopyHeaderBytes + 3);  // copy B's body
  ASSERT_TRUE(Open().ok());
  EXPECT_EQ(cache_->stats().recovery_snapshot_copies_bad, 1u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(Check(i), Status::Kind::kOk) << i;
}

TEST_F(RecoveryTest, WithBothCopiesGoneTheChainFromTheStartStillRecovers) {
  ASSERT_TRUE(Open().ok());
  for (int i = 0; i < 30; ++i) Put(i);
  ASSERT_TRUE(cache_->Flush().ok());
  const StripeLayout layout = cache_->stripe(0).layout();
  Crash();
  FlipByte(layout.dir_a_offset + 9);  // both headers
  FlipByte(layout.dir_b_offset + 9);
  ASSERT_TRUE(Open().ok());
  for (int i = 0; i < 30; ++i) EXPECT_EQ(Check(i), Status::Kind::kOk) << i;
}

TEST_F(RecoveryTest, TornJournalEndsTheChainThere) {
  ASSERT_TRUE(Open().ok());
  for (int i = 0; i < 10; ++i) Put(i);
  ASSERT_TRUE(cache_->Flush().ok());
  const uint64_t first_end = cache_->stripe(0).stats().write_pos_blocks;
  for (int i = 10; i < 20; ++i) Put(i);
  ASSERT_TRUE(cache_->Flush().ok());
  const StripeLayout layout = cache_->stripe(0).layout();
  Crash();
  // The second write's header: the chain ends after the first.
  FlipByte(layout.data_offset + first_end * kBlockBytes + 20);
  ASSERT_TRUE(Open().ok());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Check(i), Status::Kind::kOk) << i;
  for (int i = 10; i < 20; ++i) EXPECT_EQ(Check(i), Status::Kind::kNotFound) << i;
}

TEST_F(RecoveryTest, WrapsSnapshotsAndCrashesNeverServeWrongBytes) {
  options_.spans.clear();
  AddSpan(12 << 20);
  ASSERT_TRUE(Open().ok());
  int next = 0;
  for (int round = 0; round < 6; ++round) {
    for (int k = 0; k < 150; ++k) Put(next++);  // about 3 MB a round: the stripe wraps
    if (round % 2 == 0) {
      ASSERT_TRUE(cache_->Snapshot().ok());
    }
    for (int k = 0; k < 20; ++k) Put(next++);
    ASSERT_TRUE(cache_->Flush().ok());
    Crash();
    ASSERT_TRUE(Open().ok());
    int found = 0;
    for (int i = 0; i < next; ++i) found += Check(i) == Status::Kind::kOk;
    // The newest objects cannot have been overwritten yet.
    for (int i = next - 10; i < next; ++i) EXPECT_EQ(Check(i), Status::Kind::kOk) << "round " << round << " " << i;
    EXPECT_GT(found, 10);
  }
  int found = 0;
  for (int i = 0; i < next; ++i) found += Check(i) == Status::Kind::kOk;
  EXPECT_LT(found, next);  // early objects were overwritten by the wraps
}

TEST_F(RecoveryTest, IoErrorOnOneSpanTakesItOfflineAndTheOtherServes) {
  AddSpan(32 << 20);
  ASSERT_TRUE(Open().ok());
  ASSERT_EQ(cache_->stripe_count(), 2u);
  std::map<int, uint32_t> stripe_of;
  for (int i = 0; i < 80; ++i) {
    Put(i);
    stripe_of[i] = cache_->StripeFor(Key(std::to_string(i))).id();
  }
  ASSERT_TRUE(cache_->Flush().ok());
  const std::string bad = options_.spans[1].path;
  env_.FailReads({bad});
  env_.FailWrites({bad});
  int served = 0, missed = 0;
  for (int i = 0; i < 80; ++i) {
    Status::Kind kind = Check(i);
    if (i % 7 == 0) continue;  // fragmented: its fragments may be on either span
    if (stripe_of[i] == 0) {
      EXPECT_EQ(kind, Status::Kind::kOk) << i;
      ++served;
    } else {
      EXPECT_EQ(kind, Status::Kind::kNotFound) << i;
      ++missed;
    }
  }
  EXPECT_GT(served, 0);
  EXPECT_GT(missed, 0);
  EXPECT_TRUE(cache_->stripe(1).offline());
  EXPECT_FALSE(cache_->stripe(0).offline());
  EXPECT_EQ(cache_->stats().spans_offline, 1u);
  // Writes go on for the healthy span and fail cleanly for the other.
  for (int i = 100; i < 140; ++i) {
    if (i % 7 == 0) continue;
    Status s = cache_->Put(Key(std::to_string(i)), "m", BodyFor(i));
    EXPECT_EQ(s.ok(), cache_->StripeFor(Key(std::to_string(i))).id() == 0) << i << " " << s.ToString();
  }
  env_.ClearFaults();
}

TEST_F(RecoveryTest, ASpanThatCannotBeOpenedIsOfflineAndTheCacheStarts) {
  SpanConfig broken;
  std::ofstream(dir_.path() + "/not_a_dir") << "x";
  broken.path = dir_.path() + "/not_a_dir/span";
  broken.size_bytes = 32 << 20;
  options_.spans.push_back(broken);
  ASSERT_TRUE(Open().ok());
  EXPECT_EQ(cache_->stats().spans_offline, 1u);
  EXPECT_EQ(cache_->stripe_count(), 1u);
  Put(1);
  EXPECT_EQ(Check(1), Status::Kind::kOk);
}

TEST_F(RecoveryTest, ReadOnlyOpenReadsWithoutWriting) {
  ASSERT_TRUE(Open().ok());
  for (int i = 0; i < 10; ++i) Put(i);
  ASSERT_TRUE(cache_->Flush().ok());
  Crash();  // the reader must recover the journal without writing
  auto read_file = [&] {
    std::ifstream f(options_.spans[0].path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  };
  const std::string before = read_file();
  options_.read_only = true;
  ASSERT_TRUE(Open().ok());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Check(i), Status::Kind::kOk) << i;
  EXPECT_FALSE(cache_->Put(Key("new"), "m", "body").ok());
  cache_.reset();
  EXPECT_TRUE(read_file() == before);
}

}  // namespace
}  // namespace strata
