// RamCache: a bounded in-memory cache of verified Docs, in front of the disk.
//
// Entries are keyed by where the Doc lives as well as its key: the stripe and
// its position counted across wraps (pass × data blocks + offset), so neither
// a newer version written elsewhere nor one written at the same offset a
// pass later can be answered with the old bytes.
//
// Eviction is LRU within each shard. Admission is second-hit: a Doc enters
// only when it was offered recently before (a one-slot-per-hash
// "doorkeeper"), so a scan of cold objects cannot flush the hot set.
// Lookups take the shard mutex and allocate nothing; the Doc bytes are
// shared (refcounted) so a hit is served without copying them.
//
// Thread-safety: all methods may be called from any thread; each of the 16
// shards has its own mutex guarding its list, index and byte count.
#pragma once

#include <atomic>
#include <boost/intrusive/list.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/cache_key.h"

namespace strata {

struct RamKey {
  CacheKey key;
  uint32_t stripe = 0;
  uint64_t offset_blocks = 0;

  friend bool operator==(const RamKey& a, const RamKey& b) {
    return a.key == b.key && a.stripe == b.stripe && a.offset_blocks == b.offset_blocks;
  }
};

struct RamKeyHash {
  size_t operator()(const RamKey& k) const {
    return CacheKeyHash()(k.key) ^ (k.offset_blocks * 0x9e3779b97f4a7c15ULL) ^ k.stripe;
  }
};

class RamCache {
 public:
  using Bytes = std::shared_ptr<const std::string>;

  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t admitted = 0;
    uint64_t rejected = 0;  // offered once, not (yet) admitted
    uint64_t evicted = 0;
    uint64_t bytes = 0;
    uint64_t entries = 0;
  };

  // capacity_bytes == 0 disables the cache. `admit_on_first_offer` turns
  // the doorkeeper off (tests, and objects known to be hot).
  explicit RamCache(size_t capacity_bytes, bool admit_on_first_offer = false);
  ~RamCache();

  RamCache(const RamCache&) = delete;
  RamCache& operator=(const RamCache&) = delete;

  // The Doc at that location, or nullptr.
  Bytes Lookup(const RamKey& key);

  // Offers a verified Doc; it is kept when admission allows and it fits.
  void Offer(const RamKey& key, Bytes doc);

  void Erase(const RamKey& key);

  Stats stats() const;
  size_t capacity() const { return capacity_; }

 private:
  struct Node : public boost::intrusive::list_base_hook<> {
    RamKey key;
    Bytes doc;
  };
  struct Shard {
    mutable std::mutex mu;
    boost::intrusive::list<Node> lru;  // front = most recent
    std::unordered_map<RamKey, Node*, RamKeyHash> index;
    size_t bytes = 0;
    std::vector<uint64_t> doorkeeper;
  };
  static constexpr size_t kShards = 16;

  Shard& ShardFor(const RamKey& key, size_t* hash);
  void EvictLocked(Shard& shard, size_t needed);

  size_t capacity_;
  size_t shard_capacity_;
  bool admit_on_first_offer_;
  Shard shards_[kShards];
  std::atomic<uint64_t> hits_{0}, misses_{0}, admitted_{0}, rejected_{0}, evicted_{0};
};

}  // namespace strata
