// The cache path of a Transaction: lookup, serving stored responses,
// revalidation, filling the cache from origin responses, and invalidation.
// The policy itself (what may be stored, served, or must be validated) is
// proxy/cache_policy.h; this file applies it to one transaction.
//
// Every engine call is asynchronous: it runs on the engine's I/O threads and
// its completion is posted to this worker's loop. A completion finds the
// transaction through `alive_`, which is cleared when the transaction ends,
// so a late completion for a closed connection does nothing.

#include <event2/buffer.h>

#include <algorithm>
#include <ctime>

#include "common/coding.h"
#include "common/log.h"
#include "proxy/client_session.h"
#include "proxy/http_date.h"
#include "proxy/http_range.h"
#include "proxy/origin_pool.h"
#include "proxy/purge.h"
#include "proxy/transaction.h"
#include "proxy/worker.h"

namespace strata {
namespace {

int64_t Now() { return static_cast<int64_t>(time(nullptr)); }

void ReleaseSharedDoc(const void* /*data*/, size_t /*len*/, void* arg) { delete static_cast<RamCache::Bytes*>(arg); }

}  // namespace

bool Transaction::CacheEligible(const http::RequestHead& head) const {
  return cache_ != nullptr && (head.method == "GET" || head.method == "HEAD") && head.body == http::BodyKind::kNone;
}

void Transaction::KeepRequestFields(const http::RequestHead& head) {
  request_fields_.clear();
  request_fields_.reserve(head.fields.size());
  for (const http::Field& field : head.fields) {
    request_fields_.push_back({std::string(field.name), std::string(field.value)});
  }
  request_views_ = http::FieldViews(request_fields_);
}

http::RequestInfo Transaction::RequestInfoForPolicy() const {
  http::RequestInfo info;
  info.method = method_;
  info.fields = request_views_;
  return info;
}

http::PolicyOptions Transaction::PolicyOptionsFromSettings() const {
  http::PolicyOptions options;
  options.ignore_client_no_cache = rule_actions_.ignore_client_no_cache;
  options.heuristic_fraction = settings().cache_heuristic_percent / 100.0;
  options.heuristic_max = std::chrono::duration_cast<std::chrono::seconds>(settings().cache_heuristic_max).count();
  return options;
}

// cache.config acts by editing what the cache sees of the response: a forced
// lifetime becomes our own targeted field, Strata-Cache-Control: max-age=N,
// which RFC 9213 ranks above Cache-Control and Expires; ignore-server-no-cache
// drops no-cache from Cache-Control.
std::vector<http::Field> Transaction::FieldsUnderRules(const std::vector<http::Field>& fields, bool storable_anyway) {
  std::optional<int64_t> lifetime = rule_actions_.ttl_in_cache;
  if (!lifetime.has_value() && storable_anyway) lifetime = rule_actions_.revalidate;
  if (!lifetime.has_value() && !rule_actions_.ignore_server_no_cache) return fields;
  std::vector<http::Field> out;
  for (const http::Field& field : fields) {
    if (lifetime.has_value() && (http::EqualsIgnoreCase(field.name, "strata-cache-control") ||
                                 http::EqualsIgnoreCase(field.name, "cdn-cache-control"))) {
      continue;
    }
    if (rule_actions_.ignore_server_no_cache && http::EqualsIgnoreCase(field.name, "cache-control")) {
      std::string kept;
      http::ForEachListElement(field.value, [&kept](std::string_view element) {
        std::string_view name = element.substr(0, element.find('='));
        if (http::EqualsIgnoreCase(name, "no-cache")) return;
        if (!kept.empty()) kept.append(", ");
        kept.append(element);
      });
      rewritten_.push_back(std::move(kept));
      out.push_back({field.name, rewritten_.back()});
      continue;
    }
    out.push_back(field);
  }
  if (lifetime.has_value()) {
    rewritten_.push_back("max-age=" + std::to_string(*lifetime));
    out.push_back({"Strata-Cache-Control", rewritten_.back()});
  }
  return out;
}

std::string Transaction::CacheStatusFor(http::Fwd fwd, int fwd_status, bool stored, const char* detail) const {
  http::CacheStatus status;
  status.fwd = fwd;
  status.fwd_status = fwd_status;
  status.stored = stored;
  if (detail != nullptr) status.detail = detail;
  return http::CacheStatusValue(status);
}

void Transaction::StartCacheLookup(const CacheKey& key) {
  phase_ = Phase::kCacheLookup;
  lookup_key_ = key;
  std::shared_ptr<Transaction*> alive = alive_;
  cache_->LookupAsync(key, executor_, [alive](Status status, std::shared_ptr<ObjectInfo> info) {
    Transaction* self = *alive;
    if (self != nullptr) self->OnLookupDone(status, std::move(info));
  });
}

void Transaction::OnLookupDone(const Status& status, std::shared_ptr<ObjectInfo> info) {
  if (phase_ != Phase::kCacheLookup) return;
  if (!status.ok()) {
    CacheMiss(looked_up_variants_ ? http::Fwd::kVaryMiss : http::Fwd::kUriMiss);
    return;
  }
  std::shared_ptr<const DecodedResponse> decoded;
  // The stored URL is compared on every hit: even a 128-bit key collision
  // is a miss, never someone else's object.
  http::PolicyOptions options = PolicyOptionsFromSettings();
  if (!session_->worker()->decoded_responses().Get(*info, options, &decoded).ok() || decoded->response.url != url_) {
    CacheMiss(http::Fwd::kUriMiss);
    return;
  }
  // A purge by prefix (admin API) hides what was stored before it; the
  // response stored next is newer and hits. A variants index carries no
  // time: its alternates are checked when they are looked up.
  const StoredResponse& stored = decoded->response;
  const PurgeList* purges = session_->worker()->purges();
  if (stored.kind == StoredResponse::Kind::kResponse && purges != nullptr &&
      purges->Purged(stored.url, stored.response_time)) {
    CacheMiss(http::Fwd::kUriMiss);
    return;
  }
  if (stored.kind == StoredResponse::Kind::kVariants) {
    if (looked_up_variants_) {
      CacheMiss(http::Fwd::kUriMiss);
      return;
    }
    looked_up_variants_ = true;
    known_vary_ = stored.vary;
    known_variants_ = stored.variants;
    std::string secondary = http::VarySecondaryKey(stored.vary, request_views_, options);
    // Only alternates the index lists are live: one left behind by an
    // invalidation or a purge is never served.
    if (std::find(stored.variants.begin(), stored.variants.end(), secondary) == stored.variants.end()) {
      CacheMiss(http::Fwd::kVaryMiss);
      return;
    }
    StartCacheLookup(VariantCacheKey(url_, secondary));
    return;
  }
  if (!stored.vary.empty() && stored.secondary_key != http::VarySecondaryKey(stored.vary, request_views_, options)) {
    CacheMiss(http::Fwd::kVaryMiss);
    return;
  }
  stored_ = std::move(decoded);
  hit_ = std::move(info);
  evaluation_ = http::EvaluateStored(RequestInfoForPolicy(), stored_->info(), stored_->facts, Now(), options);
  switch (evaluation_.usability) {
    case http::Usability::kStaleMayServeWhileRevalidate:
      // RFC 5861 §3: serve the stale response now, revalidate behind it.
      StartBackground(/*revalidate=*/true);
      [[fallthrough]];
    case http::Usability::kFresh:
    case http::Usability::kStaleMayServe: {
      http::CacheStatus hit;
      hit.hit = true;
      hit.ttl = evaluation_.ttl;
      ServeStored(hit, "TCP_HIT", evaluation_.current_age);
      return;
    }
    case http::Usability::kStaleMustRevalidate:
    case http::Usability::kMustValidate:
      if (only_if_cached_) {
        cache_result_ = "TCP_MISS";
        RespondLocally(504, "Gateway Timeout: the stored response needs validation (only-if-cached)\n", "");
        return;
      }
      Revalidate();
      return;
  }
}

void Transaction::CacheMiss(http::Fwd fwd) {
  cache_result_ = "TCP_MISS";
  fwd_ = fwd;
  if (only_if_cached_) {
    RespondLocally(504, "Gateway Timeout: not in cache (only-if-cached)\n", "");
    return;
  }
  if (method_ == "GET" && HasRequestField("range")) {
    // A Range miss is answered by the origin's 206 (not stored); the whole
    // object is fetched behind it so later ranges hit. It does not take the
    // fill lease, which the background fetch needs.
    if (settings().cache_range_miss_fill) StartBackground(/*revalidate=*/false);
    ConnectToOrigin();
    return;
  }
  if (method_ == "GET" && follow_ == nullptr) {
    // The fill lease. Busy means another transaction is filling this URL:
    // follow its fill instead of asking the origin again.
    std::shared_ptr<OpenObject> in_progress;
    Status s = cache_->OpenWrite(UrlCacheKey(url_), &writer_, &in_progress, Stripe::WaitMode::kFail);
    if (s.kind() == Status::Kind::kBusy && in_progress != nullptr) {
      Follow(std::move(in_progress));
      return;
    }
  }
  ConnectToOrigin();
}

void Transaction::Revalidate() {
  revalidating_ = true;
  fwd_ = evaluation_.forced_by_request ? http::Fwd::kRequest : http::Fwd::kStale;
  std::vector<http::StoredField> validators;
  http::AddValidators(stored_->views, &validators);
  validators_.clear();
  for (const http::StoredField& field : validators) {
    validators_.append(field.name).append(": ").append(field.value).append("\r\n");
  }
  origin_head_.insert(origin_head_.size() - 2, validators_);  // before the head's final CRLF
  ConnectToOrigin();
}

bool Transaction::Matches304(const http::ResponseHead& head) const {
  http::StoredInfo stored_info = stored_->info();
  return !http::SelectStoredFor304(head.fields, std::span<const http::StoredInfo>(&stored_info, 1)).empty();
}

void Transaction::RetryUnconditionally() {
  revalidating_ = false;
  size_t at = origin_head_.find(validators_);
  if (!validators_.empty() && at != std::string::npos) origin_head_.erase(at, validators_.size());
  validators_.clear();
  hit_.reset();
  phase_ = Phase::kIdle;
  got_response_bytes_ = false;
  if (method_ == "GET" && writer_ == nullptr) {
    cache_->OpenWrite(UrlCacheKey(url_), &writer_, nullptr, Stripe::WaitMode::kFail);
  }
  ConnectToOrigin();
}

bool Transaction::OnOriginResponseForCache(const http::ResponseHead& head) {
  int64_t now = Now();
  if (revalidating_) {
    if (head.status == 304) {
      // RFC 9111 §4.3.4: the stored response is refreshed from the 304 and
      // served; its body is not rewritten.
      StoredResponse refreshed = stored_->response;
      refreshed.fields = http::MergeHeadersFrom304(stored_->views, head.fields, now);
      refreshed.request_time = request_time_;
      refreshed.response_time = now;
      cache_->UpdateMetadata(*hit_, EncodeStoredResponse(refreshed), Stripe::WaitMode::kFail);
      stored_ = MakeDecodedResponse(std::move(refreshed), PolicyOptionsFromSettings());
      takeover_status_ = http::CacheStatus();
      takeover_status_.fwd = fwd_;
      takeover_status_.fwd_status = 304;
      takeover_result_ = "TCP_REFRESH_HIT";
      return true;
    }
    if (ServeStaleOnError(head.status)) return true;
    cache_result_ = "TCP_REFRESH_MISS";
    if (writer_ == nullptr && method_ == "GET") {
      cache_->OpenWrite(UrlCacheKey(url_), &writer_, nullptr, Stripe::WaitMode::kFail);
    }
  }
  InvalidateAfterUnsafe(head);
  PrepareFill(head);
  return false;
}

bool Transaction::ServeStaleOnError(int origin_status) {
  if (hit_ == nullptr || (origin_status != 0 && !http::IsStaleIfErrorStatus(origin_status))) return false;
  if (!http::MayServeStaleOnError(RequestInfoForPolicy(), stored_->info(), Now(), PolicyOptionsFromSettings())) {
    return false;
  }
  takeover_status_ = http::CacheStatus();
  takeover_status_.fwd = http::Fwd::kStale;
  takeover_status_.fwd_status = origin_status;
  takeover_status_.detail = "stale-if-error";
  takeover_result_ = "TCP_REFRESH_FAIL_HIT";
  return true;
}

void Transaction::PrepareFill(const http::ResponseHead& head) {
  bool store = false;
  const char* detail = nullptr;
  if (writer_ != nullptr) {
    http::StoreDecision decision;
    http::PolicyOptions options = PolicyOptionsFromSettings();
    // ttl-in-cache forces storing; revalidate only sets the lifetime of what
    // the origin lets us store.
    std::vector<http::Field> fields = FieldsUnderRules(head.fields, /*storable_anyway=*/false);
    http::ResponseInfo response{head.status, fields, request_time_, Now()};
    http::IsStorable(RequestInfoForPolicy(), response, options, &decision);
    if (decision.store && rule_actions_.revalidate.has_value() && !rule_actions_.ttl_in_cache.has_value()) {
      fields = FieldsUnderRules(head.fields, /*storable_anyway=*/true);
    }
    std::vector<std::string> vary;
    bool vary_ok = http::VaryFieldNames(fields, &vary);
    if (!decision.store) {
      detail = http::StoreReasonName(decision.reason);
    } else if (decision.vary_star || !vary_ok) {
      detail = "vary-star";
    } else if (head.body == http::BodyKind::kContentLength && head.content_length > settings().cache_max_object_size) {
      detail = "too-large";
    } else {
      store = true;
      fill_ = StoredResponse();
      fill_.url = url_;
      fill_.status = head.status;
      fill_.reason.assign(head.reason);
      fill_.fields = http::FieldsToStore(fields, decision.strip_fields);
      int64_t date;
      if (!http::DateField(head.fields, "date", &date)) {
        // RFC 9110 §6.6.1: stored with the time it was received.
        std::erase_if(fill_.fields, [](const http::StoredField& f) { return http::EqualsIgnoreCase(f.name, "date"); });
        fill_.fields.push_back({"Date", http::FormatHttpDate(response.response_time)});
      }
      fill_.request_time = request_time_;
      fill_.response_time = response.response_time;
      fill_bytes_ = 0;
      if (!vary.empty()) {
        fill_.vary = vary;
        fill_.secondary_key = http::VarySecondaryKey(vary, request_views_, options);
        // The response goes under its alternate's key; the URL key (whose
        // lease this transaction holds) gets the index of alternates.
        Status s = cache_->OpenWrite(VariantCacheKey(url_, fill_.secondary_key), &variant_writer_, nullptr,
                                     Stripe::WaitMode::kFail);
        if (!s.ok()) {
          store = false;
          detail = "busy";
        }
      }
    }
    if (!store) {
      writer_.reset();  // aborts: the lease is released at once, followers fetch for themselves
      variant_writer_.reset();
    } else {
      if (rule_actions_.pin_in_cache.has_value()) {  // cache.config pin-in-cache
        writer_->set_pinned(true);
        if (variant_writer_ != nullptr) variant_writer_->set_pinned(true);
      }
      // Followers share this response unless it varies (theirs may differ),
      // or its length is unknown or past what an in-flight object keeps in
      // memory: a fill stopped midway would truncate every follower, so
      // those fetch for themselves.
      bool share = variant_writer_ == nullptr && head.body == http::BodyKind::kContentLength &&
                   head.content_length <= settings().cache_max_object_size;
      AnnounceToFollowers(head, share);
    }
  }
  cache_status_ = CacheStatusFor(fwd_, head.status, store, detail);
}

void Transaction::TeeToCache(evbuffer* in, size_t n) {
  CacheWriter* writer = variant_writer_ != nullptr ? variant_writer_.get() : writer_.get();
  if (writer == nullptr || n == 0) return;
  fill_bytes_ += n;
  bool ok = fill_bytes_ <= settings().cache_max_object_size;
  int count = ok ? evbuffer_peek(in, static_cast<ev_ssize_t>(n), nullptr, nullptr, 0) : 0;
  if (count > 0) {
    std::vector<evbuffer_iovec> vecs(static_cast<size_t>(count));
    evbuffer_peek(in, static_cast<ev_ssize_t>(n), nullptr, vecs.data(), count);
    size_t left = n;
    for (const evbuffer_iovec& vec : vecs) {
      size_t take = std::min(left, vec.iov_len);
      if (!writer->Write(std::string_view(static_cast<const char*>(vec.iov_base), take)).ok()) {
        ok = false;  // the disk is behind (Busy) or failed: not stored
        break;
      }
      left -= take;
    }
  }
  if (!ok) {
    writer_.reset();
    variant_writer_.reset();
  }
}

void Transaction::CommitFill() {
  if (writer_ == nullptr) return;
  if (variant_writer_ != nullptr) {
    if (!variant_writer_->Commit(EncodeStoredResponse(fill_)).ok()) {
      writer_.reset();
      variant_writer_.reset();
      return;
    }
    variant_writer_.reset();
    StoredResponse index;
    index.kind = StoredResponse::Kind::kVariants;
    index.url = url_;
    index.vary = fill_.vary;
    index.variants.push_back(fill_.secondary_key);
    if (known_vary_ == fill_.vary) {
      for (const std::string& variant : known_variants_) {
        if (variant == fill_.secondary_key) continue;
        if (static_cast<int>(index.variants.size()) < settings().cache_max_alternates) {
          index.variants.push_back(variant);
        } else {
          // Past the cap: the oldest alternates go.
          cache_->RemoveAsync(VariantCacheKey(url_, variant), executor_, [](Status) {});
        }
      }
    }
    writer_->Commit(EncodeStoredResponse(index));
  } else {
    writer_->Commit(EncodeStoredResponse(fill_));
  }
  writer_.reset();
}

void Transaction::InvalidateAfterUnsafe(const http::ResponseHead& head) {
  if (http::IsSafeMethod(method_)) return;
  // RFC 9111 §4.4: a non-error response to an unsafe method invalidates the
  // target and the same-origin Location / Content-Location URIs.
  for (const std::string& url : http::InvalidationTargets(method_, head.status, url_, head.fields)) {
    cache_->RemoveAsync(UrlCacheKey(url), executor_, [](Status) {});
  }
}

void Transaction::ServeStored(http::CacheStatus status, const char* result, int64_t known_age) {
  phase_ = Phase::kServingFromCache;
  cache_result_ = result;
  int64_t now = Now();
  const StoredResponse& stored = stored_->response;
  http::StoredInfo stored_info = stored_->info();
  int64_t age = known_age >= 0 ? known_age : http::CurrentAge(stored_info, now);
  if (!status.ttl.has_value() && status.hit) status.ttl = stored_->facts.lifetime - age;
  bool not_modified =
      http::EvaluateClientConditional(RequestInfoForPolicy(), stored_info) == http::ConditionalResult::kNotModified;
  cache_status_ = http::CacheStatusValue(status);
  close_client_ = !client_keep_alive_ || session_->closing() || session_->worker()->draining() || !request_body_done_;

  // Range (RFC 9110 §14) from the complete stored representation.
  uint64_t length = hit_->length;
  http::RangeDecision range;
  range.kind = http::RangeDecision::Kind::kFull;
  if (!not_modified && method_ == "GET" && stored.status == 200) {
    std::string_view range_value;
    int range_fields = 0;
    bool if_range_ok = true;
    for (const http::Field& field : request_views_) {
      if (http::EqualsIgnoreCase(field.name, "range")) {
        range_value = field.value;
        ++range_fields;
      } else if (http::EqualsIgnoreCase(field.name, "if-range")) {
        if_range_ok = http::IfRangeMatches(field.value, stored_info);
      }
    }
    if (range_fields == 1) range = http::EvaluateRange(range_value, length, if_range_ok);
  }

  http::CachedResponseParams params;
  params.status = not_modified ? 304 : stored.status;
  params.reason = not_modified ? std::string_view() : std::string_view(stored.reason);
  params.content_length = length;
  params.send_content_length = http::StatusHasBody(stored.status);
  params.age = age;
  params.close = close_client_;
  params.client_is_http10 = client_http10_;
  params.via_name = settings().via_name;
  params.cache_status = cache_status_;
  params.not_modified = not_modified;
  params.accept_ranges = stored.status == 200;
  // A full response uses the fields as rendered once for the stored object;
  // any other answer starts from them and edits a copy.
  std::vector<http::Field> fields;
  std::string range_field_value;
  if (range.kind == http::RangeDecision::Kind::kFull && !not_modified) {
    params.rendered_fields = &stored_->full_head_fields;
  } else {
    fields.assign(stored_->views.begin(), stored_->views.end());
  }
  pieces_.clear();
  bool body = !is_head_ && !not_modified && http::StatusHasBody(stored.status);
  switch (range.kind) {
    case http::RangeDecision::Kind::kFull:
      if (body && length > 0) pieces_.push_back({std::string(), 0, length});
      break;
    case http::RangeDecision::Kind::kUnsatisfiable:
      params.status = 416;
      params.reason = std::string_view();
      params.content_length = 0;
      range_field_value = http::UnsatisfiedContentRange(length);
      fields.push_back({"Content-Range", range_field_value});
      break;
    case http::RangeDecision::Kind::kPartial:
      params.status = 206;
      params.reason = std::string_view();
      if (range.ranges.size() == 1) {
        const http::ByteRange& r = range.ranges[0];
        range_field_value = http::ContentRangeValue(r, length);
        fields.push_back({"Content-Range", range_field_value});
        params.content_length = r.length();
        if (body) pieces_.push_back({std::string(), r.first, r.length()});
      } else {
        const std::string* type = stored.Find("content-type");
        http::MultipartPlan plan =
            http::PlanMultipart(range.ranges, length, type != nullptr ? *type : "", http::MakeBoundary());
        // The parts carry the representation's type; the response's is multipart.
        std::erase_if(fields, [](const http::Field& f) { return http::EqualsIgnoreCase(f.name, "content-type"); });
        range_field_value = plan.content_type;
        fields.push_back({"Content-Type", range_field_value});
        params.content_length = plan.content_length;
        if (body) {
          for (const http::MultipartPlan::Part& part : plan.parts) {
            pieces_.push_back({part.header, 0, 0});
            pieces_.push_back({std::string(), part.range.first, part.range.length()});
          }
          pieces_.push_back({plan.closing, 0, 0});
        }
      }
      break;
  }
  scratch_.clear();
  http::AppendCachedResponseHead(fields, params, &scratch_);
  WriteToClient(scratch_);
  status_ = params.status;
  response_started_ = true;
  if (const std::string* type = stored.Find("content-type")) content_type_ = *type;
  PumpCachedBody();
}

// Sends the body pieces in order: literal bytes (multipart part headers) and
// ranges of the stored object. A small object's bytes are in the first Doc
// we hold and are referenced, not copied; a fragmented one is read a
// fragment at a time, only as fast as the client takes it.
void Transaction::PumpCachedBody() {
  while (!reading_cache_ && phase_ == Phase::kServingFromCache) {
    if (pieces_.empty()) {
      Finish(close_client_);
      return;
    }
    if (session_->output_full()) return;  // OnClientWritable resumes
    BodyPiece& piece = pieces_.front();
    if (!piece.literal.empty()) {
      WriteToClient(piece.literal);
      pieces_.pop_front();
      continue;
    }
    if (hit_->fragment_offsets.empty()) {
      std::string_view slice = hit_->inline_data.substr(piece.offset, piece.length);
      evbuffer_add_reference(session_->output(), slice.data(), slice.size(), ReleaseSharedDoc,
                             new RamCache::Bytes(hit_->first_doc));
      bytes_to_client_ += slice.size();
      pieces_.pop_front();
      continue;
    }
    reading_cache_ = true;
    std::shared_ptr<Transaction*> alive = alive_;
    cache_->ReadAsync(hit_, piece.offset, piece.length, executor_, [alive](Status status, ObjectSlice slice) {
      Transaction* self = *alive;
      if (self == nullptr) return;
      self->reading_cache_ = false;
      BodyPiece& current = self->pieces_.front();
      if (!status.ok() || slice.data.empty() || slice.data.size() > current.length) {
        // The head promised the whole body: the client must see a truncated
        // response, and the broken object goes.
        LOG_WARNING("cache: %s: stored body unreadable at %llu (%s)", self->url_.c_str(),
                    static_cast<unsigned long long>(current.offset), status.ToString().c_str());
        self->cache_->RemoveAsync(self->hit_->key, self->executor_, [](Status) {});
        ClientSession* session = self->session_;
        self->Finish(true);
        session->Abort();
        return;
      }
      // The fragment's bytes go to the socket from the cache's own buffer.
      size_t n = slice.data.size();
      evbuffer_add_reference(self->session_->output(), slice.data.data(), n, ReleaseSharedDoc,
                             new RamCache::Bytes(std::move(slice.doc)));
      self->bytes_to_client_ += n;
      current.offset += n;
      current.length -= n;
      if (current.length == 0) self->pieces_.pop_front();
      self->PumpCachedBody();
    });
  }
}

bool Transaction::HasRequestField(std::string_view name) const {
  for (const http::Field& field : request_views_) {
    if (http::EqualsIgnoreCase(field.name, name)) return true;
  }
  return false;
}

void Transaction::StartBackground(bool revalidate) {
  if (client_host_.empty()) return;  // an HTTP/1.0 request without Host: no URL to ask again
  // The same request as the client's (so Vary selects the same alternate),
  // without what would change its meaning: conditionals, Range, the client's
  // own cache directives, connection fields.
  static constexpr std::string_view kDropped[] = {"host",
                                                  "range",
                                                  "if-range",
                                                  "if-match",
                                                  "if-none-match",
                                                  "if-modified-since",
                                                  "if-unmodified-since",
                                                  "cache-control",
                                                  "pragma",
                                                  "connection",
                                                  "keep-alive",
                                                  "te",
                                                  "upgrade",
                                                  "expect",
                                                  "content-length",
                                                  "transfer-encoding",
                                                  "proxy-connection"};
  std::string request = "GET http://" + client_host_ + client_path_ + " HTTP/1.1\r\nHost: " + client_host_ + "\r\n";
  for (const http::StoredField& field : request_fields_) {
    bool dropped = false;
    for (std::string_view name : kDropped) dropped = dropped || http::EqualsIgnoreCase(field.name, name);
    if (!dropped) request.append(field.name).append(": ").append(field.value).append("\r\n");
  }
  if (revalidate) request.append("Cache-Control: max-age=0\r\n");
  request.append("Connection: close\r\n\r\n");
  session_->worker()->StartBackgroundRequest((revalidate ? "revalidate " : "fill ") + url_, request);
}

void Transaction::Purge() {
  cache_result_ = "TCP_MISS";
  session_->worker()->counters().purge_requests.Add(1);
  if (cache_ == nullptr) {
    RespondLocally(404, "Not Found: no cache is configured\n", "");
    return;
  }
  phase_ = Phase::kCacheLookup;
  std::shared_ptr<Transaction*> alive = alive_;
  PurgeUrl(cache_, url_, executor_, [alive](bool removed) {
    Transaction* self = *alive;
    if (self == nullptr) return;
    self->cache_result_ = removed ? "TCP_HIT" : "TCP_MISS";
    if (removed) {
      self->RespondLocally(200, "Purged\n", "");
    } else {
      self->RespondLocally(404, "Not Found: not in cache\n", "");
    }
  });
}

}  // namespace strata
