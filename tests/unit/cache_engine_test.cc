// End-to-end tests of the storage engine (cache/Cache over dir/Directory) on
// real span files in a temporary directory.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <thread>

#include "cache/cache.h"
#include "cache/doc.h"
#include "tests/unit/test_support.h"

namespace strata {
namespace {

using test_support::Bytes;
using test_support::TempDir;

CacheOptions Options(const TempDir& dir, uint64_t span_bytes, int spans = 1) {
  CacheOptions options;
  for (int i = 0; i < spans; ++i) {
    SpanConfig span;
    span.path = dir.path() + "/span" + std::to_string(i);
    span.size_bytes = span_bytes;
    options.spans.push_back(span);
  }
  options.layout.average_object_bytes = 4096;
  options.stripe.agg_buffer_bytes = 1 << 20;
  options.fragment_bytes = 256 << 10;
  options.ram_cache_bytes = 0;  // exercise the disk path
  options.io_threads = 2;
  return options;
}

TEST(CacheEngineTest, SmallObjectRoundTrip) {
  TempDir dir;
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(Options(dir, 32 << 20), &cache).ok());
  CacheKey key = CacheKey::Hash("http://example/small");
  std::string body = Bytes(3000, 1);
  ASSERT_TRUE(cache->Put(key, "meta", body).ok());
  std::string meta, data;
  ASSERT_TRUE(cache->Get(key, &meta, &data).ok());  // served from the aggregation buffer
  EXPECT_EQ(meta, "meta");
  EXPECT_EQ(data, body);
  ASSERT_TRUE(cache->Flush().ok());
  ASSERT_TRUE(cache->Get(key, &meta, &data).ok());  // now from disk
  EXPECT_EQ(data, body);
  EXPECT_GE(cache->stats().agg_writes, 1u);
  EXPECT_TRUE(cache->Get(CacheKey::Hash("http://example/other"), &meta, &data).kind() == Status::Kind::kNotFound);
}

TEST(CacheEngineTest, LargeObjectIsFragmentedAndRangesRead) {
  TempDir dir;
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(Options(dir, 64 << 20, 2), &cache).ok());
  CacheKey key = CacheKey::Hash("http://example/large");
  std::string body = Bytes(3 * 1000 * 1000 + 17, 2);
  std::unique_ptr<CacheWriter> writer;
  ASSERT_TRUE(cache->OpenWrite(key, &writer).ok());
  for (size_t off = 0; off < body.size(); off += 70000) ASSERT_TRUE(writer->Write(body.substr(off, 70000)).ok());
  ASSERT_TRUE(writer->Commit("hdrs").ok());
  ObjectInfo info;
  ASSERT_TRUE(cache->Lookup(key, &info).ok());
  EXPECT_EQ(info.length, body.size());
  EXPECT_GT(info.fragment_offsets.size(), 10u);
  for (uint64_t offset : {uint64_t{0}, uint64_t{262143}, uint64_t{262144}, uint64_t{1500000}, body.size() - 5}) {
    std::string part;
    ASSERT_TRUE(cache->Read(info, offset, 300000, &part).ok()) << offset;
    EXPECT_EQ(part, body.substr(offset, 300000)) << offset;
  }
  std::string meta, data;
  ASSERT_TRUE(cache->Get(key, &meta, &data).ok());
  EXPECT_EQ(data, body);
}

