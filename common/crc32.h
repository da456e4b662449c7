// crc32 as every checksum on Strata's disk format uses it: zlib's crc32
// (ISO-HDLC / IEEE 802.3, initial value 0, as gzip and PNG). Pass the
// previous result as `crc` to continue over more bytes.
//
// Thread-safety: a pure function.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>

namespace strata {

inline uint32_t Crc32(const char* data, size_t n, uint32_t crc = 0) {
  return static_cast<uint32_t>(crc32_z(crc, reinterpret_cast<const Bytef*>(data), n));
}

}  // namespace strata
