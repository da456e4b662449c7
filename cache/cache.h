// Cache: the storage engine's public face. It opens the spans, cuts them into
// stripes, assigns keys to stripes, and stores objects (opaque metadata plus
// data) under 128-bit keys. It knows nothing of HTTP.
//
// Objects: an object up to fragment_bytes is one Doc holding metadata and
// data. A larger one is written as fragments (Docs under keys derived from
// the object key and a per-write object id, so a rewrite never mixes with the
// old version's fragments), then a first Doc with the metadata and the
// fragment table. The object becomes visible only when that first Doc's
// directory entry is inserted, after every fragment: a reader never sees
// half an object, and a writer may abort at any point (its fragments'
// entries are removed, its bytes are never visible).
//
// Writers: OpenWrite() gives one writer per key (the stripe's OpenDir); a
// second OpenWrite gets Busy and the in-progress object to follow.
//
// Reads verify every Doc (key and crc32); a bad Doc is a miss. Lookups pick
// the newest version when a key has several (an overwrite), and remove the
// older entries as they find them.
//
// Blocking calls (Put, Lookup, Read, Remove, Scan) are for tools, tests and
// the I/O threads; the *Async forms run on the engine's I/O pool (or inline
// when the answer is in memory) and post their completion to the caller's
// Executor, so an event loop never waits on a disk.
//
// Thread-safety: every method may be called from any thread. A CacheWriter
// is used by one thread at a time.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

#include "cache/layout.h"
#include "cache/ram_cache.h"
#include "cache/storage_config.h"
#include "cache/stripe.h"
#include "cache/stripe_assignment.h"
#include "common/cache_key.h"
#include "common/env.h"
#include "common/status.h"
#include "common/thread_pool.h"

namespace strata {

struct CacheOptions {
  std::vector<SpanConfig> spans;
  // volume.config; empty = one volume of 100% (cache/volume_plan.h).
  std::vector<VolumeConfig> volumes;
  LayoutOptions layout;
  StripeOptions stripe;
  uint64_t fragment_bytes = 1ull << 20;
  uint64_t ram_cache_bytes = 64ull << 20;
  bool ram_admit_on_first_offer = false;
  // Per object being written: bytes kept in memory for readers that follow
  // the write (read-while-writer).
  size_t open_object_buffer_bytes = 16ull << 20;
  size_t io_threads = 4;
  // Initialise stripes whose header is garbage or of another format or
  // geometry, losing their objects, instead of refusing to start.
  bool reinitialize = false;
  // How often each changed stripe's directory is snapshotted (0 = only at
  // close). Recovery replays the journal written since the last one.
  std::chrono::milliseconds snapshot_interval{std::chrono::seconds(60)};
  // Open for inspection only: nothing is ever written to the spans.
  bool read_only = false;
  Env* env = nullptr;  // nullptr = Env::Default()
};

struct ObjectInfo {
  CacheKey key;
  uint64_t length = 0;
  std::string metadata;
  std::vector<uint64_t> fragment_offsets;  // empty: the data is in the first Doc
  uint64_t object_id = 0;                  // the first Doc's write serial
  uint32_t stripe = 0;
  DirEntry entry;
  RamCache::Bytes first_doc;  // keeps inline_data alive
  std::string_view inline_data;
};

// Object bytes referenced in place: a view into one Doc (the first Doc of a
// small object, or one fragment), which `doc` keeps alive.
struct ObjectSlice {
  RamCache::Bytes doc;
  std::string_view data;
};

struct CacheStats {
  uint64_t objects_written = 0;
  uint64_t writes_aborted = 0;
  uint64_t lookups = 0;
  uint64_t lookup_hits = 0;
  uint64_t crc_failures = 0;
  uint64_t agg_writes = 0;
  uint64_t agg_bytes = 0;
  uint64_t write_refusals = 0;
  uint64_t write_errors = 0;
  uint64_t read_errors = 0;
  uint64_t snapshots = 0;
  uint64_t snapshot_failures = 0;
  uint64_t journal_records = 0;
  uint64_t spans_offline = 0;  // spans that failed at open or since
  // Crash recovery at open: wall time, and what the journal gave back.
  double recovery_seconds = 0;
  uint64_t recovery_writes_replayed = 0;
  uint64_t recovery_records_rejected = 0;
  uint64_t recovery_snapshot_copies_bad = 0;
  RamCache::Stats ram;
};

class Cache;

// Writes one object. Destroying it without Commit() aborts.
class CacheWriter {
 public:
  ~CacheWriter();
  CacheWriter(const CacheWriter&) = delete;
  CacheWriter& operator=(const CacheWriter&) = delete;

