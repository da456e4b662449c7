// The storage engine under injected disk faults (common/FaultInjectionEnv):
// failed aggregation writes, failed reads, and writes held back by a gate to
// drive back-pressure deterministically.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include "cache/cache.h"
#include "cache/doc.h"
#include "common/fault_env.h"
#include "tests/unit/test_support.h"

namespace strata {
namespace {

using namespace std::chrono_literals;

using test_support::Bytes;
using test_support::TempDir;

// Owns the fault env and the cache, and clears every fault before the cache
// persists itself on destruction.
class FaultyCache {
 public:
  explicit FaultyCache(uint64_t span_bytes = 32 << 20, int max_writes_in_flight = 2) {
    SpanConfig span;
    span.path = dir_.path() + "/span0";
    span.size_bytes = span_bytes;
    options_.spans.push_back(span);
    options_.layout.average_object_bytes = 4096;
    options_.stripe.agg_buffer_bytes = 1 << 20;
    options_.stripe.max_writes_in_flight = max_writes_in_flight;
    options_.stripe.flush_delay = std::chrono::hours(1);  // only size and Flush() seal buffers
    options_.fragment_bytes = 256 << 10;
    options_.ram_cache_bytes = 0;  // every read after a flush goes to the Env
    options_.io_threads = 2;
    options_.env = &env_;
  }
  ~FaultyCache() {
    env_.ClearFaults();
    env_.OpenWriteGate();
    cache_.reset();
  }

  Status Open() { return Cache::Open(options_, &cache_); }
  // A restart, with the disk healthy again.
  Status Reopen() {
    env_.ClearFaults();
    cache_.reset();
    return Open();
  }
  Cache& cache() { return *cache_; }
  FaultInjectionEnv& env() { return env_; }
  const std::string& span_path() const { return options_.spans[0].path; }
  Stripe& stripe() { return cache_->stripe(0); }

 private:
  TempDir dir_;
  FaultInjectionEnv env_;
  CacheOptions options_;
  std::unique_ptr<Cache> cache_;
};

CacheKey Key(const std::string& name) { return CacheKey::Hash("http://fault/" + name); }

Status::Kind GetKind(Cache& cache, const CacheKey& key, std::string* data = nullptr) {
  std::string meta, body;
  Status s = cache.Get(key, &meta, &body);
  if (data != nullptr) *data = body;
  return s.kind();
}

TEST(CacheFaultTest, FailedAggregationWriteTurnsItsDocsIntoMisses) {
  FaultyCache fc;
  ASSERT_TRUE(fc.Open().ok());
  Cache& cache = fc.cache();
  // Only the data area's writes from here on: the stripe header was written
  // by Open. Fail every write of the span.
  fc.env().FailWrites({fc.span_path()});
  std::vector<std::string> bodies;
  for (int i = 0; i < 20; ++i) {
    bodies.push_back(Bytes(1000 + 97 * i, i));
    ASSERT_TRUE(cache.Put(Key("lost" + std::to_string(i)), "m", bodies.back()).ok());
  }
  // A fragmented object too: its fragments and first Doc share the fate.
  std::string large = Bytes(700000, 99);
  ASSERT_TRUE(cache.Put(Key("lost-large"), "m", large).ok());
  // Before the write, the buffer answers for them.
  std::string data;
  ASSERT_EQ(GetKind(cache, Key("lost3"), &data), Status::Kind::kOk);
  EXPECT_EQ(data, bodies[3]);

  EXPECT_EQ(cache.Flush().kind(), Status::Kind::kIOError);
  EXPECT_GE(fc.stripe().stats().write_errors, 1u);
  EXPECT_EQ(fc.stripe().stats().write_errors, fc.env().counts().failed_writes);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(GetKind(cache, Key("lost" + std::to_string(i))), Status::Kind::kNotFound) << i;
  }
  EXPECT_EQ(GetKind(cache, Key("lost-large")), Status::Kind::kNotFound);
  EXPECT_EQ(cache.stats().crc_failures, 0u);

