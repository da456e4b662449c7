// Tests for span and stripe geometry and for the stripe header on real
// (sparse) files: round trips, header/footer choice, and the refusal of
// garbage, other versions and other geometries unless reinitialising.

#include <gtest/gtest.h>
#include <stdlib.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "cache/layout.h"

namespace strata {
namespace {

constexpr uint64_t kMiB = 1ull << 20, kGiB = 1ull << 30;

// Checks what must hold for every stripe of every span.
void CheckStripes(uint64_t span_bytes, const LayoutOptions& options, const std::vector<StripeLayout>& stripes) {
  ASSERT_FALSE(stripes.empty());
  uint64_t next = kSpanReservedBytes;
  for (const StripeLayout& s : stripes) {
    SCOPED_TRACE("stripe " + std::to_string(s.index));
    EXPECT_EQ(s.count, stripes.size());
    EXPECT_EQ(s.offset, next);
    EXPECT_EQ(s.bytes % kStripeAlignBytes, 0u);
    EXPECT_LE(s.bytes, options.max_stripe_bytes);
    EXPECT_EQ(s.bytes, stripes[0].bytes);
    for (uint64_t off : {s.offset, s.dir_a_offset, s.dir_b_offset, s.data_offset, s.data_bytes, s.footer_offset()}) {
      EXPECT_EQ(off % kRegionAlignBytes, 0u);
    }
    EXPECT_EQ(s.dir_a_offset, s.offset + kHeaderBlockBytes);
    EXPECT_EQ(s.dir_b_offset, s.dir_a_offset + s.dir_copy_bytes);
    EXPECT_EQ(s.data_offset, s.dir_b_offset + s.dir_copy_bytes);
    EXPECT_LE(s.data_offset + s.data_bytes, s.footer_offset());
    EXPECT_EQ(s.dir_entries, DirectoryEntriesFor(s.data_bytes, options.average_object_bytes));
    EXPECT_EQ(s.dir_entries % 4, 0u);
    EXPECT_EQ(s.dir_buckets * 4, s.dir_entries);
    EXPECT_EQ(s.dir_segments, (s.dir_buckets + kMaxBucketsPerSegment - 1) / kMaxBucketsPerSegment);
    EXPECT_GE(s.dir_copy_bytes, kDirCopyHeaderBytes + s.dir_entries * kDirEntryBytes);
    EXPECT_EQ(s.dir_copy_bytes, DirectoryCopyBytes(s.dir_entries));
    // Slack between the data area and the footer stays small.
    EXPECT_LT(s.footer_offset() - (s.data_offset + s.data_bytes), 64 * 1024u + s.bytes / 1000);
    next = s.offset + s.bytes;
  }
  EXPECT_LE(next, span_bytes);
  EXPECT_LT(span_bytes - next, kSpanReservedBytes + stripes.size() * kStripeAlignBytes);
}

TEST(CacheLayout, DirectoryEntriesFormula) {
  EXPECT_EQ(DirectoryEntriesFor(0, 8000), 0u);
  EXPECT_EQ(DirectoryEntriesFor(1, 8000), 4u);
  EXPECT_EQ(DirectoryEntriesFor(32000, 8000), 4u);
  EXPECT_EQ(DirectoryEntriesFor(32001, 8000), 8u);
  EXPECT_EQ(DirectoryEntriesFor(1ull << 30, 8000), 134220u);  // ceil(2^30 / 32000) * 4
  EXPECT_EQ(DirectoryCopyBytes(0), 4096u);
  EXPECT_EQ(DirectoryCopyBytes(4), 8192u);
  EXPECT_EQ(DirectoryCopyBytes(409), 8192u);  // 4096 + 4090
  EXPECT_EQ(DirectoryCopyBytes(410), 12288u);
}

TEST(CacheLayout, TinySpanIsOneStripe) {
  LayoutOptions options;
  std::vector<StripeLayout> stripes;
  ASSERT_TRUE(StripeLayout::Compute(8 * kMiB, options, &stripes).ok());
  CheckStripes(8 * kMiB, options, stripes);
  ASSERT_EQ(stripes.size(), 1u);
  const StripeLayout& s = stripes[0];
  EXPECT_EQ(s.offset, 64u * 1024);
  EXPECT_EQ(s.bytes, 7 * kMiB);
  EXPECT_EQ(s.dir_entries, 916u);  // 7M - 8K - 2 x 16K = 7,299,072 bytes of data
  EXPECT_EQ(s.data_bytes, 7299072u);
  EXPECT_EQ(s.dir_copy_bytes, 16384u);
  EXPECT_EQ(s.dir_segments, 1u);
}

TEST(CacheLayout, OneGiBAndComputedOnly200GiB) {
  LayoutOptions options;
  std::vector<StripeLayout> stripes;
  ASSERT_TRUE(StripeLayout::Compute(kGiB, options, &stripes).ok());
  CheckStripes(kGiB, options, stripes);
  ASSERT_EQ(stripes.size(), 1u);
  EXPECT_EQ(stripes[0].bytes, 1023 * kMiB);
  EXPECT_EQ(stripes[0].data_offset, 2756608u);
  EXPECT_EQ(stripes[0].data_bytes, 1069989888u);
  EXPECT_EQ(stripes[0].dir_entries, 133752u);
  EXPECT_EQ(stripes[0].dir_copy_bytes, 1343488u);
  EXPECT_EQ(stripes[0].dir_segments, 3u);  // 33,438 buckets

  ASSERT_TRUE(StripeLayout::Compute(200 * kGiB, options, &stripes).ok());
  CheckStripes(200 * kGiB, options, stripes);
  ASSERT_EQ(stripes.size(), 4u);
  EXPECT_EQ(stripes[0].bytes, 50 * kGiB - kMiB);
  EXPECT_EQ(stripes[3].offset, 161058193408u);
  EXPECT_EQ(stripes[3].data_offset, 161192087552u);
  EXPECT_EQ(stripes[0].data_bytes, 53551808512u);
  EXPECT_EQ(stripes[0].dir_entries, 6693980u);
  EXPECT_EQ(stripes[0].dir_segments, 103u);
  // Each directory copy costs about 0.125% of the stripe (10 bytes per 8000).
  EXPECT_LT(stripes[0].dir_copy_bytes, stripes[0].bytes / 800);

  // A smaller maximum cuts the same span into more stripes.
  options.max_stripe_bytes = 256 * kMiB;
  ASSERT_TRUE(StripeLayout::Compute(kGiB, options, &stripes).ok());
  CheckStripes(kGiB, options, stripes);
  EXPECT_EQ(stripes.size(), 4u);
  EXPECT_EQ(stripes[0].bytes, 255 * kMiB);

  options = LayoutOptions();
  options.average_object_bytes = 64 * 1024;
  ASSERT_TRUE(StripeLayout::Compute(3 * kGiB + 12345, options, &stripes).ok());
  CheckStripes(3 * kGiB + 12345, options, stripes);
}

TEST(CacheLayout, RejectsBadSpansAndOptions) {
  std::vector<StripeLayout> stripes;
  LayoutOptions options;
  EXPECT_EQ(StripeLayout::Compute(4 * kMiB, options, &stripes).kind(), Status::Kind::kInvalidArgument);
  options.max_stripe_bytes = 3 * kMiB;
  EXPECT_EQ(StripeLayout::Compute(kGiB, options, &stripes).kind(), Status::Kind::kInvalidArgument);
  options.max_stripe_bytes = 64 * kMiB + 1;
  EXPECT_EQ(StripeLayout::Compute(kGiB, options, &stripes).kind(), Status::Kind::kInvalidArgument);
  options = LayoutOptions();
  options.average_object_bytes = 100;
  EXPECT_EQ(StripeLayout::Compute(kGiB, options, &stripes).kind(), Status::Kind::kInvalidArgument);
}

TEST(CacheLayout, HeaderEncodeDecode) {
  std::vector<StripeLayout> stripes;
  ASSERT_TRUE(StripeLayout::Compute(kGiB, LayoutOptions(), &stripes).ok());
  StripeHeader h = NewStripeHeader(stripes[0], 1700000000, 0x0123456789abcdefULL);
  h.header_serial = 7;
  h.write_serial = 1234;
  h.snapshot_serial = 99;
  h.write_pos = 4321;
  h.phase = 1;
  char block[kHeaderBlockBytes];
  EncodeStripeHeader(h, block);
  EXPECT_EQ(memcmp(block, "STRPSTRP", 8), 0);
  StripeHeader d;
  ASSERT_TRUE(DecodeStripeHeader(block, &d).ok());
  EXPECT_EQ(d.layout, h.layout);
  EXPECT_EQ(d.create_time, h.create_time);
  EXPECT_EQ(d.nonce, h.nonce);
  EXPECT_EQ(d.header_serial, 7u);
  EXPECT_EQ(d.write_serial, 1234u);
  EXPECT_EQ(d.snapshot_serial, 99u);
  EXPECT_EQ(d.write_pos, 4321u);
  EXPECT_EQ(d.phase, 1u);
  // Every byte of the encoded header is covered by the crc or the magic.
  for (size_t i = 0; i < kStripeHeaderBytes; ++i) {
    char copy[kHeaderBlockBytes];
    memcpy(copy, block, sizeof(copy));
    copy[i] ^= 0x10;
    EXPECT_FALSE(DecodeStripeHeader(copy, &d).ok()) << "byte " << i;
  }
}

class SpanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (std::filesystem::temp_directory_path() / "strata_layout_XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    config_.path = dir_ + "/span.db";
    config_.size_bytes = 64 * kMiB;
    options_.max_stripe_bytes = 16 * kMiB;  // four stripes
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Status Open(bool reinitialize, std::unique_ptr<Span>* span) {
    return OpenSpan(Env::Default(), config_, options_, reinitialize, /*read_only=*/false, span);
  }
  // Overwrites bytes of the span file directly.
  void Poke(uint64_t offset, const std::string& bytes) {
    std::unique_ptr<RandomRWFile> f;
    ASSERT_TRUE(Env::Default()->OpenRandomRWFile(config_.path, Env::OpenOptions(), &f).ok());
    ASSERT_TRUE(f->Write(offset, bytes.data(), bytes.size()).ok());
  }
  std::string Peek(uint64_t offset, size_t n) {
    std::unique_ptr<RandomRWFile> f;
    std::string out(n, '\0');
    EXPECT_TRUE(Env::Default()->OpenRandomRWFile(config_.path, Env::OpenOptions(), &f).ok());
    EXPECT_TRUE(f->Read(offset, n, out.data()).ok());
    return out;
  }

  std::string dir_;
  SpanConfig config_;
  LayoutOptions options_;
};

TEST_F(SpanTest, NewSpanIsInitialisedAndReopens) {
  std::unique_ptr<Span> span;
  ASSERT_TRUE(Open(false, &span).ok());
  ASSERT_EQ(span->stripes.size(), 4u);
  EXPECT_EQ(span->bytes, 64 * kMiB);
  std::vector<uint64_t> nonces;
  for (const SpanStripe& s : span->stripes) {
    EXPECT_TRUE(s.initialized);
    EXPECT_EQ(s.header.layout, s.layout);
    EXPECT_EQ(s.header.header_serial, 1u);
    EXPECT_EQ(s.header.write_pos, 0u);
    EXPECT_GT(s.header.create_time, 0u);
    nonces.push_back(s.header.nonce);
  }
  // Advance stripe 2's state and persist it.
  SpanStripe& s2 = span->stripes[2];
  s2.header.write_pos = 100;
  s2.header.write_serial = 5;
  s2.header.phase = 1;
  ASSERT_TRUE(WriteStripeHeader(*span->file, s2.layout, &s2.header).ok());
  span.reset();

  ASSERT_TRUE(Open(false, &span).ok());
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_FALSE(span->stripes[i].initialized);
    EXPECT_EQ(span->stripes[i].header.nonce, nonces[i]);
  }
  EXPECT_EQ(span->stripes[2].header.write_pos, 100u);
  EXPECT_EQ(span->stripes[2].header.write_serial, 5u);
  EXPECT_EQ(span->stripes[2].header.phase, 1u);
  EXPECT_EQ(span->stripes[2].header.header_serial, 2u);
}

TEST_F(SpanTest, ChangedGeometryIsAClearErrorUnlessReinitialising) {
  std::unique_ptr<Span> span;
  ASSERT_TRUE(Open(false, &span).ok());
  span.reset();
  options_.average_object_bytes = 16000;
  Status st = Open(false, &span);
  ASSERT_EQ(st.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(st.message().find("span " + config_.path + " stripe 0/4"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("average_object_bytes 8000 on disk, 16000 configured"), std::string::npos);
  EXPECT_NE(st.message().find("stripe 3/4"), std::string::npos) << "all stripes reported";
  EXPECT_NE(st.message().find("reinitialize"), std::string::npos);

  // A resized span cuts differently.
  options_.average_object_bytes = 8000;
  config_.size_bytes = 96 * kMiB;
  st = Open(false, &span);
  ASSERT_EQ(st.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(st.message().find("stripe_count 4 on disk, 6 configured"), std::string::npos) << st.message();

  ASSERT_TRUE(Open(true, &span).ok());
  ASSERT_EQ(span->stripes.size(), 6u);
  for (const SpanStripe& s : span->stripes) EXPECT_TRUE(s.initialized);
  span.reset();
  ASSERT_TRUE(Open(false, &span).ok());
}

TEST_F(SpanTest, GarbageHeaderIsRefusedAndLeavesTheSpanAlone) {
  std::vector<StripeLayout> layouts;
  ASSERT_TRUE(StripeLayout::Compute(config_.size_bytes, options_, &layouts).ok());
  std::unique_ptr<RandomRWFile> f;
  Env::OpenOptions create;
  create.create_size = config_.size_bytes;
  ASSERT_TRUE(Env::Default()->OpenRandomRWFile(config_.path, create, &f).ok());
  f.reset();
  // Stripe 0 holds something that is not ours; the other stripes are zero.
  Poke(layouts[0].header_offset(), std::string(4096, 'x'));

  std::unique_ptr<Span> span;
  Status st = Open(false, &span);
  ASSERT_EQ(st.kind(), Status::Kind::kCorruption);
  EXPECT_NE(st.message().find(config_.path), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("bad magic"), std::string::npos) << st.message();
  EXPECT_EQ(Peek(layouts[1].header_offset(), 4096), std::string(4096, '\0')) << "refused span was written";

  ASSERT_TRUE(Open(true, &span).ok());
  EXPECT_TRUE(span->stripes[0].initialized);
}

TEST_F(SpanTest, FooterIsUsedWhenTheHeaderIsDamaged) {
  std::unique_ptr<Span> span;
  ASSERT_TRUE(Open(false, &span).ok());
  SpanStripe& s = span->stripes[1];
  s.header.write_pos = 77;
  ASSERT_TRUE(WriteStripeHeader(*span->file, s.layout, &s.header).ok());
  const StripeLayout layout = s.layout;
  span.reset();

  std::string block = Peek(layout.header_offset(), 64);
  block[40] ^= 1;  // a geometry byte: the crc catches it
  Poke(layout.header_offset(), block);
  ASSERT_TRUE(Open(false, &span).ok());
  EXPECT_EQ(span->stripes[1].header.write_pos, 77u);
  EXPECT_FALSE(span->stripes[1].initialized);

  // Both copies bad: refused, naming both problems.
  Poke(layout.footer_offset(), "garbage!");
  span.reset();
  Status st = Open(false, &span);
  ASSERT_EQ(st.kind(), Status::Kind::kCorruption);
  EXPECT_NE(st.message().find("stripe 1/4"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("header: crc mismatch; footer: bad magic"), std::string::npos) << st.message();
}

TEST_F(SpanTest, NewerCopyWins) {
  std::unique_ptr<Span> span;
  ASSERT_TRUE(Open(false, &span).ok());
  SpanStripe& s = span->stripes[0];
  s.header.write_pos = 10;
  ASSERT_TRUE(WriteStripeHeader(*span->file, s.layout, &s.header).ok());
  const std::string older = Peek(s.layout.header_offset(), 4096);
  s.header.write_pos = 20;
  ASSERT_TRUE(WriteStripeHeader(*span->file, s.layout, &s.header).ok());
  const StripeLayout layout = s.layout;

  StripeHeader h;
  Poke(layout.footer_offset(), older);  // a torn update: footer still old
  ASSERT_TRUE(ReadStripeHeader(*span->file, layout, &h).ok());
  EXPECT_EQ(h.write_pos, 20u);
  const std::string newer = Peek(layout.header_offset(), 4096);
  Poke(layout.header_offset(), older);
  Poke(layout.footer_offset(), newer);
  ASSERT_TRUE(ReadStripeHeader(*span->file, layout, &h).ok());
  EXPECT_EQ(h.write_pos, 20u);
}

TEST_F(SpanTest, OtherFormatVersionIsRefused) {
  std::unique_ptr<Span> span;
  ASSERT_TRUE(Open(false, &span).ok());
  const StripeLayout layout = span->stripes[3].layout;
  span.reset();
  for (uint64_t where : {layout.header_offset(), layout.footer_offset()}) {
    std::string block = Peek(where, 4096);
    block[8] = static_cast<char>(kFormatVersion + 1);  // a newer version
    memset(block.data() + 12, 0, 4);                   // recompute the crc as its writer would
    const uint32_t crc =
        static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(block.data()), kStripeHeaderBytes));
    for (int i = 0; i < 4; ++i) block[12 + i] = static_cast<char>(crc >> (8 * i));
    Poke(where, block);
  }
  Status st = Open(false, &span);
  ASSERT_EQ(st.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(st.message().find("stripe 3/4"), std::string::npos) << st.message();
  const std::string expected = "format version " + std::to_string(kFormatVersion + 1) +
                               " on disk, this build uses version " + std::to_string(kFormatVersion);
  EXPECT_NE(st.message().find(expected), std::string::npos) << st.message();
  ASSERT_TRUE(Open(true, &span).ok());
  EXPECT_TRUE(span->stripes[3].initialized);
  EXPECT_FALSE(span->stripes[0].initialized) << "only the bad stripe is reinitialised";
}

TEST_F(SpanTest, InitialisationClearsDirectoryCopyHeaders) {
  std::vector<StripeLayout> layouts;
  ASSERT_TRUE(StripeLayout::Compute(config_.size_bytes, options_, &layouts).ok());
  std::unique_ptr<RandomRWFile> f;
  Env::OpenOptions create;
  create.create_size = config_.size_bytes;
  ASSERT_TRUE(Env::Default()->OpenRandomRWFile(config_.path, create, &f).ok());
  f.reset();
  Poke(layouts[0].dir_a_offset, "an old snapshot");
  Poke(layouts[0].dir_b_offset, "another one");
  std::unique_ptr<Span> span;
  ASSERT_TRUE(Open(false, &span).ok());
  EXPECT_EQ(Peek(layouts[0].dir_a_offset, 16), std::string(16, '\0'));
  EXPECT_EQ(Peek(layouts[0].dir_b_offset, 16), std::string(16, '\0'));
}

TEST_F(SpanTest, SpanTooSmallNamesThePath) {
  config_.size_bytes = 4 * kMiB;
  std::unique_ptr<Span> span;
  Status st = Open(false, &span);
  ASSERT_EQ(st.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(st.message().find(config_.path), std::string::npos);
}

}  // namespace
}  // namespace strata