TEST(CacheEngineTest, SlicesReferenceOneFragmentInPlace) {
  TempDir dir;
  CacheOptions options = Options(dir, 64 << 20);
  options.ram_cache_bytes = 16 << 20;
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(options, &cache).ok());
  CacheKey key = CacheKey::Hash("http://example/sliced");
  std::string body = Bytes(1000 * 1000 + 3, 5);
  std::unique_ptr<CacheWriter> writer;
  ASSERT_TRUE(cache->OpenWrite(key, &writer).ok());
  ASSERT_TRUE(writer->Write(body).ok());
  ASSERT_TRUE(writer->Commit("hdrs").ok());
  ASSERT_TRUE(cache->Flush().ok());
  ObjectInfo info;
  ASSERT_TRUE(cache->Lookup(key, &info).ok());
  ASSERT_GT(info.fragment_offsets.size(), 2u);

  // Not yet read since the flush: memory cannot answer, the disk must.
  ObjectSlice slice;
  EXPECT_EQ(cache->ReadSlice(info, 300000, 500000, /*memory_only=*/true, &slice).kind(), Status::Kind::kBusy);

  // One call returns what the fragment holding the offset has, no more, as a
  // view into the Doc it keeps alive (nothing copied).
  std::string reassembled;
  for (uint64_t pos = 0; pos < body.size();) {
    ASSERT_TRUE(cache->ReadSlice(info, pos, body.size() - pos, /*memory_only=*/false, &slice).ok()) << pos;
    ASSERT_NE(slice.doc, nullptr);
    ASSERT_FALSE(slice.data.empty());
    EXPECT_LE(slice.data.size(), options.fragment_bytes);
    EXPECT_GE(slice.data.data(), slice.doc->data());
    EXPECT_LE(slice.data.data() + slice.data.size(), slice.doc->data() + slice.doc->size());
    reassembled.append(slice.data);
    pos += slice.data.size();
  }
  EXPECT_EQ(reassembled, body);

  // Read a second time, the fragments are admitted to the RAM cache
  // (second-hit admission): memory answers from then on.
  std::string again;
  ASSERT_TRUE(cache->Read(info, 0, body.size(), &again).ok());
  EXPECT_EQ(again, body);
  ASSERT_TRUE(cache->ReadSlice(info, 300000, 500000, /*memory_only=*/true, &slice).ok());
  EXPECT_EQ(slice.data, body.substr(300000, slice.data.size()));
  ASSERT_TRUE(cache->ReadSlice(info, body.size(), 10, /*memory_only=*/true, &slice).ok());
  EXPECT_TRUE(slice.data.empty());
}

TEST(CacheEngineTest, ObjectInvisibleUntilCommitAndAbortLeavesNothing) {
  TempDir dir;
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(Options(dir, 32 << 20), &cache).ok());
  CacheKey key = CacheKey::Hash("http://example/partial");
  std::unique_ptr<CacheWriter> writer;
  ASSERT_TRUE(cache->OpenWrite(key, &writer).ok());
  ASSERT_TRUE(writer->Write(Bytes(900000, 3)).ok());  // several fragments on disk
  ObjectInfo info;
  EXPECT_EQ(cache->Lookup(key, &info).kind(), Status::Kind::kNotFound);
  writer->Abort();
  EXPECT_EQ(cache->Lookup(key, &info).kind(), Status::Kind::kNotFound);
  // The key is free again.
  ASSERT_TRUE(cache->OpenWrite(key, &writer).ok());
  writer.reset();  // destroyed without commit: aborted
  EXPECT_EQ(cache->stats().writes_aborted, 2u);
}

TEST(CacheEngineTest, SecondWriterIsBusyAndCanFollow) {
  TempDir dir;
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(Options(dir, 32 << 20), &cache).ok());
  CacheKey key = CacheKey::Hash("http://example/busy");
  std::unique_ptr<CacheWriter> first, second;
  ASSERT_TRUE(cache->OpenWrite(key, &first).ok());
  std::shared_ptr<OpenObject> follow;
  EXPECT_EQ(cache->OpenWrite(key, &second, &follow).kind(), Status::Kind::kBusy);
  ASSERT_NE(follow, nullptr);
  ASSERT_TRUE(first->Write("hello ").ok());
  std::string seen;
  EXPECT_EQ(follow->Read(0, 100, &seen), OpenObject::ReadResult::kData);
  EXPECT_EQ(seen, "hello ");
  ASSERT_TRUE(first->Write("world").ok());
  ASSERT_TRUE(first->Commit("m").ok());
  seen.clear();
  EXPECT_EQ(follow->Read(0, 100, &seen), OpenObject::ReadResult::kData);
  EXPECT_EQ(seen, "hello world");
  EXPECT_EQ(follow->Read(11, 100, &seen), OpenObject::ReadResult::kEnd);
  ASSERT_TRUE(cache->OpenWrite(key, &second).ok());  // released on commit
}