  // Sends bytes to the readers following this write only, ahead of the
  // object's data: the proxy announces the response head this way. The
  // engine does not interpret them and does not store them. Only before the
  // first Write().
  Status Announce(std::string_view bytes);

  // Appends object bytes; full fragments go to disk as they fill.
  Status Write(std::string_view data);
  // Writes what is left and the first Doc: the object becomes visible.
  Status Commit(std::string_view metadata);
  void Abort();

  // For readers following this write.
  const std::shared_ptr<OpenObject>& open_object() const { return lease_.object(); }
  // Protects the object's directory entries from eviction (pin-in-cache).
  void set_pinned(bool pinned) { pinned_ = pinned; }
  uint64_t bytes_written() const { return written_; }

 private:
  friend class Cache;
  CacheWriter(Cache* cache, const CacheKey& key, Stripe* stripe, WriteLease lease, uint64_t object_id,
              Stripe::WaitMode wait);
  Status WriteFragment(std::string_view data);

  Cache* cache_;
  CacheKey key_;
  Stripe* stripe_;
  WriteLease lease_;
  uint64_t object_id_;
  Stripe::WaitMode wait_;
  std::string pending_;
  uint64_t written_ = 0;
  uint64_t fragmented_bytes_ = 0;  // bytes already in fragments
  std::vector<uint64_t> fragment_offsets_;
  struct Placed {
    Stripe* stripe;
    CacheKey key;
    DirEntry entry;
  };
  std::vector<Placed> placed_;
  bool finished_ = false;
  bool pinned_ = false;
};

class Cache {
 public:
  static Status Open(const CacheOptions& options, std::unique_ptr<Cache>* out);
  // Persists every stripe (clean shutdown).
  ~Cache();

  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  // OK: *writer is the single writer of key. Busy: someone else writes it;
  // *in_progress (if not null) is set to follow that write.
  // `wait`: what the writer does when the disk is behind. kWait blocks (tools,
  // tests, I/O threads); kFail makes Write/Commit fail with Busy and abort, so
  // an event loop never waits (the object is simply not stored).
  Status OpenWrite(const CacheKey& key, std::unique_ptr<CacheWriter>* writer,
                   std::shared_ptr<OpenObject>* in_progress = nullptr, Stripe::WaitMode wait = Stripe::WaitMode::kWait);

  // Replaces the metadata of a stored object without rewriting its body
  // fragments (a 304 refreshing stored headers): writes a new first Doc with
  // the same object id and fragment table, which newest-wins lookups then
  // find. A small object's first Doc carries its data, which is copied.
  Status UpdateMetadata(const ObjectInfo& info, std::string_view metadata,
                        Stripe::WaitMode wait = Stripe::WaitMode::kWait);
  // The object being written under key, or null.
  std::shared_ptr<OpenObject> OpenRead(const CacheKey& key);

  // Whole-object convenience.
  Status Put(const CacheKey& key, std::string_view metadata, std::string_view data);
  Status Get(const CacheKey& key, std::string* metadata, std::string* data);

