// DirEntry: one 10-byte slot of a stripe's directory. It says where one Doc
// (the first Doc of an object, or one of its fragments) lies in the stripe's
// data area, how many bytes to read, and 12 bits of its key to filter
// candidates. A tag match is only a candidate: the engine compares the full
// key stored in the Doc header on every read.
//
// Layout: five little uint16_t words, like ATS's Dir (docs/DIRECTORY.md has
// the same table and the cost arithmetic):
//
//   word  bits    field
//   w0    0..15   offset bits 0..15          (free entry: freelist prev)
//   w1    0..7    offset bits 16..23
//   w1    8..15   approximate size code (bits 0..5 mantissa, 6..7 exponent)
//   w2    0..11   tag (CacheKey::tag())
//   w2    12      phase (the stripe's phase when the Doc was written)
//   w2    13      head (first Doc of an object, not a fragment)
//   w2    14      pinned (eviction skips it while unpinned entries remain)
//   w2    15      used (0 = free entry or empty bucket head)
//   w3    0..15   next: index of the next entry of the bucket chain in the
//                 same segment, 0 = end (free entry: freelist next)
//   w4    0..15   offset bits 24..39
//
// The offset counts 512-byte blocks from the start of the stripe's data area,
// 40 bits: up to 512 TiB. Offset 0 is a real location; `used` tells an empty
// slot apart. Index 0 can mean "end" in `next` because entry 0 of a segment
// is bucket 0's head, which is never a chain member nor on a freelist.
//
// Approximate size: code = (exp << 6) | m means (m + 1) * 512 * 8^exp bytes.
//   exp 0: 512 B steps up to 32 KiB     exp 2: 32 KiB steps up to 2 MiB
//   exp 1: 4 KiB steps up to 256 KiB    exp 3: 256 KiB steps up to 16 MiB
// EncodeApproxSize picks the finest step that holds the Doc, so the encoded
// size is >= the real size, by less than 512 bytes up to 32 KiB and by at
// most 1/8 above (the first steps of a range; 1/64 at its top);
// the engine reads that many bytes and trims to the Doc's own length.
//
// Thread-safety: a plain value. The Directory stores entries in shared
// arrays and reads and writes their words through std::atomic_ref.
#pragma once

#include <cstdint>
#include <type_traits>

namespace strata {

constexpr uint64_t kDirBlockSize = 512;                                 // offset unit
constexpr uint64_t kDirMaxOffsetBlocks = (uint64_t{1} << 40) - 1;       // 512 TiB
constexpr uint64_t kDirMaxApproxSizeBytes = 64 * (kDirBlockSize << 9);  // 16 MiB
constexpr uint16_t kDirTagMask = 0x0fff;

// The smallest code whose ApproxSizeBytes() is >= bytes (bytes 0 -> 512).
// Requires bytes <= kDirMaxApproxSizeBytes; callers check first.
constexpr uint8_t EncodeApproxSize(uint64_t bytes) {
  for (uint32_t exp = 0; exp < 3; ++exp) {
    uint64_t step = kDirBlockSize << (3 * exp);
    if (bytes <= 64 * step) {
      uint64_t m = bytes == 0 ? 0 : (bytes + step - 1) / step - 1;
      return static_cast<uint8_t>((exp << 6) | m);
    }
  }
  uint64_t step = kDirBlockSize << 9;
  uint64_t m = (bytes + step - 1) / step - 1;
  return static_cast<uint8_t>((3u << 6) | (m > 63 ? 63 : m));
}

constexpr uint64_t ApproxSizeBytes(uint8_t code) {
  return (uint64_t{code & 63u} + 1) * (kDirBlockSize << (3 * (code >> 6)));
}

constexpr uint64_t ApproxSizeBlocks(uint8_t code) { return ApproxSizeBytes(code) / kDirBlockSize; }

struct DirEntry {
  uint16_t w[5] = {0, 0, 0, 0, 0};

  uint64_t offset() const { return uint64_t{w[0]} | (uint64_t{w[1] & 0xffu} << 16) | (uint64_t{w[4]} << 24); }
  void set_offset(uint64_t blocks) {
    w[0] = static_cast<uint16_t>(blocks);
    w[1] = static_cast<uint16_t>((w[1] & 0xff00u) | ((blocks >> 16) & 0xffu));
    w[4] = static_cast<uint16_t>(blocks >> 24);
  }

  uint8_t size_code() const { return static_cast<uint8_t>(w[1] >> 8); }
  void set_size_code(uint8_t code) { w[1] = static_cast<uint16_t>((w[1] & 0x00ffu) | (unsigned{code} << 8)); }
  uint64_t approx_size_bytes() const { return ApproxSizeBytes(size_code()); }
  uint64_t approx_size_blocks() const { return ApproxSizeBlocks(size_code()); }

  uint16_t tag() const { return static_cast<uint16_t>(w[2] & kDirTagMask); }
  void set_tag(uint16_t tag) { w[2] = static_cast<uint16_t>((w[2] & ~kDirTagMask) | (tag & kDirTagMask)); }

  bool phase() const { return Bit(12); }
  void set_phase(bool v) { SetBit(12, v); }
  bool head() const { return Bit(13); }
  void set_head(bool v) { SetBit(13, v); }
  bool pinned() const { return Bit(14); }
  void set_pinned(bool v) { SetBit(14, v); }
  bool used() const { return Bit(15); }
  void set_used(bool v) { SetBit(15, v); }

  uint16_t next() const { return w[3]; }
  void set_next(uint16_t index) { w[3] = index; }

  // Same Doc: used, same offset, tag and phase. `next` is chain bookkeeping
  // and the other flags follow from the Doc, so they are not compared.
  bool SameDoc(const DirEntry& other) const {
    return used() && other.used() && offset() == other.offset() && tag() == other.tag() && phase() == other.phase();
  }

  friend bool operator==(const DirEntry& a, const DirEntry& b) {
    for (int i = 0; i < 5; ++i) {
      if (a.w[i] != b.w[i]) return false;
    }
    return true;
  }

 private:
  bool Bit(int b) const { return (w[2] >> b) & 1u; }
  void SetBit(int b, bool v) { w[2] = static_cast<uint16_t>(v ? (w[2] | (1u << b)) : (w[2] & ~(1u << b))); }
};

static_assert(sizeof(DirEntry) == 10, "a directory entry is exactly 10 bytes");
static_assert(alignof(DirEntry) == 2, "entries are packed at 2-byte alignment");
static_assert(std::is_trivially_copyable_v<DirEntry>, "segments are copied as plain words");
static_assert(ApproxSizeBytes(EncodeApproxSize(kDirMaxApproxSizeBytes)) == kDirMaxApproxSizeBytes);

}  // namespace strata
