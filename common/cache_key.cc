#include "common/cache_key.h"

#include <xxhash.h>

#include <cstdio>

namespace strata {

CacheKey CacheKey::Hash(std::string_view bytes) {
  XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
  return CacheKey{h.high64, h.low64};
}

CacheKey CacheKey::Fragment(uint32_t index) const {
  // Hashing (key, index) spreads fragments over stripes, segments and buckets
  // like independent objects.
  uint64_t input[3] = {hi, lo, index};
  XXH128_hash_t h = XXH3_128bits(input, sizeof(input));
  return CacheKey{h.high64, h.low64};
}

std::string CacheKey::ToHex() const {
  char text[33];
  snprintf(text, sizeof(text), "%016llx%016llx", static_cast<unsigned long long>(hi),
           static_cast<unsigned long long>(lo));
  return std::string(text, 32);
}

bool CacheKey::FromHex(std::string_view hex, CacheKey* out) {
  if (hex.size() != 32) return false;
  uint64_t parts[2] = {0, 0};
  for (size_t i = 0; i < 32; ++i) {
    char c = hex[i];
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
      return false;
    }
    parts[i / 16] = (parts[i / 16] << 4) | static_cast<uint64_t>(v);
  }
  out->hi = parts[0];
  out->lo = parts[1];
  return true;
}

}  // namespace strata
