#include "proxy/cache_policy.h"

#include <algorithm>
#include <cctype>

#include "proxy/http_date.h"

namespace strata::http {
namespace {

int64_t Saturate(int64_t v) { return std::clamp<int64_t>(v, 0, kDeltaSecondsInfinity); }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<std::string_view> FirstField(std::span<const Field> fields, std::string_view name) {
  for (const Field& f : fields)
    if (EqualsIgnoreCase(f.name, name)) return f.value;
  return std::nullopt;
}

bool HasField(std::span<const Field> fields, std::string_view name) { return FirstField(fields, name).has_value(); }

bool Contains(const std::vector<std::string>& names, std::string_view name) {
  for (const std::string& n : names)
    if (EqualsIgnoreCase(n, name)) return true;
  return false;
}

CacheControl ResponseCc(std::span<const Field> fields, const PolicyOptions& options, bool* targeted) {
  if (options.use_targeted_cache_control) return EffectiveResponseCacheControl(fields, targeted);
  *targeted = false;
  return ParseCacheControl(fields);
}

}  // namespace

std::vector<Field> FieldViews(const std::vector<StoredField>& fields) {
  std::vector<Field> views;
  views.reserve(fields.size());
  for (const StoredField& f : fields) views.push_back(Field{f.name, f.value});
  return views;
}

// ---------------------------------------------------------------- storing

const char* StoreReasonName(StoreReason reason) {
  switch (reason) {
    case StoreReason::kStorable:
      return "storable";
    case StoreReason::kMethod:
      return "method";
    case StoreReason::kStatus:
      return "status";
    case StoreReason::kPartial:
      return "partial";
    case StoreReason::kRequestNoStore:
      return "request-no-store";
    case StoreReason::kNoStore:
      return "no-store";
    case StoreReason::kPrivate:
      return "private";
    case StoreReason::kAuthorization:
      return "authorization";
    case StoreReason::kMustUnderstand:
      return "must-understand";
    case StoreReason::kNoFreshnessInfo:
      return "no-freshness-info";
  }
  return "unknown";
}

bool IsHeuristicallyCacheableStatus(int status) {
  switch (status) {
    case 200:
    case 203:
    case 204:
    case 206:
    case 300:
    case 301:
    case 308:
    case 404:
    case 405:
    case 410:
    case 414:
    case 501:
      return true;
    default:
      return false;
  }
}

bool IsUnderstoodStatus(int status) {
  if (status >= 200 && status <= 206) return true;
  if ((status >= 300 && status <= 305) || status == 307 || status == 308) return true;
  if ((status >= 400 && status <= 417) || status == 421 || status == 422 || status == 426) return true;
  return status >= 500 && status <= 505;
}

bool IsUnstorableField(std::string_view name, std::span<const Field> fields) {
  static constexpr std::string_view kNever[] = {
      "connection",         "proxy-connection",          "keep-alive",         "te", "transfer-encoding", "upgrade",
      "proxy-authenticate", "proxy-authentication-info", "proxy-authorization"};
  for (std::string_view n : kNever)
    if (EqualsIgnoreCase(name, n)) return true;
  for (const Field& f : fields)
    if (EqualsIgnoreCase(f.name, "connection") && HasToken(f.value, name)) return true;
  return false;
}

std::vector<StoredField> FieldsToStore(std::span<const Field> fields, const std::vector<std::string>& strip_fields) {
  std::vector<StoredField> out;
  for (const Field& f : fields) {
    if (IsUnstorableField(f.name, fields) || Contains(strip_fields, f.name)) continue;
    out.push_back(StoredField{std::string(f.name), std::string(f.value)});
  }
  return out;
}

bool IsStorable(const RequestInfo& request, const ResponseInfo& response, const PolicyOptions& options,
                StoreDecision* d) {
  *d = StoreDecision();
  auto refuse = [d](StoreReason r) {
    d->store = false;
    d->reason = r;
    return false;
  };
  if (request.method != "GET") return refuse(StoreReason::kMethod);  // methods are case-sensitive
  if (response.status == 206) return refuse(StoreReason::kPartial);
  if (response.status < 200 || response.status == 304 || response.status > 599) return refuse(StoreReason::kStatus);
  if (ParseCacheControl(request.fields).no_store) return refuse(StoreReason::kRequestNoStore);

  CacheControl cc = ResponseCc(response.fields, options, &d->targeted);
  bool understood = IsUnderstoodStatus(response.status);
  // §5.2.2.3: must-understand limits storing to understood status codes and,
  // when understood, overrides no-store.
  if (cc.must_understand && !understood) return refuse(StoreReason::kMustUnderstand);
  if (!understood) return refuse(StoreReason::kStatus);
  if (cc.no_store && !cc.must_understand) return refuse(StoreReason::kNoStore);
  if (cc.is_private) return refuse(StoreReason::kPrivate);
  // §3.5: a shared cache stores responses to authenticated requests only
  // when public, s-maxage or must-revalidate say so.
  if (HasField(request.fields, "authorization") && !cc.is_public && !cc.HasSMaxAge() && !cc.must_revalidate)
    return refuse(StoreReason::kAuthorization);
  bool expires = !d->targeted && HasField(response.fields, "expires");
  if (!cc.is_public && !cc.HasMaxAge() && !cc.HasSMaxAge() && !expires &&
      !IsHeuristicallyCacheableStatus(response.status))
    return refuse(StoreReason::kNoFreshnessInfo);

  d->store = true;
  d->reason = StoreReason::kStorable;
  d->must_validate = cc.no_cache;
  d->strip_fields = cc.private_fields;
  for (const std::string& n : cc.no_cache_fields)
    if (!Contains(d->strip_fields, n)) d->strip_fields.push_back(n);
  std::vector<std::string> vary;
  d->vary_star = !VaryFieldNames(response.fields, &vary);
  return true;
}

// ---------------------------------------------------------------- freshness and age

bool DateField(std::span<const Field> fields, std::string_view name, int64_t* out) {
  std::optional<std::string_view> first;
  for (const Field& f : fields) {
    if (!EqualsIgnoreCase(f.name, name)) continue;
    if (first && *first != f.value) return false;  // §4.2.1: conflicting values
    first = f.value;
  }
  return first && ParseHttpDate(*first, out);
}

bool AgeValue(std::span<const Field> fields, int64_t* out) {
  std::optional<std::string_view> value = FirstField(fields, "age");
  if (!value) return false;
  // §5.1: use the first member of a list-based value; ignore it if invalid.
  std::string_view first = value->substr(0, value->find(','));
  while (!first.empty() && (first.back() == ' ' || first.back() == '\t')) first.remove_suffix(1);
  return ParseDeltaSeconds(first, out);
}

namespace {

// `cc` and `targeted` as ResponseCc gives them for the response's fields.
Freshness LifetimeUnder(const ResponseInfo& response, const CacheControl& cc, bool targeted,
                        const PolicyOptions& options) {
  // §4.2.1, first match wins. Invalid/conflicting max-age/s-maxage: stale.
  if (cc.HasSMaxAge()) return {cc.s_maxage_invalid ? 0 : *cc.s_maxage, false};
  if (cc.HasMaxAge()) return {cc.max_age_invalid ? 0 : *cc.max_age, false};
  int64_t date = response.response_time;
  int64_t parsed;
  if (DateField(response.fields, "date", &parsed)) date = parsed;
  if (!targeted && HasField(response.fields, "expires")) {
    int64_t expires;
    // §5.3: an invalid Expires (e.g. "0") means already expired.
    if (!DateField(response.fields, "expires", &expires)) return {0, false};
    return {Saturate(expires - date), false};
  }
  // §4.2.2: heuristics only for heuristically cacheable codes (or public),
  // and only from Last-Modified; without it, nothing to base them on.
  if (!IsHeuristicallyCacheableStatus(response.status) && !cc.is_public) return {0, false};
  int64_t last_modified;
  if (!DateField(response.fields, "last-modified", &last_modified) || last_modified >= date) return {0, true};
  double lifetime = static_cast<double>(date - last_modified) * options.heuristic_fraction;
  return {std::clamp<int64_t>(static_cast<int64_t>(lifetime), 0, options.heuristic_max), true};
}

}  // namespace

Freshness FreshnessLifetime(const ResponseInfo& response, const PolicyOptions& options) {
  bool targeted = false;
  CacheControl cc = ResponseCc(response.fields, options, &targeted);
  return LifetimeUnder(response, cc, targeted, options);
}

namespace {

int64_t CorrectedInitialAge(const ResponseInfo& stored) {
  int64_t date_value = stored.response_time;
  DateField(stored.fields, "date", &date_value);
  int64_t age_value = 0;
  AgeValue(stored.fields, &age_value);
  int64_t apparent_age = std::max<int64_t>(0, stored.response_time - date_value);
  int64_t response_delay = std::max<int64_t>(0, stored.response_time - stored.request_time);
  int64_t corrected_age_value = age_value + response_delay;
  return std::max(apparent_age, corrected_age_value);
}

int64_t AgeAt(int64_t corrected_initial_age, const ResponseInfo& stored, int64_t now) {
  int64_t resident_time = std::max<int64_t>(0, now - stored.response_time);
  return Saturate(corrected_initial_age + resident_time);
}

}  // namespace

int64_t CurrentAge(const ResponseInfo& stored, int64_t now) { return AgeAt(CorrectedInitialAge(stored), stored, now); }

StoredFacts ComputeStoredFacts(const StoredInfo& stored, const PolicyOptions& options) {
  StoredFacts facts;
  bool targeted = false;
  facts.cc = ResponseCc(stored.fields, options, &targeted);
  facts.lifetime = LifetimeUnder(stored, facts.cc, targeted, options).lifetime;
  facts.corrected_initial_age = CorrectedInitialAge(stored);
  return facts;
}

// ---------------------------------------------------------------- reuse

const char* UsabilityName(Usability u) {
  switch (u) {
    case Usability::kFresh:
      return "fresh";
    case Usability::kStaleMayServe:
      return "stale-may-serve";
    case Usability::kStaleMayServeWhileRevalidate:
      return "stale-while-revalidate";
    case Usability::kStaleMustRevalidate:
      return "stale-must-revalidate";
    case Usability::kMustValidate:
      return "must-validate";
  }
  return "unknown";
}

namespace {

bool RequestNoCache(std::span<const Field> fields, const CacheControl& request_cc) {
  if (request_cc.no_cache || !request_cc.no_cache_fields.empty()) return true;
  if (request_cc.present) return false;  // §5.4: Pragma only without Cache-Control
  for (const Field& f : fields)
    if (EqualsIgnoreCase(f.name, "pragma") && HasToken(f.value, "no-cache")) return true;
  return false;
}

// Stale use forbidden whatever the client says (§4.2.4, §5.2.2.2/.4/.8).
bool ForbidsStale(const CacheControl& cc) { return cc.must_revalidate || cc.proxy_revalidate || cc.no_cache; }

}  // namespace

Evaluation EvaluateStored(const RequestInfo& request, const StoredInfo& stored, int64_t now,
                          const PolicyOptions& options) {
  return EvaluateStored(request, stored, ComputeStoredFacts(stored, options), now, options);
}

Evaluation EvaluateStored(const RequestInfo& request, const StoredInfo& stored, const StoredFacts& facts, int64_t now,
                          const PolicyOptions& options) {
  Evaluation e;
  const CacheControl& cc = facts.cc;
  CacheControl req = ParseCacheControl(request.fields);
  e.current_age = AgeAt(facts.corrected_initial_age, stored, now);
  e.lifetime = facts.lifetime;
  e.ttl = e.lifetime - e.current_age;
  e.only_if_cached = req.only_if_cached;
  bool fresh = e.lifetime > e.current_age;

  // §5.2.2.4: unqualified no-cache in the stored response: always validate.
  if (cc.no_cache) {
    e.usability = Usability::kMustValidate;
    return e;
  }
  auto by_request = [&e]() {
    e.usability = Usability::kMustValidate;
    e.forced_by_request = true;
    return e;
  };
  if (!options.ignore_client_no_cache && RequestNoCache(request.fields, req) &&
      !(fresh && cc.immutable && options.immutable_ignores_client_no_cache))
    return by_request();
  // §5.2.1.1: an invalid request max-age acts as max-age=0.
  if (req.HasMaxAge()) {
    int64_t max_age = req.max_age_invalid ? 0 : *req.max_age;
    if (max_age == 0 || e.current_age > max_age) return by_request();
  }
  if (fresh) {
    // §5.2.1.3: the client wants at least min-fresh seconds left.
    if (req.min_fresh && e.ttl < *req.min_fresh) return by_request();
    e.usability = Usability::kFresh;
    return e;
  }
  int64_t staleness = e.current_age - e.lifetime;
  e.usability = Usability::kStaleMustRevalidate;
  if (ForbidsStale(cc)) return e;
  if (req.min_fresh) return e;  // a stale response can never satisfy min-fresh
  // §5.2.1.2: max-stale from the client; s-maxage implies proxy-revalidate.
  bool client_allows = req.max_stale ? staleness <= *req.max_stale : req.max_stale_any;
  if (client_allows && !cc.HasSMaxAge()) {
    e.usability = Usability::kStaleMayServe;
    return e;
  }
  // RFC 5861 §3: the origin's own window.
  if (cc.stale_while_revalidate && staleness <= *cc.stale_while_revalidate)
    e.usability = Usability::kStaleMayServeWhileRevalidate;
  return e;
}

bool IsStaleIfErrorStatus(int status) { return status == 500 || status == 502 || status == 503 || status == 504; }

bool MayServeStaleOnError(const RequestInfo& request, const StoredInfo& stored, int64_t now,
                          const PolicyOptions& options) {
  bool targeted = false;
  CacheControl cc = ResponseCc(stored.fields, options, &targeted);
  if (ForbidsStale(cc)) return false;
  CacheControl req = ParseCacheControl(request.fields);
  int64_t window = -1;
  if (cc.stale_if_error) window = *cc.stale_if_error;
  if (req.stale_if_error) window = std::max(window, *req.stale_if_error);
  if (window < 0) return false;
  int64_t staleness = CurrentAge(stored, now) - FreshnessLifetime(stored, options).lifetime;
  return staleness <= window;  // also true while still fresh
}

// ---------------------------------------------------------------- Vary

bool VaryFieldNames(std::span<const Field> response_fields, std::vector<std::string>* names) {
  names->clear();
  bool star = false;
  for (const Field& f : response_fields) {
    if (!EqualsIgnoreCase(f.name, "vary")) continue;
    ForEachListElement(f.value, [&](std::string_view name) {
      if (name == "*")
        star = true;
      else if (!Contains(*names, name))
        names->push_back(Lower(name));
    });
  }
  return !star;
}

std::string NormalizeAcceptEncoding(std::span<const Field> request_fields) {
  // q per coding; -1 = not mentioned.
  double br = -1, gzip = -1, star = -1;
  for (const Field& f : request_fields) {
    if (!EqualsIgnoreCase(f.name, "accept-encoding")) continue;
    ForEachListElement(f.value, [&](std::string_view element) {
      size_t semi = element.find(';');
      std::string_view coding = element.substr(0, semi);
      while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) coding.remove_suffix(1);
      double q = 1.0;
      if (semi != std::string_view::npos) {
        std::string_view param = element.substr(semi + 1);
        while (!param.empty() && (param.front() == ' ' || param.front() == '\t')) param.remove_prefix(1);
        if (param.size() < 3 || (param[0] != 'q' && param[0] != 'Q') || param[1] != '=') return;
        // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
        std::string_view v = param.substr(2);
        if (v.empty() || (v[0] != '0' && v[0] != '1') || v.size() > 5) return;
        if (v.size() > 1 && v[1] != '.') return;
        double frac = 0, scale = 0.1;
        for (size_t i = 2; i < v.size(); ++i, scale /= 10) {
          if (v[i] < '0' || v[i] > '9') return;
          frac += (v[i] - '0') * scale;
        }
        q = (v[0] - '0') + frac;
        if (q > 1.0) return;
      }
      double* slot = EqualsIgnoreCase(coding, "br")                                           ? &br
                     : EqualsIgnoreCase(coding, "gzip") || EqualsIgnoreCase(coding, "x-gzip") ? &gzip
                     : coding == "*"                                                          ? &star
                                                                                              : nullptr;
      if (slot) *slot = std::max(*slot, q);
    });
  }
  if (br < 0) br = star;
  if (gzip < 0) gzip = star;
  if (br > 0 && br >= gzip) return "br";
  if (gzip > 0) return "gzip";
  return "identity";
}

