// The context every strata-cache command runs in: the global options, the
// configuration (loaded with the daemon's own LoadConfig), opening the cache
// offline (read-only, or read-write under the span lock for purge/repair),
// printing results (table or --json), and the JSON forms of the engine's
// structures shared by several commands.
//
// Exit codes (also in --help and docs/STRATA_CACHE.md): 0 ok; 1 not found,
// or problems found (verify); 2 usage error; 3 cannot open the cache (or
// reach the admin API).
//
// Thread-safety: single-threaded tool code.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cache/cache.h"
#include "cache/doc.h"
#include "cache/layout.h"
#include "common/status.h"
#include "proxy/config.h"
#include "tools/json.h"

namespace strata::tool {

enum ExitCode : int { kExitOk = 0, kExitNotFound = 1, kExitUsage = 2, kExitCannotOpen = 3 };

struct GlobalOptions {
  std::string config_dir = STRATA_SYSCONFDIR;
  bool config_dir_given = false;
  ConfigOverrides overrides;  // --cache, --set
  std::string admin;          // --admin HOST:PORT; "" = offline
  bool json = false;
};

// A command's own arguments: positional ones and --options.
struct CommandArgs {
  struct Spec {
    const char* name;
    bool takes_value;
  };
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> options;

  // Splits `args` by `specs`; false with *error for an unknown option or a
  // missing value.
  bool Parse(const std::vector<std::string>& args, std::initializer_list<Spec> specs, std::string* error);
  bool Has(const std::string& name) const;
  std::string Value(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> Values(const std::string& name) const;
};

// Where a stripe lives: its span and its index within the span.
struct StripePlace {
  std::string span;
  uint32_t index_in_span = 0;
};

class Tool {
 public:
  explicit Tool(GlobalOptions options) : options_(std::move(options)) {}

  const GlobalOptions& options() const { return options_; }
  bool online() const { return !options_.admin.empty(); }

  // Loads the configuration once (later calls return the first result). A
  // configuration without spans is an error here: every offline command
  // needs them.
  Status LoadConfiguration();
  const Config& config() const { return config_; }

  // Opens the cache offline. read_only: O_RDONLY, never written, safe while
  // the daemon runs (but it sees the directory saved at the last clean stop).
  // Otherwise the spans are locked and Busy means the daemon has them.
  Status OpenCache(bool read_only, std::unique_ptr<Cache>* out);
  StripePlace PlaceOf(Cache& cache, uint32_t stripe_id) const;

  // Prints `result` (JSON or text) to stdout and returns `code`.
  int Print(const Json& result, int code) const;
  // Prints "strata-cache: message" to stderr and returns `code`.
  int Fail(int code, const std::string& message) const;
  // The exit code and message for a failed LoadConfiguration/OpenCache.
  int FailOpen(const Status& status) const;

 private:
  GlobalOptions options_;
  bool loaded_ = false;
  Status load_status_;
  Config config_;
};

// Whether another process holds the span's write lock (a running daemon, or
// an offline purge/repair). False when the file cannot be opened.
bool SpanInUse(const std::string& path);

// "2024-05-01T12:00:00Z" for seconds since the epoch (0 -> "-").
std::string IsoTime(int64_t seconds);

Json EntryJson(const DirEntry& entry);
Json DocHeaderJson(const DocHeaderFields& header);
Json StripeHeaderJson(const StripeHeader& header);
Json LayoutJson(const StripeLayout& layout);

}  // namespace strata::tool
