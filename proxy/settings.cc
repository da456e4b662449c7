#include "proxy/settings.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "proxy/access_format.h"

namespace strata {

namespace {

using std::chrono::milliseconds;

constexpr int64_t kKiB = 1024;
constexpr int64_t kMiB = 1024 * kKiB;
constexpr int64_t kSec = 1000;
constexpr int64_t kMin = 60 * kSec;
constexpr int64_t kHour = 60 * kMin;
constexpr int64_t kDay = 24 * kHour;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Items of a list given as one string: separated by commas and/or blanks.
std::vector<std::string> SplitList(std::string_view s) {
  std::vector<std::string> items;
  std::string cur;
  for (char c : s) {
    if (c == ',' || std::isspace(static_cast<unsigned char>(c))) {
      if (!cur.empty()) items.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) items.push_back(std::move(cur));
  return items;
}

std::string CheckListenItem(std::string_view v) {
  std::string host;
  uint16_t port;
  Status st = ParseListenAddress(v, &host, &port);
  return st.ok() ? "" : st.message();
}

// Via's pseudonym is a token (RFC 9110 section 7.6.3), so it must not break
// the header's syntax.
std::string CheckToken(std::string_view v) {
  static constexpr std::string_view kTchar = "!#$%&'*+-.^_`|~";
  if (v.empty()) return "must not be empty";
  for (char c : v) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && kTchar.find(c) == std::string_view::npos) {
      return "'" + std::string(v) + "' is not an HTTP token";
    }
  }
  return "";
}

// An empty admin address turns the admin listener off.
std::string CheckOptionalListen(std::string_view v) { return v.empty() ? "" : CheckListenItem(v); }

const SettingCheck kListenCheck{CheckListenItem, "HOST:PORT or [IPv6]:PORT, port 1..65535"};
const SettingCheck kOptionalListenCheck{CheckOptionalListen, "HOST:PORT or [IPv6]:PORT, port 1..65535, or empty"};
const SettingCheck kTokenCheck{CheckToken, "an HTTP token"};

std::string CheckAccessFormat(std::string_view v) {
  AccessFormat format;
  Status st = AccessFormat::Parse(v, &format);
  return st.ok() ? "" : st.message();
}

const SettingCheck kAccessFormatCheck{
    CheckAccessFormat, "squid, combined, json, or a custom format: \"%{time} %{client_ip} %{status} %{url}\""};

using S = Settings;

// THE settings table. Keep it grouped by section: the generated records.yaml
// and docs follow this order.
// clang-format off
const SettingDef kTable[] = {
    {.name = "server.listen", .default_text = "", .field = &S::listen,
     .check = &kListenCheck,
     .help = "Addresses to accept client connections on; --listen adds to them."},
    {.name = "server.threads", .default_text = "0", .field = &S::threads,
     .min = 0, .max = 256,
     .help = "Worker threads, each with its own event loop; 0 = one per CPU core."},
    {.name = "server.shutdown_grace", .default_text = "30s", .field = &S::shutdown_grace,
     .min = 0, .max = kHour, .reloadable = true,
     .help = "On shutdown, how long open transactions may take to finish."},

    {.name = "admin.listen", .default_text = "127.0.0.1:8081", .field = &S::admin_listen,
     .check = &kOptionalListenCheck,
     .help = "Address of the admin API (docs/ADMIN.md); empty = none. ip_allow.yaml's ADMIN method says who "
             "may use it; --admin overrides it."},

    {.name = "http.max_request_head", .default_text = "64K", .field = &S::max_request_head,
     .min = kKiB, .max = kMiB, .reloadable = true,
     .help = "Largest request head (request line and header fields) accepted."},
    {.name = "http.max_fields", .default_text = "100", .field = &S::max_fields,
     .min = 8, .max = 10000, .reloadable = true,
     .help = "Most header fields accepted in one request head."},
    {.name = "http.buffer_high_water", .default_text = "64K", .field = &S::buffer_high_water,
     .min = 4 * kKiB, .max = 16 * kMiB, .reloadable = true,
     .help = "Bytes buffered per direction per connection before reading from the other side pauses."},
    {.name = "http.preserve_host", .default_text = "false", .field = &S::preserve_host,
     .reloadable = true,
     .help = "Send the client's Host to the origin instead of the remapped origin host."},
    {.name = "http.via_name", .default_text = "strata", .field = &S::via_name,
     .check = &kTokenCheck, .reloadable = true,
     .help = "Pseudonym this proxy adds to the Via header."},
    {.name = "http.insert_x_forwarded_for", .default_text = "true", .field = &S::insert_x_forwarded_for,
     .reloadable = true,
     .help = "Append the client's address to X-Forwarded-For on requests to the origin."},

    {.name = "timeouts.client_head", .default_text = "10s", .field = &S::client_head_timeout,
     .min = 1, .max = kDay, .reloadable = true,
     .help = "Time a client has to send a complete request head."},
    {.name = "timeouts.client_keepalive", .default_text = "30s", .field = &S::client_keepalive_timeout,
     .min = 1, .max = kDay, .reloadable = true,
     .help = "How long an idle client connection is kept open between requests."},
    {.name = "timeouts.origin_connect", .default_text = "5s", .field = &S::origin_connect_timeout,
     .min = 1, .max = kDay, .reloadable = true,
     .help = "Time allowed to connect to an origin."},
    {.name = "timeouts.origin_first_byte", .default_text = "30s", .field = &S::origin_first_byte_timeout,
     .min = 1, .max = kDay, .reloadable = true,
     .help = "Time from sending a request to the origin until its first response byte."},
    {.name = "timeouts.transfer_idle", .default_text = "30s", .field = &S::transfer_idle_timeout,
     .min = 1, .max = kDay, .reloadable = true,
     .help = "Longest pause in a body transfer, in either direction, before the transaction is aborted."},

    {.name = "origin.max_idle_per_origin", .default_text = "128", .field = &S::origin_max_idle_per_origin,
     .min = 0, .max = 10000, .reloadable = true,
     .help = "Idle keep-alive connections kept per origin, per worker thread; 0 = no pooling."},
    {.name = "origin.idle_timeout", .default_text = "30s", .field = &S::origin_idle_timeout,
     .min = 1, .max = kDay, .reloadable = true,
     .help = "How long an idle pooled origin connection is kept."},
    {.name = "origin.retries", .default_text = "1", .field = &S::origin_retries,
     .min = 0, .max = 5, .reloadable = true,
     .help = "Extra attempts when an origin connection fails before any response byte."},

    {.name = "cache.dir", .default_text = "", .field = &S::cache_dir,
     .help = "Directory that relative span paths in storage.config start from; empty = the daemon's default."},
    {.name = "cache.ram_size", .default_text = "64M", .field = &S::cache_ram_size,
     .min = 0, .max = 1024 * 1024 * kMiB,
     .help = "Bytes of the RAM cache in front of the disk; 0 turns it off."},
    {.name = "cache.fragment_size", .default_text = "1M", .field = &S::cache_fragment_size,
     .min = 64 * kKiB, .max = 8 * kMiB,
     .help = "Objects larger than this are stored as fragments of this size."},
    {.name = "cache.agg_buffer_size", .default_text = "4M", .field = &S::cache_agg_buffer_size,
     .min = 256 * kKiB, .max = 64 * kMiB,
     .help = "Size of a stripe's aggregation buffer: small writes are batched into writes of this size."},
    {.name = "cache.flush_delay", .default_text = "5ms", .field = &S::cache_flush_delay,
     .min = 1, .max = kMin,
     .help = "Longest time data waits in a partly filled aggregation buffer before it is written."},
    {.name = "cache.snapshot_interval", .default_text = "60s", .field = &S::cache_snapshot_interval,
     .min = 0, .max = 24 * kHour,
     .help = "How often each stripe's directory is written to disk (without pausing lookups); recovery after a "
             "crash replays the journal written since. 0 = only at a clean stop."},
    {.name = "cache.average_object_size", .default_text = "8000", .field = &S::cache_average_object_size,
     .min = 512, .max = 64 * kMiB,
     .help = "Expected mean object size; sets the number of directory entries per stripe."},
    {.name = "cache.io_threads", .default_text = "4", .field = &S::cache_io_threads,
     .min = 1, .max = 256,
     .help = "Threads doing the cache's disk I/O (never the event loops)."},
    {.name = "cache.io_engine", .default_text = "threads", .field = &S::cache_io_engine,
     .allowed = "threads|io_uring",
     .help = "How the cache's I/O threads reach the disk: threads = pread/pwrite, io_uring = the same threads "
             "submitting through io_uring (needs a build with liburing and a kernel that allows it)."},
    {.name = "cache.reinitialize", .default_text = "false", .field = &S::cache_reinitialize,
     .help = "Initialise spans whose header is garbage or of another format or geometry, losing their objects, "
             "instead of refusing to start."},

    {.name = "cache.max_object_size", .default_text = "256M", .field = &S::cache_max_object_size,
     .min = 0, .max = 1024 * 1024 * kMiB, .reloadable = true,
     .help = "Responses larger than this are streamed to the client but not stored."},
    {.name = "cache.max_alternates", .default_text = "8", .field = &S::cache_max_alternates,
     .min = 1, .max = 64, .reloadable = true,
     .help = "Most alternates (responses that Vary) kept per URL; the oldest goes first."},

    {.name = "cache.heuristic_percent", .default_text = "10", .field = &S::cache_heuristic_percent,
     .min = 0, .max = 100, .reloadable = true,
     .help = "Heuristic freshness (RFC 9111 §4.2.2): this percent of the time since Last-Modified; 0 turns it off."},
    {.name = "cache.heuristic_max", .default_text = "1d", .field = &S::cache_heuristic_max,
     .min = 0, .max = 365 * kDay, .reloadable = true,
     .help = "The longest heuristic freshness lifetime."},
    {.name = "cache.range_miss_fill", .default_text = "true", .field = &S::cache_range_miss_fill,
     .reloadable = true,
     .help = "After a Range request misses, fetch the whole object in the background so later ranges hit."},

    {.name = "log.dir", .default_text = "", .field = &S::log_dir,
     .help = "Directory for log files; empty = the daemon's default."},
    {.name = "log.access.enabled", .default_text = "true", .field = &S::access_log_enabled,
     .help = "Write an access log line per transaction."},
    {.name = "log.access.path", .default_text = "", .field = &S::access_log_path,
     .help = "Access log file; empty = <log.dir>/access.log, \"-\" = standard output."},
    {.name = "log.access.format", .default_text = "squid", .field = &S::access_log_format,
     .check = &kAccessFormatCheck, .reloadable = true,
     .help = "Access log line format: squid (ATS/Squid-like fields with the cache result code), combined "
             "(Apache), json, or a custom format of %{field}s; see docs/ACCESS_LOG.md."},
    {.name = "log.access.max_size", .default_text = "0", .field = &S::access_log_max_size,
     .min = 0, .max = 1024 * 1024 * kMiB, .reloadable = true,
     .help = "Rotate the access log when it reaches this size (access.log becomes access.log.1); 0 = only "
             "on SIGUSR1."},
    {.name = "log.access.keep", .default_text = "5", .field = &S::access_log_keep,
     .min = 1, .max = 1000, .reloadable = true,
     .help = "Rotated access logs kept by size rotation (access.log.1 .. access.log.N); older ones are deleted."},
    {.name = "log.error.path", .default_text = "", .field = &S::error_log_path,
     .help = "Error log file; empty = standard error."},
    {.name = "log.error.level", .default_text = "info", .field = &S::error_log_level,
     .allowed = "debug|info|warning|error", .reloadable = true,
     .help = "Least severe error log level written."},
};
// clang-format on

std::string FormatSize(uint64_t b) {
  static constexpr std::pair<uint64_t, char> kUnits[] = {
      {1ull << 40, 'T'}, {1ull << 30, 'G'}, {1ull << 20, 'M'}, {1ull << 10, 'K'}};
  for (auto [unit, suffix] : kUnits) {
    if (b != 0 && b % unit == 0) return std::to_string(b / unit) + suffix;
  }
  return std::to_string(b);
}

std::string FormatDuration(int64_t ms) {
  static constexpr std::pair<int64_t, const char*> kUnits[] = {{kDay, "d"}, {kHour, "h"}, {kMin, "m"}, {kSec, "s"}};
  if (ms == 0) return "0s";
  for (auto [unit, suffix] : kUnits) {
    if (ms % unit == 0) return std::to_string(ms / unit) + suffix;
  }
  return std::to_string(ms) + "ms";
}

std::string FormatBound(const SettingDef& def, int64_t v) {
  switch (def.type()) {
    case SettingType::kSize:
      return FormatSize(static_cast<uint64_t>(v));
    case SettingType::kDuration:
      return FormatDuration(v);
    default:
      return std::to_string(v);
  }
}

// Parses digits followed by a unit from `units` (each a suffix and its
// multiplier); no suffix multiplies by `plain`. Fails on overflow.
bool ParseScaled(std::string_view s, std::span<const std::pair<std::string_view, int64_t>> units, int64_t plain,
                 int64_t* out) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end == s.data()) return false;
  std::string suffix = Lower(std::string_view(end, s.data() + s.size() - end));
  int64_t mult = suffix.empty() ? plain : 0;
  for (auto [name, m] : units) {
    if (suffix == name) mult = m;
  }
  if (mult == 0 || n > static_cast<uint64_t>(INT64_MAX / mult)) return false;
  *out = static_cast<int64_t>(n) * mult;
  return true;
}

