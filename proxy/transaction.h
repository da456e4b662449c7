// Transaction: one request and its response through remap and the origin.
//
// It is separate from the client session that carries it (HTTP/1.1 today,
// HTTP/2 later): the session hands it a parsed head and tells it when the
// client can take more bytes; the transaction does remap, picks the origin,
// takes a pooled connection or opens one, streams the request body up and the
// response body down with back-pressure in both directions, and writes one
// access-log line.
//
// Body framing is never copied from one hop to the next: bodies are decoded
// (Content-Length or chunked) and re-framed for the next hop, which closes
// request-smuggling gaps between Strata and the origin.
//
// Retries: a request is retried once on a new connection when it is
// idempotent, has no body, and its reused pooled connection failed before any
// response byte arrived (the origin closed an idle connection under us).
//
// Thread-safety: lives on its session's worker thread.
#pragma once

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "cache/cache.h"
#include "proxy/cache_policy.h"
#include "proxy/config.h"
#include "proxy/decoded_response.h"
#include "proxy/http_parser.h"
#include "proxy/http_writer.h"
#include "proxy/remap.h"
#include "proxy/stored_response.h"

namespace strata {

class ClientSession;
struct OriginConnection;

class Transaction {
 public:
  explicit Transaction(ClientSession* session);
  ~Transaction();

  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  bool active() const { return active_; }

  // Begins a transaction for `head`, whose head_length bytes are at the front
  // of the client input; they are drained here.
  void Start(const http::RequestHead& head);

  // The client sent more bytes (request body).
  void OnClientReadable();
  // The client's output buffer drained below the low-water mark.
  void OnClientWritable();
  // The client closed its side, or the connection failed.
  void OnClientEof();
  void OnClientError();

  // Ends the transaction without a response (session teardown).
  void Cancel();

 private:
  enum class Phase {
    kIdle,
    kCacheLookup,  // waiting for the cache engine
    kConnecting,
    kAwaitingResponse,
    kStreamingResponse,  // from the origin
    kServingFromCache,   // a stored response
    kFollowing,          // another transaction's fill of the same URL (collapsed forwarding)
  };

  static void OnOriginRead(bufferevent* bev, void* arg);
  static void OnOriginWrite(bufferevent* bev, void* arg);
  static void OnOriginEvent(bufferevent* bev, short events, void* arg);

  void ConnectToOrigin();
  void AttachOrigin(OriginConnection* conn);
  void SendRequestHead();
  void PumpRequestBody();
  void ParseResponseHead();
  void StartResponse(const http::ResponseHead& head);
  void PumpResponseBody();
  void CompleteResponse();
  // `retryable_cause`: the connection closed or failed (not a timeout), so a
  // fresh connection may succeed.
  void OriginFailed(int status, const char* why, bool retryable_cause = false);
  void RespondLocally(int status, std::string_view body, std::string_view location);
  void Finish(bool close_client);
  void ReleaseOrigin(bool reusable);
  void SetOriginTimeouts(std::chrono::milliseconds read, std::chrono::milliseconds write);
  // Moves one step of a chunked body from `in` to `out`; false on a framing error.
  bool MoveChunked(http::ChunkedDecoder* decoder, evbuffer* in, evbuffer* out, bool reframe, bool tee, bool* done,
                   uint64_t* moved);
  bool MoveBody(http::BodyKind kind, uint64_t* remaining, http::ChunkedDecoder* decoder, evbuffer* in, evbuffer* out,
                bool reframe_chunked, bool tee, bool* done);
  void EndCacheState();
  void WriteToClient(const std::string& bytes);

  // --- The cache path (transaction_cache.cc). ---
  bool CacheEligible(const http::RequestHead& head) const;
  void KeepRequestFields(const http::RequestHead& head);
  void StartCacheLookup(const CacheKey& key);
  void OnLookupDone(const Status& status, std::shared_ptr<ObjectInfo> info);
  void CacheMiss(http::Fwd fwd);
  bool Matches304(const http::ResponseHead& head) const;
  void RetryUnconditionally();
  void Revalidate();
  // Called with the origin's final response head; true when the cache took
  // the response over (a 304 refreshed the stored one, or stale-on-error).
  bool OnOriginResponseForCache(const http::ResponseHead& head);
  bool ServeStaleOnError(int origin_status);
  void PrepareFill(const http::ResponseHead& head);
  // The origin's response fields as cache.config rules make the cache see them.
  std::vector<http::Field> FieldsUnderRules(const std::vector<http::Field>& fields, bool storable_anyway);
  // `known_age`: the stored response's current age when the caller just
  // evaluated it (a hit), so the Date field is not parsed again; -1 = compute.
  void ServeStored(http::CacheStatus status, const char* result, int64_t known_age = -1);
  void PumpCachedBody();
  void Purge();
  // A request for this URL run in the background by the worker (see
  // Worker::StartBackgroundRequest): `revalidate` forces validation of the
  // stored response; otherwise it fetches the whole object (no Range).
  void StartBackground(bool revalidate);
  bool HasRequestField(std::string_view name) const;
  void TeeToCache(evbuffer* in, size_t n);
  void CommitFill();
  void InvalidateAfterUnsafe(const http::ResponseHead& head);
  void Follow(std::shared_ptr<OpenObject> object);
  void PumpFollow();
  bool StartFollowedResponse();
  void StopFollowing();
  void AnnounceToFollowers(const http::ResponseHead& head, bool share);
  http::RequestInfo RequestInfoForPolicy() const;
  http::PolicyOptions PolicyOptionsFromSettings() const;
  std::string CacheStatusFor(http::Fwd fwd, int fwd_status, bool stored, const char* detail) const;
  const Settings& settings() const { return config_->settings; }

