// Config: one immutable snapshot of everything read from the config
// directory plus the command line.
//
// The daemon builds a Config with LoadConfig at start and on every reload,
// and swaps the new snapshot in only when it loaded without error, so an
// invalid new config never replaces a working one. Transactions keep the
// snapshot they started with (the daemon holds it in a
// std::shared_ptr<const Config>).
//
// Files read from the directory (each optional):
//   records.yaml   settings (proxy/settings.h)
//   remap.config   remap rules (proxy/remap.h); with no rules and no --origin
//                  every request gets 404, which is not a config error
//   storage.config the cache's spans (cache/storage_config.h); relative paths
//                  start from cache.dir. No spans: Strata runs without a cache.
//   volume.config  how the spans are divided into volumes (cache/volume_plan.h);
//                  every `volume=N` of storage.config must be defined here.
//   cache.config   per-URL caching rules (proxy/cache_rules.h)
//   ip_allow.yaml  who may use which methods (proxy/ip_allow.h); without it,
//                  every client may use everything but PURGE and the admin
//                  API (ADMIN), which are for loopback only.
//   parent.config  parent selection is not implemented yet: any rule in it is
//                  an error, so that rules are never silently ignored.
//
// Order of precedence: table defaults < records.yaml < --set < --listen
// (which adds listeners) and --admin (which replaces admin.listen). --origin
// appends a catch-all `map /` after the rules from remap.config, so a
// catch-all there wins over it.
//
// Thread-safety: a Config is immutable once built; read it from any thread.
// The functions below touch only their arguments and the files.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cache/storage_config.h"
#include "common/status.h"
#include "proxy/access_format.h"
#include "proxy/cache_rules.h"
#include "proxy/ip_allow.h"
#include "proxy/remap.h"
#include "proxy/settings.h"

namespace strata {

struct Config {
  std::string dir;  // the config directory it was read from; "" = none
  Settings settings = DefaultSettings();
  RemapTable remap;
  std::vector<SpanConfig> cache_spans;      // storage.config, then --cache; absolute paths
  std::vector<VolumeConfig> cache_volumes;  // volume.config; empty = one volume of 100%
  IpAllow ip_allow = IpAllow::Default();    // ip_allow.yaml, or loopback-only PURGE
  CacheRules cache_rules;                   // cache.config
  AccessFormat access_format;               // log.access.format, compiled
};

// What the command line adds on top of the files.
struct ConfigOverrides {
  std::vector<std::string> listen;                        // --listen ADDR:PORT (repeatable)
  std::string origin_url;                                 // --origin URL; "" = none
  std::vector<std::pair<std::string, std::string>> sets;  // --set NAME=VALUE, in order
  std::vector<std::string> cache_specs;                   // --cache PATH,SIZE (repeatable)
  std::optional<std::string> admin;                       // --admin ADDR:PORT; "" = no admin listener
};

// Loads DIR's files and applies `overrides`. An empty or missing `dir` reads
// no files (quick-start from the command line only: `strata --listen ...
// --origin ...` must work without an installed config directory; callers that
// want a missing explicit --config-dir to fail check it themselves, or use
// CheckConfigDir, which does fail on it). Problems from all files and all
// overrides are reported together, one "file:line: problem" (or
// "--set NAME=VALUE: problem") per line; on error *out is unchanged.
Status LoadConfig(const std::string& dir, const ConfigOverrides& overrides, Config* out);

// For `strata --check-config`: validates every known file in `dir`. *report
// gets one "file:line: problem" line per problem (empty when all is well);
// the Status is OK only when there is none.
Status CheckConfigDir(const std::string& dir, std::string* report);

// The names of the files LoadConfig reads from a config directory, in order.
const std::vector<std::string>& ConfigFileNames();

}  // namespace strata
