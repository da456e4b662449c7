// Stripe: one stripe's write and read path — the aggregation buffer, the
// cyclic write position, Doc reads with verification, and the stripe's
// directory (dir/Directory).
//
// Writes: Append() copies an encoded Doc into the open aggregation buffer
// (default 4 MB) and inserts its directory entry at once: until the buffer
// is on disk, reads of that Doc are served from the buffer. A buffer is
// written by one sequential pwrite on the I/O pool when it is full, or by the
// Cache's flusher once data has waited flush_delay. At most
// max_writes_in_flight buffers are being written; past that, Append waits
// (kWait) or fails with Busy (kFail), so memory never grows without bound
// when the disk is slower than the network.
//
// Crash safety (cache/journal.h, docs/FORMAT.md): every buffer starts with a
// header block linking it to the previous buffer and ends with the journal of
// the directory changes it carries (its Docs' inserts, and the removes made
// since the previous buffer). Snapshot() writes the directory to the older of
// the two copies, one segment at a time (probes never wait; an insert waits
// for at most one segment's copy), together with the chain point it
// continues from. Load() recovers: the newest valid copy, then the chain of
// buffers written after it, then a sweep of every entry the replay left
// invalid. An object is recovered when its buffer and every buffer before it
// reached the disk.
//
// Faults: an I/O error takes the stripe's whole span offline (SpanHealth):
// its probes find nothing and its writes fail, so its keys are misses while
// the other spans serve.
//
// The write position moves forward through the data area and wraps. Before
// a buffer is placed over a range, Directory::CleanRange() invalidates the
// previous pass's entries there; entries are checked against the write
// position by every probe, so a Doc about to be overwritten is never found.
//
// Reads: ReadDoc() looks in the RAM cache, then the pending buffers, then the
// disk; the Doc's key and crc32 decide (a mismatch is a miss; a bad crc also
// removes the entry and is counted). A read that raced the write position
// is caught by the same checks.
//
// Thread-safety and locks: mu_ guards the buffers, the write position and
// the counters below it; it is held for memcpy-sized work only, never across
// disk I/O. The Directory has its own writer lock (taken inside mu_ by
// Append; never the other way round) and lock-free probes.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "cache/journal.h"
#include "cache/layout.h"
#include "cache/ram_cache.h"
#include "common/cache_key.h"
#include "common/env.h"
#include "common/status.h"
#include "common/thread_pool.h"
#include "dir/directory.h"
#include "dir/open_dir.h"

namespace strata {

struct StripeOptions {
  uint64_t agg_buffer_bytes = 4ull << 20;
  int max_writes_in_flight = 2;
  std::chrono::milliseconds flush_delay{5};
  // Never write to the span (offline inspection while a daemon runs): no
  // snapshot, no header update, Append fails.
  bool read_only = false;
};

// Shared by the stripes of one span: one I/O error takes them all offline.
struct SpanHealth {
  std::string path;
  std::atomic<bool> offline{false};
};

// What Load() found; logged, and summed into the cache's metrics.
struct RecoveryStats {
  bool snapshot_used = false;
  uint64_t snapshot_serial = 0;
  uint64_t writes_replayed = 0;  // aggregation writes found after the snapshot
  uint64_t records_replayed = 0;
  uint64_t records_rejected = 0;     // journal records that did not fit the directory
  uint64_t snapshot_copies_bad = 0;  // copies present but damaged
  uint64_t entries_swept = 0;        // entries the replay left invalid
  std::string stopped_because;       // why the chain ended
  double seconds = 0;
};

struct StripeStats {
  uint64_t agg_writes = 0;      // buffers written
  uint64_t agg_bytes = 0;       // bytes written by them
  uint64_t bytes_appended = 0;  // Doc bytes placed (cumulative; tests use it to know what may be overwritten)
  uint64_t wraps = 0;
  uint64_t write_refusals = 0;  // Append(kFail) refused for back-pressure
  uint64_t write_errors = 0;
  uint64_t crc_failures = 0;
  uint64_t read_errors = 0;
  uint64_t reads_from_buffer = 0;
  uint64_t reads_from_disk = 0;
  uint64_t journal_records = 0;  // directory changes written to the journal
  uint64_t snapshots = 0;        // directory snapshots written since open
  uint64_t snapshot_failures = 0;
  uint64_t last_snapshot_serial = 0;
  uint64_t write_pos_blocks = 0;
  bool phase = false;
  bool offline = false;
};

class Stripe {
 public:
  enum class WaitMode { kWait, kFail };

