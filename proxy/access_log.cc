#include "proxy/access_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/log.h"

namespace strata {
namespace {

constexpr size_t kFlushBytes = 32 * 1024;

int OpenForAppend(const std::string& path) {
  return open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

uint64_t FileSize(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

}  // namespace

AccessLog::~AccessLog() {
  if (owned_ && fd_ >= 0) close(fd_);
}

Status AccessLog::Open(const std::string& path) {
  path_ = path;
  if (path == "-") {
    fd_ = STDOUT_FILENO;
    owned_ = false;
    return Status::OK();
  }
  int fd = OpenForAppend(path);
  if (fd < 0) return Status::IOError("cannot open access log " + path + ": " + strerror(errno));
  fd_ = fd;
  owned_ = true;
  bytes_ = FileSize(fd);
  return Status::OK();
}

void AccessLog::SetRotation(uint64_t max_bytes, int keep) {
  max_bytes_.store(max_bytes, std::memory_order_relaxed);
  keep_.store(keep < 1 ? 1 : keep, std::memory_order_relaxed);
}

Status AccessLog::SwapInNewFile() {
  int fd = OpenForAppend(path_);
  if (fd < 0) return Status::IOError("cannot reopen access log " + path_ + ": " + strerror(errno));
  // Atomic: a concurrent write() completes in the old file, the next one
  // lands in the new file; the descriptor number never changes.
  if (dup2(fd, fd_) < 0) {
    Status s = Status::IOError("cannot reopen access log " + path_ + ": dup2: " + strerror(errno));
    close(fd);
    return s;
  }
  close(fd);
  bytes_ = FileSize(fd_);
  return Status::OK();
}

Status AccessLog::Reopen() {
  if (!owned_ || fd_ < 0) return Status::OK();  // stdout, or no log
  std::lock_guard<std::mutex> lock(rotate_mu_);
  return SwapInNewFile();
}

void AccessLog::RotateBySize() {
  // Another thread rotating already will leave a fresh file: nothing to do.
  if (!rotate_mu_.try_lock()) return;
  std::lock_guard<std::mutex> lock(rotate_mu_, std::adopt_lock);
  const uint64_t max = max_bytes_.load(std::memory_order_relaxed);
  if (max == 0 || bytes_.load() < max) return;
  const int keep = keep_.load(std::memory_order_relaxed);
  // access.log.(keep-1) -> .keep (dropping the oldest), ..., access.log -> .1
  for (int i = keep - 1; i >= 1; --i) {
    std::string from = path_ + "." + std::to_string(i);
    std::string to = path_ + "." + std::to_string(i + 1);
    if (rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
      LOG_ERROR("access log rotation: cannot rename %s to %s: %s", from.c_str(), to.c_str(), strerror(errno));
    }
  }
  const std::string first = path_ + ".1";
  if (rename(path_.c_str(), first.c_str()) != 0) {
    LOG_ERROR("access log rotation: cannot rename %s to %s: %s; writing on", path_.c_str(), first.c_str(),
              strerror(errno));
    bytes_ = 0;  // try again after another max_size, not on every write
    return;
  }
  Status s = SwapInNewFile();
  if (!s.ok()) {
    LOG_ERROR("access log rotation: %s; writing on to %s", s.message().c_str(), first.c_str());
    bytes_ = 0;
  }
}

void AccessLog::Write(std::string_view data) {
  if (fd_ < 0) return;
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // a full disk loses log lines, never requests
    p += n;
    left -= n;
  }
  const uint64_t written = data.size() - left;
  const uint64_t total = bytes_.fetch_add(written) + written;
  const uint64_t max = max_bytes_.load(std::memory_order_relaxed);
  if (max != 0 && total >= max && owned_) RotateBySize();
}

void AccessLogBuffer::Append(const AccessRecord& record) {
  if (log_ == nullptr || !log_->is_open()) return;
  format_.Format(record, &pending_);
  pending_.push_back('\n');
  if (pending_.size() >= kFlushBytes) Flush();
}

void AccessLogBuffer::Flush() {
  if (pending_.empty() || log_ == nullptr) return;
  log_->Write(pending_);
  pending_.clear();
}

}  // namespace strata
