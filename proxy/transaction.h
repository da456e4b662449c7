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
#include <memory>
#include <string>

#include "proxy/config.h"
#include "proxy/http_parser.h"
#include "proxy/http_writer.h"
#include "proxy/remap.h"

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
  enum class Phase { kIdle, kConnecting, kAwaitingResponse, kStreamingResponse };

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
  bool MoveChunked(http::ChunkedDecoder* decoder, evbuffer* in, evbuffer* out, bool reframe, bool* done,
                   uint64_t* moved);
  bool MoveBody(http::BodyKind kind, uint64_t* remaining, http::ChunkedDecoder* decoder, evbuffer* in, evbuffer* out,
                bool reframe_chunked, bool* done);
  void WriteToClient(const std::string& bytes);
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

  // Client side of the response.
  http::OutFraming client_framing_;
  bool close_client_ = false;
  bool response_started_ = false;
  int status_ = 0;
  uint64_t bytes_to_client_ = 0;
  std::string scratch_;
};

}  // namespace strata