// "a|b|c" as "a, b, c".
std::string AllowedList(const SettingDef& def) {
  std::string out;
  for (char c : def.allowed) out += (c == '|') ? std::string(", ") : std::string(1, c);
  return out;
}

// Checks one string value (one list item) against allowed values and the
// extra check. Returns the problem or "".
std::string CheckItem(const SettingDef& def, std::string_view v) {
  if (!def.allowed.empty()) {
    const std::string list = AllowedList(def);
    const std::vector<std::string> values = SplitList(list);
    if (std::find(values.begin(), values.end(), v) == values.end()) {
      return "'" + std::string(v) + "' is not one of: " + list;
    }
  }
  return def.check ? def.check->fn(v) : "";
}

// Validates `items` for a list setting and stores them. Returns the problem or "".
std::string AssignList(const SettingDef& def, std::vector<std::string> items, Settings* s) {
  for (const auto& item : items) {
    std::string problem = CheckItem(def, item);
    if (!problem.empty()) return problem;
  }
  s->*std::get<std::vector<std::string> Settings::*>(def.field) = std::move(items);
  return "";
}

// Parses `text` as a value of `def` and stores it. Returns the problem (without
// the setting's name) or "".
std::string AssignText(const SettingDef& def, std::string_view text, Settings* s) {
  static constexpr std::pair<std::string_view, int64_t> kSizeUnits[] = {
      {"k", kKiB}, {"m", kMiB}, {"g", 1024 * kMiB}, {"t", 1024 * 1024 * kMiB}};
  static constexpr std::pair<std::string_view, int64_t> kTimeUnits[] = {
      {"ms", 1}, {"s", kSec}, {"m", kMin}, {"h", kHour}, {"d", kDay}};
  text = Trim(text);
  const std::string quoted = "'" + std::string(text) + "'";
  int64_t n = 0;
  switch (def.type()) {
    case SettingType::kInt: {
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
        return quoted + " is not an integer";
      }
      break;
    }
    case SettingType::kSize:
      if (!ParseScaled(text, kSizeUnits, 1, &n)) return quoted + " is not a size (bytes, or with K/M/G/T: 64K)";
      break;
    case SettingType::kDuration:
      if (!ParseScaled(text, kTimeUnits, kSec, &n)) {
        return quoted + " is not a duration (with ms/s/m/h/d: 500ms, 30s; plain number = seconds)";
      }
      break;
    case SettingType::kBool: {
      std::string b = Lower(text);
      bool v;
      if (b == "true" || b == "yes" || b == "on" || b == "1") {
        v = true;
      } else if (b == "false" || b == "no" || b == "off" || b == "0") {
        v = false;
      } else {
        return quoted + " is not a bool (true or false)";
      }
      s->*std::get<bool Settings::*>(def.field) = v;
      return "";
    }
    case SettingType::kString: {
      std::string problem = CheckItem(def, text);
      if (!problem.empty()) return problem;
      s->*std::get<std::string Settings::*>(def.field) = std::string(text);
      return "";
    }
    case SettingType::kStringList:
      return AssignList(def, SplitList(text), s);
  }
  // Numeric kinds: range, then store.
  if (n < def.min || n > def.max) {
    return quoted + " is out of range " + FormatBound(def, def.min) + ".." + FormatBound(def, def.max);
  }
  if (def.type() == SettingType::kInt) s->*std::get<int Settings::*>(def.field) = static_cast<int>(n);
  if (def.type() == SettingType::kSize) s->*std::get<uint64_t Settings::*>(def.field) = static_cast<uint64_t>(n);
  if (def.type() == SettingType::kDuration) s->*std::get<milliseconds Settings::*>(def.field) = milliseconds(n);
  return "";
}