  ClientSession* session_;
  std::shared_ptr<const Config> config_;
  bool active_ = false;
  Phase phase_ = Phase::kIdle;
  std::chrono::steady_clock::time_point start_;
  double start_wall_ = 0;

  // Request.
  std::string method_;
  std::string url_;  // for the log: origin URL after remap, or the client URL
  // For the log formats that show the request as the client sent it.
  std::string target_;
  std::string referer_;
  std::string user_agent_;
  char protocol_[9] = "HTTP/1.1";
  bool is_head_ = false;
  bool idempotent_ = false;
  bool client_http10_ = false;
  bool client_keep_alive_ = false;
  http::BodyKind request_body_ = http::BodyKind::kNone;
  uint64_t request_remaining_ = 0;
  bool request_body_done_ = true;
  http::ChunkedDecoder request_decoder_;
  RemapResult remap_;
  std::string origin_key_;
  std::string origin_head_;  // the request head for the origin, kept for a retry
  int retries_left_ = 0;
  bool origin_contacted_ = false;

  // Origin.
  OriginConnection* origin_ = nullptr;
  bool origin_eof_ = false;
  bool origin_error_ = false;  // reset or error, not a clean close
  int interim_count_ = 0;
  bool got_response_bytes_ = false;
  http::ResponseParser response_parser_;
  http::BodyKind response_body_ = http::BodyKind::kNone;
  uint64_t response_remaining_ = 0;
  http::ChunkedDecoder response_decoder_;
  bool origin_keep_alive_ = false;
  int origin_status_ = 0;
  std::string content_type_;

  // Cache.
  Cache* cache_ = nullptr;
  Executor* executor_ = nullptr;
  // Set to nullptr when the transaction ends: async completions check it.
  std::shared_ptr<Transaction*> alive_;
  std::vector<http::StoredField> request_fields_;  // owned copy for decisions after Start
  std::vector<http::Field> request_views_;
  bool cache_eligible_ = false;
  CacheRuleActions rule_actions_;  // cache.config for this URL
  std::string client_host_;        // the client's view of the URL, for background requests
  std::string client_path_;
  std::deque<std::string> rewritten_;  // field values rewritten by rules (stable storage)
  bool looked_up_variants_ = false;
  bool revalidating_ = false;
  std::string validators_;  // the fields Revalidate() added
  bool only_if_cached_ = false;
  CacheKey lookup_key_;
  std::shared_ptr<ObjectInfo> hit_;
  std::shared_ptr<const DecodedResponse> stored_;
  http::Evaluation evaluation_;
  std::vector<std::string> known_variants_;  // from a variants index, newest first
  std::vector<std::string> known_vary_;
  std::unique_ptr<CacheWriter> writer_;  // the URL key's lease (the fill)
  std::unique_ptr<CacheWriter> variant_writer_;
  StoredResponse fill_;
  uint64_t fill_bytes_ = 0;
  // What is left to send of a stored response: literal bytes (multipart
  // part headers) or a range of the object.
  struct BodyPiece {
    std::string literal;
    uint64_t offset = 0;
    uint64_t length = 0;
  };
  std::deque<BodyPiece> pieces_;
  bool reading_cache_ = false;
  int64_t request_time_ = 0;  // when the request went to the origin
  const char* cache_result_ = "-";
  std::string cache_status_;
  http::Fwd fwd_ = http::Fwd::kNone;
  // When the cache takes over an origin response (304, stale-if-error).
  http::CacheStatus takeover_status_;
  const char* takeover_result_ = "-";
  // Collapsed forwarding: the fill this transaction follows.
  std::shared_ptr<OpenObject> follow_;
  uint64_t follow_listener_ = 0;
  uint64_t follow_offset_ = 0;
  std::string follow_head_;  // the writer's announcement, until complete
  bool follow_started_ = false;
  bool follow_chunked_ = false;

  // Client side of the response.
  http::OutFraming client_framing_;
  bool close_client_ = false;
  bool client_gone_ = false;     // the client left; a cache fill goes on without it
  evbuffer* discard_ = nullptr;  // where the gone client's bytes go (reused)
  bool response_started_ = false;
  int status_ = 0;
  uint64_t bytes_to_client_ = 0;
  std::string scratch_;
};

}  // namespace strata
