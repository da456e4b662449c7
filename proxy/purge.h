// Purging: removing one URL's stored responses now, and purging every URL
// under a prefix lazily.
//
// PurgeUrl removes the object stored under a URL's key and, when the URL's
// responses Vary, every alternate its variants index lists. The PURGE method
// and the admin API's purge by URL both use it.
//
// PurgeList keeps purge-by-prefix records: (URL prefix, time of the purge).
// Nothing is removed at purge time; instead the proxy asks Purged() on every
// cache hit, and a stored response whose URL starts with a recorded prefix
// and that was stored at or before the record's time (response_time, in
// seconds) is a miss. The new response stored after it is newer than the
// record and hits again. Granularity is one second: a response stored in the
// same second as the purge is a miss until it is refetched in a later second.
// A new record makes older records whose prefix starts with its own prefix
// redundant, and they are dropped, so repeated purges do not grow the list.
//
// The records persist in a small text file, so a restart does not bring
// purged objects back:
//   # strata purge records 1
//   <unix seconds> <url prefix>
// one record per line; the file is replaced atomically (written beside it,
// fsync'd, renamed) on every Add.
//
// Thread-safety: PurgeList: Purged() from any thread (lock-free while the
// list is empty, one short mutex otherwise); Add() from any thread (they
// are serialised). PurgeUrl: from the thread that owns `executor`'s loop.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "cache/cache.h"
#include "common/status.h"
#include "common/thread_pool.h"

namespace strata {

// done(true) when something was removed. Must run on the loop of `executor`.
void PurgeUrl(Cache* cache, const std::string& url, Executor* executor, std::function<void(bool removed)> done);

class PurgeList {
 public:
  struct Record {
    int64_t time = 0;  // unix seconds
    std::string prefix;
  };

  // `path`: the file the records persist in; "" keeps them in memory only.
  explicit PurgeList(std::string path) : path_(std::move(path)) {}
  PurgeList(const PurgeList&) = delete;
  PurgeList& operator=(const PurgeList&) = delete;

  // Reads the file (a missing file means no records). A bad line is
  // InvalidArgument "path:line: problem", and nothing is loaded.
  Status Load();

  // Records a purge of `prefix` at `now` (unix seconds). The purge applies
  // at once; an IOError means it could not be saved, so it is lost at the
  // next restart. InvalidArgument for an empty prefix or one with blanks or
  // control characters.
  Status Add(std::string_view prefix, int64_t now);

  bool Purged(std::string_view url, int64_t stored_time) const;

  std::vector<Record> records() const;
  const std::string& path() const { return path_; }

 private:
  Status Save(const std::vector<Record>& records) const;

  const std::string path_;
  std::mutex write_mu_;  // serialises Add: one file write at a time
  mutable std::mutex mu_;
  std::vector<Record> records_;          // guarded by mu_
  std::atomic<size_t> record_count_{0};  // lets Purged skip the lock when there is none
};

}  // namespace strata
