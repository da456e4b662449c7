// crc32 as every checksum on Strata's disk format uses it: zlib's crc32
// (ISO-HDLC / IEEE 802.3, initial value 0, as gzip and PNG). Pass the
// previous result as `crc` to continue over more bytes.
//
// Computed by ISA-L's crc32_gzip_refl, which gives exactly zlib's values
// (tests/unit/crc32_test.cc checks it against zlib) but folds with
// carry-less multiplies instead of table lookups: several times faster, and
// every stored or read Doc pays for one pass over its bytes.
//
// Thread-safety: a pure function.
#pragma once

#include <isa-l/crc.h>

#include <cstddef>
#include <cstdint>

namespace strata {

inline uint32_t Crc32(const char* data, size_t n, uint32_t crc = 0) {
  return crc32_gzip_refl(crc, reinterpret_cast<const unsigned char*>(data), n);
}

}  // namespace strata
