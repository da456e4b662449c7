// Settings: the typed values of records.yaml, and the one table that
// describes them.
//
// Every setting is declared exactly once, in the table in settings.cc: its
// dotted name (the path under `records:` in records.yaml, ATS-style nesting),
// its type, its default (as text, parsed by the same code that parses the
// file, so a default can never be out of its own range), its validator, whether
// a change can be applied by a reload, a one-line help text and the member of
// `Settings` it fills. records.yaml parsing, `--set NAME=VALUE`,
// `--check-config`, reload decisions, the shipped etc/records.yaml and
// docs/CONFIG.md all come from that table; adding a setting means adding a
// field below and one table entry, nothing else.
//
// Value syntax (the same in records.yaml and on the command line):
//   int       decimal integer: 100
//   size      bytes, optionally with a binary suffix K, M, G or T: 65536, 64K, 1M
//   duration  integer with a unit ms, s, m, h or d; a plain integer is seconds:
//             500ms, 30s, 2m, 30
//   bool      true/false (also yes/no, on/off, 1/0, as ATS operators write 0/1)
//   string    any text; some settings accept only listed values
//   list      a YAML sequence, or one string whose items are separated by
//             commas or blanks: "127.0.0.1:8080, [::1]:8080"
//
// Thread-safety: Settings is a plain value. The table is immutable after first
// use and may be read from any thread; the functions below touch only their
// arguments.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace strata {

// The members' own initializers are zero; DefaultSettings() gives the table's
// defaults (Config starts from those).
struct Settings {
  // server.*
  std::vector<std::string> listen;  // "ADDR:PORT" items; IPv6 as "[::1]:80"
  int threads = 0;                  // worker threads; 0 = number of cores
  std::chrono::milliseconds shutdown_grace{0};

  // admin.*
  std::string admin_listen;  // "ADDR:PORT" of the admin API; "" = no admin listener

  // http.*
  uint64_t max_request_head = 0;   // bytes of request line + fields
  int max_fields = 0;              // header fields per request head
  uint64_t buffer_high_water = 0;  // bytes buffered per direction per connection
  bool preserve_host = false;      // send the client's Host to the origin
  std::string via_name;            // our pseudonym in Via
  bool insert_x_forwarded_for = false;

  // timeouts.*
  std::chrono::milliseconds client_head_timeout{0};
  std::chrono::milliseconds client_keepalive_timeout{0};
  std::chrono::milliseconds origin_connect_timeout{0};
  std::chrono::milliseconds origin_first_byte_timeout{0};
  std::chrono::milliseconds transfer_idle_timeout{0};

  // origin.*
  int origin_max_idle_per_origin = 0;  // idle pooled connections, per worker thread
  std::chrono::milliseconds origin_idle_timeout{0};
  int origin_retries = 0;

  // log.*
  bool access_log_enabled = false;
  std::string access_log_path;       // "" = <log dir>/access.log (daemon decides); "-" = stdout
  std::string access_log_format;     // squid, combined, json or a custom %{field} format
  uint64_t access_log_max_size = 0;  // rotate at this size; 0 = never
  int access_log_keep = 0;           // rotated files kept
  std::string error_log_path;        // "" = stderr
  std::string error_log_level;       // debug, info, warning or error
  std::string log_dir;               // "" = daemon decides

  // cache.*
  std::string cache_dir;        // relative storage.config paths start here; "" = the daemon's default
  uint64_t cache_ram_size = 0;  // RAM cache bytes
  uint64_t cache_fragment_size = 0;
  uint64_t cache_agg_buffer_size = 0;
  std::chrono::milliseconds cache_flush_delay{0};
  std::chrono::milliseconds cache_snapshot_interval{0};
  uint64_t cache_average_object_size = 0;
  int cache_io_threads = 0;
  std::string cache_io_engine;  // "threads" (pread/pwrite) or "io_uring"
  bool cache_reinitialize = false;
  uint64_t cache_max_object_size = 0;  // larger responses are streamed, not stored
  int cache_max_alternates = 0;        // Vary alternates kept per URL
  bool cache_range_miss_fill = false;
  int cache_heuristic_percent = 0;  // of (Date - Last-Modified), RFC 9111 §4.2.2
  std::chrono::milliseconds cache_heuristic_max{
      0};  // cap on a heuristic lifetime  // a Range miss fills the whole object in the background

