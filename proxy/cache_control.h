// Cache-Control parsing: RFC 9111 §5.2 (request and response directives),
// RFC 5861 (stale-while-revalidate, stale-if-error), RFC 8246 (immutable) and
// RFC 9213 targeted fields (CDN-Cache-Control, Strata-Cache-Control).
//
// Parsing decisions where the RFCs leave room:
// - Every field line with the name is combined, in order, as one list
//   (RFC 9110 §5.3). Commas inside quoted-strings do not split directives.
// - Names are case-insensitive (§5.2). Arguments may be token or
//   quoted-string for every directive (§5.2: "recipients ought to accept both
//   forms"), so max-age="5" is 5. Unknown directives are ignored (§5.2.3).
// - delta-seconds (§1.2.2) is 1*DIGIT; values past 2^31 saturate to 2^31.
//   Anything else ("abc", "-1", "1.5", " 5", empty) is invalid.
// - An invalid or duplicated-with-a-different-value max-age or s-maxage
//   marks the directive invalid and the response is then treated as stale
//   (freshness lifetime 0), as §4.2.1 encourages; the same values repeated are
//   harmless. A request max-age that is invalid acts as max-age=0.
// - Other delta-seconds directives keep their most restrictive valid value
//   (§4.2.1 "the most restrictive directive should be honored"): the smallest
//   stale-while-revalidate / stale-if-error / max-stale, the largest
//   min-fresh; max-stale with a value beats max-stale without one. Invalid
//   values of these directives are ignored.
// - Directives that take no argument (no-store, must-revalidate, ...) are
//   honoured even if an argument is (wrongly) attached when honouring them
//   restricts caching; the permissive ones (public, immutable,
//   must-understand) are ignored when they carry an argument.
// - An element that does not match token [ "=" ( token / quoted-string ) ]
//   (e.g. "max-age =5") is malformed; a malformed max-age / s-maxage counts as
//   an invalid one, other malformed elements are ignored.
// - Field names in qualified no-cache / private are lowercased.
//
// Targeted fields (RFC 9213 §2.1) are Structured Field Dictionaries (RFC 8941).
// A field that fails to parse is ignored as if absent; a directive whose value
// has the wrong type (max-age="5", max-age=1.5, no-store=3) is ignored;
// parameters are ignored; a repeated key keeps its last value (RFC 8941).
//
// Pure functions over parsed fields; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/http_parser.h"

namespace strata::http {

// RFC 9111 §1.2.2: the "infinity" a cache substitutes for an overflowing
// delta-seconds.
inline constexpr int64_t kDeltaSecondsInfinity = int64_t{1} << 31;

// Parses delta-seconds = 1*DIGIT, saturating at 2^31. false when invalid.
bool ParseDeltaSeconds(std::string_view s, int64_t* out);

struct CacheControl {
  bool present = false;  // at least one (valid, for targeted fields) field was seen

  // Boolean directives (request and response share the names they share).
  bool no_store = false;          // §5.2.1.5 / §5.2.2.5
  bool no_cache = false;          // §5.2.1.4 / §5.2.2.4, unqualified form
  bool is_private = false;        // §5.2.2.7, unqualified form
  bool is_public = false;         // §5.2.2.9
  bool must_revalidate = false;   // §5.2.2.2
  bool proxy_revalidate = false;  // §5.2.2.8
  bool must_understand = false;   // §5.2.2.3
  bool no_transform = false;      // §5.2.1.6 / §5.2.2.6
  bool only_if_cached = false;    // §5.2.1.7
  bool immutable = false;         // RFC 8246

  // Qualified forms: field names (lowercase) the cache must treat specially.
  std::vector<std::string> no_cache_fields;  // not to be sent without revalidation
  std::vector<std::string> private_fields;   // a shared cache must not store them

  // delta-seconds directives; nullopt when absent (or invalid, see above).
  std::optional<int64_t> max_age;                 // §5.2.1.1 / §5.2.2.1
  std::optional<int64_t> s_maxage;                // §5.2.2.10
  std::optional<int64_t> stale_while_revalidate;  // RFC 5861 §3
  std::optional<int64_t> stale_if_error;          // RFC 5861 §4 (request and response)
  std::optional<int64_t> min_fresh;               // §5.2.1.3
  std::optional<int64_t> max_stale;               // §5.2.1.2 with a value
  bool max_stale_any = false;                     // §5.2.1.2 without a value: any staleness

  // max-age / s-maxage seen but invalid or conflicting: treat as stale.
  bool max_age_invalid = false;
  bool s_maxage_invalid = false;

  // True when the response carries a usable (or invalid, hence stale)
  // max-age or s-maxage, i.e. explicit freshness from Cache-Control.
  bool HasMaxAge() const { return max_age.has_value() || max_age_invalid; }
  bool HasSMaxAge() const { return s_maxage.has_value() || s_maxage_invalid; }
};

// Adds the directives of one Cache-Control field value to *cc.
void ParseCacheControlValue(std::string_view value, CacheControl* cc);

// Parses every field named `name` (case-insensitive) as Cache-Control syntax.
CacheControl ParseCacheControl(std::span<const Field> fields, std::string_view name = "cache-control");

// RFC 9213: parses every field named `name` as one SF Dictionary. Returns
// false (and leaves *cc alone) when there is no such field, when the combined
// value is empty, or when it is not a valid Dictionary.
bool ParseTargetedCacheControl(std::span<const Field> fields, std::string_view name, CacheControl* cc);

// Strata's target list, in precedence order (RFC 9213 §2.2).
inline constexpr std::string_view kStrataCacheControl = "strata-cache-control";
inline constexpr std::string_view kCdnCacheControl = "cdn-cache-control";

// The response directives that govern this cache: the first valid, non-empty
// targeted field in target-list order, else Cache-Control. *targeted (if not
// null) is set when a targeted field was used; then Expires must be ignored as
// well (RFC 9213 §2.2).
CacheControl EffectiveResponseCacheControl(std::span<const Field> fields, bool* targeted = nullptr);

}  // namespace strata::http
