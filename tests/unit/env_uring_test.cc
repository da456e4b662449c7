// The io_uring Env (common/env_uring.cc): its files against real temp files,
// then the whole cache engine running on it. Built only with liburing; if the
// kernel (or a seccomp policy) refuses io_uring, the tests skip with the
// reason Env::IoUring gave.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <random>
#include <thread>
#include <vector>

#include "cache/cache.h"
#include "common/env.h"
#include "common/fault_env.h"
#include "tests/unit/test_support.h"

namespace strata {
namespace {

using test_support::Bytes;
using test_support::TempDir;

// The io_uring Env, or skips the test.
#define URING_ENV_OR_SKIP(env)            \
  Status uring_status;                    \
  Env* env = Env::IoUring(&uring_status); \
  if (env == nullptr) GTEST_SKIP() << "io_uring unavailable: " << uring_status.ToString()

class EnvUringTest : public testing::Test {
 protected:
  std::unique_ptr<RandomRWFile> Open(Env* env, uint64_t size) {
    Env::OpenOptions options;
    options.create_size = size;
    std::unique_ptr<RandomRWFile> file;
    Status s = env->OpenRandomRWFile(dir_.path() + "/file", options, &file);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return file;
  }

  TempDir dir_;
};

TEST_F(EnvUringTest, RoundTripsAtUnalignedOffsetsAndSizes) {
  URING_ENV_OR_SKIP(env);
  auto file = Open(env, 1 << 20);
  ASSERT_NE(file, nullptr);
  uint64_t size = 0;
  ASSERT_TRUE(file->Size(&size).ok());
  EXPECT_EQ(size, 1u << 20);
  struct Piece {
    uint64_t offset;
    size_t n;
  };
  const Piece pieces[] = {{0, 1}, {1, 4095}, {4097, 3}, {12345, 77777}, {(1 << 20) - 13, 13}};
  for (size_t i = 0; i < std::size(pieces); ++i) {
    std::string data = Bytes(pieces[i].n, i);
    ASSERT_TRUE(file->Write(pieces[i].offset, data.data(), data.size()).ok()) << i;
  }
  ASSERT_TRUE(file->Sync().ok());
  for (size_t i = 0; i < std::size(pieces); ++i) {
    std::string got(pieces[i].n, '\0');
    ASSERT_TRUE(file->Read(pieces[i].offset, got.size(), got.data()).ok()) << i;
    EXPECT_EQ(got, Bytes(pieces[i].n, i)) << i;
  }
  // What the io_uring file wrote, the POSIX one reads back (same bytes on disk).
  file.reset();
  std::unique_ptr<RandomRWFile> posix;
  ASSERT_TRUE(Env::Default()->OpenRandomRWFile(dir_.path() + "/file", {}, &posix).ok());
  std::string got(77777, '\0');
  ASSERT_TRUE(posix->Read(12345, got.size(), got.data()).ok());
  EXPECT_EQ(got, Bytes(77777, 3));
}

TEST_F(EnvUringTest, LargeTransfers) {
  URING_ENV_OR_SKIP(env);
  const size_t n = 8 << 20;
  auto file = Open(env, n + 4096);
  ASSERT_NE(file, nullptr);
  std::string data = Bytes(n, 42);
  ASSERT_TRUE(file->Write(511, data.data(), n).ok());
  ASSERT_TRUE(file->Sync().ok());
  std::string got(n, '\0');
  ASSERT_TRUE(file->Read(511, n, got.data()).ok());
  EXPECT_TRUE(got == data);
}

TEST_F(EnvUringTest, ReadPastTheEndIsAnIOError) {
  URING_ENV_OR_SKIP(env);
  auto file = Open(env, 8192);
  ASSERT_NE(file, nullptr);
  std::string got(100, '\0');
  Status s = file->Read(8192 - 50, got.size(), got.data());  // half inside, half past the end
  EXPECT_EQ(s.kind(), Status::Kind::kIOError) << s.ToString();
  EXPECT_NE(s.message().find("short read"), std::string::npos) << s.ToString();
  s = file->Read(1 << 20, got.size(), got.data());
  EXPECT_EQ(s.kind(), Status::Kind::kIOError) << s.ToString();
}

TEST_F(EnvUringTest, WriteToAReadOnlyFileIsAnIOErrorWithTheReason) {
  URING_ENV_OR_SKIP(env);
  Open(env, 4096).reset();
  Env::OpenOptions options;
  options.read_only = true;
  std::unique_ptr<RandomRWFile> file;
  ASSERT_TRUE(env->OpenRandomRWFile(dir_.path() + "/file", options, &file).ok());
  Status s = file->Write(0, "x", 1);
  EXPECT_EQ(s.kind(), Status::Kind::kIOError);
  EXPECT_NE(s.message().find(strerror(EBADF)), std::string::npos) << s.ToString();
}

TEST_F(EnvUringTest, ConcurrentUseFromFourThreads) {
  URING_ENV_OR_SKIP(env);
  const size_t kThreads = 4, kBlocks = 64, kBlock = 10000;  // unaligned blocks
  auto file = Open(env, kThreads * kBlocks * kBlock);
  ASSERT_NE(file, nullptr);
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Thread t owns blocks t, t+4, t+8, ...: interleaved on disk.
      for (int round = 0; round < 3; ++round) {
        for (size_t b = t; b < kThreads * kBlocks; b += kThreads) {
          std::string data = Bytes(kBlock, b * 10 + round);
          if (!file->Write(b * kBlock, data.data(), kBlock).ok()) ++failures[t];
        }
        if (!file->Sync().ok()) ++failures[t];
        for (size_t b = t; b < kThreads * kBlocks; b += kThreads) {
          std::string got(kBlock, '\0');
          if (!file->Read(b * kBlock, kBlock, got.data()).ok() || got != Bytes(kBlock, b * 10 + round)) {
            ++failures[t];
          }
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (size_t t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
}

// The cache engine over the io_uring Env: a few of cache_engine_test's cases.
// The Env is wrapped in a FaultInjectionEnv (no faults set) only to count
// that the engine's I/O really goes through it.
class CacheOnUringTest : public testing::Test {
 protected:
  void SetUp() override {
    Status s;
    Env* uring = Env::IoUring(&s);
    if (uring == nullptr) GTEST_SKIP() << "io_uring unavailable: " << s.ToString();
    env_ = std::make_unique<FaultInjectionEnv>(uring);
  }

  CacheOptions Options(uint64_t span_bytes, int spans = 1) {
    CacheOptions options;
    for (int i = 0; i < spans; ++i) {
      SpanConfig span;
      span.path = dir_.path() + "/span" + std::to_string(i);
      span.size_bytes = span_bytes;
      options.spans.push_back(span);
    }
    options.layout.average_object_bytes = 4096;
    options.stripe.agg_buffer_bytes = 1 << 20;
    options.fragment_bytes = 256 << 10;
    options.ram_cache_bytes = 0;  // exercise the disk path
    options.io_threads = 2;
    options.env = env_.get();
    return options;
  }

  TempDir dir_;
  std::unique_ptr<FaultInjectionEnv> env_;
};

TEST_F(CacheOnUringTest, SmallObjectRoundTrip) {
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(Options(32 << 20), &cache).ok());
  CacheKey key = CacheKey::Hash("http://example/small");
  std::string body = Bytes(3000, 1);
  ASSERT_TRUE(cache->Put(key, "meta", body).ok());
  ASSERT_TRUE(cache->Flush().ok());
  std::string meta, data;
  ASSERT_TRUE(cache->Get(key, &meta, &data).ok());  // from disk
  EXPECT_EQ(meta, "meta");
  EXPECT_EQ(data, body);
  EXPECT_GE(cache->stats().agg_writes, 1u);
  EXPECT_GT(env_->counts().writes, 0u);
  EXPECT_GT(env_->counts().reads, 0u);
}

TEST_F(CacheOnUringTest, LargeObjectIsFragmentedAndRangesRead) {
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(Options(64 << 20, 2), &cache).ok());
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

TEST_F(CacheOnUringTest, CleanlyClosedCacheKeepsItsObjects) {
  CacheOptions options = Options(32 << 20, 2);
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
  EXPECT_GT(env_->counts().syncs, 0u);
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(options, &cache).ok());
  for (size_t i = 0; i < objects.size(); ++i) {
    std::string meta, data;
    ASSERT_TRUE(cache->Get(objects[i].first, &meta, &data).ok()) << i;
    EXPECT_EQ(meta, "m" + std::to_string(i));
    EXPECT_EQ(data, objects[i].second);
  }
}

}  // namespace
}  // namespace strata
