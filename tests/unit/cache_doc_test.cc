// Tests for the Doc codec (round trip, byte layout, every single-byte flip
// detected, key mismatch as a miss), the fragment table and the metadata
// container.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cache/doc.h"

namespace strata {
namespace {

DocHeaderFields Fields() {
  DocHeaderFields f;
  f.key = CacheKey::Hash("http://example.com/a");
  f.flags = kDocHead | kDocFragment;
  f.object_length = 3 << 20;
  f.fragment_index = 0;
  f.write_serial = 0x1122334455667788ULL;
  f.stripe_nonce = 0xa1b2c3d4;
  return f;
}

std::string Encode(const DocHeaderFields& f, std::string_view meta, std::string_view data) {
  std::string buf(DocSize(meta.size(), data.size()), '\xee');
  EXPECT_EQ(EncodeDoc(f, meta, data, buf.data()), buf.size());
  return buf;
}

TEST(CacheDoc, Size) {
  EXPECT_EQ(DocSize(0, 0), 512u);
  EXPECT_EQ(DocSize(0, 448), 512u);
  EXPECT_EQ(DocSize(0, 449), 1024u);
  EXPECT_EQ(DocSize(100, 1 << 20), 1049088u);  // 64 + 100 + 1M rounded up to 512
}

TEST(CacheDoc, RoundTrip) {
  const DocHeaderFields f = Fields();
  const std::string meta = "response headers";
  std::string data(1000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  const std::string buf = Encode(f, meta, data);
  ASSERT_EQ(buf.size(), 1536u);
  DocView view;
  ASSERT_TRUE(DecodeDoc(buf.data(), buf.size(), f.key, &view).ok());
  EXPECT_EQ(view.header.key, f.key);
  EXPECT_EQ(view.header.flags, f.flags);
  EXPECT_EQ(view.header.object_length, f.object_length);
  EXPECT_EQ(view.header.write_serial, f.write_serial);
  EXPECT_EQ(view.header.stripe_nonce, f.stripe_nonce);
  EXPECT_EQ(view.header.version, kDocVersion);
  EXPECT_EQ(view.meta, meta);
  EXPECT_EQ(view.data, data);
  EXPECT_EQ(view.size, 1536u);
  // Padding is zero.
  for (size_t i = 64 + meta.size() + data.size(); i < buf.size(); ++i) EXPECT_EQ(buf[i], 0) << i;
  // Empty metadata and data.
  const std::string empty = Encode(f, "", "");
  ASSERT_TRUE(DecodeDoc(empty.data(), empty.size(), f.key, &view).ok());
  EXPECT_TRUE(view.meta.empty() && view.data.empty());
  // A read of exactly the unpadded bytes also decodes.
  ASSERT_TRUE(DecodeDoc(buf.data(), 64 + meta.size() + data.size(), f.key, &view).ok());
}

TEST(CacheDoc, ByteLayoutIsLittleEndianAtFixedOffsets) {
  DocHeaderFields f;
  f.key = CacheKey{0x0102030405060708ULL, 0x1112131415161718ULL};
  f.flags = kDocHead;
  f.object_length = 0x2122232425262728ULL;
  f.fragment_index = 0x31323334;
  f.write_serial = 0x4142434445464748ULL;
  f.stripe_nonce = 0x51525354;
  const std::string buf = Encode(f, "m", "dd");
  auto u = [&](size_t i) { return static_cast<unsigned char>(buf[i]); };
  EXPECT_EQ(buf.substr(0, 4), "SDOC");
  EXPECT_EQ(u(4), 1);  // version
  EXPECT_EQ(u(6), 1);  // flags
  EXPECT_EQ(u(8), 0x08);
  EXPECT_EQ(u(15), 0x01);
  EXPECT_EQ(u(16), 0x18);
  EXPECT_EQ(u(24), 0x28);
  EXPECT_EQ(u(32), 2);  // data_length
  EXPECT_EQ(u(36), 1);  // meta_length
  EXPECT_EQ(u(40), 0x34);
  EXPECT_EQ(u(44), 0x48);
  EXPECT_EQ(u(51), 0x41);
  EXPECT_EQ(u(56), 0x54);
  EXPECT_EQ(buf.substr(60, 4), std::string(4, '\0'));
  EXPECT_EQ(buf.substr(64, 3), "mdd");
}

TEST(CacheDoc, EverySingleByteFlipIsDetected) {
  const DocHeaderFields f = Fields();
  const std::string meta = EncodeMetadata("HTTP/1.1 200 OK\r\n", {0, 1 << 20, 2 << 20});
  const std::string data(700, 'd');
  const std::string good = Encode(f, meta, data);
  const size_t covered = 64 + meta.size() + data.size();
  int not_found = 0;
  for (size_t i = 0; i < covered; ++i) {
    for (unsigned char mask : {0x01, 0x80, 0xff}) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      DocView view;
      Status st = DecodeDoc(bad.data(), bad.size(), f.key, &view);
      ASSERT_FALSE(st.ok()) << "byte " << i << " mask " << int(mask);
      ASSERT_TRUE(st.kind() == Status::Kind::kCorruption || st.kind() == Status::Kind::kNotFound) << st.ToString();
      not_found += st.kind() == Status::Kind::kNotFound;
    }
  }
  // The crc is checked before the key, so a damaged key is Corruption too.
  EXPECT_EQ(not_found, 0);
}

TEST(CacheDoc, KeyMismatchIsAMiss) {
  const DocHeaderFields f = Fields();
  const std::string buf = Encode(f, "meta", "data");
  DocView view;
  CacheKey other = f.key;
  other.hi ^= 1;
  EXPECT_EQ(DecodeDoc(buf.data(), buf.size(), other, &view).kind(), Status::Kind::kNotFound);
}

TEST(CacheDoc, TruncatedAndOversized) {
  const DocHeaderFields f = Fields();
  const std::string buf = Encode(f, "meta", std::string(600, 'x'));
  DocView view;
  EXPECT_EQ(DecodeDoc(buf.data(), 63, f.key, &view).kind(), Status::Kind::kCorruption);
  EXPECT_EQ(DecodeDoc(buf.data(), 64 + 4 + 599, f.key, &view).kind(), Status::Kind::kCorruption);
  DocHeaderFields header;
  ASSERT_TRUE(DecodeDocHeader(buf.data(), 64, &header).ok());
  EXPECT_EQ(header.data_length, 600u);
  EXPECT_EQ(header.meta_length, 4u);
  // Too large to encode.
  std::string huge(kMaxDocBytes, 'h');
  std::vector<char> out(16);
  EXPECT_EQ(EncodeDoc(f, "", huge, out.data()), 0u);
}

TEST(CacheDoc, FragmentTableRoundTripAndSearch) {
  const std::vector<uint64_t> table = {0, 1000, 2000, 5000, 1ull << 40};
  std::vector<uint64_t> decoded;
  ASSERT_TRUE(DecodeFragmentTable(EncodeFragmentTable(table), &decoded).ok());
  EXPECT_EQ(decoded, table);
  EXPECT_EQ(FragmentForOffset(table, 0), 0u);
  EXPECT_EQ(FragmentForOffset(table, 999), 0u);
  EXPECT_EQ(FragmentForOffset(table, 1000), 1u);
  EXPECT_EQ(FragmentForOffset(table, 1001), 1u);
  EXPECT_EQ(FragmentForOffset(table, 1999), 1u);
  EXPECT_EQ(FragmentForOffset(table, 2000), 2u);
  EXPECT_EQ(FragmentForOffset(table, 4999), 2u);
  EXPECT_EQ(FragmentForOffset(table, 5000), 3u);
  EXPECT_EQ(FragmentForOffset(table, (1ull << 40) - 1), 3u);
  EXPECT_EQ(FragmentForOffset(table, 1ull << 40), 4u);
  EXPECT_EQ(FragmentForOffset(table, UINT64_MAX), 4u);
  EXPECT_EQ(FragmentForOffset({0}, 12345), 0u);
  EXPECT_EQ(FragmentForOffset({}, 12345), 0u);

  // Many uniform fragments: every boundary.
  std::vector<uint64_t> uniform;
  for (uint64_t i = 0; i < 1000; ++i) uniform.push_back(i << 20);
  const std::string encoded = EncodeFragmentTable(uniform);
  EXPECT_LT(encoded.size(), 4000u);  // 3-byte varint differences
  ASSERT_TRUE(DecodeFragmentTable(encoded, &decoded).ok());
  EXPECT_EQ(decoded, uniform);
  for (uint64_t i = 1; i < 1000; ++i) {
    EXPECT_EQ(FragmentForOffset(uniform, (i << 20) - 1), i - 1);
    EXPECT_EQ(FragmentForOffset(uniform, i << 20), i);
  }
  ASSERT_TRUE(DecodeFragmentTable("", &decoded).ok());
  EXPECT_TRUE(decoded.empty());
}

TEST(CacheDoc, BadFragmentTablesAreCorruption) {
  std::vector<uint64_t> out;
  for (const std::vector<uint64_t>& bad : std::vector<std::vector<uint64_t>>{{5, 10}, {0, 10, 10}, {0, 10, 5}}) {
    EXPECT_EQ(DecodeFragmentTable(EncodeFragmentTable(bad), &out).kind(), Status::Kind::kCorruption);
  }
  std::string good = EncodeFragmentTable({0, 100, 200});
  EXPECT_EQ(DecodeFragmentTable(good.substr(0, good.size() - 1), &out).kind(), Status::Kind::kCorruption);
  EXPECT_EQ(DecodeFragmentTable(good + "x", &out).kind(), Status::Kind::kCorruption);
  EXPECT_EQ(DecodeFragmentTable("\xff\xff\xff\xff\x0f", &out).kind(), Status::Kind::kCorruption);  // huge count
  EXPECT_EQ(DecodeFragmentTable(std::string("\x02\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 12), &out).kind(),
            Status::Kind::kCorruption);  // varint longer than 64 bits
}

TEST(CacheDoc, MetadataContainer) {
  std::string_view user;
  std::vector<uint64_t> table;
  const std::string enc = EncodeMetadata("opaque", {0, 4096});
  ASSERT_TRUE(DecodeMetadata(enc, &user, &table).ok());
  EXPECT_EQ(user, "opaque");
  EXPECT_EQ(table, (std::vector<uint64_t>{0, 4096}));
  ASSERT_TRUE(DecodeMetadata(EncodeMetadata("", {}), &user, &table).ok());
  EXPECT_TRUE(user.empty() && table.empty());

  EXPECT_EQ(DecodeMetadata("", &user, &table).kind(), Status::Kind::kCorruption);
  std::string v2 = enc;
  v2[0] = 2;
  EXPECT_EQ(DecodeMetadata(v2, &user, &table).kind(), Status::Kind::kCorruption);
  for (size_t n = 0; n < enc.size(); ++n) {
    EXPECT_EQ(DecodeMetadata(enc.substr(0, n), &user, &table).kind(), Status::Kind::kCorruption) << n;
  }
  EXPECT_EQ(DecodeMetadata(enc + "!", &user, &table).kind(), Status::Kind::kCorruption);
  std::string long_user = enc;
  long_user[1] = 100;  // user length overruns
  EXPECT_EQ(DecodeMetadata(long_user, &user, &table).kind(), Status::Kind::kCorruption);
}

}  // namespace
}  // namespace strata
