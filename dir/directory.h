// Directory: the RAM-resident index of one stripe, CacheKey -> candidate
// DirEntry (where a Doc lies in the stripe's data area). The storage engine
// (cache/) owns one per stripe and is its only writer; docs/DIRECTORY.md
// describes the layout, the costs and the wrap argument in full.
//
// Geometry: entries = max(4, data_bytes / average_object_bytes) rounded up to
// buckets of kDirDepth (4) entries, split into segments of at most 65536
// entries so that chain links fit in 16 bits. key.segment_bits() % nsegments
// picks the segment, key.bucket_bits() % buckets_per_segment the bucket,
// key.tag() is stored in the entry. Entry 4*b is bucket b's head; the other
// three entries of each bucket start on the segment's (doubly linked)
// freelist, and a chain may borrow any free entry of its segment.
//
// Validity: the engine tells the directory where it writes. In the current
// pass (phase P) the bytes [0, write_pos) are written and readable; bytes
// [write_pos, clean_end) are being overwritten; bytes [clean_end, end) still
// hold the previous pass (phase !P). An entry is valid iff
//   phase == P  and offset < write_pos (Insert checked the Doc's exact
//               extent was behind write_pos; it only grows in a phase), or
//   phase != P  and offset >= clean_end.
// The approximate size is only what to read: it may run past write_pos or
// past the data area (clamp the read there); the Doc's own length trims it.
// Probe checks this rule itself, so an entry becomes invisible the moment
// CleanRange() or SetWritePosition() returns, before any sweep removes it.
// Sweeps (a proportional slice of segments per CleanRange) remove invalid
// entries so that none survives until the 1-bit phase would make it look
// valid again; see docs/DIRECTORY.md "Why one phase bit is enough".
//
// Thread-safety and LOCK rule:
//  - mu_ (one per stripe) serialises writers: Insert, Overwrite, Remove,
//    SetWritePosition, CleanRange, RestoreSegment, and the per-segment copy
//    done by ForEachEntry/GetStats/CopySegmentWords. It guards the freelists,
//    the sweep cursor and every entry word. Writers hold it for one
//    operation: O(chain) normally; one segment sweep when Insert finds the
//    segment full; CleanRange its proportional slice (one segment for a
//    4 MB range on a stripe of 2048 segments / 1 TiB).
//  - Probe and IsValid never take mu_ and never modify anything. Each segment
//    has a seqlock (seq odd while a writer modifies it); readers copy the
//    chain with relaxed std::atomic_ref loads and retry if seq moved. The
//    write position has its own seqlock, so a probe sees one consistent
//    (write_pos, clean_end, phase) triple together with one consistent
//    chain: probes are linearizable with respect to writers.
//  - A probe result says "valid when probed". Bytes can be overwritten after
//    it returns; the engine re-checks IsValid() after its disk read and the
//    Doc header (key, checksum) catches the rest.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "common/cache_key.h"
#include "common/status.h"
#include "dir/dir_entry.h"

namespace strata {

constexpr uint32_t kDirDepth = 4;                     // entries per bucket
constexpr uint32_t kDirMaxSegmentEntries = 1u << 16;  // 16-bit chain links

// Where a Doc was written, as the engine describes it to Insert/Overwrite.
struct DirLocation {
  uint64_t offset_blocks = 0;  // from the start of the data area
  uint64_t size_bytes = 0;     // the Doc's length; stored rounded up
  bool head = false;           // first Doc of an object
  bool pinned = false;
};

struct DirGeometry {
  uint64_t data_blocks = 0;  // stripe data area, 512-byte blocks
  uint32_t nsegments = 0;
  uint32_t buckets_per_segment = 0;

  uint32_t entries_per_segment() const { return buckets_per_segment * kDirDepth; }
  uint64_t total_entries() const { return uint64_t{nsegments} * entries_per_segment(); }

  // data_bytes is floored to whole blocks; average_object_bytes > 0.
  static Status Compute(uint64_t data_bytes, uint64_t average_object_bytes, DirGeometry* out);
};

// The engine's write cursor; see "Validity" above.
struct DirPosition {
  uint64_t write_pos = 0;
  uint64_t clean_end = 0;
  bool phase = false;
};

struct DirStats {
  static constexpr size_t kChainBuckets = 17;  // lengths 0..15, then ">= 16"

