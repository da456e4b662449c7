// Tests for the size-weighted consistent stripe assignment: proportional to
// weight, stable under reordering, and adding a span moves only its share,
// all of it to the new span.

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "cache/stripe_assignment.h"

namespace strata {
namespace {

constexpr uint64_t kGiB = 1ull << 30;

std::vector<uint32_t> Counts(const StripeAssignment& a) {
  std::vector<uint32_t> counts(a.stripe_count());
  for (uint32_t slot = 0; slot < StripeAssignment::kSlots; ++slot) counts[a.StripeForSlot(slot)]++;
  return counts;
}

TEST(CacheStripeAssignment, AddingASpanMovesOnlyItsShareToIt) {
  std::vector<StripeIdentity> stripes = {
      {"/cache/a.db", 0, 10 * kGiB}, {"/cache/b.db", 0, 10 * kGiB}, {"/cache/c.db", 0, 10 * kGiB}};
  StripeAssignment before, after;
  ASSERT_TRUE(StripeAssignment::Build(stripes, &before).ok());
  stripes.push_back({"/cache/d.db", 0, 10 * kGiB});
  ASSERT_TRUE(StripeAssignment::Build(stripes, &after).ok());
  uint32_t moved = 0;
  for (uint32_t slot = 0; slot < StripeAssignment::kSlots; ++slot) {
    if (before.StripeForSlot(slot) == after.StripeForSlot(slot)) continue;
    ++moved;
    ASSERT_EQ(after.StripeForSlot(slot), 3u) << "slot " << slot << " moved between old spans";
  }
  const double share = static_cast<double>(moved) / StripeAssignment::kSlots;
  EXPECT_GT(share, 0.20);
  EXPECT_LT(share, 0.30);
  for (uint32_t c : Counts(after)) EXPECT_NEAR(c, StripeAssignment::kSlots / 4.0, StripeAssignment::kSlots * 0.02);
}

TEST(CacheStripeAssignment, SlotsFollowWeight) {
  StripeAssignment a;
  ASSERT_TRUE(
      StripeAssignment::Build({{"/small", 0, 10 * kGiB}, {"/big", 0, 20 * kGiB}, {"/small2", 0, 10 * kGiB}}, &a).ok());
  const std::vector<uint32_t> c = Counts(a);
  const double ratio = static_cast<double>(c[1]) / ((c[0] + c[2]) / 2.0);
  EXPECT_GT(ratio, 1.85);
  EXPECT_LT(ratio, 2.15);
  EXPECT_NEAR(c[1], StripeAssignment::kSlots / 2.0, StripeAssignment::kSlots * 0.02);
}

TEST(CacheStripeAssignment, IndependentOfOrderAndKeyedBySlot) {
  std::vector<StripeIdentity> stripes;
  for (uint32_t i = 0; i < 4; ++i) stripes.push_back({"/dev/sdb", i, 50 * kGiB});
  stripes.push_back({"nvme-id", 0, 20 * kGiB});
  StripeAssignment a, b;
  ASSERT_TRUE(StripeAssignment::Build(stripes, &a).ok());
  std::vector<StripeIdentity> reversed(stripes.rbegin(), stripes.rend());
  ASSERT_TRUE(StripeAssignment::Build(reversed, &b).ok());
  for (uint32_t slot = 0; slot < StripeAssignment::kSlots; ++slot) {
    ASSERT_EQ(stripes[a.StripeForSlot(slot)].span, reversed[b.StripeForSlot(slot)].span);
    ASSERT_EQ(stripes[a.StripeForSlot(slot)].index, reversed[b.StripeForSlot(slot)].index);
  }
  CacheKey key = CacheKey::Hash("http://example.com/");
  EXPECT_EQ(a.StripeForKey(key), a.StripeForSlot(key.stripe_slot()));
  for (uint32_t c : Counts(a)) EXPECT_GT(c, 0u);
}

TEST(CacheStripeAssignment, RejectsBadInput) {
  StripeAssignment a;
  EXPECT_EQ(StripeAssignment::Build({}, &a).kind(), Status::Kind::kInvalidArgument);
  EXPECT_EQ(StripeAssignment::Build({{"/a", 0, 0}}, &a).kind(), Status::Kind::kInvalidArgument);
  EXPECT_EQ(StripeAssignment::Build({{"/a", 0, 1}, {"/a", 0, 2}}, &a).kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(StripeIdentityHash("/a", 12), StripeIdentityHash("/a1", 2));
}

}  // namespace
}  // namespace strata
