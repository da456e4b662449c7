// Directory: the write cursor and its sweeps, whole-directory scans (stats,
// ForEachEntry) and snapshot copy/restore. The LOCK rule is in directory.h.
#include <algorithm>
#include <cstring>

#include "dir/directory.h"
#include "dir/directory_internal.h"

namespace strata {

using dir_internal::kNoPrev;
using dir_internal::LoadEntry;
using dir_internal::StoreEntry;

// Removes every invalid entry of segment s. Each removal is its own short
// seqlock window, so probes of other buckets are barely disturbed.
uint64_t Directory::SweepSegmentLocked(uint32_t s) {
  const DirPosition pos = LoadPositionLocked();
  const DirEntry* entries = base(s);
  const uint32_t eps = geo_.entries_per_segment();
  uint64_t removed = 0;
  for (uint32_t b = 0; b < geo_.buckets_per_segment; ++b) {
    uint32_t prev = kNoPrev, i = b * kDirDepth;
    for (uint32_t hops = 0; hops <= eps; ++hops) {
      DirEntry e = LoadEntry(&entries[i]);
      if (!e.used()) break;
      if (!ValidAt(e, pos)) {
        BeginWrite(s);
        UnlinkLocked(s, prev, i);
        EndWrite(s);
        ++removed;
        if (prev == kNoPrev) continue;  // the head now holds its successor (or nothing)
      } else {
        prev = i;
      }
      i = e.next();
      if (i == 0 || i >= eps) break;
    }
  }
  seg(s).swept_epoch = position_epoch_;
  reclaimed_.fetch_add(removed, std::memory_order_relaxed);
  segments_swept_.fetch_add(1, std::memory_order_relaxed);
  return removed;
}

// Moves clean_end forward (publishing it before any sweep, so the validity
// rule hides the range at once) and sweeps a slice of segments proportional
// to the advance. The fraction of a segment that an advance earns is carried
// to the next call, so small, frequent advances (a lightly loaded stripe's
// 5 ms flushes) do not each sweep a whole segment. Over any stretch of calls
// in which clean_end advances by more than data_blocks, at least nsegments
// segments are swept in round-robin order: every segment is swept
// (docs/DIRECTORY.md has the full argument).
void Directory::AdvanceCleanLocked(DirPosition* pos, uint64_t new_clean_end) {
  uint64_t advance = 0;
  if (new_clean_end > pos->clean_end) {
    advance = new_clean_end - pos->clean_end;
    pos->clean_end = new_clean_end;
    StorePositionLocked(*pos);
  }
  unsigned __int128 credit = static_cast<unsigned __int128>(geo_.nsegments) * advance + sweep_credit_;
  uint64_t n = static_cast<uint64_t>(credit / geo_.data_blocks);
  sweep_credit_ = static_cast<uint64_t>(credit % geo_.data_blocks);
  n = std::min<uint64_t>(n, geo_.nsegments);
  for (uint64_t k = 0; k < n; ++k) {
    SweepSegmentLocked(sweep_cursor_);
    sweep_cursor_ = (sweep_cursor_ + 1) % geo_.nsegments;
  }
}

uint64_t Directory::RemoveInvalidEntries() {
  uint64_t removed = 0;
  for (uint32_t s = 0; s < geo_.nsegments; ++s) {
    std::lock_guard<std::mutex> lock(mu_);
    removed += SweepSegmentLocked(s);
  }
  return removed;
}

Status Directory::CleanRange(uint64_t start_blocks, uint64_t length_blocks) {
  std::lock_guard<std::mutex> lock(mu_);
  DirPosition pos = LoadPositionLocked();
  if (start_blocks < pos.write_pos) return Status::InvalidArgument("clean range behind the write position");
  if (start_blocks > geo_.data_blocks || length_blocks > geo_.data_blocks - start_blocks) {
    return Status::InvalidArgument("clean range past the data area");
  }
  AdvanceCleanLocked(&pos, start_blocks + length_blocks);
  return Status::OK();
}

Status Directory::SetWritePosition(uint64_t write_pos_blocks, bool phase) {
  std::lock_guard<std::mutex> lock(mu_);
  DirPosition pos = LoadPositionLocked();
  if (phase == pos.phase) {
    if (write_pos_blocks < pos.write_pos) return Status::InvalidArgument("write position moved backwards");
    if (write_pos_blocks > geo_.data_blocks) return Status::InvalidArgument("write position past the data area");
    if (write_pos_blocks > pos.clean_end) AdvanceCleanLocked(&pos, write_pos_blocks);
    pos.write_pos = write_pos_blocks;
    StorePositionLocked(pos);
    return Status::OK();
  }
  if (write_pos_blocks != 0) return Status::InvalidArgument("a wrap restarts at block 0");
  // The unwritten tail counts as overwritten: its entries are a pass old and
  // would look current once the phase bit flips back (see the doc).
  AdvanceCleanLocked(&pos, geo_.data_blocks);
  StorePositionLocked(DirPosition{0, 0, phase});
  return Status::OK();
}

Status Directory::RestorePosition(const DirPosition& pos) {
  if (pos.write_pos > pos.clean_end || pos.clean_end > geo_.data_blocks) {
    return Status::Corruption("write position outside the data area");
  }
  std::lock_guard<std::mutex> lock(mu_);
  StorePositionLocked(pos);
  return Status::OK();
}

namespace {
// Chain length of bucket b in a private copy of a segment; corrupt links
// stop the walk.
uint32_t ChainLength(const std::vector<DirEntry>& seg, uint32_t b) {
  uint32_t n = 0;
  for (uint32_t i = b * kDirDepth; n < seg.size() && seg[i].used();) {
    ++n;
    i = seg[i].next();
    if (i == 0 || i >= seg.size()) break;
  }
  return n;
}
}  // namespace

void Directory::ForEachEntry(const EntryFn& fn) const {
  std::vector<DirEntry> copy(geo_.entries_per_segment());
  for (uint32_t s = 0; s < geo_.nsegments; ++s) {
    DirPosition pos;
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::memcpy(copy.data(), base(s), copy.size() * sizeof(DirEntry));
      pos = LoadPositionLocked();
    }
    for (uint32_t i = 0; i < copy.size(); ++i) {
      if (copy[i].used()) fn(s, i, copy[i], ValidAt(copy[i], pos));
    }
  }
}