  // The span is offline from the failure on: writes fail cleanly (the
  // proxy then serves without storing), even once the disk answers again.
  EXPECT_TRUE(fc.stripe().offline());
  EXPECT_EQ(cache.stats().spans_offline, 1u);
  fc.env().ClearFaults();
  EXPECT_EQ(cache.Put(Key("kept0"), "m", bodies[0]).kind(), Status::Kind::kIOError);
  EXPECT_EQ(GetKind(cache, Key("kept0")), Status::Kind::kNotFound);

  // After a restart the span is back; the lost objects stay lost: their
  // bytes were never on disk.
  ASSERT_TRUE(fc.Reopen().ok());
  Cache& again = fc.cache();
  EXPECT_EQ(again.stats().spans_offline, 0u);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(again.Put(Key("kept" + std::to_string(i)), "m", bodies[i]).ok());
  ASSERT_TRUE(again.Put(Key("kept-large"), "m", large).ok());
  EXPECT_TRUE(again.Flush().ok());
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(GetKind(again, Key("kept" + std::to_string(i)), &data), Status::Kind::kOk) << i;
    EXPECT_EQ(data, bodies[i]);
  }
  ASSERT_EQ(GetKind(again, Key("kept-large"), &data), Status::Kind::kOk);
  EXPECT_EQ(data, large);
  EXPECT_EQ(GetKind(again, Key("lost3")), Status::Kind::kNotFound);
}

TEST(CacheFaultTest, AWriteErrorTakesTheSpanOfflineAndARestartRecoversWhatWasWritten) {
  FaultyCache fc;
  ASSERT_TRUE(fc.Open().ok());
  // The first data write succeeds, the second fails.
  fc.env().FailWrites({fc.span_path(), /*after=*/1, /*times=*/1});
  for (int group = 0; group < 3; ++group) {
    for (int i = 0; i < 5; ++i) {
      std::string name = "g" + std::to_string(group) + "-" + std::to_string(i);
      Status s = fc.cache().Put(Key(name), "m" + name, Bytes(3000 + i, group * 10 + i));
      // Group 2 comes after the failure: the span is offline.
      EXPECT_EQ(s.ok(), group < 2) << name << " " << s.ToString();
    }
    Status s = fc.cache().Flush();
    EXPECT_EQ(s.ok(), group == 0) << group << " " << s.ToString();
  }
  EXPECT_EQ(fc.stripe().stats().write_errors, 1u);
  EXPECT_EQ(fc.env().counts().failed_writes, 1u);
  ASSERT_TRUE(fc.Reopen().ok());
  for (int group = 0; group < 3; ++group) {
    for (int i = 0; i < 5; ++i) {
      std::string name = "g" + std::to_string(group) + "-" + std::to_string(i);
      std::string meta, data;
      Status s = fc.cache().Get(Key(name), &meta, &data);
      if (group != 0) {
        EXPECT_EQ(s.kind(), Status::Kind::kNotFound) << name;
      } else {
        ASSERT_TRUE(s.ok()) << name << " " << s.ToString();
        EXPECT_EQ(meta, "m" + name);
        EXPECT_EQ(data, Bytes(3000 + i, group * 10 + i));
      }
    }
  }
}

