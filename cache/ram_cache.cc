#include "cache/ram_cache.h"

namespace strata {
namespace {

// Doorkeeper slots per shard: enough to remember recent offers of several
// times as many objects as a shard holds at a typical object size.
constexpr size_t kDoorkeeperSlots = 1 << 14;

}  // namespace

RamCache::RamCache(size_t capacity_bytes, bool admit_on_first_offer)
    : capacity_(capacity_bytes),
      shard_capacity_(capacity_bytes / kShards),
      admit_on_first_offer_(admit_on_first_offer) {
  for (Shard& shard : shards_) shard.doorkeeper.assign(kDoorkeeperSlots, 0);
}

RamCache::~RamCache() {
  for (Shard& shard : shards_) {
    shard.lru.clear_and_dispose([](Node* node) { delete node; });
  }
}

RamCache::Shard& RamCache::ShardFor(const RamKey& key, size_t* hash) {
  *hash = RamKeyHash()(key);
  return shards_[(*hash >> 7) % kShards];
}

RamCache::Bytes RamCache::Lookup(const RamKey& key) {
  if (capacity_ == 0) return nullptr;
  size_t hash;
  Shard& shard = ShardFor(key, &hash);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.index.find(key);
  if (it == shard.index.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  Node* node = it->second;
  shard.lru.erase(shard.lru.iterator_to(*node));
  shard.lru.push_front(*node);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return node->doc;
}

void RamCache::Offer(const RamKey& key, Bytes doc) {
  if (capacity_ == 0 || doc == nullptr || doc->size() > shard_capacity_) return;
  size_t hash;
  Shard& shard = ShardFor(key, &hash);
  std::lock_guard<std::mutex> lock(shard.mu);
  if (shard.index.count(key) != 0) return;
  if (!admit_on_first_offer_) {
    uint64_t fingerprint = hash | 1;  // 0 marks an empty slot
    uint64_t& slot = shard.doorkeeper[hash % kDoorkeeperSlots];
    if (slot != fingerprint) {
      slot = fingerprint;
      rejected_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  EvictLocked(shard, doc->size());
  auto* node = new Node;
  node->key = key;
  node->doc = std::move(doc);
  shard.bytes += node->doc->size();
  shard.lru.push_front(*node);
  shard.index.emplace(key, node);
  admitted_.fetch_add(1, std::memory_order_relaxed);
}

void RamCache::EvictLocked(Shard& shard, size_t needed) {
  while (!shard.lru.empty() && shard.bytes + needed > shard_capacity_) {
    Node* victim = &shard.lru.back();
    shard.lru.pop_back();
    shard.index.erase(victim->key);
    shard.bytes -= victim->doc->size();
    delete victim;
    evicted_.fetch_add(1, std::memory_order_relaxed);
  }
}

void RamCache::Erase(const RamKey& key) {
  if (capacity_ == 0) return;
  size_t hash;
  Shard& shard = ShardFor(key, &hash);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.index.find(key);
  if (it == shard.index.end()) return;
  Node* node = it->second;
  shard.index.erase(it);
  shard.lru.erase(shard.lru.iterator_to(*node));
  shard.bytes -= node->doc->size();
  delete node;
}

RamCache::Stats RamCache::stats() const {
  Stats s;
  s.hits = hits_.load(std::memory_order_relaxed);
  s.misses = misses_.load(std::memory_order_relaxed);
  s.admitted = admitted_.load(std::memory_order_relaxed);
  s.rejected = rejected_.load(std::memory_order_relaxed);
  s.evicted = evicted_.load(std::memory_order_relaxed);
  for (const Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mu);
    s.bytes += shard.bytes;
    s.entries += shard.index.size();
  }
  return s;
}

}  // namespace strata
