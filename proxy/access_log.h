// The access log: one line per transaction, in the format of docs/ACCESS_LOG.md.
//
// AccessLog owns the file; each worker thread appends lines to its own
// AccessLogBuffer, which writes whole lines to the shared descriptor (O_APPEND)
// when 32 KB are waiting, once a second, and at exit. Lines are never split,
// so workers need no lock.
//
// Rotation keeps the descriptor number and changes the file behind it:
// the new file is opened and dup2()ed onto the log's descriptor, which is
// atomic, so a write in progress finishes in the old file and the next one
// goes to the new file. Reopen() (SIGUSR1, after an external tool renamed
// the file) opens the path anew; with a size limit, the write that takes the
// file past it renames access.log to access.log.1 (.1 to .2, ..., up to the
// number kept) and opens a fresh file.
//
// Thread-safety: Open() before the workers start. Write(), Reopen() and
// SetRotation() from any thread; a rotation in progress makes a concurrent
// one a no-op. AccessLogBuffer belongs to one worker thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "common/status.h"
#include "proxy/access_format.h"

namespace strata {

class AccessLog {
 public:
  AccessLog() = default;
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // "-" writes to stdout (never rotated).
  Status Open(const std::string& path);
  bool is_open() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }

  // Rotate when the file reaches `max_bytes` (0 = never), keeping `keep`
  // old files (access.log.1 is the newest).
  void SetRotation(uint64_t max_bytes, int keep);

  // Opens the path anew (creating it) in place of the current file.
  Status Reopen();

  // Appends `data` (whole lines) with write(2); rotates by size afterwards
  // when the limit is reached.
  void Write(std::string_view data);

 private:
  Status SwapInNewFile();  // rotate_mu_ held
  void RotateBySize();

  int fd_ = -1;
  bool owned_ = false;
  std::string path_;
  std::atomic<uint64_t> bytes_{0};  // in the current file
  std::atomic<uint64_t> max_bytes_{0};
  std::atomic<int> keep_{1};
  std::mutex rotate_mu_;  // one rotation at a time; never taken to write
};

class AccessLogBuffer {
 public:
  explicit AccessLogBuffer(AccessLog* log) : log_(log) {}
  ~AccessLogBuffer() { Flush(); }

  // The format of the lines appended from now on (on reload).
  void set_format(const AccessFormat& format) { format_ = format; }

  void Append(const AccessRecord& record);
  void Flush();

 private:
  AccessLog* log_;
  AccessFormat format_;
  std::string pending_;
};

}  // namespace strata
