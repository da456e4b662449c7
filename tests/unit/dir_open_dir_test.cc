#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "dir/open_dir.h"

namespace strata {
namespace {

using RR = OpenObject::ReadResult;

CacheKey Key(const char* s) { return CacheKey::Hash(s); }

TEST(OpenDirTest, SecondWriterIsBusyAndFollowsTheFirst) {
  OpenDir od(1 << 20);
  WriteLease lease;
  std::shared_ptr<OpenObject> busy;
  ASSERT_TRUE(od.OpenWrite(Key("a"), &lease, &busy).ok());
  EXPECT_TRUE(lease.valid());
  EXPECT_EQ(busy, nullptr);
  EXPECT_EQ(od.open_count(), 1u);

  WriteLease second;
  Status s = od.OpenWrite(Key("a"), &second, &busy);
  EXPECT_EQ(s.kind(), Status::Kind::kBusy);
  EXPECT_FALSE(second.valid());
  ASSERT_EQ(busy, lease.object());
  EXPECT_EQ(od.OpenRead(Key("a")), lease.object());
  EXPECT_EQ(od.OpenRead(Key("b")), nullptr);

  WriteLease other;  // another key is independent
  ASSERT_TRUE(od.OpenWrite(Key("b"), &other, &busy).ok());
  EXPECT_EQ(od.open_count(), 2u);
}

TEST(OpenDirTest, ListShowsObjectsInFlightWithTheirFollowers) {
  OpenDir od(1 << 20);
  EXPECT_TRUE(od.List().empty());
  WriteLease a, b;
  std::shared_ptr<OpenObject> busy;
  ASSERT_TRUE(od.OpenWrite(Key("a"), &a, &busy).ok());
  ASSERT_TRUE(od.OpenWrite(Key("b"), &b, &busy).ok());
  ASSERT_TRUE(a.Append("12345").ok());
  uint64_t first = a.object()->Subscribe([] {});
  a.object()->Subscribe([] {});
  std::vector<std::shared_ptr<OpenObject>> listed = od.List();
  ASSERT_EQ(listed.size(), 2u);
  for (const auto& object : listed) {
    if (object->key() == Key("a")) {
      EXPECT_EQ(object->bytes_written(), 5u);
      EXPECT_EQ(object->follower_count(), 2u);
    } else {
      EXPECT_EQ(object->key(), Key("b"));
      EXPECT_EQ(object->bytes_written(), 0u);
      EXPECT_EQ(object->follower_count(), 0u);
    }
  }
  a.object()->Unsubscribe(first);
  EXPECT_EQ(a.object()->follower_count(), 1u);
  ASSERT_TRUE(a.Complete().ok());
  listed = od.List();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]->key(), Key("b"));
}

TEST(OpenDirTest, ReadWhileWriteThenComplete) {
  OpenDir od(1 << 20);
  WriteLease lease;
  std::shared_ptr<OpenObject> busy;
  ASSERT_TRUE(od.OpenWrite(Key("a"), &lease, &busy).ok());
  std::shared_ptr<OpenObject> obj = od.OpenRead(Key("a"));
  std::string out;
  EXPECT_EQ(obj->Read(0, 100, &out), RR::kWouldBlock);
  ASSERT_TRUE(lease.Append("hello ").ok());
  EXPECT_EQ(obj->Read(0, 3, &out), RR::kData);
  EXPECT_EQ(out, "hel");
  EXPECT_EQ(obj->Read(3, 100, &out), RR::kData);
  EXPECT_EQ(out, "hello ");
  EXPECT_EQ(obj->Read(6, 100, &out), RR::kWouldBlock);
  ASSERT_TRUE(lease.Append("world").ok());
  ASSERT_TRUE(lease.Complete().ok());
  EXPECT_FALSE(lease.valid());
  EXPECT_EQ(od.open_count(), 0u);  // the key is free again
  EXPECT_EQ(od.OpenRead(Key("a")), nullptr);
  EXPECT_EQ(obj->state(), OpenObject::State::kComplete);
  EXPECT_EQ(obj->Read(6, 100, &out), RR::kData);
  EXPECT_EQ(out, "hello world");
  EXPECT_EQ(obj->Read(11, 100, &out), RR::kEnd);
  EXPECT_FALSE(lease.Append("x").ok());
  EXPECT_FALSE(lease.Complete().ok());
}