  // `file` and `layout` outlive the stripe; `id` names it in the RAM cache
  // and in logs.
  Stripe(uint32_t id, RandomRWFile* file, const StripeLayout& layout, const StripeHeader& header,
         std::unique_ptr<Directory> directory, ThreadPool* io, RamCache* ram, const StripeOptions& options,
         size_t open_dir_buffer_bytes, std::shared_ptr<SpanHealth> health);
  ~Stripe();

  Stripe(const Stripe&) = delete;
  Stripe& operator=(const Stripe&) = delete;

  // Recovers the directory: the newest valid snapshot, the journal of every
  // aggregation write after it, a sweep of what that left invalid (see the
  // header comment). Then, unless read-only, a fresh snapshot when anything
  // was replayed, so the next recovery starts from here.
  Status Load(RecoveryStats* stats = nullptr);

  // Writes the directory to the older copy without stopping lookups or
  // writes. Waits for the buffers written before it to reach the disk.
  Status Snapshot();
  // Whether anything changed since the last snapshot.
  bool ChangedSinceSnapshot() const;

  // Writes every pending buffer, then a snapshot and the header: after this
  // a reopened stripe replays nothing. Called on clean shutdown.
  Status Persist();

  bool offline() const { return health_->offline.load(std::memory_order_relaxed); }
  // Logs why and marks the whole span offline (once).
  void TakeOffline(const Status& why) const;

  uint32_t id() const { return id_; }
  const StripeLayout& layout() const { return layout_; }
  Directory& directory() { return *dir_; }
  // Keys being written in this stripe (collapsed forwarding).
  OpenDir& open_dir() { return open_dir_; }

  // A new write serial for a Doc header.
  uint64_t NextSerial();
  // Low 32 bits of the stripe's nonce: stamped in Docs so that a Doc from an
  // earlier life of the stripe is never taken for a current one.
  uint32_t nonce32() const { return static_cast<uint32_t>(header_.nonce); }

  // Largest Doc Append accepts (a buffer less its header and one journal
  // block).
  uint64_t max_doc_bytes() const { return agg_capacity_ - kAggHeaderBytes - JournalBytes(1); }

  // Places an encoded Doc (a multiple of 512 bytes) and inserts its entry.
  // `pinned`: the directory never evicts the entry to make room (it is
  // still overwritten when the write position wraps onto it).
  Status Append(const CacheKey& key, std::string_view doc, bool head, WaitMode wait, DirEntry* entry,
                bool pinned = false);

  // Candidates for key: valid entries whose head flag equals `head`.
  void Probe(const CacheKey& key, bool head, std::vector<DirEntry>* out) const;

  // The verified Doc bytes of a candidate. NotFound: not this key's Doc (a
  // tag collision, or overwritten); Corruption: the checksum failed (the
  // entry is removed and counted); IOError: the disk failed.
  Status ReadDoc(const CacheKey& key, const DirEntry& entry, RamCache::Bytes* doc);

  // The same, answered only from memory (RAM cache or a pending buffer);
  // Busy when the Doc would have to come from the disk.
  Status ReadDocFromMemory(const CacheKey& key, const DirEntry& entry, RamCache::Bytes* doc);

  // The same for an entry whose key is not known (scans): the key is taken
  // from the Doc header and the Doc verified against it.
  Status ReadDocAt(const DirEntry& entry, RamCache::Bytes* doc, CacheKey* key);

  Status Remove(const CacheKey& key, const DirEntry& entry);

  // Seals the open buffer if its data has waited flush_delay (the flusher).
  void FlushIfDue(std::chrono::steady_clock::time_point now);
  // Seals the open buffer and waits until every buffer is on disk. IOError
  // if a buffer write failed meanwhile (its Docs are misses); earlier
  // failures were reported by the counters and are not repeated.
  Status Flush();

  StripeStats stats() const;

 private:
  struct AggBuffer {
    uint64_t start_blocks = 0;
    size_t used = kAggHeaderBytes;  // the header block is filled at seal
    std::unique_ptr<char[]> data;
    bool sealed = false;
    ChainLink link;  // set at seal
    std::chrono::steady_clock::time_point first_append;
    std::vector<std::pair<CacheKey, DirEntry>> entries;  // undone if the write fails
    std::vector<JournalRecord> records;