TEST(CacheEngineTest, OverwriteServesTheNewestVersion) {
  TempDir dir;
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(Options(dir, 32 << 20), &cache).ok());
  CacheKey key = CacheKey::Hash("http://example/v");
  for (int v = 0; v < 5; ++v) ASSERT_TRUE(cache->Put(key, "v" + std::to_string(v), Bytes(1000 + v, v)).ok());
  std::string meta, data;
  ASSERT_TRUE(cache->Get(key, &meta, &data).ok());
  EXPECT_EQ(meta, "v4");
  EXPECT_EQ(data, Bytes(1004, 4));
  ASSERT_TRUE(cache->Remove(key).ok());
  EXPECT_EQ(cache->Get(key, &meta, &data).kind(), Status::Kind::kNotFound);
}

TEST(CacheEngineTest, CorruptedChunkBecomesAMissAndIsCounted) {
  TempDir dir;
  CacheOptions options = Options(dir, 32 << 20);
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(options, &cache).ok());
  CacheKey key = CacheKey::Hash("http://example/corrupt");
  std::string body = Bytes(5000, 9);
  ASSERT_TRUE(cache->Put(key, "m", body).ok());
  ASSERT_TRUE(cache->Flush().ok());
  ObjectInfo info;
  ASSERT_TRUE(cache->Lookup(key, &info).ok());
  const StripeLayout& layout = cache->StripeFor(key).layout();
  uint64_t where = layout.data_offset + info.entry.offset() * kBlockBytes + kDocHeaderBytes + 100;
  {
    // Flip one byte in the span file, behind the engine's back.
    std::fstream f(options.spans[0].path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(where));
    char c;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x40);
    f.seekp(static_cast<std::streamoff>(where));
    f.write(&c, 1);
  }
  std::string meta, data;
  EXPECT_EQ(cache->Get(key, &meta, &data).kind(), Status::Kind::kNotFound);
  EXPECT_EQ(cache->stats().crc_failures, 1u);
  // The bad entry is gone: a second lookup does not even read it.
  EXPECT_EQ(cache->Get(key, &meta, &data).kind(), Status::Kind::kNotFound);
  EXPECT_EQ(cache->stats().crc_failures, 1u);
}

TEST(CacheEngineTest, CleanlyClosedCacheKeepsItsObjects) {
  TempDir dir;
  CacheOptions options = Options(dir, 32 << 20, 2);
  std::vector<std::pair<CacheKey, std::string>> objects;
  {
    std::unique_ptr<Cache> cache;
    ASSERT_TRUE(Cache::Open(options, &cache).ok());
    for (int i = 0; i < 200; ++i) {
      CacheKey key = CacheKey::Hash("http://example/keep/" + std::to_string(i));
      std::string body = Bytes(static_cast<size_t>(100 + i * 1500), i);
      ASSERT_TRUE(cache->Put(key, "m" + std::to_string(i), body).ok());
      objects.emplace_back(key, body);
    }
  }
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(options, &cache).ok());
  for (size_t i = 0; i < objects.size(); ++i) {
    std::string meta, data;
    ASSERT_TRUE(cache->Get(objects[i].first, &meta, &data).ok()) << i;
    EXPECT_EQ(meta, "m" + std::to_string(i));
    EXPECT_EQ(data, objects[i].second);
  }
}

