// StripeAssignment: which stripe holds a key. A table of 65536 slots, indexed
// by CacheKey::stripe_slot(), each naming a stripe.
//
// Each slot goes to the stripe with the best weighted rendezvous score
// (highest-random-weight hashing): score(slot, stripe) is a hash of the
// stripe's identity and the slot, scaled by the stripe's weight, so
//   - a stripe gets slots in proportion to its weight (its data bytes);
//   - adding a stripe moves only the slots it wins, all of them to itself,
//     and removing one moves only its own slots: other objects stay put;
//   - the table depends only on the set of (identity, weight), not on the
//     order of spans in storage.config.
// A stripe's identity is its span's identity (the path, or `id=` from
// storage.config) and its index in the span, so renaming a device without
// `id=` moves its keys, as in ATS.
//
// Building costs 65536 x stripes hash evaluations (about 20 ms for 16
// stripes); it happens at startup and when spans change.
//
// Thread-safety: immutable after Build; share it freely across threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/cache_key.h"
#include "common/status.h"

namespace strata {

struct StripeIdentity {
  std::string span;     // SpanConfig::identity()
  uint32_t index = 0;   // stripe number within the span
  uint64_t weight = 0;  // the stripe's data bytes
};

// The 64-bit seed that stands for a stripe in the rendezvous hash.
uint64_t StripeIdentityHash(const std::string& span, uint32_t index);

class StripeAssignment {
 public:
  static constexpr uint32_t kSlots = 65536;
  static constexpr size_t kMaxStripes = 65535;

  // Assigns every slot to one of `stripes`; the table holds indexes into
  // that vector. InvalidArgument for no stripes, too many, a zero weight or
  // a duplicate identity.
  static Status Build(const std::vector<StripeIdentity>& stripes, StripeAssignment* out);

  uint32_t StripeForKey(const CacheKey& key) const { return table_[key.stripe_slot()]; }
  uint32_t StripeForSlot(uint32_t slot) const { return table_[slot & (kSlots - 1)]; }
  size_t stripe_count() const { return stripe_count_; }

 private:
  std::vector<uint16_t> table_;  // kSlots entries once built
  size_t stripe_count_ = 0;
};

}  // namespace strata