    bool empty() const { return used == kAggHeaderBytes && records.empty(); }
  };

  // Under mu_: makes room for `bytes`, sealing and starting buffers.
  Status ReserveLocked(std::unique_lock<std::mutex>& lock, uint64_t bytes, WaitMode wait);
  void SealLocked();
  void WriteBuffer(AggBuffer* buffer);
  // Under mu_: the RAM cache's key for entry's Doc, false if the entry is
  // no longer valid. The offset alone does not name a Doc (one pass later
  // the same key may be written at the same offset), so the RAM cache's
  // offset counts blocks since the stripe was opened: pass * data_blocks +
  // offset.
  bool RamKeyLocked(const CacheKey& key, const DirEntry& entry, RamKey* out) const;
  Status ReadVerified(const CacheKey* expected, const DirEntry& entry, RamCache::Bytes* doc, CacheKey* key,
                      bool memory_only = false);
  bool CopyFromBuffersLocked(uint64_t offset_blocks, uint64_t bytes, std::string* out);
  Status ReadFromDisk(uint64_t offset_blocks, uint64_t bytes, std::string* out) const;
  // Recovery (stripe_recovery.cc).
  Status Recover(RecoveryStats* stats);
  // The aggregation write that follows `link`, at pos_blocks in `phase` or,
  // wrapped, at block 0 in the other phase. False (with why) at the end of
  // the chain.
  bool ReadChainSuccessor(const ChainLink& link, uint64_t pos_blocks, bool phase, AggHeader* header,
                          std::string* journal, std::string* why);
  void ReplayRecords(const AggHeader& header, const std::string& journal, RecoveryStats* stats);
  // Snapshot copies (stripe_snapshot.cc).
  struct SnapshotPoint {
    uint64_t serial = 0;
    ChainLink chain;
    uint64_t write_pos = 0;
    uint64_t clean_end = 0;
    bool phase = false;
    uint64_t serial_high = 0;
  };
  Status WriteSnapshotCopy(const SnapshotPoint& point);
  Status LoadSnapshotCopy(uint64_t copy_offset, SnapshotPoint* point);
  Status ReadSnapshotHeader(uint64_t copy_offset, SnapshotPoint* point, std::string* block) const;
  // Under mu_: seals the open buffer after moving the pending removes into
  // its journal; a buffer is opened for them if needed (false: no room now).
  bool SealWithRemovesLocked(std::unique_lock<std::mutex>& lock, WaitMode wait);
  uint64_t MaxJournalRecords(const AggBuffer& buffer) const;

  const uint32_t id_;
  RandomRWFile* file_;
  std::shared_ptr<SpanHealth> health_;
  const StripeLayout layout_;
  StripeHeader header_;  // guarded by mu_
  std::unique_ptr<Directory> dir_;
  ThreadPool* io_;
  RamCache* ram_;
  OpenDir open_dir_;
  const StripeOptions options_;
  uint64_t agg_capacity_;

  mutable std::mutex mu_;
  std::condition_variable written_;                 // a buffer write finished
  std::deque<std::unique_ptr<AggBuffer>> buffers_;  // in write order; back may be open
  std::vector<std::unique_ptr<char[]>> spare_;      // recycled buffer memory
  int writes_in_flight_ = 0;
  uint64_t cursor_blocks_ = 0;  // where the next buffer starts
  bool phase_ = false;
  uint64_t pass_ = 1;  // passes over the data area since open (RamKeyLocked)
  uint64_t serial_ = 0;
  // The journal chain: this open's random epoch, the next seq, and the link
  // of the last sealed buffer (the recovered chain point before any).
  uint64_t epoch_ = 0;
  uint64_t next_seq_ = 1;
  ChainLink chain_;
  std::vector<JournalRecord> pending_removes_;  // for the next buffer's journal
  std::chrono::steady_clock::time_point removes_since_;
  uint64_t changes_ = 0;  // directory changes since open (ChangedSinceSnapshot)
  StripeStats stats_;

  // One snapshot at a time; guards the two fields below. Taken before mu_.
  mutable std::mutex snapshot_mu_;
  uint64_t snapshot_serial_ = 0;  // of the newest valid copy
  uint64_t changes_at_snapshot_ = 0;
};

}  // namespace strata