// True when `name` is a section (a strict prefix of some setting's name).
bool IsSection(const std::string& name) {
  for (const SettingDef& def : kTable) {
    if (def.name.size() > name.size() && def.name.starts_with(name) && def.name[name.size()] == '.') return true;
  }
  return false;
}

// "an int", "a size", ...
std::string Expected(const SettingDef& def) {
  const std::string_view type = SettingTypeName(def.type());
  return (type == "int" ? "an " : "a ") + std::string(type);
}

// Walks records.yaml, collecting every problem rather than stopping at the first.
class RecordsLoader {
 public:
  RecordsLoader(const std::string& path, Settings* s) : path_(path), s_(s) {}

  void Root(const YAML::Node& root) {
    if (root.IsNull()) return;
    if (!root.IsMap()) return Error(root, "expected a map with a 'records' key");
    for (const auto& kv : root) {
      if (kv.first.Scalar() != "records") {
        Error(kv.first, "unknown top-level key '" + kv.first.Scalar() + "' (settings go under 'records:')");
      } else {
        Section(kv.second, "");
      }
    }
  }

  const std::vector<std::string>& errors() const { return errors_; }

 private:
  void Error(const YAML::Node& at, std::string_view problem, const YAML::Node* fallback = nullptr) {
    int line = at.Mark().line;
    if (line < 0 && fallback) line = fallback->Mark().line;
    errors_.push_back(path_ + ":" + std::to_string(line + 1) + ": " + std::string(problem));
  }