TEST(OpenDirTest, AbortHidesPartialBytes) {
  OpenDir od(1 << 20);
  WriteLease lease;
  std::shared_ptr<OpenObject> busy;
  ASSERT_TRUE(od.OpenWrite(Key("a"), &lease, &busy).ok());
  auto obj = lease.object();
  ASSERT_TRUE(lease.Append("partial").ok());
  lease.Abort();
  EXPECT_EQ(od.open_count(), 0u);
  std::string out;
  EXPECT_EQ(obj->Read(0, 100, &out), RR::kAborted);
  EXPECT_EQ(obj->Read(7, 100, &out), RR::kAborted);  // never a clean end
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(obj->state(), OpenObject::State::kAborted);
}

TEST(OpenDirTest, LeaseReleasesOnDestructionAndMove) {
  OpenDir od(1 << 20);
  std::shared_ptr<OpenObject> busy, obj;
  {
    WriteLease lease;
    ASSERT_TRUE(od.OpenWrite(Key("a"), &lease, &busy).ok());
    obj = lease.object();
    WriteLease moved(std::move(lease));
    EXPECT_FALSE(lease.valid());
    EXPECT_TRUE(moved.valid());
    EXPECT_EQ(od.open_count(), 1u);
  }
  EXPECT_EQ(od.open_count(), 0u);
  EXPECT_EQ(obj->state(), OpenObject::State::kAborted);  // unfinished = aborted

  WriteLease a, b;
  ASSERT_TRUE(od.OpenWrite(Key("a"), &a, &busy).ok());
  ASSERT_TRUE(od.OpenWrite(Key("b"), &b, &busy).ok());
  a = std::move(b);  // releases "a"
  EXPECT_EQ(od.open_count(), 1u);
  EXPECT_EQ(od.OpenRead(Key("a")), nullptr);
  ASSERT_TRUE(od.OpenWrite(Key("a"), &a, &busy).ok());  // reusing a lease releases "b"
  EXPECT_EQ(od.OpenRead(Key("b")), nullptr);
  EXPECT_EQ(od.open_count(), 1u);
}

TEST(OpenDirTest, CapLimitsBufferedBytes) {
  OpenDir od(8);
  WriteLease lease;
  std::shared_ptr<OpenObject> busy;
  ASSERT_TRUE(od.OpenWrite(Key("a"), &lease, &busy).ok());
  auto obj = lease.object();
  ASSERT_TRUE(lease.Append("0123456789abcdef").ok());
  EXPECT_EQ(obj->bytes_written(), 16u);
  std::string out;
  EXPECT_EQ(obj->Read(0, 100, &out), RR::kData);
  EXPECT_EQ(out, "01234567");
  EXPECT_EQ(obj->Read(8, 100, &out), RR::kNotBuffered);
  EXPECT_EQ(obj->Read(16, 100, &out), RR::kWouldBlock);
  ASSERT_TRUE(lease.Complete().ok());
  EXPECT_EQ(obj->Read(12, 100, &out), RR::kNotBuffered);
  EXPECT_EQ(obj->Read(16, 100, &out), RR::kEnd);
}

