#include "tools/stored.h"

#include <chrono>
#include <ctime>

#include "tools/tool.h"

namespace strata::tool {

UrlCandidates ResolveUrl(const Config& config, const std::string& url) {
  UrlCandidates out;
  out.given = url;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos || config.remap.size() == 0) return out;
  std::string scheme = url.substr(0, scheme_end);
  size_t host_start = scheme_end + 3;
  size_t path_start = url.find_first_of("/?", host_start);
  std::string host =
      url.substr(host_start, path_start == std::string::npos ? std::string::npos : path_start - host_start);
  std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
  if (path[0] == '?') path = "/" + path;
  RemapResult result;
  if (config.remap.Map(scheme, host, path, &result) && result.kind == RemapResult::Kind::kMap &&
      result.origin_url != url) {
    out.remapped = result.origin_url;
  }
  return out;
}

http::PolicyOptions PolicyFromSettings(const Settings& settings) {
  http::PolicyOptions options;
  options.heuristic_fraction = settings.cache_heuristic_percent / 100.0;
  options.heuristic_max = std::chrono::duration_cast<std::chrono::seconds>(settings.cache_heuristic_max).count();
  return options;
}

bool ParseHeaderArgs(const std::vector<std::string>& specs, std::vector<http::StoredField>* out, std::string* error) {
  for (const std::string& spec : specs) {
    size_t colon = spec.find(':');
    if (colon == std::string::npos || colon == 0) {
      *error = "-H wants 'Name: value', got '" + spec + "'";
      return false;
    }
    std::string value = spec.substr(colon + 1);
    size_t first = value.find_first_not_of(" \t");
    value = first == std::string::npos ? "" : value.substr(first);
    out->push_back({spec.substr(0, colon), value});
  }
  return true;
}

Json StoredJson(const StoredResponse& stored, const Config& config,
                const std::vector<http::StoredField>& request_fields, int64_t now) {
  Json out = Json::Object();
  out.Set("kind", stored.kind == StoredResponse::Kind::kVariants ? "variants index" : "response");
  out.Set("url", stored.url);
  if (stored.kind == StoredResponse::Kind::kVariants) {
    Json vary = Json::Array();
    for (const std::string& name : stored.vary) vary.Push(name);
    out.Set("vary", vary);
    return out;
  }
  out.Set("status", stored.status).Set("reason", stored.reason);
  const std::string* etag = stored.Find("etag");
  const std::string* last_modified = stored.Find("last-modified");
  out.Set("validators", Json::Object()
                            .Set("etag", etag ? Json(*etag) : Json())
                            .Set("last_modified", last_modified ? Json(*last_modified) : Json()));
  out.Set("request_time", IsoTime(stored.request_time)).Set("response_time", IsoTime(stored.response_time));
  std::vector<http::Field> fields = http::FieldViews(stored.fields);
  std::vector<http::Field> request_views = http::FieldViews(request_fields);
  http::PolicyOptions options = PolicyFromSettings(config.settings);
  http::StoredInfo info{stored.status, fields, stored.request_time, stored.response_time};
  http::RequestInfo request{"GET", request_views};
  http::Evaluation evaluation = http::EvaluateStored(request, info, now, options);
  http::Freshness freshness = http::FreshnessLifetime(info, options);
  out.Set("freshness", Json::Object()
                           .Set("age", evaluation.current_age)
                           .Set("lifetime", evaluation.lifetime)
                           .Set("heuristic", freshness.heuristic)
                           .Set("freshness_left", evaluation.ttl)
                           .Set("stale", evaluation.ttl < 0)
                           .Set("a_get_would_be", http::UsabilityName(evaluation.usability)));
  if (!stored.vary.empty()) {
    Json vary = Json::Array();
    for (const std::string& name : stored.vary) vary.Push(name);
    out.Set("vary", vary).Set("secondary_key", stored.secondary_key);
  }
  Json headers = Json::Array();
  for (const http::StoredField& field : stored.fields) {
    headers.Push(Json::Object().Set("name", field.name).Set("value", field.value));
  }
  out.Set("headers", headers);
  return out;
}

Json FragmentsJson(Cache& cache, const ObjectInfo& info) {
  Json fragments = Json::Array();
  for (size_t i = 0; i < info.fragment_offsets.size(); ++i) {
    CacheKey key = Cache::FragmentKey(info.key, info.object_id, static_cast<uint32_t>(i));
    Stripe& stripe = cache.StripeFor(key);
    std::vector<DirEntry> candidates;
    stripe.Probe(key, /*head=*/false, &candidates);
    uint64_t start = info.fragment_offsets[i];
    uint64_t end = i + 1 < info.fragment_offsets.size() ? info.fragment_offsets[i + 1] : info.length;
    Json row = Json::Object()
                   .Set("index", i)
                   .Set("object_offset", start)
                   .Set("length", end - start)
                   .Set("key", key.ToHex())
                   .Set("stripe", stripe.id())
                   .Set("in_directory", !candidates.empty());
    if (!candidates.empty()) {
      row.Set("offset_blocks", candidates[0].offset())
          .Set("file_offset", stripe.layout().data_offset + candidates[0].offset() * kBlockBytes);
    }
    fragments.Push(row);
  }
  return fragments;
}

int64_t NowSeconds() { return static_cast<int64_t>(time(nullptr)); }

}  // namespace strata::tool