TEST(CacheEngineTest, WrapInvalidatesOverwrittenObjects) {
  TempDir dir;
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(Options(dir, 16 << 20), &cache).ok());
  CacheKey first = CacheKey::Hash("http://example/first");
  ASSERT_TRUE(cache->Put(first, "m", Bytes(100000, 1)).ok());
  // Write about three times the span: the first object's bytes are overwritten.
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(cache->Put(CacheKey::Hash("filler" + std::to_string(i)), "m", Bytes(100000, i)).ok());
  }
  EXPECT_GE(cache->stripe(0).stats().wraps, 2u);
  std::string meta, data;
  EXPECT_EQ(cache->Get(first, &meta, &data).kind(), Status::Kind::kNotFound);
  // The newest objects are all there and exact.
  for (int i = 490; i < 500; ++i) {
    ASSERT_TRUE(cache->Get(CacheKey::Hash("filler" + std::to_string(i)), &meta, &data).ok()) << i;
    EXPECT_EQ(data, Bytes(100000, i));
  }
  EXPECT_EQ(cache->stats().crc_failures, 0u);
}

TEST(CacheEngineTest, AggregationFlushesByTime) {
  TempDir dir;
  CacheOptions options = Options(dir, 32 << 20);
  options.stripe.flush_delay = std::chrono::milliseconds(5);
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(options, &cache).ok());
  ASSERT_TRUE(cache->Put(CacheKey::Hash("t"), "m", "tiny").ok());
  // Far less than a buffer: only the timer writes it. Bounded wait.
  for (int i = 0; i < 400 && cache->stats().agg_writes == 0; ++i) usleep(5000);
  EXPECT_EQ(cache->stats().agg_writes, 1u);
  // The write header, the Doc, and one journal block.
  EXPECT_EQ(cache->stats().agg_bytes, kAggHeaderBytes + 512u + JournalBytes(1));
}

TEST(CacheEngineTest, AggregationFlushesBySize) {
  TempDir dir;
  CacheOptions options = Options(dir, 64 << 20);
  options.stripe.flush_delay = std::chrono::hours(1);  // the timer never fires
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(options, &cache).ok());
  // 1 MB buffers; Docs of 64K + header take 2 blocks more than 64K.
  for (int i = 0; i < 40; ++i)
    ASSERT_TRUE(cache->Put(CacheKey::Hash("s" + std::to_string(i)), "", Bytes(65536, i)).ok());
  uint64_t writes = 0;
  for (int i = 0; i < 400; ++i) {  // the writes run on the I/O pool
    writes = cache->stats().agg_writes;
    if (writes >= 2) break;
    usleep(5000);
  }
  EXPECT_GE(writes, 2u);
  EXPECT_LE(writes, 3u);
}

TEST(CacheEngineTest, AsyncLookupCompletesOnTheCallersExecutor) {
  TempDir dir;
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(Options(dir, 32 << 20), &cache).ok());
  CacheKey key = CacheKey::Hash("http://example/async");
  ASSERT_TRUE(cache->Put(key, "m", "async body").ok());

  // An executor that queues completions, as an event loop would.
  struct QueueExecutor : Executor {
    std::mutex mu;
    std::vector<std::function<void()>> queue;
    void Post(std::function<void()> fn) override {
      std::lock_guard<std::mutex> lock(mu);
      queue.push_back(std::move(fn));
    }
  } loop;
  std::atomic<bool> done{false};
  std::thread::id ran_on;
  cache->LookupAsync(key, &loop, [&](Status s, std::shared_ptr<ObjectInfo> info) {
    EXPECT_TRUE(s.ok());
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->inline_data, "async body");
    ran_on = std::this_thread::get_id();
    done = true;
  });
  for (int i = 0; i < 400 && !done; ++i) {
    std::vector<std::function<void()>> ready;
    {
      std::lock_guard<std::mutex> lock(loop.mu);
      ready.swap(loop.queue);
    }
    for (auto& fn : ready) fn();
    if (!done) usleep(2000);
  }
  EXPECT_TRUE(done);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(CacheEngineTest, BackPressureRefusesInsteadOfGrowing) {
  TempDir dir;
  CacheOptions options = Options(dir, 32 << 20);
  options.io_threads = 1;
  options.stripe.max_writes_in_flight = 1;
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(options, &cache).ok());
  Stripe& stripe = cache->stripe(0);
  std::string doc(DocSize(0, 200000), '\0');
  DocHeaderFields fields;
  uint64_t refused = 0;
  for (int i = 0; i < 200; ++i) {
    fields.key = CacheKey::Hash("bp" + std::to_string(i));
    fields.flags = kDocHead;
    fields.stripe_nonce = stripe.nonce32();
    EncodeDoc(fields, "", std::string(200000, 'x'), doc.data());
    Status s = stripe.Append(fields.key, doc, true, Stripe::WaitMode::kFail, nullptr);
    if (s.kind() == Status::Kind::kBusy) ++refused;
  }
  // However the disk keeps up, the writer was never allowed past one
  // buffer in flight plus the open one.
  EXPECT_EQ(refused, stripe.stats().write_refusals);
  ASSERT_TRUE(cache->Flush().ok());
}

}  // namespace
}  // namespace strata