// A follower on another thread streams the object as it is written, woken by
// its listener (which, like a real one, only signals the follower's loop).
void FollowWhileWriting(bool abort) {
  OpenDir od(1 << 20);
  WriteLease lease;
  std::shared_ptr<OpenObject> busy;
  ASSERT_TRUE(od.OpenWrite(Key("a"), &lease, &busy).ok());
  std::string expected;
  for (int i = 0; i < 2000; ++i) expected += "chunk" + std::to_string(i) + ";";

  std::mutex mu;
  std::condition_variable cv;
  uint64_t wakeups = 0;
  std::string got;
  RR last = RR::kWouldBlock;
  std::atomic<bool> subscribed{false};
  std::thread follower([&] {
    std::shared_ptr<OpenObject> obj;
    WriteLease mine;
    ASSERT_EQ(od.OpenWrite(Key("a"), &mine, &obj).kind(), Status::Kind::kBusy);
    uint64_t id = obj->Subscribe([&] {
      std::lock_guard<std::mutex> l(mu);
      ++wakeups;
      cv.notify_one();
    });
    subscribed = true;
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> l(mu);
        cv.wait_for(l, std::chrono::milliseconds(50), [&] { return wakeups != seen; });
        seen = wakeups;
      }
      RR r;
      while ((r = obj->Read(got.size(), 997, &got)) == RR::kData) {
      }
      if (r != RR::kWouldBlock) {
        last = r;
        break;
      }
    }
    obj->Unsubscribe(id);
  });
  while (!subscribed) std::this_thread::yield();
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(lease.Append("chunk" + std::to_string(i) + ";").ok());
  if (abort) {
    lease.Abort();
  } else {
    ASSERT_TRUE(lease.Complete().ok());
  }
  follower.join();
  if (abort) {
    EXPECT_EQ(last, RR::kAborted);
    EXPECT_TRUE(expected.compare(0, got.size(), got) == 0);  // a prefix, then failure
  } else {
    EXPECT_EQ(last, RR::kEnd);
    EXPECT_EQ(got, expected);
  }
  EXPECT_GT(wakeups, 0u);
}

TEST(OpenDirThreadTest, FollowerStreamsToCompletion) { FollowWhileWriting(false); }
TEST(OpenDirThreadTest, FollowerSeesAbort) { FollowWhileWriting(true); }

// Unsubscribe waits for a listener running on the writer's thread, so the
// follower may free what the listener touches right after.
TEST(OpenDirThreadTest, UnsubscribeWaitsForRunningListener) {
  OpenDir od(1 << 20);
  WriteLease lease;
  std::shared_ptr<OpenObject> busy;
  ASSERT_TRUE(od.OpenWrite(Key("a"), &lease, &busy).ok());
  auto obj = lease.object();
  std::atomic<bool> in_listener{false}, release{false}, listener_done{false};
  uint64_t id = obj->Subscribe([&] {
    in_listener = true;
    while (!release) std::this_thread::yield();
    listener_done = true;
  });
  std::thread writer([&] { ASSERT_TRUE(lease.Append("x").ok()); });
  while (!in_listener) std::this_thread::yield();
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    release = true;
  });
  obj->Unsubscribe(id);
  EXPECT_TRUE(listener_done);
  writer.join();
  releaser.join();
  ASSERT_TRUE(lease.Append("y").ok());  // no listener left to call
  lease.Abort();
}

// Many threads race to write one key: exactly one wins each round.
TEST(OpenDirThreadTest, ExactlyOneWriterPerKey) {
  OpenDir od(1 << 10);
  std::atomic<int> winners{0}, busy_count{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> ts;
  std::vector<WriteLease> leases(4);
  for (int i = 0; i < 4; ++i) {
    ts.emplace_back([&, i] {
      while (!go) std::this_thread::yield();
      std::shared_ptr<OpenObject> busy;
      Status s = od.OpenWrite(Key("hot"), &leases[i], &busy);
      if (s.ok()) {
        ++winners;
      } else if (s.kind() == Status::Kind::kBusy && busy) {
        ++busy_count;
      }
    });
  }
  go = true;
  for (auto& t : ts) t.join();
  EXPECT_EQ(winners.load(), 1);
  EXPECT_EQ(busy_count.load(), 3);
  for (auto& l : leases) l.Abort();
  EXPECT_EQ(od.open_count(), 0u);
}

}  // namespace
}  // namespace strata
