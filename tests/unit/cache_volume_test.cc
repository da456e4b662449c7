// volume.config applied to the spans: how shares are planned, how a span is
// cut into per-volume stripes, and what a changed volume.config does to a
// span that holds objects (a geometry change: refused unless reinitialised).
#include <gtest/gtest.h>

#include <set>

#include "cache/cache.h"
#include "cache/volume_plan.h"
#include "tests/unit/test_support.h"

namespace strata {
namespace {

using test_support::Bytes;
using test_support::TempDir;

constexpr uint64_t kMiB = 1ull << 20;

SpanConfig Span(const std::string& path, uint64_t bytes, int volume = 0) {
  SpanConfig s;
  s.path = path;
  s.size_bytes = bytes;
  s.volume = volume;
  s.origin = path;
  return s;
}

VolumeConfig Percent(int number, int percent, uint64_t avg = 0) {
  VolumeConfig v;
  v.number = number;
  v.percent = percent;
  v.avg_obj_size = avg;
  v.origin = "volume.config:" + std::to_string(number);
  return v;
}

VolumeConfig Size(int number, uint64_t bytes) {
  VolumeConfig v;
  v.number = number;
  v.size_bytes = bytes;
  v.origin = "volume.config:" + std::to_string(number);
  return v;
}

TEST(VolumePlanTest, PercentOfEachSharedSpanAndSizesInProportion) {
  std::vector<SpanConfig> spans = {Span("a", 101 * kMiB), Span("b", 301 * kMiB)};
  std::vector<uint64_t> bytes = {101 * kMiB, 301 * kMiB};  // 100M and 300M usable
  std::vector<std::vector<VolumeShare>> shares;
  ASSERT_TRUE(PlanVolumeShares(spans, bytes, {Percent(1, 50), Size(2, 200 * kMiB)}, &shares).ok());
  ASSERT_EQ(shares.size(), 2u);
  ASSERT_EQ(shares[0].size(), 2u);
  EXPECT_EQ(shares[0][0].volume, 1u);
  EXPECT_EQ(shares[0][0].bytes, 50 * kMiB);
  EXPECT_EQ(shares[1][0].bytes, 150 * kMiB);
  // 200M of 400M shared: half of each span.
  EXPECT_EQ(shares[0][1].volume, 2u);
  EXPECT_EQ(shares[0][1].bytes, 50 * kMiB);
  EXPECT_EQ(shares[1][1].bytes, 150 * kMiB);
}

TEST(VolumePlanTest, WithoutVolumeConfigVolumeOneGetsEverySpanWhole) {
  std::vector<SpanConfig> spans = {Span("a", 16 * kMiB), Span("b", 1000 * kMiB)};
  std::vector<std::vector<VolumeShare>> shares;
  ASSERT_TRUE(PlanVolumeShares(spans, {16 * kMiB, 1000 * kMiB}, {}, &shares).ok());
  ASSERT_EQ(shares[0].size(), 1u);
  EXPECT_EQ(shares[0][0].bytes, UsableSpanBytes(16 * kMiB));  // no rounding loss
  EXPECT_EQ(shares[1][0].bytes, UsableSpanBytes(1000 * kMiB));
}

TEST(VolumePlanTest, DedicatedSpanGoesWholeToItsVolume) {
  std::vector<SpanConfig> spans = {Span("a", 65 * kMiB), Span("ssd", 33 * kMiB, 2)};
  std::vector<std::vector<VolumeShare>> shares;
  ASSERT_TRUE(PlanVolumeShares(spans, {65 * kMiB, 33 * kMiB}, {Percent(1, 90), Size(2, 4 * kMiB)}, &shares).ok());
  // The shared span holds both volumes, the dedicated one volume 2 only.
  EXPECT_EQ(shares[0].size(), 2u);
  ASSERT_EQ(shares[1].size(), 1u);
  EXPECT_EQ(shares[1][0].volume, 2u);
  EXPECT_EQ(shares[1][0].bytes, 32 * kMiB);
}

TEST(VolumePlanTest, AskingForMoreThanTheSpansHaveIsAnError) {
  std::vector<SpanConfig> spans = {Span("a", 65 * kMiB)};
  std::vector<std::vector<VolumeShare>> shares;
  Status s = PlanVolumeShares(spans, {65 * kMiB}, {Percent(1, 60), Size(2, 40 * kMiB)}, &shares);
  ASSERT_EQ(s.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(s.message().find("volume.config"), std::string::npos) << s.message();
}

TEST(VolumePlanTest, AVolumeWithNoRoomAnywhereIsNamed) {
  std::vector<SpanConfig> spans = {Span("a", 65 * kMiB)};
  std::vector<std::vector<VolumeShare>> shares;
  Status s = PlanVolumeShares(spans, {65 * kMiB}, {Percent(1, 97), Percent(2, 3)}, &shares);
  ASSERT_EQ(s.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(s.message().find("volume 2 gets no space"), std::string::npos) << s.message();
}

TEST(VolumeLayoutTest, EachShareIsCutIntoStripesOfItsVolume) {
  LayoutOptions options;
  options.max_stripe_bytes = 16 * kMiB;
  options.volumes = {{1, 40 * kMiB, 0}, {2, 20 * kMiB, 2048}};
  std::vector<StripeLayout> stripes;
  ASSERT_TRUE(StripeLayout::Compute(65 * kMiB, options, &stripes).ok());
  ASSERT_EQ(stripes.size(), 5u);  // 3 of 13M for volume 1, 2 of 10M for volume 2
  uint64_t end = kSpanReservedBytes;
  for (size_t i = 0; i < stripes.size(); ++i) {
    EXPECT_EQ(stripes[i].index, i);
    EXPECT_EQ(stripes[i].count, 5u);
    EXPECT_EQ(stripes[i].volume, i < 3 ? 1u : 2u);
    EXPECT_EQ(stripes[i].average_object_bytes, i < 3 ? 8000u : 2048u);
    EXPECT_GE(stripes[i].offset, end);  // in order, never overlapping
    end = stripes[i].offset + stripes[i].bytes;
  }
  EXPECT_LE(end, kSpanReservedBytes + 60 * kMiB);
}

class VolumeCacheTest : public ::testing::Test {
 protected:
  CacheOptions Options(std::vector<VolumeConfig> volumes) {
    CacheOptions options;
    options.spans.push_back(Span(dir_.path() + "/span", 64 * kMiB));
    options.volumes = std::move(volumes);
    options.stripe.agg_buffer_bytes = 1 << 20;
    options.io_threads = 2;
    options.ram_cache_bytes = 0;
    return options;
  }
  TempDir dir_;
};

TEST_F(VolumeCacheTest, ObjectsSpreadOverEveryVolumeAndSurviveARestart) {
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(Options({Percent(1, 60), Percent(2, 40, 4096)}), &cache).ok());
  std::set<uint32_t> volumes_used;
  for (int i = 0; i < 200; ++i) {
    CacheKey key = CacheKey::Hash("http://volume/" + std::to_string(i));
    ASSERT_TRUE(cache->Put(key, "m", Bytes(2000, i)).ok());
    volumes_used.insert(cache->StripeFor(key).layout().volume);
  }
  EXPECT_EQ(volumes_used, (std::set<uint32_t>{1, 2}));
  cache.reset();
  ASSERT_TRUE(Cache::Open(Options({Percent(1, 60), Percent(2, 40, 4096)}), &cache).ok());
  for (int i = 0; i < 200; ++i) {
    std::string meta, data;
    ASSERT_TRUE(cache->Get(CacheKey::Hash("http://volume/" + std::to_string(i)), &meta, &data).ok()) << i;
    EXPECT_EQ(data, Bytes(2000, i));
  }
}

TEST_F(VolumeCacheTest, ChangedVolumeConfigIsRefusedUnlessReinitialised) {
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(Options({Percent(1, 60), Percent(2, 40)}), &cache).ok());
  cache.reset();
  Status s = Cache::Open(Options({Percent(1, 50), Percent(2, 50)}), &cache);
  ASSERT_EQ(s.kind(), Status::Kind::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("another geometry"), std::string::npos) << s.message();
  CacheOptions again = Options({Percent(1, 50), Percent(2, 50)});
  again.reinitialize = true;
  ASSERT_TRUE(Cache::Open(again, &cache).ok());
}

}  // namespace
}  // namespace strata