namespace strata {
namespace {

TEST(CacheEngineTest, UpdateMetadataKeepsTheBody) {
  TempDir dir;
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(Options(dir, 64 << 20), &cache).ok());
  for (size_t size : {size_t{2000}, size_t{900000}}) {  // inline, and fragmented
    CacheKey key = CacheKey::Hash("http://example/update/" + std::to_string(size));
    std::string body = Bytes(size, size);
    ASSERT_TRUE(cache->Put(key, "old headers", body).ok());
    ObjectInfo info;
    ASSERT_TRUE(cache->Lookup(key, &info).ok());
    ASSERT_TRUE(cache->UpdateMetadata(info, "new headers").ok());
    std::string meta, data;
    ASSERT_TRUE(cache->Get(key, &meta, &data).ok());
    EXPECT_EQ(meta, "new headers");
    EXPECT_EQ(data, body) << size;
  }
}

}  // namespace
}  // namespace strata

namespace strata {
namespace {

// A removal queued behind other I/O work: lookups miss from the moment
// RemoveAsync returns, not only once the I/O thread gets to it (a client
// that saw the response to its POST must not get the invalidated object).
TEST(CacheEngineTest, LookupsMissAsSoonAsRemoveAsyncReturns) {
  TempDir dir;
  CacheOptions options = Options(dir, 32 << 20);
  options.io_threads = 1;
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(options, &cache).ok());
  const CacheKey key = CacheKey::Hash("http://example/invalidated");
  ASSERT_TRUE(cache->Put(key, "m", Bytes(3000, 1)).ok());
  InlineExecutor inline_executor;
  // Hold the only I/O thread inside a scan until the test lets it go.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> scanning;
  bool once = false;
  cache->ScanAsync(
      [&](const ObjectInfo&) {
        if (!once) {
          once = true;
          scanning.set_value();
          released.wait();
        }
        return true;
      },
      &inline_executor, [](Status) {});
  scanning.get_future().wait();
  std::promise<Status> removed;
  cache->RemoveAsync(key, &inline_executor, [&](Status s) { removed.set_value(s); });
  ObjectInfo info;
  EXPECT_EQ(cache->Lookup(key, &info).kind(), Status::Kind::kNotFound);
  std::promise<Status> looked_up;
  cache->LookupAsync(key, &inline_executor, [&](Status s, std::shared_ptr<ObjectInfo>) { looked_up.set_value(s); });
  EXPECT_EQ(looked_up.get_future().get().kind(), Status::Kind::kNotFound);
  release.set_value();
  EXPECT_TRUE(removed.get_future().get().ok());
  EXPECT_EQ(cache->Lookup(key, &info).kind(), Status::Kind::kNotFound);
  // Storing the key again afterwards works as before.
  ASSERT_TRUE(cache->Put(key, "m2", Bytes(3000, 2)).ok());
  EXPECT_TRUE(cache->Lookup(key, &info).ok());
}

}  // namespace
}  // namespace strata