std::string VarySecondaryKey(const std::vector<std::string>& vary_names, std::span<const Field> request_fields,
                             const PolicyOptions& options) {
  std::string key;
  for (const std::string& name : vary_names) {
    key += name;
    key += ':';
    if (options.normalize_accept_encoding && name == "accept-encoding") {
      key += NormalizeAcceptEncoding(request_fields);
    } else {
      bool found = false;
      std::string value;
      for (const Field& f : request_fields) {
        if (!EqualsIgnoreCase(f.name, name)) continue;
        if (found) value += ',';
        found = true;
        value += f.value;
      }
      if (!found) {
        key += '\x01';
      } else {
        // Normalize whitespace: drop OWS around commas, collapse runs.
        std::string norm;
        for (char c : value) {
          bool ws = c == ' ' || c == '\t';
          if (ws) {
            if (!norm.empty() && norm.back() != ' ' && norm.back() != ',') norm += ' ';
            continue;
          }
          if (c == ',' && !norm.empty() && norm.back() == ' ') norm.pop_back();
          norm += c;
        }
        if (!norm.empty() && norm.back() == ' ') norm.pop_back();
        key += norm;
      }
    }
    key += '\n';
  }
  return key;
}

// ---------------------------------------------------------------- conditionals

bool ParseEntityTag(std::string_view s, EntityTag* tag) {
  tag->weak = s.substr(0, 2) == "W/";
  if (tag->weak) s.remove_prefix(2);
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return false;
  for (size_t i = 1; i + 1 < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c < 0x21 || c == 0x7f) return false;  // etagc = %x21 / %x23-7E / obs-text
  }
  tag->opaque = s;
  return true;
}

