// HTTP caching policy of a shared cache: RFC 9111 (storing, freshness, age,
// reuse, validation, invalidation), RFC 5861 (stale-while-revalidate,
// stale-if-error), RFC 9110 §13 (conditional requests), RFC 9213 (targeted
// Cache-Control), RFC 9211 (Cache-Status). Pure functions over parsed fields
// and times (seconds since the epoch): no I/O, no clock, no libevent, so the
// transaction code calls them and the tests run in microseconds. Thread-safe.
//
// Decisions where the RFCs leave room (each also noted where it is made):
// - Only GET responses are stored. HEAD responses never create an entry (a
//   HEAD response has no content to serve a GET with); the caller MAY use
//   one to update the headers of a stored GET response (RFC 9111 §4.3.5).
//   POST responses are not stored although §3 permits it with explicit
//   freshness and Content-Location equal to the target: the reuse rules of
//   such entries (only for a later GET of that URI) are not worth the risk.
// - 206 and 304 are not stored by IsStorable (kPartial / kStatus): partial
//   content goes through the chunk-fill path, and 304 only updates (§4.3.4).
//   Responses whose body did not complete are the caller's to drop (§3.3).
// - Qualified private="f" and no-cache="f": the listed fields are stripped
//   before storing (StoreDecision::strip_fields). For private that is what
//   §5.2.2.7 asks of a shared cache; for no-cache it is the simplest way to
//   never send them without revalidation (§5.2.2.4), and keeps the rest of
//   the response reusable.
// - When a valid Strata-Cache-Control or CDN-Cache-Control is present, it
//   replaces Cache-Control AND Expires for every response decision here
//   (RFC 9213 §2.2). Request directives are unaffected.
// - s-maxage implies proxy-revalidate (§5.2.2.10), so a client's max-stale
//   cannot unlock it; but an explicit stale-while-revalidate / stale-if-error
//   in the same response is the origin "explicitly permitting" stale use
//   (§4.2.4) and still applies. must-revalidate, proxy-revalidate and
//   no-cache always forbid serving stale, error or not.
// - Request max-age=0 always requires validation (the reload idiom; ages are
//   whole seconds so "age <= 0" says little). Request max-age=N > 0 requires
//   current_age <= N. A request Pragma: no-cache counts as no-cache only when
//   the request has no Cache-Control field (RFC 9111 §5.4 deprecates Pragma).
// - immutable (RFC 8246) addresses clients; a shared cache that receives a
//   request no-cache still validates, unless the operator opts in with
//   PolicyOptions::immutable_ignores_client_no_cache.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/cache_control.h"
#include "proxy/http_parser.h"

namespace strata::http {

// An owned field, for stored responses and for fields this module produces.
struct StoredField {
  std::string name;
  std::string value;
  bool operator==(const StoredField&) const = default;
};

// Views of owned fields, to feed the functions below from stored data.
std::vector<Field> FieldViews(const std::vector<StoredField>& fields);

struct PolicyOptions {
  double heuristic_fraction = 0.1;         // of (Date - Last-Modified), §4.2.2
  int64_t heuristic_max = 86400;           // cap on heuristic freshness, seconds
  bool use_targeted_cache_control = true;  // RFC 9213 Strata-/CDN-Cache-Control
  bool normalize_accept_encoding = true;   // Vary: Accept-Encoding key (see below)
  bool ignore_client_no_cache = false;     // operator override of request no-cache/Pragma
  bool immutable_ignores_client_no_cache = false;