DirStats Directory::GetStats() const {
  DirStats st;
  st.total_entries = geo_.total_entries();
  st.free_per_segment.resize(geo_.nsegments);
  std::vector<DirEntry> copy(geo_.entries_per_segment());
  for (uint32_t s = 0; s < geo_.nsegments; ++s) {
    DirPosition pos;
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::memcpy(copy.data(), base(s), copy.size() * sizeof(DirEntry));
      pos = LoadPositionLocked();
      st.free_per_segment[s] = seg(s).free_count;
    }
    st.free_entries += st.free_per_segment[s];
    for (const DirEntry& e : copy) {
      if (!e.used()) continue;
      ++st.used_entries;
      if (ValidAt(e, pos)) ++st.valid_entries;
      if (e.head()) ++st.head_entries;
      if (e.pinned()) ++st.pinned_entries;
    }
    for (uint32_t b = 0; b < geo_.buckets_per_segment; ++b) {
      uint32_t len = ChainLength(copy, b);
      ++st.chain_length_histogram[std::min<size_t>(len, DirStats::kChainBuckets - 1)];
    }
  }
  st.inserts = inserts_.load(std::memory_order_relaxed);
  st.removes = removes_.load(std::memory_order_relaxed);
  st.evictions = evictions_.load(std::memory_order_relaxed);
  st.reclaimed = reclaimed_.load(std::memory_order_relaxed);
  st.segments_swept = segments_swept_.load(std::memory_order_relaxed);
  return st;
}

const uint16_t* Directory::segment_words(uint32_t segment) const { return base(segment)->w; }

void Directory::CopySegmentWords(uint32_t segment, uint16_t* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::memcpy(out, base(segment), segment_word_count() * sizeof(uint16_t));
}

uint32_t Directory::segment_version(uint32_t segment) const { return seg(segment).seq.load(std::memory_order_acquire); }

Status Directory::RestoreSegment(uint32_t segment, const uint16_t* words, size_t nwords) {
  if (segment >= geo_.nsegments) return Status::InvalidArgument("no such segment");
  if (nwords != segment_word_count()) return Status::Corruption("segment size does not match the geometry");
  const uint32_t eps = geo_.entries_per_segment();
  std::vector<DirEntry> in(eps);
  std::memcpy(static_cast<void*>(in.data()), words, nwords * sizeof(uint16_t));
  // Every chain must be a simple path of used, non-head entries, and no
  // entry may belong to two chains. Anything used but unreachable is an
  // orphan (a torn snapshot) and is dropped.
  std::vector<bool> member(eps, false);
  for (uint32_t b = 0; b < geo_.buckets_per_segment; ++b) {
    uint32_t h = b * kDirDepth;
    if (!in[h].used()) continue;
    member[h] = true;
    for (uint32_t i = in[h].next(); i != 0; i = in[i].next()) {
      if (i >= eps || i % kDirDepth == 0 || member[i] || !in[i].used()) {
        return Status::Corruption("bad chain in directory segment " + std::to_string(segment));
      }
      member[i] = true;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  Segment& sg = seg(segment);
  DirEntry* entries = base(segment);
  BeginWrite(segment);
  sg.free_head = 0;
  sg.free_count = 0;
  for (uint32_t i = eps; i-- > 0;) {
    if (member[i]) {
      StoreEntry(&entries[i], in[i]);
    } else if (i % kDirDepth == 0) {
      StoreEntry(&entries[i], DirEntry{});
    } else {
      FreePush(segment, i);
    }
  }
  EndWrite(segment);
  sg.swept_epoch = 0;
  return Status::OK();
}

}  // namespace strata