  void Section(const YAML::Node& map, const std::string& prefix) {
    if (map.IsNull()) return;  // "records:" or a section with everything commented out
    if (!map.IsMap()) return Error(map, (prefix.empty() ? "records" : prefix) + " must be a map");
    for (const auto& kv : map) {
      if (!kv.first.IsScalar()) {
        Error(kv.first, "setting names must be plain strings");
        continue;
      }
      std::string name = prefix.empty() ? kv.first.Scalar() : prefix + "." + kv.first.Scalar();
      if (const SettingDef* def = FindSetting(name)) {
        Value(*def, kv.first, kv.second);
      } else if (IsSection(name)) {
        Section(kv.second, name);
      } else {
        Error(kv.first, "unknown setting '" + name + "'");
      }
    }
  }

  void Value(const SettingDef& def, const YAML::Node& key, const YAML::Node& value) {
    const std::string name(def.name);
    auto [it, fresh] = seen_.emplace(name, key.Mark().line + 1);
    if (!fresh) {
      return Error(key, name + ": set twice (first at line " + std::to_string(it->second) + ")");
    }
    std::string problem;
    if (def.type() == SettingType::kStringList && value.IsSequence()) {
      std::vector<std::string> items;
      for (const auto& item : value) {
        if (!item.IsScalar()) return Error(item, name + ": list items must be strings", &key);
        std::string p = CheckItem(def, item.Scalar());
        if (!p.empty()) return Error(item, name + ": " + p, &key);
        items.push_back(item.Scalar());
      }
      problem = AssignList(def, std::move(items), s_);
    } else if (value.IsNull()) {
      // "name:" with nothing after it; means empty for text, nothing for numbers.
      if (def.type() == SettingType::kString || def.type() == SettingType::kStringList) {
        problem = AssignText(def, "", s_);
      } else {
        problem = "missing value (expected " + Expected(def) + ")";
      }
    } else if (!value.IsScalar()) {
      problem = "expected " + Expected(def) + ", not a " + (value.IsMap() ? "map" : "list");
    } else {
      problem = AssignText(def, value.Scalar(), s_);
    }
    // A null value's mark points past it, at the next token: use the key's.
    if (!problem.empty()) Error(value.IsNull() ? key : value, name + ": " + problem, &key);
  }

