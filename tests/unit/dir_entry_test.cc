#include "dir/dir_entry.h"

#include <gtest/gtest.h>

#include <cstring>

namespace strata {
namespace {

DirEntry Full(uint64_t offset, uint8_t code, uint16_t tag, bool phase, bool head, bool pinned, bool used,
              uint16_t next) {
  DirEntry e;
  e.set_offset(offset);
  e.set_size_code(code);
  e.set_tag(tag);
  e.set_phase(phase);
  e.set_head(head);
  e.set_pinned(pinned);
  e.set_used(used);
  e.set_next(next);
  return e;
}

void ExpectFields(const DirEntry& e, uint64_t offset, uint8_t code, uint16_t tag, bool phase, bool head, bool pinned,
                  bool used, uint16_t next) {
  EXPECT_EQ(e.offset(), offset);
  EXPECT_EQ(e.size_code(), code);
  EXPECT_EQ(e.tag(), tag);
  EXPECT_EQ(e.phase(), phase);
  EXPECT_EQ(e.head(), head);
  EXPECT_EQ(e.pinned(), pinned);
  EXPECT_EQ(e.used(), used);
  EXPECT_EQ(e.next(), next);
}

TEST(DirEntryTest, IsTenBytes) {
  EXPECT_EQ(sizeof(DirEntry), 10u);
  DirEntry a[4];
  EXPECT_EQ(sizeof(a), 40u);  // a bucket is 40 contiguous bytes
}

TEST(DirEntryTest, EveryFieldRoundTripsAtExtremes) {
  const uint64_t offsets[] = {0, 1, 0xffff, 0x10000, 0xffffff, 0x1000000, kDirMaxOffsetBlocks - 1, kDirMaxOffsetBlocks};
  const uint8_t codes[] = {0, 1, 63, 64, 127, 128, 254, 255};
  const uint16_t tags[] = {0, 1, 0x7ff, 0xfff};
  const uint16_t nexts[] = {0, 1, 0x8000, 0xffff};
  for (uint64_t off : offsets) {
    for (uint8_t code : codes) {
      for (uint16_t tag : tags) {
        for (int flags = 0; flags < 16; ++flags) {
          for (uint16_t next : nexts) {
            bool ph = flags & 1, hd = flags & 2, pn = flags & 4, us = flags & 8;
            DirEntry e = Full(off, code, tag, ph, hd, pn, us, next);
            ExpectFields(e, off, code, tag, ph, hd, pn, us, next);
            if (HasFailure()) return;
          }
        }
      }
    }
  }
}

TEST(DirEntryTest, SettersDoNotDisturbNeighbours) {
  DirEntry e = Full(kDirMaxOffsetBlocks, 255, 0xfff, true, true, true, true, 0xffff);
  e.set_offset(0);
  ExpectFields(e, 0, 255, 0xfff, true, true, true, true, 0xffff);
  e.set_size_code(0);
  ExpectFields(e, 0, 0, 0xfff, true, true, true, true, 0xffff);
  e.set_tag(0);
  ExpectFields(e, 0, 0, 0, true, true, true, true, 0xffff);
  e.set_tag(0xffff);  // only 12 bits are kept
  EXPECT_EQ(e.tag(), 0xfff);
  EXPECT_TRUE(e.phase());
  e.set_phase(false);
  e.set_head(false);
  e.set_pinned(false);
  ExpectFields(e, 0, 0, 0xfff, false, false, false, true, 0xffff);
  e.set_used(false);
  e.set_next(0);
  ExpectFields(e, 0, 0, 0xfff, false, false, false, false, 0);
  e.set_offset(kDirMaxOffsetBlocks);
  ExpectFields(e, kDirMaxOffsetBlocks, 0, 0xfff, false, false, false, false, 0);
}

TEST(DirEntryTest, DocumentedWordLayout) {
  DirEntry e = Full(0x123456789aULL, 0xab, 0xcde, true, false, true, true, 0x4321);
  EXPECT_EQ(e.w[0], 0x789a);
  EXPECT_EQ(e.w[1], 0xab56);
  EXPECT_EQ(e.w[2], 0xcde | (1 << 12) | (1 << 14) | (1 << 15));
  EXPECT_EQ(e.w[3], 0x4321);
  EXPECT_EQ(e.w[4], 0x1234);
}

TEST(DirEntryTest, SameDocComparesLocationTagPhase) {
  DirEntry a = Full(100, 3, 7, false, true, false, true, 5);
  DirEntry b = a;
  b.set_next(9);
  b.set_pinned(true);
  EXPECT_TRUE(a.SameDoc(b));
  b.set_phase(true);
  EXPECT_FALSE(a.SameDoc(b));
  b = a;
  b.set_offset(101);
  EXPECT_FALSE(a.SameDoc(b));
  b = a;
  b.set_tag(8);
  EXPECT_FALSE(a.SameDoc(b));
  b = a;
  b.set_used(false);
  EXPECT_FALSE(a.SameDoc(b));
}

TEST(ApproxSizeTest, DocumentedSteps) {
  EXPECT_EQ(ApproxSizeBytes(0), 512u);
  EXPECT_EQ(ApproxSizeBytes(63), 32u * 1024);
  EXPECT_EQ(ApproxSizeBytes(64), 4u * 1024);
  EXPECT_EQ(ApproxSizeBytes(127), 256u * 1024);
  EXPECT_EQ(ApproxSizeBytes(191), 2u * 1024 * 1024);
  EXPECT_EQ(ApproxSizeBytes(255), 16u * 1024 * 1024);
  EXPECT_EQ(EncodeApproxSize(0), 0);
  EXPECT_EQ(EncodeApproxSize(512), 0);
  EXPECT_EQ(EncodeApproxSize(513), 1);
  EXPECT_EQ(EncodeApproxSize(32 * 1024), 63);
  EXPECT_EQ(EncodeApproxSize(32 * 1024 + 1), 64 + 8);  // 36 KiB in 4 KiB steps
  EXPECT_EQ(EncodeApproxSize(kDirMaxApproxSizeBytes), 255);
}

// Every byte count up to 16 MiB: the encoded size holds the Doc, is a whole
// number of blocks, grows with the size, uses the finest step that fits,
// and wastes less than a block up to 32 KiB and at most 1/8 above.
TEST(ApproxSizeTest, ExhaustiveMonotoneAndRoundsUp) {
  uint64_t prev = 0;
  uint64_t max_waste_num = 0, max_waste_den = 1;
  for (uint64_t bytes = 0; bytes <= kDirMaxApproxSizeBytes; ++bytes) {
    uint8_t code = EncodeApproxSize(bytes);
    uint64_t approx = ApproxSizeBytes(code);
    if (approx < bytes || approx < prev || approx % kDirBlockSize != 0) {
      FAIL() << "bytes=" << bytes << " code=" << int{code} << " approx=" << approx << " prev=" << prev;
    }
    if (code >= 64 && (code & 63) < 8) FAIL() << "coarse step used for " << bytes;
    if (bytes > 0 && bytes <= 32 * 1024 && approx - bytes >= 512) FAIL() << "more than one block wasted for " << bytes;
    if (bytes > 32 * 1024 && (approx - bytes) * max_waste_den > max_waste_num * bytes) {
      max_waste_num = approx - bytes;
      max_waste_den = bytes;
    }
    prev = approx;
  }
  EXPECT_LE(max_waste_num * 8, max_waste_den);  // at most 12.5% above 32 KiB
}

TEST(ApproxSizeTest, EveryCodeDecodesToItsOwnEncoding) {
  // Codes produced by the encoder are fixed points: encoding the decoded
  // size gives the same code.
  for (uint32_t bytes = 0; bytes <= kDirMaxApproxSizeBytes; bytes += 4096) {
    uint8_t code = EncodeApproxSize(bytes);
    EXPECT_EQ(EncodeApproxSize(ApproxSizeBytes(code)), code);
  }
}

}  // namespace
}  // namespace strata
