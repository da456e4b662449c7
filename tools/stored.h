// The HTTP view of cached objects for strata-cache: which URL a command
// means (the cache key URL, or a client URL mapped by remap.config), the
// stored response as JSON with its freshness computed by the daemon's own
// RFC 9111 code, and finding an object's fragments.
//
// Thread-safety: single-threaded tool code.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cache/cache.h"
#include "proxy/cache_policy.h"
#include "proxy/config.h"
#include "proxy/stored_response.h"
#include "tools/json.h"

namespace strata::tool {

// The URL as given, and what remap.config maps it to when it is a client URL
// that a map rule matches ("" otherwise).
struct UrlCandidates {
  std::string given;
  std::string remapped;
};
UrlCandidates ResolveUrl(const Config& config, const std::string& url);

// The daemon's policy options from its settings (heuristic freshness).
http::PolicyOptions PolicyFromSettings(const Settings& settings);

// Parses "Name: value" request fields given with -H.
bool ParseHeaderArgs(const std::vector<std::string>& specs, std::vector<http::StoredField>* out, std::string* error);

// The stored response: kind, URL, status line, fields, validators, times,
// and (for a response) age, lifetime, freshness left and what a plain GET
// with `request_fields` would get (fresh, stale, must-validate).
Json StoredJson(const StoredResponse& stored, const Config& config,
                const std::vector<http::StoredField>& request_fields, int64_t now);

// Per fragment of `info`: its key, stripe and whether the directory still
// has an entry for it (probing only; verify reads them).
Json FragmentsJson(Cache& cache, const ObjectInfo& info);

int64_t NowSeconds();

}  // namespace strata::tool
