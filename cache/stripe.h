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

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

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
  uint64_t write_pos_blocks = 0;
  bool phase = false;
};

class Stripe {
 public:
  enum class WaitMode { kWait, kFail };

  // `file` and `layout` outlive the stripe; `id` names it in the RAM cache
  // and in logs.
  Stripe(uint32_t id, RandomRWFile* file, const StripeLayout& layout, const StripeHeader& header,
         std::unique_ptr<Directory> directory, ThreadPool* io, RamCache* ram, const StripeOptions& options,
         size_t open_dir_buffer_bytes);
  ~Stripe();

  Stripe(const Stripe&) = delete;
  Stripe& operator=(const Stripe&) = delete;

  // Restores the directory saved by the last clean close, if it matches the
  // header; otherwise the stripe starts empty (its old bytes are ignored).
  Status Load();

  // Writes every pending buffer, the directory and the header: after this a
  // reopened stripe finds every object. Called on clean shutdown.
  Status Persist();

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

  // Largest Doc Append accepts (one aggregation buffer).
  uint64_t max_doc_bytes() const { return agg_capacity_; }

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
    size_t used = 0;
    std::unique_ptr<char[]> data;
    bool sealed = false;
    std::chrono::steady_clock::time_point first_append;
    std::vector<std::pair<CacheKey, DirEntry>> entries;  // undone if the write fails
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
  Status SaveDirectory(uint64_t serial);
  Status LoadDirectory();

  const uint32_t id_;
  RandomRWFile* file_;
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
  StripeStats stats_;
};

}  // namespace strata