  uint64_t total_entries = 0;
  uint64_t used_entries = 0;
  uint64_t valid_entries = 0;  // used and valid at the scan's position
  uint64_t head_entries = 0;   // used, head flag: objects
  uint64_t pinned_entries = 0;
  uint64_t free_entries = 0;
  std::vector<uint32_t> free_per_segment;
  std::array<uint64_t, kChainBuckets> chain_length_histogram{};  // per bucket
  // Monotonic counters since Create.
  uint64_t inserts = 0;
  uint64_t removes = 0;
  uint64_t evictions = 0;  // valid entries dropped because a segment was full
  uint64_t reclaimed = 0;  // invalid entries removed by sweeps
  uint64_t segments_swept = 0;

  double fill_percent() const { return total_entries ? 100.0 * used_entries / total_entries : 0.0; }
};

class Directory {
 public:
  static Status Create(uint64_t data_bytes, uint64_t average_object_bytes, std::unique_ptr<Directory>* out);
  // `geometry` must come from DirGeometry::Compute (Create does both).
  explicit Directory(const DirGeometry& geometry);
  ~Directory();

  Directory(const Directory&) = delete;
  Directory& operator=(const Directory&) = delete;

  const DirGeometry& geometry() const { return geo_; }
  uint32_t SegmentOf(const CacheKey& key) const { return key.segment_bits() % geo_.nsegments; }
  uint32_t BucketOf(const CacheKey& key) const { return key.bucket_bits() % geo_.buckets_per_segment; }

  // Replaces *out with every used entry of key's bucket chain whose tag
  // matches and that is valid at the current write position; returns the
  // count. Lock-free for writers' sake: never takes mu_, never modifies.
  size_t Probe(const CacheKey& key, std::vector<DirEntry>* out) const;

  // Whether `entry` is valid at the current write position (not whether it
  // is still present: Probe answers that).
  bool IsValid(const DirEntry& entry) const;
  DirPosition position() const;

  // Adds an entry for key at loc. The phase is stamped from the position: a
  // Doc whose exact extent [offset, offset + ceil(size/512)) lies behind
  // write_pos gets the current phase, one at or after
  // clean_end (only recovery writes there) the previous phase; any other
  // location would be invalid at once and is an InvalidArgument, as are
  // sizes over kDirMaxApproxSizeBytes and extents past the data area. On a
  // full segment, invalid entries are reclaimed first, then a valid entry of
  // the key's bucket is evicted (see docs/DIRECTORY.md). *inserted, if not
  // null, receives the new entry (to pass to Remove/Overwrite later).
  Status Insert(const CacheKey& key, const DirLocation& loc, DirEntry* inserted = nullptr);

  // Replaces, in place, the entry of key's chain that is the same Doc as
  // old_entry (DirEntry::SameDoc) with an entry for loc. NotFound if it is
  // gone (evicted, invalidated, removed); the caller may Insert instead.
  Status Overwrite(const CacheKey& key, const DirEntry& old_entry, const DirLocation& loc,
                   DirEntry* inserted = nullptr);

  // Removes the entry of key's chain that is the same Doc as `entry`.
  // NotFound if there is none.
  Status Remove(const CacheKey& key, const DirEntry& entry);

  // Moves the write cursor. Same phase: pos >= write_pos, and any part of
  // [clean_end, pos) not yet cleaned is cleaned implicitly. Phase change
  // (wrap): pos must be 0; the tail [clean_end, end) is cleaned first, as if
  // written, then write_pos = clean_end = 0.
  Status SetWritePosition(uint64_t write_pos_blocks, bool phase);

  // Announces that [start, start+length) is about to be overwritten:
  // requires write_pos <= start and start+length <= data_blocks. Previous-
  // pass entries before the new clean_end are invalid when this returns.
  // Also sweeps max(1, ceil(nsegments * advance / data_blocks)) segments,
  // where advance is how far clean_end moved, removing invalid entries.
  Status CleanRange(uint64_t start_blocks, uint64_t length_blocks);

  // Removes every entry that is invalid at the current position, segment by
  // segment (crash recovery: entries of writes that never completed). Returns
  // how many.
  uint64_t RemoveInvalidEntries();

