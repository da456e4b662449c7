// CacheKey: the 128-bit name of everything the cache engine stores.
//
// The proxy derives it from the normalised URL (and configured key parts)
// with XXH3-128; the engine derives fragment keys from an object's key. The
// bits are split so that each decision uses bits no other decision uses:
//
//   lo bits  0..15  stripe-table slot (which stripe holds the key)
//   hi bits 32..63  directory segment
//   hi bits  0..31  bucket within the segment
//   lo bits 52..63  tag stored in the directory entry (12 bits)
//
// A tag match is only a candidate: the full key is stored in the Doc header
// and compared on every read, and the proxy compares the stored URL too.
//
// Thread-safety: a plain value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace strata {

struct CacheKey {
  uint64_t hi = 0;
  uint64_t lo = 0;

  // XXH3-128 of `bytes`.
  static CacheKey Hash(std::string_view bytes);

  // The key of fragment `index` (1-based) of the object whose first Doc has
  // this key. Deterministic, so a reader finds fragments without a lookup
  // table of keys, and distinct from every other object's keys in practice.
  CacheKey Fragment(uint32_t index) const;

  uint32_t stripe_slot() const { return static_cast<uint32_t>(lo & 0xffff); }
  uint32_t segment_bits() const { return static_cast<uint32_t>(hi >> 32); }
  uint32_t bucket_bits() const { return static_cast<uint32_t>(hi); }
  uint16_t tag() const { return static_cast<uint16_t>(lo >> 52); }

  bool is_zero() const { return hi == 0 && lo == 0; }

  // 32 lowercase hex digits, hi first.
  std::string ToHex() const;
  static bool FromHex(std::string_view hex, CacheKey* out);

  friend bool operator==(const CacheKey& a, const CacheKey& b) { return a.hi == b.hi && a.lo == b.lo; }
  friend bool operator!=(const CacheKey& a, const CacheKey& b) { return !(a == b); }
  friend bool operator<(const CacheKey& a, const CacheKey& b) { return a.hi != b.hi ? a.hi < b.hi : a.lo < b.lo; }
};

struct CacheKeyHash {
  size_t operator()(const CacheKey& key) const {
    return static_cast<size_t>(key.hi ^ (key.lo * 0x9e3779b97f4a7c15ULL));
  }
};

}  // namespace strata
