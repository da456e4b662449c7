// Env: every file operation of the cache engine goes through this interface,
// so tests can inject faults (I/O errors, short writes, torn writes) without
// touching the engine, as LevelDB's Env does.
//
// PosixEnv (Env::Default()) uses pread/pwrite on file descriptors. Files are
// opened read-write (or read-only for offline tools) and never moved.
// Env::IoUring() (env_uring.cc) opens files the same way and moves the data
// path (Read, Write, Sync) to io_uring.
//
// Thread-safety: an Env and its RandomRWFile objects are safe to use from
// several threads at once (pread/pwrite at explicit offsets share no state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace strata {

class RandomRWFile {
 public:
  virtual ~RandomRWFile() = default;

  // Reads exactly n bytes at offset; a short read is an IOError.
  virtual Status Read(uint64_t offset, size_t n, char* scratch) const = 0;
  // Writes all n bytes at offset.
  virtual Status Write(uint64_t offset, const char* data, size_t n) = 0;
  virtual Status Sync() = 0;
  // Size in bytes (a block device's size for a device).
  virtual Status Size(uint64_t* size) const = 0;
  virtual const std::string& path() const = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  static Env* Default();
  // The process-wide io_uring Env (env_uring.cc, cache.io_engine=io_uring),
  // or nullptr with *status saying why: built without liburing, or the
  // kernel (or a seccomp policy) refuses io_uring_setup. Never owned by the
  // caller.
  static Env* IoUring(Status* status);

  struct OpenOptions {
    bool read_only = false;
    // Create the file when missing, at this size (0 = do not create).
    uint64_t create_size = 0;
    // Grow a regular file that is smaller than create_size.
    bool extend = true;
    // Read-write opens only: hold an exclusive advisory lock
    // (flock LOCK_EX|LOCK_NB) while the file is open, so that two processes
    // never write one span (a second daemon, or strata-cache purge/repair
    // while the daemon runs). Busy when another open file holds it.
    bool lock = false;
  };

  virtual Status OpenRandomRWFile(const std::string& path, const OpenOptions& options,
                                  std::unique_ptr<RandomRWFile>* out) = 0;
  virtual bool FileExists(const std::string& path) = 0;
};

}  // namespace strata