  // NotFound when absent (or unreadable: a bad Doc is a miss).
  Status Lookup(const CacheKey& key, ObjectInfo* info);
  // Appends object bytes [offset, offset+length) to *out (clamped to the
  // object). NotFound if a fragment is gone.
  Status Read(const ObjectInfo& info, uint64_t offset, uint64_t length, std::string* out);
  // The part of [offset, offset+length) held by the Doc that holds offset.
  // An empty slice when offset is past the end. memory_only: Busy rather
  // than read the disk.
  Status ReadSlice(const ObjectInfo& info, uint64_t offset, uint64_t length, bool memory_only, ObjectSlice* out);
  // Removes every stored version of key. NotFound if there was none.
  Status Remove(const CacheKey& key);
  // Calls fn for each object (first Docs) until it returns false.
  Status Scan(const std::function<bool(const ObjectInfo&)>& fn);

  using LookupCallback = std::function<void(Status, std::shared_ptr<ObjectInfo>)>;
  using ReadCallback = std::function<void(Status, ObjectSlice)>;
  using StatusCallback = std::function<void(Status)>;
  void LookupAsync(const CacheKey& key, Executor* executor, LookupCallback done);
  // The bytes of [offset, offset+length) that lie in one Doc, from offset on
  // (a fragmented object takes one call per fragment), referenced, never
  // copied. Memory answers on the caller's executor at once (as LookupAsync);
  // only a disk read goes through the I/O threads.
  void ReadAsync(std::shared_ptr<ObjectInfo> info, uint64_t offset, uint64_t length, Executor* executor,
                 ReadCallback done);
  // From the moment RemoveAsync returns, lookups of key (on any thread) miss,
  // even before the removal has run: a response sent after it (say, to the
  // POST that invalidated the URL) is never followed by a hit on the old
  // object.
  void RemoveAsync(const CacheKey& key, Executor* executor, StatusCallback done);
  void ScanAsync(std::function<bool(const ObjectInfo&)> fn, Executor* executor, StatusCallback done);

  // Writes every pending aggregation buffer and waits for it: every object
  // committed before the call is then durable (a crash recovers it).
  Status Flush();
  // Snapshots every stripe's directory now (the snapshot thread does it every
  // snapshot_interval; tests and tools call it directly).
  Status Snapshot();

  size_t stripe_count() const { return stripes_.size(); }
  Stripe& stripe(size_t i) { return *stripes_[i]; }
  Stripe& StripeFor(const CacheKey& key) { return *stripes_[assignment_.StripeForKey(key)]; }
  uint64_t fragment_bytes() const { return fragment_bytes_; }
  CacheStats stats() const;

  // The key of fragment `index` of the object written with `object_id`.
  static CacheKey FragmentKey(const CacheKey& key, uint64_t object_id, uint32_t index);

 private:
  friend class CacheWriter;
  Cache() = default;
  void FlusherLoop();
  // memory_only: Busy as soon as a candidate would need a disk read.
  Status ReadFirstDoc(Stripe& stripe, const CacheKey& key, ObjectInfo* info, bool memory_only = false);

  CacheOptions options_;
  uint64_t fragment_bytes_ = 0;
  std::vector<std::unique_ptr<Span>> spans_;
  std::unique_ptr<RamCache> ram_;
  std::unique_ptr<ThreadPool> io_;
  std::vector<std::unique_ptr<Stripe>> stripes_;
  StripeAssignment assignment_;

  std::mutex flusher_mu_;
  std::condition_variable flusher_wake_;
  bool stopping_ = false;
  std::thread flusher_;
  std::thread snapshotter_;
  void SnapshotLoop();

  // Keys whose RemoveAsync has not run yet (lookups of them miss). The count
  // lets lookups skip the mutex when nothing is pending, the common case.
  bool BeingRemoved(const CacheKey& key);
  std::mutex removing_mu_;
  std::unordered_multiset<CacheKey, CacheKeyHash> removing_;
  std::atomic<int> removing_count_{0};

  std::vector<std::shared_ptr<SpanHealth>> health_;  // one per configured span
  double recovery_seconds_ = 0;
  RecoveryStats recovery_;
  std::atomic<uint64_t> objects_written_{0}, writes_aborted_{0}, lookups_{0}, lookup_hits_{0};
};

}  // namespace strata