bool StrongMatch(const EntityTag& a, const EntityTag& b) { return !a.weak && !b.weak && a.opaque == b.opaque; }
bool WeakMatch(const EntityTag& a, const EntityTag& b) { return a.opaque == b.opaque; }

namespace {

// Parses an If-Match / If-None-Match list (entity-tags may contain commas).
// false when malformed. "*" is reported with *any.
bool ParseEntityTagList(std::string_view v, std::vector<EntityTag>* tags, bool* any) {
  *any = false;
  size_t i = 0;
  auto skip = [&]() {
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) ++i;
  };
  skip();
  if (v.substr(i) == "*") return *any = true;
  while (i < v.size()) {
    size_t start = i;
    if (v.substr(i, 2) == "W/") i += 2;
    if (i >= v.size() || v[i] != '"') return false;
    size_t close = v.find('"', i + 1);
    if (close == std::string_view::npos) return false;
    EntityTag tag;
    if (!ParseEntityTag(v.substr(start, close + 1 - start), &tag)) return false;
    tags->push_back(tag);
    i = close + 1;
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
    if (i < v.size() && v[i] != ',') return false;
    skip();
  }
  return !tags->empty();
}

// Combines all lines of a list field.
std::string Combined(std::span<const Field> fields, std::string_view name, bool* present) {
  std::string out;
  *present = false;
  for (const Field& f : fields) {
    if (!EqualsIgnoreCase(f.name, name)) continue;
    if (*present) out += ", ";
    out += f.value;
    *present = true;
  }
  return out;
}

