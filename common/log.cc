#include "common/log.h"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>

namespace strata {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<int> g_fd{STDERR_FILENO};
std::mutex g_open_mu;  // guards g_path; opening only, never logging
std::string g_path;    // "" = stderr

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARNING";
    case LogLevel::kError:
      return "ERROR";
  }
  return "?";
}

}  // namespace

bool ParseLogLevel(std::string_view name, LogLevel* out) {
  if (name == "debug") {
    *out = LogLevel::kDebug;
  } else if (name == "info") {
    *out = LogLevel::kInfo;
  } else if (name == "warning") {
    *out = LogLevel::kWarning;
  } else if (name == "error") {
    *out = LogLevel::kError;
  } else {
    return false;
  }
  return true;
}

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }

LogLevel CurrentLogLevel() { return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed)); }

Status OpenErrorLog(const std::string& path) {
  std::lock_guard<std::mutex> lock(g_open_mu);
  if (path.empty()) {
    g_path.clear();
    g_fd.store(STDERR_FILENO);
    return Status::OK();
  }
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot open error log " + path + ": " + strerror(errno));
  int current = g_fd.load();
  if (current == STDERR_FILENO) {
    g_fd.store(fd);
  } else {
    // The descriptor number stays; dup2 swaps the file behind it atomically,
    // so a concurrent LogMessage writes whole lines to the old or new file.
    dup2(fd, current);
    close(fd);
  }
  g_path = path;
  return Status::OK();
}

Status ReopenErrorLog() {
  std::string path;
  {
    std::lock_guard<std::mutex> lock(g_open_mu);
    path = g_path;
  }
  return path.empty() ? Status::OK() : OpenErrorLog(path);
}

void LogMessage(LogLevel level, const char* format, ...) {
  char line[2048];
  struct timeval tv;
  gettimeofday(&tv, nullptr);
  struct tm tm;
  localtime_r(&tv.tv_sec, &tm);
  int n = snprintf(line, sizeof(line), "%04d-%02d-%02d %02d:%02d:%02d.%03d %s ", tm.tm_year + 1900, tm.tm_mon + 1,
                   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(tv.tv_usec / 1000), LevelName(level));
  va_list args;
  va_start(args, format);
  int m = vsnprintf(line + n, sizeof(line) - n - 1, format, args);
  va_end(args);
  size_t len = n + (m < 0 ? 0 : std::min<size_t>(m, sizeof(line) - n - 2));
  line[len++] = '\n';
  ssize_t ignored = write(g_fd.load(std::memory_order_relaxed), line, len);
  (void)ignored;
}

}  // namespace strata
