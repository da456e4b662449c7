// The access log: one line per transaction, in the format of docs/ACCESS_LOG.md.
//
// AccessLog owns the file; each worker thread appends lines to its own
// AccessLogBuffer, which writes whole lines to the shared descriptor (O_APPEND)
// when 32 KB are waiting, once a second, and at exit. Lines are never split,
// so workers need no lock. Rotation (SIGUSR1) comes with the operations work.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace strata {

struct AccessRecord {
  double start_time = 0;    // seconds since the epoch, with milliseconds
  uint64_t elapsed_ms = 0;  // from the first byte of the request head to the last byte of the response
  std::string_view client_ip;
  std::string_view cache_result;  // "-" until the cache exists
  int status = 0;                 // status sent to the client (0 = none)
  uint64_t bytes_to_client = 0;   // head + body bytes written
  std::string_view method;
  std::string_view url;          // origin URL after remap, or the client URL when unmapped
  std::string_view origin_host;  // "-" when no origin was contacted
  std::string_view content_type;
  int origin_status = 0;  // 0 = no origin response
};

class AccessLog {
 public:
  AccessLog() = default;
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // "-" writes to stdout.
  Status Open(const std::string& path);
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  bool owned_ = false;
};

class AccessLogBuffer {
 public:
  explicit AccessLogBuffer(const AccessLog* log) : log_(log) {}
  ~AccessLogBuffer() { Flush(); }

  void Append(const AccessRecord& record);
  void Flush();

 private:
  const AccessLog* log_;
  std::string pending_;
};

// Formats one line in the squid-like default format (without the newline).
void FormatSquidLine(const AccessRecord& record, std::string* out);

}  // namespace strata
