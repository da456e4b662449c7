// OpenDir: the table of keys being written, one per stripe (owned by the
// stripe next to its Directory, so stripes never contend on it and a stripe
// can be drained alone). It makes one caller the single writer of a key and
// lets the others follow that write instead of fetching the object again
// (collapsed forwarding, read-while-writer).
//
//   OpenWrite(key) -> OK + WriteLease: this caller writes the object.
//                  -> Busy + the in-progress OpenObject to follow.
//   OpenRead(key)  -> the in-progress OpenObject, or null if none.
//
// The writer streams bytes into its OpenObject with WriteLease::Append and
// ends with Complete() or Abort(); destroying a lease that did neither aborts.
// Either way the key leaves the table, so the next OpenWrite succeeds.
// Engine order on success: write the Docs, Insert their directory entries,
// then Complete(), so a reader that misses the OpenDir finds the Directory.
//
// Followers read [offset, bytes_written()) as bytes land. The object keeps
// at most max_buffered_bytes of the body in memory (the first ones: this
// cap is the whole RWW memory budget per object); a follower past it gets
// kNotBuffered and must read what the writer has persisted. An aborted
// object drops its bytes and every Read answers kAborted, so a follower
// never mistakes a truncated body for a complete one (it must fail the
// response it has started).
//
// Ownership: the table and each lease hold a shared_ptr to the OpenObject;
// followers hold their own, so the object outlives the lease as long as
// someone reads it. The OpenDir must outlive its leases.
//
// Thread-safety and LOCK rule:
//  - OpenDir::mu_ guards the key -> object map only; held for one map
//    operation, never while calling out.
//  - OpenObject::mu_ guards its state, bytes and listeners; held for one
//    copy, never while calling a listener. The two locks are never nested.
//  - A WriteLease belongs to one writer thread (not thread-safe itself);
//    OpenObject's reading side may be used from any thread.
//  - Listeners run on the writer's thread, after each Append, Complete or
//    Abort, without locks held: they must be short and non-blocking (post
//    to the follower's own event loop). Unsubscribe returns only when the
//    listener is no longer running (unless called from inside it).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/cache_key.h"
#include "common/status.h"

namespace strata {

class OpenDir;

class OpenObject {
 public:
  enum class State { kWriting, kComplete, kAborted };
  enum class ReadResult {
    kData,         // bytes were appended to *out
    kWouldBlock,   // nothing at offset yet; wait for a listener call
    kEnd,          // complete and offset >= bytes_written()
    kAborted,      // the write failed; discard what was read
    kNotBuffered,  // offset is past the in-memory cap: read the stored Docs
  };
  using Listener = std::function<void()>;

  OpenObject(const CacheKey& key, size_t max_buffered_bytes);
  OpenObject(const OpenObject&) = delete;
  OpenObject& operator=(const OpenObject&) = delete;

  const CacheKey& key() const { return key_; }
  size_t max_buffered_bytes() const { return cap_; }
  State state() const;
  uint64_t bytes_written() const;  // appended so far, buffered or not
  size_t follower_count() const;   // listeners subscribed now (readers following)

  // Appends up to max_bytes from offset to *out.
  ReadResult Read(uint64_t offset, size_t max_bytes, std::string* out) const;

  // Calls fn after every change until Unsubscribe or the end of the write.
  // Subscribe first, then Read: a change before Subscribe shows in that
  // Read, one after it reaches fn. Listeners are dropped after the final
  // (Complete/Abort) call, so capturing the object in fn makes no cycle.
  uint64_t Subscribe(Listener fn);
  void Unsubscribe(uint64_t id);

 private:
  friend class WriteLease;

  Status Append(std::string_view data);
  // kWriting -> final; false if already final.
  bool Finish(State final_state);
  void Notify(bool final_call);

  const CacheKey key_;
  const size_t cap_;

  mutable std::mutex mu_;
  std::condition_variable notified_;  // signalled when a Notify round ends
  State state_ = State::kWriting;     // guarded by mu_
  uint64_t written_ = 0;              // guarded by mu_
  std::string buffer_;                // guarded by mu_: bytes [0, min(written_, cap_))
  std::vector<std::pair<uint64_t, std::shared_ptr<const Listener>>> listeners_;  // guarded by mu_
  uint64_t next_listener_id_ = 1;                                                // guarded by mu_
  bool notifying_ = false;                                                       // guarded by mu_
  std::thread::id notifier_;                                                     // guarded by mu_
};

// The right to write one key; move-only, released (aborted if unfinished)
// on destruction.
class WriteLease {
 public:
  WriteLease() = default;
  ~WriteLease();
  WriteLease(WriteLease&& other) noexcept;
  WriteLease& operator=(WriteLease&& other) noexcept;
  WriteLease(const WriteLease&) = delete;
  WriteLease& operator=(const WriteLease&) = delete;

  bool valid() const { return obj_ != nullptr; }
  const std::shared_ptr<OpenObject>& object() const { return obj_; }

  // InvalidArgument on an empty (released) lease.
  Status Append(std::string_view data);
  // Both release the key and empty the lease.
  Status Complete();
  void Abort();

 private:
  friend class OpenDir;
  WriteLease(OpenDir* dir, std::shared_ptr<OpenObject> obj) : dir_(dir), obj_(std::move(obj)) {}
  void Release(OpenObject::State final_state);

  OpenDir* dir_ = nullptr;
  std::shared_ptr<OpenObject> obj_;
};

class OpenDir {
 public:
  // max_buffered_bytes: per object, the in-memory cap described above.
  explicit OpenDir(size_t max_buffered_bytes);
  ~OpenDir();  // requires that no lease is alive
  OpenDir(const OpenDir&) = delete;
  OpenDir& operator=(const OpenDir&) = delete;

  // OK: *lease holds the key (any lease it held before is released first).
  // Busy: *in_progress is the object being written by someone else.
  Status OpenWrite(const CacheKey& key, WriteLease* lease, std::shared_ptr<OpenObject>* in_progress);

  // The object being written under key, or null.
  std::shared_ptr<OpenObject> OpenRead(const CacheKey& key) const;

  size_t open_count() const;
  // The objects being written now (a copy of the table, for listings).
  std::vector<std::shared_ptr<OpenObject>> List() const;
  size_t max_buffered_bytes() const { return max_buffered_; }

 private:
  friend class WriteLease;
  void ReleaseKey(const OpenObject* obj);

  const size_t max_buffered_;
  mutable std::mutex mu_;
  std::unordered_map<CacheKey, std::shared_ptr<OpenObject>, CacheKeyHash> open_;  // guarded by mu_
};

}  // namespace strata