  std::string path_;
  Settings* s_;
  std::vector<std::string> errors_;
  std::map<std::string, int> seen_;  // setting name -> line first set
};

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : "\n") + l;
  return out;
}

// The valid values of a setting, for docs and comments.
std::string ValidValues(const SettingDef& def) {
  std::string out;
  if (def.type() == SettingType::kBool) out = "true, false";
  if (def.max > def.min) out = FormatBound(def, def.min) + ".." + FormatBound(def, def.max);
  if (!def.allowed.empty()) {
    out = "one of: " + AllowedList(def);
  }
  if (def.check) out = std::string(def.check->doc);
  return out;
}

std::string YamlQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::span<const SettingDef> AllSettings() { return kTable; }

const SettingDef* FindSetting(std::string_view name) {
  for (const SettingDef& def : kTable) {
    if (def.name == name) return &def;
  }
  return nullptr;
}

std::string_view SettingTypeName(SettingType type) {
  switch (type) {
    case SettingType::kInt:
      return "int";
    case SettingType::kSize:
      return "size";
    case SettingType::kDuration:
      return "duration";
    case SettingType::kBool:
      return "bool";
    case SettingType::kString:
      return "string";
    case SettingType::kStringList:
      return "string list";
  }
  return "?";
}

Settings DefaultSettings() {
  Settings s;
  for (const SettingDef& def : kTable) {
    // The table's defaults are tested to parse; a bad one fails every test.
    (void)AssignText(def, def.default_text, &s);
  }
  return s;
}