// true: some listed tag matches the stored one (or "*" and a stored
// representation exists). Malformed lists match nothing.
bool ListMatches(std::string_view list, const std::optional<EntityTag>& stored, bool strong) {
  std::vector<EntityTag> tags;
  bool any = false;
  if (!ParseEntityTagList(list, &tags, &any)) return false;
  if (any) return true;
  if (!stored) return false;
  for (const EntityTag& t : tags)
    if (strong ? StrongMatch(t, *stored) : WeakMatch(t, *stored)) return true;
  return false;
}

// The date If-Modified-Since / If-Unmodified-Since compare with (§4.3.2).
int64_t StoredModificationTime(const StoredInfo& stored) {
  int64_t t;
  if (DateField(stored.fields, "last-modified", &t)) return t;
  if (DateField(stored.fields, "date", &t)) return t;
  return stored.response_time;
}

std::optional<EntityTag> StoredETag(std::span<const Field> fields) {
  std::optional<std::string_view> v = FirstField(fields, "etag");
  EntityTag tag;
  if (v && ParseEntityTag(*v, &tag)) return tag;
  return std::nullopt;
}

// A singleton date precondition; nullopt when absent or invalid (ignored).
std::optional<int64_t> DatePrecondition(std::span<const Field> fields, std::string_view name) {
  int64_t t;
  if (!DateField(fields, name, &t)) return std::nullopt;
  return t;
}

}  // namespace