  bool operator==(const Settings&) const = default;
};

// The kinds of value a setting may hold. The order matches SettingField's
// alternatives, so a setting's type is derived from its member pointer and
// can never disagree with it.
enum class SettingType { kInt, kSize, kDuration, kBool, kString, kStringList };

using SettingField = std::variant<int Settings::*, uint64_t Settings::*, std::chrono::milliseconds Settings::*,
                                  bool Settings::*, std::string Settings::*, std::vector<std::string> Settings::*>;

// A validator beyond range and allowed values, with its description for the
// docs. `fn` returns the problem with one value (one item of a list), or "".
struct SettingCheck {
  std::string (*fn)(std::string_view value);
  std::string_view doc;
};

// One row of the settings table.
struct SettingDef {
  std::string_view name;          // dotted path under `records:`
  std::string_view default_text;  // parsed like a value from the file
  SettingField field;
  // Inclusive range for int, size (bytes) and duration (milliseconds) settings.
  int64_t min = 0;
  int64_t max = 0;
  // For string settings: the allowed values separated by '|'; empty = any.
  std::string_view allowed = {};
  const SettingCheck* check = nullptr;  // nullptr = no extra check
  bool reloadable = false;              // a change can apply without a restart
  std::string_view help = {};

  SettingType type() const { return static_cast<SettingType>(field.index()); }
};

// The whole table, in documentation order.
std::span<const SettingDef> AllSettings();

// The table row for `name`, or nullptr.
const SettingDef* FindSetting(std::string_view name);

// "int", "size", "duration", "bool", "string" or "string list".
std::string_view SettingTypeName(SettingType type);

// Every setting at its table default.
Settings DefaultSettings();

// Reads records.yaml at `path` on top of *out's current values. A missing file
// is not an error (*out is left as it is); neither is an empty file or an
// empty `records:` map. Unknown names, values of the wrong type and values out
// of range are InvalidArgument, with one "path:line: problem" line per problem
// (all of them, not only the first). On error *out is unchanged.
Status LoadRecordsYaml(const std::string& path, Settings* out);

// Sets one setting from text, as for `--set http.max_fields=200`. Lists are
// replaced, not appended to. On error *out is unchanged.
Status ParseSettingValue(std::string_view name, std::string_view value, Settings* out);

// The value of `def` in `s`, in the syntax the parser accepts ("64K", "30s",
// "a, b"), so that FormatSettingValue output can be fed back to --set.
std::string FormatSettingValue(const SettingDef& def, const Settings& s);

// The settings whose values differ between `a` and `b`, in table order. The
// daemon uses this on reload: any non-reloadable entry means "restart needed".
std::vector<const SettingDef*> ChangedSettings(const Settings& a, const Settings& b);

// Sets the value of `def` in *to to its value in `from` (a reload keeps the
// running value of a setting that needs a restart).
void CopySetting(const SettingDef& def, const Settings& from, Settings* to);

// Splits "HOST:PORT" ("[v6]:PORT" for IPv6) as used by server.listen. *host
// gets the address without brackets. InvalidArgument if the form is wrong or
// the port is not 1..65535.
Status ParseListenAddress(std::string_view text, std::string* host, uint16_t* port);

// The table as Markdown (name, type, default, valid values, reloadable, help),
// for docs/CONFIG.md.
std::string SettingsMarkdown();

// A complete, commented records.yaml with every setting at its default; the
// shipped etc/records.yaml is this output.
std::string SettingsRecordsYaml();

}  // namespace strata