TEST(CacheFaultTest, ReadErrorTakesTheSpanOfflineUntilARestart) {
  FaultyCache fc;
  ASSERT_TRUE(fc.Open().ok());
  Cache& cache = fc.cache();
  std::string small = Bytes(5000, 1), large = Bytes(900000, 2);
  ASSERT_TRUE(cache.Put(Key("small"), "m", small).ok());
  ASSERT_TRUE(cache.Put(Key("large"), "m", large).ok());
  ASSERT_TRUE(cache.Flush().ok());

  fc.env().FailReads({fc.span_path()});
  EXPECT_EQ(GetKind(cache, Key("small")), Status::Kind::kNotFound);
  EXPECT_EQ(fc.stripe().stats().read_errors, 1u);
  EXPECT_TRUE(fc.stripe().offline());
  // Offline: no more reads are tried.
  EXPECT_EQ(GetKind(cache, Key("large")), Status::Kind::kNotFound);
  EXPECT_EQ(fc.env().counts().failed_reads, 1u);
  EXPECT_EQ(cache.stats().crc_failures, 0u);
  fc.env().ClearFaults();
  EXPECT_EQ(GetKind(cache, Key("small")), Status::Kind::kNotFound);

  // A read error is not a verdict on the Docs: after a restart both objects
  // are there.
  ASSERT_TRUE(fc.Reopen().ok());
  std::string data;
  ASSERT_EQ(GetKind(fc.cache(), Key("small"), &data), Status::Kind::kOk);
  EXPECT_EQ(data, small);
  ASSERT_EQ(GetKind(fc.cache(), Key("large"), &data), Status::Kind::kOk);
  EXPECT_EQ(data, large);
}

TEST(CacheFaultTest, RemoveOnAFailingSpanSaysItCouldNotBeRecorded) {
  FaultyCache fc;
  ASSERT_TRUE(fc.Open().ok());
  Cache& cache = fc.cache();
  ASSERT_TRUE(cache.Put(Key("purge"), "m", Bytes(5000, 3)).ok());
  ASSERT_TRUE(cache.Flush().ok());
  fc.env().FailReads({fc.span_path()});
  // The span goes offline: the object is a miss from now on, but the remove
  // cannot reach the journal, so the caller learns it did not stick.
  EXPECT_EQ(cache.Remove(Key("purge")).kind(), Status::Kind::kIOError);
  fc.env().ClearFaults();
  EXPECT_EQ(GetKind(cache, Key("purge")), Status::Kind::kNotFound);
}

