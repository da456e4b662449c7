#include "proxy/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace strata {
namespace {

constexpr size_t kFlushBytes = 32 * 1024;

void AppendOrDash(std::string* out, std::string_view value) {
  if (value.empty()) {
    out->push_back('-');
    return;
  }
  // A URL or header value must not break the one-line-per-record rule.
  for (char c : value) out->push_back((c == ' ' || c == '\n' || c == '\r' || c == '\t') ? '_' : c);
}

}  // namespace

AccessLog::~AccessLog() {
  if (owned_ && fd_ >= 0) close(fd_);
}

Status AccessLog::Open(const std::string& path) {
  if (path == "-") {
    fd_ = STDOUT_FILENO;
    owned_ = false;
    return Status::OK();
  }
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot open access log " + path + ": " + strerror(errno));
  fd_ = fd;
  owned_ = true;
  return Status::OK();
}

void FormatSquidLine(const AccessRecord& r, std::string* out) {
  char prefix[96];
  int n = snprintf(prefix, sizeof(prefix), "%.3f %6llu ", r.start_time, static_cast<unsigned long long>(r.elapsed_ms));
  out->append(prefix, n);
  AppendOrDash(out, r.client_ip);
  out->push_back(' ');
  AppendOrDash(out, r.cache_result);
  n = snprintf(prefix, sizeof(prefix), "/%03d %llu ", r.status, static_cast<unsigned long long>(r.bytes_to_client));
  out->append(prefix, n);
  AppendOrDash(out, r.method);
  out->push_back(' ');
  AppendOrDash(out, r.url);
  out->append(" - ");
  if (r.origin_host.empty()) {
    out->append("NONE/-");
  } else {
    out->append("DIRECT/");
    AppendOrDash(out, r.origin_host);
  }
  out->push_back(' ');
  AppendOrDash(out, r.content_type);
  out->push_back(' ');
  if (r.origin_status > 0) {
    out->append(std::to_string(r.origin_status));
  } else {
    out->push_back('-');
  }
}

void AccessLogBuffer::Append(const AccessRecord& record) {
  if (log_ == nullptr || log_->fd() < 0) return;
  FormatSquidLine(record, &pending_);
  pending_.push_back('\n');
  if (pending_.size() >= kFlushBytes) Flush();
}

void AccessLogBuffer::Flush() {
  if (pending_.empty() || log_ == nullptr || log_->fd() < 0) return;
  const char* p = pending_.data();
  size_t left = pending_.size();
  while (left > 0) {
    ssize_t n = write(log_->fd(), p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // a full disk loses log lines, never requests
    p += n;
    left -= n;
  }
  pending_.clear();
}

}  // namespace strata
