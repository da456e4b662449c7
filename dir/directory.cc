// Directory core: geometry, probes, insert/overwrite/remove, freelists and
// eviction. Scans, sweeps and snapshot restore are in directory_scan.cc.
#include "dir/directory.h"

#include <algorithm>
#include <thread>

#include "dir/directory_internal.h"

namespace strata {

using dir_internal::FreePrev;
using dir_internal::kNoPrev;
using dir_internal::LoadEntry;
using dir_internal::SetFreePrev;
using dir_internal::StoreEntry;

Status DirGeometry::Compute(uint64_t data_bytes, uint64_t average_object_bytes, DirGeometry* out) {
  if (average_object_bytes == 0) return Status::InvalidArgument("average object size must be > 0");
  uint64_t blocks = data_bytes / kDirBlockSize;
  if (blocks == 0) return Status::InvalidArgument("data area smaller than one block");
  if (blocks > kDirMaxOffsetBlocks + 1) return Status::InvalidArgument("data area over 512 TiB");
  uint64_t entries = std::max<uint64_t>(kDirDepth, data_bytes / average_object_bytes);
  uint64_t buckets = (entries + kDirDepth - 1) / kDirDepth;
  const uint64_t max_buckets = kDirMaxSegmentEntries / kDirDepth;
  uint64_t nseg = (buckets + max_buckets - 1) / max_buckets;
  if (nseg > UINT32_MAX) return Status::InvalidArgument("too many directory segments");
  out->data_blocks = blocks;
  out->nsegments = static_cast<uint32_t>(nseg);
  out->buckets_per_segment = static_cast<uint32_t>((buckets + nseg - 1) / nseg);
  return Status::OK();
}

Status Directory::Create(uint64_t data_bytes, uint64_t average_object_bytes, std::unique_ptr<Directory>* out) {
  DirGeometry geo;
  Status s = DirGeometry::Compute(data_bytes, average_object_bytes, &geo);
  if (!s.ok()) return s;
  out->reset(new Directory(geo));
  return Status::OK();
}

Directory::Directory(const DirGeometry& geometry)
    : geo_(geometry), entries_(new DirEntry[geometry.total_entries()]), segments_(new Segment[geometry.nsegments]) {
  // Rows 1..3 of every bucket start free; pushed in reverse so a segment
  // hands out low indexes first.
  for (uint32_t s = 0; s < geo_.nsegments; ++s) {
    for (uint32_t i = geo_.entries_per_segment(); i-- > 0;) {
      if (i % kDirDepth != 0) FreePush(s, i);
    }
  }
}

Directory::~Directory() = default;

Directory::Segment& Directory::seg(uint32_t s) const { return segments_[s]; }
DirEntry* Directory::base(uint32_t s) const { return &entries_[uint64_t{s} * geo_.entries_per_segment()]; }

// Seqlock writer side (Boehm, "Can seqlocks get along with programming
// language memory models?"): the release fence keeps the data stores after
// the odd sequence store; the release store publishes them.
void Directory::BeginWrite(uint32_t s) {
  std::atomic<uint32_t>& seq = seg(s).seq;
  seq.store(seq.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
}

void Directory::EndWrite(uint32_t s) {
  std::atomic<uint32_t>& seq = seg(s).seq;
  seq.store(seq.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

namespace {
// Readers spin briefly, then yield: a writer holds a segment odd for one
// chain update, or one bucket of a sweep.
void Backoff(uint32_t attempt) {
  if (attempt % 16 == 15) std::this_thread::yield();
}
}  // namespace

DirPosition Directory::LoadPositionLocked() const {
  return DirPosition{write_pos_.load(std::memory_order_relaxed), clean_end_.load(std::memory_order_relaxed),
                     phase_.load(std::memory_order_relaxed)};
}

void Directory::StorePositionLocked(const DirPosition& pos) {
  pos_seq_.store(pos_seq_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  write_pos_.store(pos.write_pos, std::memory_order_relaxed);
  clean_end_.store(pos.clean_end, std::memory_order_relaxed);
  phase_.store(pos.phase, std::memory_order_relaxed);
  pos_seq_.store(pos_seq_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  ++position_epoch_;
}

DirPosition Directory::position() const {
  for (uint32_t attempt = 0;; ++attempt) {
    uint32_t s0 = pos_seq_.load(std::memory_order_acquire);
    if ((s0 & 1) == 0) {
      DirPosition pos = LoadPositionLocked();  // relaxed loads, checked below
      std::atomic_thread_fence(std::memory_order_acquire);
      if (pos_seq_.load(std::memory_order_relaxed) == s0) return pos;
    }
    Backoff(attempt);
  }
}

bool Directory::ValidAt(const DirEntry& e, const DirPosition& pos) const {
  // In phase: the offset alone decides. Insert checked that the whole Doc
  // (its exact size) was behind write_pos, and write_pos only grows within a
  // phase. The rounded-up size would hide the newest Docs, which the engine
  // does not pad to their approximate size.
  if (e.phase() == pos.phase) return e.offset() < pos.write_pos;
  return e.offset() >= pos.clean_end;
}

bool Directory::IsValid(const DirEntry& entry) const { return entry.used() && ValidAt(entry, position()); }

size_t Directory::Probe(const CacheKey& key, std::vector<DirEntry>* out) const {
  const uint32_t s = SegmentOf(key);
  const uint32_t head = BucketOf(key) * kDirDepth;
  const uint16_t tag = key.tag();
  const uint32_t eps = geo_.entries_per_segment();
  const DirEntry* entries = base(s);
  const std::atomic<uint32_t>& seq = seg(s).seq;
  for (uint32_t attempt = 0;; ++attempt) {
    out->clear();
    uint32_t p0 = pos_seq_.load(std::memory_order_acquire);
    uint32_t s0 = seq.load(std::memory_order_acquire);
    if (((p0 | s0) & 1) == 0) {
      DirPosition pos = LoadPositionLocked();
      // Bounded walk: a torn read (caught below) or a corrupt chain cannot
      // make it loop; it visits at most one segment's worth of entries.
      uint32_t i = head;
      for (uint32_t hops = 0; hops < eps; ++hops) {
        DirEntry e = LoadEntry(&entries[i]);
        if (!e.used()) break;
        if (e.tag() == tag && ValidAt(e, pos)) out->push_back(e);
        i = e.next();
        if (i == 0 || i >= eps) break;
      }
      std::atomic_thread_fence(std::memory_order_acquire);
      if (seq.load(std::memory_order_relaxed) == s0 && pos_seq_.load(std::memory_order_relaxed) == p0) {
        return out->size();
      }
    }
    Backoff(attempt);
  }
}

Status Directory::MakeEntry(const CacheKey& key, const DirLocation& loc, const DirPosition& pos, DirEntry* out) const {
  if (loc.size_bytes > kDirMaxApproxSizeBytes) return Status::InvalidArgument("Doc larger than 16 MiB");
  DirEntry e;
  e.set_size_code(EncodeApproxSize(loc.size_bytes));
  // The exact extent, not the approximate one: the engine may place the
  // next Doc right after this one's real end.
  const uint64_t end = loc.offset_blocks + std::max<uint64_t>(1, (loc.size_bytes + kDirBlockSize - 1) / kDirBlockSize);
  if (loc.offset_blocks > kDirMaxOffsetBlocks || end > geo_.data_blocks) {
    return Status::InvalidArgument("Doc extent past the data area");
  }
  if (end <= pos.write_pos) {
    e.set_phase(pos.phase);
  } else if (loc.offset_blocks >= pos.clean_end) {
    e.set_phase(!pos.phase);
  } else {
    return Status::InvalidArgument("Doc not behind the write position nor in the previous pass");
  }
  e.set_offset(loc.offset_blocks);
  e.set_tag(key.tag());
  e.set_head(loc.head);
  e.set_pinned(loc.pinned);
  e.set_used(true);
  *out = e;
  return Status::OK();
}

// Freelist: doubly linked through free entries (w0 prev, w3 next) so that a
// specific free row of a bucket can be taken in O(1).
void Directory::FreePush(uint32_t s, uint32_t index) {
  Segment& sg = seg(s);
  DirEntry* entries = base(s);
  DirEntry e;
  e.set_next(static_cast<uint16_t>(sg.free_head));
  if (sg.free_head != 0) {
    DirEntry h = LoadEntry(&entries[sg.free_head]);
    SetFreePrev(&h, static_cast<uint16_t>(index));
    StoreEntry(&entries[sg.free_head], h);
  }
  StoreEntry(&entries[index], e);
  sg.free_head = index;
  ++sg.free_count;
}

void Directory::FreeTake(uint32_t s, uint32_t index) {
  Segment& sg = seg(s);
  DirEntry* entries = base(s);
  DirEntry e = LoadEntry(&entries[index]);
  uint16_t prev = FreePrev(e), next = e.next();
  if (prev != 0) {
    DirEntry p = LoadEntry(&entries[prev]);
    p.set_next(next);
    StoreEntry(&entries[prev], p);
  } else {
    sg.free_head = next;
  }
  if (next != 0) {
    DirEntry n = LoadEntry(&entries[next]);
    SetFreePrev(&n, prev);
    StoreEntry(&entries[next], n);
  }
  --sg.free_count;
}

// Prefers a free row of the key's own bucket: the chain then stays within
// one 40-byte run of memory.
bool Directory::TakeFreeEntry(uint32_t s, uint32_t bucket, uint32_t* index) {
  Segment& sg = seg(s);
  if (sg.free_count == 0) return false;
  const DirEntry* entries = base(s);
  for (uint32_t r = 1; r < kDirDepth; ++r) {
    uint32_t i = bucket * kDirDepth + r;
    if (!LoadEntry(&entries[i]).used()) {
      FreeTake(s, i);
      *index = i;
      return true;
    }
  }
  *index = sg.free_head;
  FreeTake(s, sg.free_head);
  return true;
}

bool Directory::FindLocked(uint32_t s, uint32_t bucket, const DirEntry& want, uint32_t* prev, uint32_t* index) const {
  const DirEntry* entries = base(s);
  const uint32_t eps = geo_.entries_per_segment();
  uint32_t p = kNoPrev, i = bucket * kDirDepth;
  for (uint32_t hops = 0; hops < eps; ++hops) {
    DirEntry e = LoadEntry(&entries[i]);
    if (!e.used()) return false;
    if (e.SameDoc(want)) {
      *prev = p;
      *index = i;
      return true;
    }
    p = i;
    i = e.next();
    if (i == 0 || i >= eps) return false;
  }
  return false;
}

// Removing a head copies its successor up (the head slot is fixed), so a
// non-empty chain always starts at the head.
void Directory::UnlinkLocked(uint32_t s, uint32_t prev, uint32_t index) {
  DirEntry* entries = base(s);
  DirEntry e = LoadEntry(&entries[index]);
  if (prev == kNoPrev) {
    uint32_t n = e.next();
    if (n != 0) {
      StoreEntry(&entries[index], LoadEntry(&entries[n]));
      FreePush(s, n);
    } else {
      StoreEntry(&entries[index], DirEntry{});
    }
    return;
  }
  DirEntry p = LoadEntry(&entries[prev]);
  p.set_next(e.next());
  StoreEntry(&entries[prev], p);
  FreePush(s, index);
}

// The victim is the entry of the key's bucket that the write cursor will
// overwrite soonest (the oldest data), skipping pinned entries unless all
// are pinned. Which slot that is depends on where each Doc lies, so victims
// vary, unlike ATS's fixed choice (#5145). Invalid entries go first.
uint32_t Directory::ChooseVictimLocked(uint32_t s, uint32_t bucket, const DirPosition& pos, uint32_t* prev) const {
  const DirEntry* entries = base(s);
  const uint32_t eps = geo_.entries_per_segment();
  uint32_t best = kNoPrev, best_prev = kNoPrev;
  uint64_t best_dist = 0;
  bool best_pinned = true;
  uint32_t p = kNoPrev, i = bucket * kDirDepth;
  for (uint32_t hops = 0; hops < eps; ++hops) {
    DirEntry e = LoadEntry(&entries[i]);
    if (!e.used()) break;
    const bool valid = ValidAt(e, pos);
    uint64_t dist = 0;
    if (valid) {
      dist = e.phase() != pos.phase ? e.offset() - pos.clean_end : geo_.data_blocks - pos.clean_end + e.offset();
    }
    const bool pinned = e.pinned() && valid;
    bool better = best == kNoPrev || (best_pinned && !pinned) || (pinned == best_pinned && dist < best_dist);
    if (better) {
      best = i;
      best_prev = p;
      best_dist = dist;
      best_pinned = pinned;
    }
    p = i;
    i = e.next();
    if (i == 0 || i >= eps) break;
  }
  *prev = best_prev;
  return best;
}

Status Directory::Insert(const CacheKey& key, const DirLocation& loc, DirEntry* inserted) {
  const uint32_t s = SegmentOf(key);
  const uint32_t bucket = BucketOf(key);
  const uint32_t head = bucket * kDirDepth;
  DirEntry* entries = base(s);
  std::lock_guard<std::mutex> lock(mu_);
  const DirPosition pos = LoadPositionLocked();
  DirEntry e;
  Status st = MakeEntry(key, loc, pos, &e);
  if (!st.ok()) return st;

  DirEntry h = LoadEntry(&entries[head]);
  if (h.used() && seg(s).free_count == 0 && seg(s).swept_epoch != position_epoch_) {
    // Full segment: drop what the cursor has invalidated before evicting
    // anything valid. Skipped when nothing moved since the last sweep, so a
    // full segment does not cost a whole-segment scan per insert.
    SweepSegmentLocked(s);
    h = LoadEntry(&entries[head]);
  }
  BeginWrite(s);
  uint32_t index;
  if (!h.used()) {
    index = head;
    StoreEntry(&entries[head], e);  // an empty head means an empty chain
  } else if (TakeFreeEntry(s, bucket, &index)) {
    e.set_next(h.next());  // link right after the head: O(1)
    StoreEntry(&entries[index], e);
    h.set_next(static_cast<uint16_t>(index));
    StoreEntry(&entries[head], h);
  } else {
    uint32_t prev;
    index = ChooseVictimLocked(s, bucket, pos, &prev);
    e.set_next(LoadEntry(&entries[index]).next());  // replace in place
    StoreEntry(&entries[index], e);
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
  EndWrite(s);
  inserts_.fetch_add(1, std::memory_order_relaxed);
  if (inserted) *inserted = e;
  return Status::OK();
}

Status Directory::Overwrite(const CacheKey& key, const DirEntry& old_entry, const DirLocation& loc,
                            DirEntry* inserted) {
  const uint32_t s = SegmentOf(key);
  DirEntry* entries = base(s);
  std::lock_guard<std::mutex> lock(mu_);
  DirEntry e;
  Status st = MakeEntry(key, loc, LoadPositionLocked(), &e);
  if (!st.ok()) return st;
  uint32_t prev, index;
  if (!FindLocked(s, BucketOf(key), old_entry, &prev, &index)) return Status::NotFound("entry not in directory");
  BeginWrite(s);
  e.set_next(LoadEntry(&entries[index]).next());
  StoreEntry(&entries[index], e);
  EndWrite(s);
  if (inserted) *inserted = e;
  return Status::OK();
}

Status Directory::Remove(const CacheKey& key, const DirEntry& entry) {
  const uint32_t s = SegmentOf(key);
  std::lock_guard<std::mutex> lock(mu_);
  uint32_t prev, index;
  if (!FindLocked(s, BucketOf(key), entry, &prev, &index)) return Status::NotFound("entry not in directory");
  BeginWrite(s);
  UnlinkLocked(s, prev, index);
  EndWrite(s);
  removes_.fetch_add(1, std::memory_order_relaxed);
  return Status::OK();
}

}  // namespace strata