// Back-pressure with the disk held still: a gate keeps the first buffer's
// write in flight, so what Append accepts is exactly known.
TEST(CacheFaultTest, BackPressureIsDeterministicBehindAGate) {
  FaultyCache fc(32 << 20, /*max_writes_in_flight=*/1);
  ASSERT_TRUE(fc.Open().ok());
  Stripe& stripe = fc.stripe();
  const uint64_t capacity = stripe.max_doc_bytes();  // one aggregation buffer
  ASSERT_EQ(capacity, (1u << 20) - kAggHeaderBytes - JournalBytes(1));
  const size_t body_bytes = 200000;
  const size_t doc_bytes = DocSize(0, body_bytes);
  const uint64_t docs_per_buffer = capacity / doc_bytes;
  ASSERT_GE(docs_per_buffer, 2u);

  auto encode = [&](int i, std::string* doc) {
    DocHeaderFields fields;
    fields.key = Key("bp" + std::to_string(i));
    fields.flags = kDocHead;
    fields.stripe_nonce = stripe.nonce32();
    fields.object_length = body_bytes;
    doc->assign(doc_bytes, '\0');
    EncodeDoc(fields, "", Bytes(body_bytes, i), doc->data());
    return fields.key;
  };

  fc.env().CloseWriteGate(fc.span_path());
  std::vector<std::pair<CacheKey, DirEntry>> accepted;
  std::string doc;
  int next = 0;
  uint64_t busy = 0;
  const uint64_t appended_before = stripe.stats().bytes_appended;
  for (int attempt = 0; attempt < 60; ++attempt, ++next) {
    CacheKey key = encode(next, &doc);
    DirEntry entry;
    Status s = stripe.Append(key, doc, true, Stripe::WaitMode::kFail, &entry);
    if (s.ok()) {
      EXPECT_EQ(busy, 0u) << "accepted after a refusal, attempt " << attempt;
      accepted.emplace_back(key, entry);
    } else {
      ASSERT_EQ(s.kind(), Status::Kind::kBusy) << s.ToString();
      ++busy;
    }
  }
  // The buffer that filled was sealed and is held at the gate; with one
  // write in flight no new buffer may open, so exactly one buffer's worth
  // of Docs got in (the bound is "in flight + open" = 2 buffers).
  ASSERT_TRUE(fc.env().WaitForBlockedWrites(1, 10s));
  EXPECT_EQ(fc.env().blocked_writes(), 1u);
  EXPECT_EQ(accepted.size(), docs_per_buffer);
  EXPECT_LE(accepted.size() * doc_bytes, 2 * capacity);
  EXPECT_EQ(busy, 60u - docs_per_buffer);
  StripeStats st = stripe.stats();
  EXPECT_EQ(st.write_refusals, busy);
  EXPECT_EQ(st.bytes_appended - appended_before, accepted.size() * doc_bytes);  // memory did not grow
  EXPECT_EQ(st.agg_writes, 0u);
  // Held Docs are served from the buffer meanwhile.
  RamCache::Bytes got;
  ASSERT_TRUE(stripe.ReadDoc(accepted[0].first, accepted[0].second, &got).ok());
  EXPECT_GE(stripe.stats().reads_from_buffer, 1u);

  // The gate opens: everything accepted reaches the disk and reads back.
  fc.env().OpenWriteGate();
  ASSERT_TRUE(stripe.Flush().ok());
  EXPECT_EQ(stripe.stats().agg_writes, 1u);
  uint64_t disk_reads = stripe.stats().reads_from_disk;
  for (size_t i = 0; i < accepted.size(); ++i) {
    ASSERT_TRUE(stripe.ReadDoc(accepted[i].first, accepted[i].second, &got).ok()) << i;
    DocView view;
    ASSERT_TRUE(DecodeDoc(got->data(), got->size(), accepted[i].first, &view).ok());
    EXPECT_EQ(view.data, Bytes(body_bytes, i));  // accepted are attempts 0..n-1
  }
  EXPECT_EQ(stripe.stats().reads_from_disk - disk_reads, accepted.size());

  // kWait: with a buffer held at the gate, a writer blocks instead of
  // failing, and finishes once the gate opens.
  fc.env().CloseWriteGate(fc.span_path());
  Status s;
  do {
    CacheKey key = encode(next++, &doc);
    s = stripe.Append(key, doc, true, Stripe::WaitMode::kFail, nullptr);
  } while (s.ok());
  ASSERT_EQ(s.kind(), Status::Kind::kBusy);
  ASSERT_TRUE(fc.env().WaitForBlockedWrites(1, 10s));
  std::string waiting_doc;
  CacheKey waiting_key = encode(next++, &waiting_doc);
  std::atomic<bool> returned{false};
  DirEntry waiting_entry;
  auto writer = std::async(std::launch::async, [&] {
    Status r = stripe.Append(waiting_key, waiting_doc, true, Stripe::WaitMode::kWait, &waiting_entry);
    returned = true;
    return r;
  });
  // It cannot return while the gate holds the only write slot; this is a
  // check of that, not a timing threshold (the wait only gives it a chance
  // to misbehave).
  EXPECT_EQ(writer.wait_for(50ms), std::future_status::timeout);
  EXPECT_FALSE(returned);
  EXPECT_EQ(fc.env().blocked_writes(), 1u);
  fc.env().OpenWriteGate();
  ASSERT_EQ(writer.wait_for(30s), std::future_status::ready);
  EXPECT_TRUE(writer.get().ok());
  ASSERT_TRUE(stripe.Flush().ok());
  ASSERT_TRUE(stripe.ReadDoc(waiting_key, waiting_entry, &got).ok());
  EXPECT_EQ(fc.env().counts().failed_writes, 0u);
}