ConditionalResult EvaluateClientConditional(const RequestInfo& request, const StoredInfo& stored,
                                            bool include_origin_preconditions) {
  std::optional<EntityTag> etag = StoredETag(stored.fields);
  bool get_or_head = request.method == "GET" || request.method == "HEAD";
  bool present = false;
  if (include_origin_preconditions) {
    std::string if_match = Combined(request.fields, "if-match", &present);
    if (present) {  // step 1, strong comparison
      if (!ListMatches(if_match, etag, true)) return ConditionalResult::kPreconditionFailed;
    } else if (auto ius = DatePrecondition(request.fields, "if-unmodified-since")) {  // step 2
      if (StoredModificationTime(stored) > *ius) return ConditionalResult::kPreconditionFailed;
    }
  }
  std::string if_none_match = Combined(request.fields, "if-none-match", &present);
  if (present) {  // step 3, weak comparison
    if (!ListMatches(if_none_match, etag, false)) return ConditionalResult::kNone;
    return get_or_head ? ConditionalResult::kNotModified : ConditionalResult::kPreconditionFailed;
  }
  if (get_or_head) {  // step 4
    if (auto ims = DatePrecondition(request.fields, "if-modified-since"))
      if (StoredModificationTime(stored) <= *ims) return ConditionalResult::kNotModified;
  }
  return ConditionalResult::kNone;
}

