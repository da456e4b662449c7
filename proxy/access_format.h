// Access log line formats (log.access.format; docs/ACCESS_LOG.md).
//
// An AccessRecord is what a finished transaction tells the log; an
// AccessFormat turns it into one line. Formats:
//   squid     Squid's native format with the cache result code (the default)
//   combined  Apache's "combined" format
//   json      one JSON object per line, every string escaped (RFC 8259)
//   custom    any other value: literal text with %{field} placeholders, e.g.
//             "%{time_iso} %{client_ip} %{status} %{url}"; %% is a literal %.
//             Values have blanks and control characters written as '_' and
//             an empty value as '-', so a line always splits on blanks.
//
// Thread-safety: an AccessFormat is immutable after Parse(); Format() may run
// on any number of threads at once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace strata {

struct AccessRecord {
  double start_time = 0;    // seconds since the epoch, with milliseconds
  uint64_t elapsed_ms = 0;  // from the first byte of the request head to the last byte of the response
  std::string_view client_ip;
  std::string_view cache_result;  // TCP_HIT, TCP_MISS, ...; "-" when none
  int status = 0;                 // status sent to the client (0 = none)
  uint64_t bytes_to_client = 0;   // head + body bytes written
  std::string_view method;
  std::string_view url;          // origin URL after remap, or the client URL when unmapped
  std::string_view target;       // the request target as the client sent it
  std::string_view protocol;     // "HTTP/1.1"; empty when the request did not parse
  std::string_view origin_host;  // empty when no origin was contacted
  std::string_view content_type;
  int origin_status = 0;  // 0 = no origin response
  std::string_view referer;
  std::string_view user_agent;
};

// The fields a custom format can name, as %{name}.
enum class AccessField {
  kTime,          // 1763712000.123 (seconds since the epoch)
  kTimeIso,       // 2025-11-21T08:00:00.123Z (UTC)
  kTimeClf,       // 21/Nov/2025:09:00:00 +0100 (local time, Apache's %t without brackets)
  kElapsedMs,     // 4
  kClientIp,      // 127.0.0.1
  kCacheResult,   // TCP_MISS
  kStatus,        // 200
  kBytes,         // 1318
  kMethod,        // GET
  kUrl,           // http://origin/path (after remap)
  kTarget,        // /path (as sent)
  kProtocol,      // HTTP/1.1
  kOriginHost,    // origin host, or -
  kContentType,   // text/plain
  kOriginStatus,  // 200, or -
  kReferer,       // the Referer request field
  kUserAgent,     // the User-Agent request field
};

class AccessFormat {
 public:
  // The squid format.
  AccessFormat() = default;

  // "squid", "combined", "json", or a custom format. The problem is
  // InvalidArgument naming the bad placeholder.
  static Status Parse(std::string_view spec, AccessFormat* out);

  // Appends one line for `record`, without the newline.
  void Format(const AccessRecord& record, std::string* out) const;

  // Whether lines carry the Referer / User-Agent request fields, so the
  // request path copies them only for a format that prints them.
  bool UsesRequestFields() const;

  // The field names a custom format may use, comma-separated, for messages.
  static std::string FieldNames();

 private:
  enum class Kind { kSquid, kCombined, kJson, kCustom };
  struct Piece {
    bool is_field = false;
    AccessField field = AccessField::kTime;
    std::string literal;
  };

  Kind kind_ = Kind::kSquid;
  std::vector<Piece> pieces_;  // kCustom only
};

// The squid line for `record` (without the newline).
void FormatSquidLine(const AccessRecord& record, std::string* out);
void FormatCombinedLine(const AccessRecord& record, std::string* out);
void FormatJsonLine(const AccessRecord& record, std::string* out);

}  // namespace strata