TEST(CacheFaultTest, EnvCountsAndScopesFaultsByPath) {
  TempDir dir;
  FaultInjectionEnv env;
  Env::OpenOptions open;
  open.create_size = 1 << 20;
  std::unique_ptr<RandomRWFile> a, b;
  ASSERT_TRUE(env.OpenRandomRWFile(dir.path() + "/a", open, &a).ok());
  ASSERT_TRUE(env.OpenRandomRWFile(dir.path() + "/b", open, &b).ok());
  env.FailWrites({a->path(), /*after=*/2, /*times=*/2});
  char buf[16] = "0123456789abcde";
  std::vector<bool> a_ok;
  for (int i = 0; i < 6; ++i) {
    a_ok.push_back(a->Write(i * 16, buf, 16).ok());
    EXPECT_TRUE(b->Write(i * 16, buf, 16).ok());
  }
  EXPECT_EQ(a_ok, (std::vector<bool>{true, true, false, false, true, true}));
  env.FailReads({});
  EXPECT_EQ(b->Read(0, 16, buf).kind(), Status::Kind::kIOError);
  env.ClearFaults();
  EXPECT_TRUE(b->Read(0, 16, buf).ok());
  EXPECT_TRUE(a->Sync().ok());
  FaultInjectionEnv::Counts c = env.counts();
  EXPECT_EQ(c.opens, 2u);
  EXPECT_EQ(c.writes, 12u);
  EXPECT_EQ(c.failed_writes, 2u);
  EXPECT_EQ(c.reads, 2u);
  EXPECT_EQ(c.failed_reads, 1u);
  EXPECT_EQ(c.syncs, 1u);

  // The gate holds only the named file.
  env.CloseWriteGate(a->path());
  EXPECT_TRUE(b->Write(0, buf, 16).ok());
  auto held = std::async(std::launch::async, [&] { return a->Write(0, buf, 16); });
  ASSERT_TRUE(env.WaitForBlockedWrites(1, 10s));
  env.OpenWriteGate();
  EXPECT_TRUE(held.get().ok());
  EXPECT_EQ(env.counts().gated_writes, 1u);
  EXPECT_EQ(env.blocked_writes(), 0u);
}

}  // namespace
// The flush timer does not spend a write slot on a few milliseconds of data
// while a write is in flight: the open buffer keeps filling and goes when the
// write completes (or when it fills). Under load this keeps writes few and
// large, so the disk keeps up and the event loops are not refused.
TEST(CacheFaultTest, TimerFlushWaitsForTheWriteInFlight) {
  FaultyCache fc;
  ASSERT_TRUE(fc.Open().ok());
  Stripe& stripe = fc.stripe();
  fc.env().CloseWriteGate(fc.span_path());
  ASSERT_TRUE(fc.cache().Put(Key("first"), "m", Bytes(3000, 1)).ok());
  stripe.FlushIfDue(std::chrono::steady_clock::now() + 1h);  // due: no write running, sealed
  ASSERT_TRUE(fc.env().WaitForBlockedWrites(1, 10s));
  ASSERT_TRUE(fc.cache().Put(Key("second"), "m", Bytes(3000, 2)).ok());
  // Long due, but the first write is still held at the gate: not sealed.
  stripe.FlushIfDue(std::chrono::steady_clock::now() + 1h);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(fc.env().blocked_writes(), 1u);
  fc.env().OpenWriteGate();
  for (int i = 0; i < 400 && stripe.stats().agg_writes < 1; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(stripe.stats().agg_writes, 1u);
  // The write done, the next due flush writes the second object.
  stripe.FlushIfDue(std::chrono::steady_clock::now() + 1h);
  for (int i = 0; i < 400 && stripe.stats().agg_writes < 2; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(stripe.stats().agg_writes, 2u);
  EXPECT_EQ(GetKind(fc.cache(), Key("second")), Status::Kind::kOk);
}

}  // namespace strata