bool IfRangeMatches(std::string_view if_range, const StoredInfo& stored) {
  EntityTag tag;
  if (!if_range.empty() && (if_range.front() == '"' || if_range.substr(0, 2) == "W/")) {
    std::optional<EntityTag> etag = StoredETag(stored.fields);
    return ParseEntityTag(if_range, &tag) && etag && StrongMatch(tag, *etag);
  }
  int64_t date, last_modified, response_date;
  if (!ParseHttpDate(if_range, &date) || !DateField(stored.fields, "last-modified", &last_modified)) return false;
  // RFC 9110 §8.8.2.2: Last-Modified is strong for a cache only when the
  // stored Date is at least one second later.
  if (!DateField(stored.fields, "date", &response_date) || response_date < last_modified + 1) return false;
  return date == last_modified;
}

// ---------------------------------------------------------------- validation

void AddValidators(std::span<const Field> stored_fields, std::vector<StoredField>* out) {
  std::optional<std::string_view> etag = FirstField(stored_fields, "etag");
  EntityTag tag;
  if (etag && ParseEntityTag(*etag, &tag)) out->push_back({"If-None-Match", std::string(*etag)});
  std::optional<std::string_view> lm = FirstField(stored_fields, "last-modified");
  int64_t t;
  if (lm && ParseHttpDate(*lm, &t)) out->push_back({"If-Modified-Since", std::string(*lm)});
}