  bool operator==(const PolicyOptions&) const = default;
};

struct RequestInfo {
  std::string_view method;
  std::span<const Field> fields;
};

// A response as received from the origin, or as stored with the times of the
// exchange that produced (or last validated) it.
struct ResponseInfo {
  int status = 0;
  std::span<const Field> fields;
  int64_t request_time = 0;   // when the request that produced it was sent
  int64_t response_time = 0;  // when the response was received
};
using StoredInfo = ResponseInfo;

// ---- Storing (RFC 9111 §3) ----

enum class StoreReason {
  kStorable,
  kMethod,           // method not GET (see above)
  kStatus,           // not final, not understood, or 304
  kPartial,          // 206: handled by the chunk-fill path
  kRequestNoStore,   // §5.2.1.5
  kNoStore,          // §5.2.2.5 (response; targeted field considered)
  kPrivate,          // §5.2.2.7 unqualified, shared cache
  kAuthorization,    // §3.5
  kMustUnderstand,   // §5.2.2.3 with a status code not understood
  kNoFreshnessInfo,  // none of public / max-age / s-maxage / Expires / heuristic status
};
const char* StoreReasonName(StoreReason reason);  // "no-store", "private", ...

struct StoreDecision {
  bool store = false;
  StoreReason reason = StoreReason::kStorable;
  std::vector<std::string> strip_fields;  // lowercase names not to store
  bool vary_star = false;                 // Vary: * — storable, but never matches (§4.1)
  bool must_validate = false;             // unqualified no-cache: every reuse validates
  bool targeted = false;                  // a targeted Cache-Control field decided
};

bool IsStorable(const RequestInfo& request, const ResponseInfo& response, const PolicyOptions& options,
                StoreDecision* decision);

// §3.1: fields a cache never stores (hop-by-hop, those named by Connection,
// the proxy-specific Proxy-Authenticate/-Authentication-Info/-Authorization).
// `fields` gives the Connection field. Name compare is case-insensitive.
bool IsUnstorableField(std::string_view name, std::span<const Field> fields);

// The fields to store: `fields` minus IsUnstorableField and `strip_fields`.
std::vector<StoredField> FieldsToStore(std::span<const Field> fields, const std::vector<std::string>& strip_fields);

bool IsHeuristicallyCacheableStatus(int status);  // §4.2.2 / RFC 9110 §15.1
bool IsUnderstoodStatus(int status);              // codes defined by RFC 9110

// ---- Freshness and age (§4.2) ----

struct Freshness {
  int64_t lifetime = 0;    // seconds, >= 0
  bool heuristic = false;  // from §4.2.2, not explicit
};
Freshness FreshnessLifetime(const ResponseInfo& response, const PolicyOptions& options);

// Singleton date field (Date, Expires, Last-Modified): false when absent,
// invalid, or present several times with different values.
bool DateField(std::span<const Field> fields, std::string_view name, int64_t* out);

// §5.1: the first member of Age; false when absent or invalid (then ignored).
bool AgeValue(std::span<const Field> fields, int64_t* out);

// §4.2.3, saturating at 2^31.
int64_t CurrentAge(const ResponseInfo& stored, int64_t now);

// ---- Reuse (§4, §4.2.4, RFC 5861) ----

enum class Usability {
  kFresh,                         // serve
  kStaleMayServe,                 // stale, the client's max-stale allows it: serve
  kStaleMayServeWhileRevalidate,  // serve, and revalidate in the background
  kStaleMustRevalidate,           // stale: validate first
  kMustValidate,                  // directives (request or response no-cache, request
                                  // max-age/min-fresh) demand validation first
};
const char* UsabilityName(Usability u);

struct Evaluation {
  Usability usability = Usability::kMustValidate;
  int64_t current_age = 0;
  int64_t lifetime = 0;
  int64_t ttl = 0;                 // lifetime - current_age (negative when stale)
  bool forced_by_request = false;  // the request's directives caused validation
  bool only_if_cached = false;     // request only-if-cached: never forward; 504 if unusable
};

// What reuse decisions derive from a stored response alone (its fields and
// times, under `options`): computed once per stored response, so the many
// requests it answers do not each parse its fields again.
struct StoredFacts {
  CacheControl cc;                    // the effective response directives
  int64_t lifetime = 0;               // FreshnessLifetime
  int64_t corrected_initial_age = 0;  // §4.2.3, CurrentAge without the resident time
};
StoredFacts ComputeStoredFacts(const StoredInfo& stored, const PolicyOptions& options);

// `stored` must already match the request (URI, method, Vary).
Evaluation EvaluateStored(const RequestInfo& request, const StoredInfo& stored, int64_t now,
                          const PolicyOptions& options);
// The same, with `facts` = ComputeStoredFacts(stored, options).
Evaluation EvaluateStored(const RequestInfo& request, const StoredInfo& stored, const StoredFacts& facts, int64_t now,
                          const PolicyOptions& options);

// RFC 5861 §4: may `stored` be served stale after an error (5xx from the
// origin or no origin)? The request's stale-if-error also counts.
bool MayServeStaleOnError(const RequestInfo& request, const StoredInfo& stored, int64_t now,
                          const PolicyOptions& options);
bool IsStaleIfErrorStatus(int status);  // 500, 502, 503, 504

// ---- Vary (§4.1) ----

// Lowercased names of the stored response's Vary, in order, without
// duplicates. false for Vary: * (never matches).
bool VaryFieldNames(std::span<const Field> response_fields, std::vector<std::string>* names);

// The secondary key: per name, "name:" then the request's field lines joined
// with "," and whitespace normalized (OWS around commas removed, runs of
// SP/HTAB collapsed), or "\x01" when the field is absent (absent differs from
// empty), then "\n". Values keep their case. With normalize_accept_encoding,
// Accept-Encoding is replaced by NormalizeAcceptEncoding(); the caller MUST
// then forward that normalized value to the origin, so the origin's choice
// depends only on the key.
std::string VarySecondaryKey(const std::vector<std::string>& vary_names, std::span<const Field> request_fields,
                             const PolicyOptions& options);

// "br", "gzip" or "identity": the acceptable coding (q > 0, directly or via
// "*") with the highest q, br before gzip on a tie; x-gzip is gzip. Absent,
// empty, or neither acceptable: "identity".
std::string NormalizeAcceptEncoding(std::span<const Field> request_fields);

// ---- Conditional requests (RFC 9110 §13, RFC 9111 §4.3.2) ----

enum class ConditionalResult { kNone, kNotModified, kPreconditionFailed };

// Evaluates the client's preconditions against the stored response chosen to
// answer it, in the order of RFC 9110 §13.2.2. RFC 9111 §4.3.2 says If-Match
// and If-Unmodified-Since are not applicable to a cache, so they are only
// evaluated when `include_origin_preconditions` is set. If-Modified-Since is
// compared with Last-Modified, else Date, else the response time.
ConditionalResult EvaluateClientConditional(const RequestInfo& request, const StoredInfo& stored,
                                            bool include_origin_preconditions = false);

// RFC 9110 §13.1.5: true when the If-Range value (an entity-tag, compared
// strongly, or an HTTP-date equal to a strong Last-Modified) matches.
bool IfRangeMatches(std::string_view if_range, const StoredInfo& stored);

// Entity-tags (RFC 9110 §8.8.3).
struct EntityTag {
  bool weak = false;
  std::string_view opaque;  // including the quotes
};
bool ParseEntityTag(std::string_view s, EntityTag* tag);
bool StrongMatch(const EntityTag& a, const EntityTag& b);
bool WeakMatch(const EntityTag& a, const EntityTag& b);

// ---- Validation (§4.3) ----

// §4.3.1: If-None-Match with the stored ETag and If-Modified-Since with the
// stored Last-Modified, each when present and valid (both when both are).
void AddValidators(std::span<const Field> stored_fields, std::vector<StoredField>* out);

// §4.3.4: indexes of the stored responses a 304 (or HEAD response) updates:
// those with the same strong ETag; else the most recent one whose weak ETag
// or Last-Modified matches; else the only one when neither it nor the 304
// has a validator. Empty: update nothing.
std::vector<size_t> SelectStoredFor304(std::span<const Field> fields_304, std::span<const StoredInfo> stored);

// §3.2: the stored fields updated from a 304: each field of the 304 replaces
// all stored fields of that name, except Content-Length, Content-Range and
// the §3.1 unstorable fields, which are kept as stored. A 304 without Age
// drops the stored Age (the origin just vouched for it: age restarts);
// without Date, Date is set to `response_time` (RFC 9110 §6.6.1). Fields the
// merged response names in private="..." are removed.
std::vector<StoredField> MergeHeadersFrom304(std::span<const Field> stored_fields, std::span<const Field> fields_304,
                                             int64_t response_time);

// ---- Invalidation (§4.4) ----

bool IsSafeMethod(std::string_view method);  // GET, HEAD, OPTIONS, TRACE

// For an unsafe (or unknown) method answered with 2xx/3xx: the target URI,
// then Location and Content-Location resolved against it (RFC 3986 §5.2)
// when their origin (scheme, host, port) equals the target's. `target` is an
// absolute URI. Empty otherwise.
std::vector<std::string> InvalidationTargets(std::string_view method, int status, std::string_view target,
                                             std::span<const Field> response_fields);

// RFC 3986 §5.2 reference resolution (exposed for tests). false when `base`
// is not absolute or `ref` is malformed.
bool ResolveUri(std::string_view base, std::string_view ref, std::string* out);

// ---- Cache-Status (RFC 9211) ----

enum class Fwd { kNone, kBypass, kMethod, kUriMiss, kVaryMiss, kMiss, kRequest, kStale, kPartial };
const char* FwdName(Fwd fwd);

struct CacheStatus {
  std::string_view cache = "Strata";
  bool hit = false;
  Fwd fwd = Fwd::kNone;
  int fwd_status = 0;  // 0: omitted
  std::optional<int64_t> ttl;
  bool stored = false;
  bool collapsed = false;
  std::string_view key;     // omitted when empty
  std::string_view detail;  // omitted when empty; token if it is one, else string
};

// e.g. "Strata; hit; ttl=123", "Strata; fwd=stale; fwd-status=304".
std::string CacheStatusValue(const CacheStatus& status);

}  // namespace strata::http
