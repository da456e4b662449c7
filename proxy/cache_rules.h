// CacheRules: cache.config, the operator's per-URL overrides of the origin's
// caching policy (ATS syntax). This file only parses and matches; what each
// action means is a contract for the cache policy code that consumes
// CacheRuleActions (described below, per field).
//
// Syntax, one rule per line; '#' at the start of a token comments out the rest
// of the line, blank lines are ignored. A rule is whitespace-separated
// `key=value` tokens; keys and action names are ASCII case-insensitive; a
// value may be double-quoted to hold spaces (url_regex="a b"). Each key at
// most once per rule.
//   Exactly one primary specifier:
//     dest_domain=example.com   the host or any subdomain of it (www.example.com,
//                               not badexample.com); a leading or trailing dot
//                               is ignored; case-insensitive
//     dest_host=www.example.com exactly that host; case-insensitive. NOTE: ATS
//                               treats dest_host as an alias of dest_domain;
//                               Strata's is exact.
//     dest_ip=ADDR | A-B | ADDR/BITS
//                               IPv4 or IPv6 address, inclusive range or CIDR,
//                               matched against the origin host when that is a
//                               numeric address (no DNS lookups here)
//     url_regex=RE              ECMAScript regex searched anywhere in the full
//                               URL (as ATS does), case-sensitive
//   Optional secondary specifiers (all given must match):
//     prefix=images/            path prefix, written without the leading '/'
//                               as in ATS (leading slashes are stripped, so
//                               /images/ means the same); case-sensitive
//     suffix=.jpg               path suffix (the path has no query);
//                               case-insensitive, as ATS's
//     method=GET                an RFC 9110 token; case-insensitive
//     port=8080 | 8000-8099     the origin port, or an inclusive range
//     scheme=http|https
//   Exactly one action:
//     action=never-cache | ignore-no-cache | ignore-client-no-cache |
//            ignore-server-no-cache | cluster-cache-local (accepted, no effect:
//            Strata has no cluster)
//     ttl-in-cache=TIME | pin-in-cache=TIME | revalidate=TIME
//   TIME: one or more NUMBER[UNIT] with UNIT d, h, m or s (e.g. 1d2h30m, 90s);
//   a number without a unit is seconds (45, 1h30); at most 2^31-1 seconds.
//   Unsupported ATS keys (host_regex, src_ip, time, internal,
//   cache-responses-to-cookies, action=standard-cache) are errors, so a config
//   never silently means less than it says.
//
// Combining (Match): every rule is tried in file order, and each field of
// CacheRuleActions is set by the FIRST matching rule that sets it; later
// matches never change a field already set. This is ATS's rule (it keeps the
// earliest line per field, CacheControl.h), except that ttl-in-cache and
// revalidate share one slot, so at most one freshness override comes back:
//   never_cache                any matching never-cache rule, but cleared
//                              when ttl_in_cache is set (as in ATS,
//                              ttl-in-cache overrides never-cache)
//   ignore_client_no_cache     any matching ignore-no-cache or
//                              ignore-client-no-cache rule
//   ignore_server_no_cache     any matching ignore-no-cache or
//                              ignore-server-no-cache rule
//   ttl_in_cache / revalidate  the first matching rule with either
//   pin_in_cache               the first matching pin-in-cache rule
// Rules appended by a later Parse/LoadFile come after earlier ones.
//
// Thread-safety: built by one thread, then only read; Match is const and safe
// from any number of threads at once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace strata {

// What the matching rules ask of the cache for one request. The meaning of
// each field is the contract for the policy code:
struct CacheRuleActions {
  // Neither serve from nor store in the cache; wins over every other field.
  bool never_cache = false;
  // Ignore the response's Cache-Control no-cache (serve without revalidating
  // while fresh). no-store and private are not touched by this flag.
  bool ignore_server_no_cache = false;
  // Ignore the request's no-cache, Pragma: no-cache and max-age=0, so a
  // client reload does not bypass or revalidate a fresh entry.
  bool ignore_client_no_cache = false;
  // Store a response whose status is storable whatever its Cache-Control,
  // Expires or Pragma say (no-cache, private, no-store, max-age included:
  // the operator has overruled the origin for these URLs), and give it
  // exactly this freshness lifetime in seconds.
  std::optional<int64_t> ttl_in_cache;
  // Keep a stored response from being evicted for this many seconds after it
  // is stored. Freshness still follows the origin; responses that are not
  // storable are not stored because of it.
  std::optional<int64_t> pin_in_cache;
  // The freshness lifetime of a stored response is this many seconds instead
  // of what the origin says (shorter or longer); storability is unchanged.
  std::optional<int64_t> revalidate;

  bool operator==(const CacheRuleActions&) const = default;
};

class CacheRules {
 public:
  // Reads and parses a cache.config file and appends its rules; see Parse.
  // NotFound when it cannot be opened (whether a missing file means "no
  // rules" is the caller's decision).
  Status LoadFile(const std::string& path);

  // Parses cache.config text and appends its rules. Every problem is reported,
  // one "file_name:line: problem" line each (the first problem of each bad
  // line); on error no rule is added.
  Status Parse(std::string_view text, const std::string& file_name);

  // The actions for a request to the origin. `scheme` "http"/"https"; `host`
  // the origin host without port (IPv6 with or without brackets; compared
  // case-insensitively, a trailing dot ignored); `path` starts with '/' and
  // has no query; `url` the full URL, for url_regex; `method` as received.
  CacheRuleActions Match(std::string_view scheme, std::string_view host, uint16_t port, std::string_view path,
                         std::string_view url, std::string_view method) const;

  // Number of rules (cluster-cache-local rules included).
  size_t size() const { return rules_.size(); }

  // Parses a TIME value into seconds; false when it is not one.
  static bool ParseTime(std::string_view text, int64_t* seconds);

 private:
  enum class Primary { kDomain, kHost, kIp, kUrlRegex };
  enum class Action { kNeverCache, kIgnoreNoCache, kIgnoreClient, kIgnoreServer, kNone, kTtl, kPin, kRevalidate };

  struct AddrRange {
    int family = 0;  // AF_INET or AF_INET6; IPv4 uses the first 4 bytes
    std::array<uint8_t, 16> lo{};
    std::array<uint8_t, 16> hi{};
  };

  // A compiled url_regex; defined in cache_rules.cc so that <regex> stays out
  // of every file that includes this header.
  struct UrlRegex;

  struct Rule {
    Primary primary = Primary::kDomain;
    std::string name;                           // dest_domain/dest_host, lowercase
    AddrRange ip;                               // dest_ip
    std::shared_ptr<const UrlRegex> url_regex;  // immutable, shared by copies
    std::optional<std::string> prefix;          // without leading '/'
    std::optional<std::string> suffix;          // lowercase
    std::optional<std::string> method;          // uppercase
    std::optional<std::string> scheme;          // lowercase
    uint16_t port_lo = 0, port_hi = 0;          // 0: any port
    Action action = Action::kNone;
    int64_t seconds = 0;  // time actions
  };

  // One key=value of a rule line; `value` has its quotes removed.
  struct Token {
    std::string key;  // lowercase
    std::string value;
  };

  // A request as Match sees it, with the host's address parsed once.
  struct Request;

  // Parses one rule's tokens into *rule; returns the problem or "".
  static std::string ParseRule(const std::vector<Token>& tokens, Rule* rule);

  static bool Matches(const Rule& rule, const Request& req);

  std::vector<Rule> rules_;
};

}  // namespace strata