std::vector<size_t> SelectStoredFor304(std::span<const Field> fields_304, std::span<const StoredInfo> stored) {
  std::vector<size_t> out;
  std::optional<EntityTag> etag = StoredETag(fields_304);
  if (etag && !etag->weak) {
    for (size_t i = 0; i < stored.size(); ++i) {
      std::optional<EntityTag> s = StoredETag(stored[i].fields);
      if (s && StrongMatch(*etag, *s)) out.push_back(i);
    }
    return out;
  }
  int64_t lm = 0;
  bool has_lm = DateField(fields_304, "last-modified", &lm);
  if (etag || has_lm) {
    std::optional<size_t> best;
    for (size_t i = 0; i < stored.size(); ++i) {
      std::optional<EntityTag> s = StoredETag(stored[i].fields);
      int64_t slm;
      bool match = etag ? (s && WeakMatch(*etag, *s)) : DateField(stored[i].fields, "last-modified", &slm) && slm == lm;
      if (match && (!best || stored[i].response_time > stored[*best].response_time)) best = i;
    }
    if (best) out.push_back(*best);
    return out;
  }
  if (stored.size() == 1 && !StoredETag(stored[0].fields) && !HasField(stored[0].fields, "last-modified"))
    out.push_back(0);
  return out;
}

std::vector<StoredField> MergeHeadersFrom304(std::span<const Field> stored_fields, std::span<const Field> fields_304,
                                             int64_t response_time) {
  auto kept_as_stored = [&](std::string_view name) {
    return EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "content-range") ||
           IsUnstorableField(name, fields_304);
  };
  auto updated = [&](std::string_view name) {
    if (kept_as_stored(name)) return false;
    if (EqualsIgnoreCase(name, "age") || EqualsIgnoreCase(name, "date")) return true;  // handled below
    return HasField(fields_304, name);
  };
  std::vector<StoredField> out;
  for (const Field& f : stored_fields)
    if (!updated(f.name)) out.push_back({std::string(f.name), std::string(f.value)});
  for (const Field& f : fields_304)
    if (!kept_as_stored(f.name)) out.push_back({std::string(f.name), std::string(f.value)});
  if (!HasField(fields_304, "date")) out.push_back({"Date", FormatHttpDate(response_time)});
  // §5.2.2.7: the merged response may name new private fields.
  std::vector<Field> views = FieldViews(out);
  CacheControl cc = EffectiveResponseCacheControl(views);
  if (!cc.private_fields.empty() || !cc.no_cache_fields.empty()) {
    std::erase_if(out, [&](const StoredField& f) {
      return Contains(cc.private_fields, f.name) || Contains(cc.no_cache_fields, f.name);
    });
  }
  return out;
}

}  // namespace strata::http