Status LoadRecordsYaml(const std::string& path, Settings* out) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Status::OK();
  if (!std::filesystem::is_regular_file(path, ec)) return Status::IOError(path + ": not a regular file");
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return Status::IOError(path + ": cannot read");

  Settings s = *out;
  RecordsLoader loader(path, &s);
  try {
    loader.Root(YAML::Load(text.str()));
  } catch (const YAML::Exception& e) {
    const std::string where = e.mark.line >= 0 ? ":" + std::to_string(e.mark.line + 1) : "";
    return Status::InvalidArgument(path + where + ": YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(path + ": " + e.what());
  }
  if (!loader.errors().empty()) return Status::InvalidArgument(Join(loader.errors()));
  *out = std::move(s);
  return Status::OK();
}

Status ParseSettingValue(std::string_view name, std::string_view value, Settings* out) {
  const SettingDef* def = FindSetting(name);
  if (!def) return Status::InvalidArgument("unknown setting '" + std::string(name) + "'");
  Settings s = *out;
  std::string problem = AssignText(*def, value, &s);
  if (!problem.empty()) return Status::InvalidArgument(std::string(name) + ": " + problem);
  *out = std::move(s);
  return Status::OK();
}

std::string FormatSettingValue(const SettingDef& def, const Settings& s) {
  switch (def.type()) {
    case SettingType::kInt:
      return std::to_string(s.*std::get<int Settings::*>(def.field));
    case SettingType::kSize:
      return FormatSize(s.*std::get<uint64_t Settings::*>(def.field));
    case SettingType::kDuration:
      return FormatDuration((s.*std::get<milliseconds Settings::*>(def.field)).count());
    case SettingType::kBool:
      return s.*std::get<bool Settings::*>(def.field) ? "true" : "false";
    case SettingType::kString:
      return s.*std::get<std::string Settings::*>(def.field);
    case SettingType::kStringList: {
      std::string out;
      for (const auto& item : s.*std::get<std::vector<std::string> Settings::*>(def.field)) {
        out += (out.empty() ? "" : ", ") + item;
      }
      return out;
    }
  }
  return "";
}

std::vector<const SettingDef*> ChangedSettings(const Settings& a, const Settings& b) {
  std::vector<const SettingDef*> changed;
  for (const SettingDef& def : kTable) {
    bool same = std::visit([&](auto member) { return a.*member == b.*member; }, def.field);
    if (!same) changed.push_back(&def);
  }
  return changed;
}

void CopySetting(const SettingDef& def, const Settings& from, Settings* to) {
  std::visit([&](auto member) { to->*member = from.*member; }, def.field);
}

