// Internals shared by directory.cc and directory_scan.cc; not part of the
// API. Entry words are read and written only through std::atomic_ref so that
// lock-free probes racing with the writer are data-race-free (see the LOCK
// rule in directory.h).
#pragma once

#include <atomic>
#include <cstdint>

#include "dir/directory.h"

namespace strata {
namespace dir_internal {

constexpr uint32_t kNoPrev = UINT32_MAX;

inline DirEntry LoadEntry(const DirEntry* p) {
  DirEntry e;
  for (int i = 0; i < 5; ++i) {
    e.w[i] = std::atomic_ref<uint16_t>(const_cast<uint16_t&>(p->w[i])).load(std::memory_order_relaxed);
  }
  return e;
}

inline void StoreEntry(DirEntry* p, const DirEntry& e) {
  for (int i = 0; i < 5; ++i) {
    std::atomic_ref<uint16_t>(p->w[i]).store(e.w[i], std::memory_order_relaxed);
  }
}

// A free (non-head) entry: used = 0, w0 = freelist prev, w3 = freelist next.
inline uint16_t FreePrev(const DirEntry& e) { return e.w[0]; }
inline void SetFreePrev(DirEntry* e, uint16_t index) { e->w[0] = index; }

}  // namespace dir_internal

struct Directory::Segment {
  std::atomic<uint32_t> seq{0};  // seqlock: odd while a writer modifies
  // Guarded by Directory::mu_.
  uint32_t free_head = 0;  // 0 = empty (entry 0 is a head, never free)
  uint32_t free_count = 0;
  uint64_t swept_epoch = 0;  // position_epoch_ at the last full sweep
};

}  // namespace strata
