// The error log: leveled, one line per message, safe to call from any thread.
//
// Messages at or above the configured level are formatted into one buffer and
// written with a single write(2), so lines from different threads never
// interleave. The destination is stderr until OpenErrorLog() names a file.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace strata {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Parses "debug", "info", "warning" or "error".
bool ParseLogLevel(std::string_view name, LogLevel* out);
void SetLogLevel(LogLevel level);
LogLevel CurrentLogLevel();

// Sends the log to `path` (appending); an empty path means stderr.
Status OpenErrorLog(const std::string& path);

// Opens the file again under its path (SIGUSR1, after a log rotation tool
// renamed it); nothing to do when the log goes to stderr.
Status ReopenErrorLog();

void LogMessage(LogLevel level, const char* format, ...) __attribute__((format(printf, 2, 3)));

}  // namespace strata

// The level check happens before the arguments are evaluated.
#define STRATA_LOG(level, ...)                    \
  do {                                            \
    if ((level) >= ::strata::CurrentLogLevel()) { \
      ::strata::LogMessage((level), __VA_ARGS__); \
    }                                             \
  } while (0)
#define LOG_DEBUG(...) STRATA_LOG(::strata::LogLevel::kDebug, __VA_ARGS__)
#define LOG_INFO(...) STRATA_LOG(::strata::LogLevel::kInfo, __VA_ARGS__)
#define LOG_WARNING(...) STRATA_LOG(::strata::LogLevel::kWarning, __VA_ARGS__)
#define LOG_ERROR(...) STRATA_LOG(::strata::LogLevel::kError, __VA_ARGS__)