Status ParseListenAddress(std::string_view text, std::string* host, uint16_t* port) {
  const std::string quoted = "'" + std::string(text) + "'";
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return Status::InvalidArgument(quoted + " is not HOST:PORT");
  std::string_view h = text.substr(0, colon);
  std::string_view p = text.substr(colon + 1);
  if (h.starts_with('[')) {
    if (!h.ends_with(']') || h.size() < 3) return Status::InvalidArgument(quoted + ": bad [IPv6] address");
    h = h.substr(1, h.size() - 2);
    for (char c : h) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') {
        return Status::InvalidArgument(quoted + ": bad [IPv6] address");
      }
    }
  } else {
    if (h.empty()) return Status::InvalidArgument(quoted + ": missing host (use 0.0.0.0 or [::] for all)");
    for (char c : h) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
        return Status::InvalidArgument(quoted + ": bad host (IPv6 addresses go in brackets: [::1]:80)");
      }
    }
  }
  unsigned n = 0;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), n);
  if (ec != std::errc() || end != p.data() + p.size() || p.empty() || n < 1 || n > 65535) {
    return Status::InvalidArgument(quoted + ": port must be 1..65535");
  }
  *host = std::string(h);
  *port = static_cast<uint16_t>(n);
  return Status::OK();
}

std::string SettingsMarkdown() {
  const Settings defaults = DefaultSettings();
  std::string md =
      "| Setting | Type | Default | Valid values | On change | Description |\n"
      "|---|---|---|---|---|---|\n";
  auto cell = [](std::string s) {
    std::string out;
    for (char c : s) {
      if (c == '|')
        out += "\\|";
      else if (c == '<')
        out += "&lt;";
      else if (c == '>')
        out += "&gt;";
      else
        out += c;
    }
    return out;
  };
  for (const SettingDef& def : kTable) {
    std::string value = FormatSettingValue(def, defaults);
    md += "| `" + std::string(def.name) + "` | " + std::string(SettingTypeName(def.type())) + " | " +
          (value.empty() ? "(empty)" : "`" + cell(value) + "`") + " | " + cell(ValidValues(def)) + " | " +
          (def.reloadable ? "reload" : "restart") + " | " + cell(std::string(def.help)) + " |\n";
  }
  return md;
}

std::string SettingsRecordsYaml() {
  const Settings defaults = DefaultSettings();
  std::string out =
      "# records.yaml: Strata settings. Every setting is listed here at its default.\n"
      "#\n"
      "# Sizes are bytes or take a K/M/G/T suffix (64K); durations take ms/s/m/h/d\n"
      "# (500ms, 30s; a plain number is seconds); lists are YAML lists.\n"
      "# \"reload\" settings apply on reload (SIGHUP); \"restart\" ones need a restart.\n"
      "# Any setting can be overridden on the command line: --set http.max_fields=200\n"
      "# Reference: docs/CONFIG.md. Check a change with: strata --check-config\n"
      "\n"
      "records:\n";
  std::vector<std::string> prev;
  for (const SettingDef& def : kTable) {
    std::vector<std::string> parts;
    std::stringstream ss{std::string(def.name)};
    for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
    size_t common = 0;
    while (common + 1 < parts.size() && common + 1 < prev.size() && parts[common] == prev[common]) ++common;
    if (!prev.empty()) out += "\n";
    for (size_t i = common; i + 1 < parts.size(); ++i) out += std::string(2 * (i + 1), ' ') + parts[i] + ":\n";
    const std::string indent(2 * parts.size(), ' ');
    std::string valid = ValidValues(def);
    out += indent + "# " + std::string(def.help) + "\n";
    out += indent + "# " + std::string(SettingTypeName(def.type())) + (valid.empty() ? "" : ", " + valid) + "; " +
           (def.reloadable ? "reload" : "restart") + "\n";
    std::string value = FormatSettingValue(def, defaults);
    if (def.type() == SettingType::kString) value = YamlQuote(value);
    if (def.type() == SettingType::kStringList) {
      value = "[";
      for (const auto& item : defaults.*std::get<std::vector<std::string> Settings::*>(def.field)) {
        value += (value.size() > 1 ? ", " : "") + YamlQuote(item);
      }
      value += "]";
    }
    out += indent + parts.back() + ": " + value + "\n";
    prev = std::move(parts);
  }
  return out;
}

}  // namespace strata