  // Calls fn for every used entry, one segment at a time: the segment is
  // copied under mu_ and fn runs without it, so fn may call any method.
  // `valid` is judged at the position read with the copy.
  using EntryFn = std::function<void(uint32_t segment, uint32_t index, const DirEntry& entry, bool valid)>;
  void ForEachEntry(const EntryFn& fn) const;

  DirStats GetStats() const;

  // Snapshot support (the snapshot writer of the persistence issue).
  // A segment is a plain array of entries_per_segment()*5 uint16_t words.
  // segment_words() is the live array: read it only when no writer can run
  // (offline tools, tests); online, CopySegmentWords copies it under mu_.
  static constexpr size_t kWordsPerEntry = 5;
  size_t segment_word_count() const { return size_t{geo_.entries_per_segment()} * kWordsPerEntry; }
  const uint16_t* segment_words(uint32_t segment) const;
  void CopySegmentWords(uint32_t segment, uint16_t* out) const;
  // Bumped by every change to the segment: lets a snapshot writer skip
  // segments that did not change since it last copied them.
  uint32_t segment_version(uint32_t segment) const;
  // Replaces one segment from snapshot words after checking every chain
  // (links in range, no loops, no shared or free members); freelists are
  // rebuilt from the used bits. Corruption leaves the segment unchanged.
  Status RestoreSegment(uint32_t segment, const uint16_t* words, size_t nwords);
  // Restores the write cursor saved with the snapshot (no implicit cleaning).
  Status RestorePosition(const DirPosition& pos);

 private:
  struct Segment;

  Segment& seg(uint32_t s) const;
  DirEntry* base(uint32_t s) const;
  DirPosition LoadPositionLocked() const;  // under mu_: plain reads suffice
  void StorePositionLocked(const DirPosition& pos);
  bool ValidAt(const DirEntry& e, const DirPosition& pos) const;
  Status MakeEntry(const CacheKey& key, const DirLocation& loc, const DirPosition& pos, DirEntry* out) const;
  // Finds the chain member that is the same Doc; false if none.
  bool FindLocked(uint32_t s, uint32_t bucket, const DirEntry& want, uint32_t* prev, uint32_t* index) const;
  // Chain surgery; callers bracket with BeginWrite/EndWrite.
  void UnlinkLocked(uint32_t s, uint32_t prev, uint32_t index);
  void FreePush(uint32_t s, uint32_t index);
  void FreeTake(uint32_t s, uint32_t index);
  bool TakeFreeEntry(uint32_t s, uint32_t bucket, uint32_t* index);
  uint32_t ChooseVictimLocked(uint32_t s, uint32_t bucket, const DirPosition& pos, uint32_t* prev) const;
  uint64_t SweepSegmentLocked(uint32_t s);
  void AdvanceCleanLocked(DirPosition* pos, uint64_t new_clean_end);
  void BeginWrite(uint32_t s);
  void EndWrite(uint32_t s);

  const DirGeometry geo_;
  std::unique_ptr<DirEntry[]> entries_;  // nsegments * entries_per_segment
  std::unique_ptr<Segment[]> segments_;

  mutable std::mutex mu_;
  uint32_t sweep_cursor_ = 0;    // guarded by mu_: next segment to sweep
  uint64_t sweep_credit_ = 0;    // guarded by mu_: segments × blocks of advance not yet swept for
  uint64_t position_epoch_ = 1;  // guarded by mu_: bumped on every cursor move

  // The write cursor: written under mu_ inside pos_seq_'s odd window, read
  // by probes with the seqlock protocol.
  std::atomic<uint32_t> pos_seq_{0};
  std::atomic<uint64_t> write_pos_{0};
  std::atomic<uint64_t> clean_end_{0};
  std::atomic<bool> phase_{false};

  // Counters: written under mu_, read by GetStats without it.
  std::atomic<uint64_t> inserts_{0};
  std::atomic<uint64_t> removes_{0};
  std::atomic<uint64_t> evictions_{0};
  std::atomic<uint64_t> reclaimed_{0};
  std::atomic<uint64_t> segments_swept_{0};
};

}  // namespace strata
