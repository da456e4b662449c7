// Crc32 (ISA-L) gives zlib's crc32 exactly: the disk format's checksums do
// not depend on which library computes them.
#include "common/crc32.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>

namespace strata {
namespace {

uint32_t ZlibCrc32(const std::string& s, uint32_t crc = 0) {
  return static_cast<uint32_t>(crc32_z(crc, reinterpret_cast<const Bytef*>(s.data()), s.size()));
}

TEST(Crc32Test, KnownValue) {
  EXPECT_EQ(Crc32("123456789", 9), 0xCBF43926u);  // the CRC-32/ISO-HDLC check value
  EXPECT_EQ(Crc32("", 0), 0u);
}

TEST(Crc32Test, SameAsZlibForEveryLengthAndAlignment) {
  std::mt19937_64 rng(7);
  std::string data(70000, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  for (size_t length : {1u, 3u, 15u, 16u, 63u, 64u, 65u, 255u, 4096u, 16384u, 65536u, 69000u}) {
    for (size_t offset : {0u, 1u, 7u}) {
      std::string piece = data.substr(offset, length);
      EXPECT_EQ(Crc32(piece.data(), piece.size()), ZlibCrc32(piece)) << length << "@" << offset;
    }
  }
}

TEST(Crc32Test, ContinuesLikeZlib) {
  std::string a(5000, 'a'), b = "then something else";
  uint32_t ours = Crc32(b.data(), b.size(), Crc32(a.data(), a.size()));
  EXPECT_EQ(ours, ZlibCrc32(b, ZlibCrc32(a)));
  EXPECT_EQ(ours, ZlibCrc32(a + b));
}

}  // namespace
}  // namespace strata
