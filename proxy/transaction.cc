#include "proxy/transaction.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstdio>
#include <ctime>

#include "common/log.h"
#include "proxy/client_session.h"
#include "proxy/origin_pool.h"
#include "proxy/socket_io.h"
#include "proxy/worker.h"

namespace strata {
namespace {

// More 1xx than this before the final response is a broken or hostile origin.
constexpr int kMaxInterimResponses = 16;

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv;
  tv.tv_sec = ms.count() / 1000;
  tv.tv_usec = (ms.count() % 1000) * 1000;
  return tv;
}

bool IsIdempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" || method == "OPTIONS" ||
         method == "TRACE";
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && http::EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

double WallNow() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void AppendChunkSize(evbuffer* out, uint64_t size) {
  char line[24];
  int n = snprintf(line, sizeof(line), "%llx\r\n", static_cast<unsigned long long>(size));
  evbuffer_add(out, line, n);
}

}  // namespace

Transaction::Transaction(ClientSession* session) : session_(session) {}

Transaction::~Transaction() {
  Cancel();
  if (discard_ != nullptr) evbuffer_free(discard_);
}

void Transaction::Cancel() {
  if (origin_ != nullptr) ReleaseOrigin(false);
  EndCacheState();
  active_ = false;
  phase_ = Phase::kIdle;
}

void Transaction::EndCacheState() {
  StopFollowing();
  if (alive_ != nullptr) {
    *alive_ = nullptr;  // late engine completions now find nothing
    alive_.reset();
  }
  writer_.reset();  // an unfinished fill aborts: its bytes never become visible
  variant_writer_.reset();
  hit_.reset();
  reading_cache_ = false;
  pieces_.clear();
}

void Transaction::Start(const http::RequestHead& head) {
  Worker* worker = session_->worker();
  config_ = worker->config();
  active_ = true;
  phase_ = Phase::kIdle;
  start_ = std::chrono::steady_clock::now();
  start_wall_ = WallNow();
  method_.assign(head.method);
  target_.assign(head.target);
  referer_.clear();
  user_agent_.clear();
  if (config_->settings.access_log_enabled && config_->access_format.UsesRequestFields()) {
    for (const http::Field& field : head.fields) {
      if (http::EqualsIgnoreCase(field.name, "Referer")) referer_.assign(field.value);
      if (http::EqualsIgnoreCase(field.name, "User-Agent")) user_agent_.assign(field.value);
    }
  }
  // "HTTP/x.y" for the access log, without a printf per request.
  protocol_[5] = static_cast<char>('0' + head.version_major % 10);
  protocol_[7] = static_cast<char>('0' + head.version_minor % 10);
  is_head_ = head.method == "HEAD";
  idempotent_ = IsIdempotent(head.method);
  client_http10_ = !head.is_http11_or_later();
  client_keep_alive_ = client_http10_ ? head.connection_keep_alive : !head.connection_close;
  request_body_ = head.body;
  request_remaining_ = head.content_length;
  request_body_done_ =
      head.body == http::BodyKind::kNone || (head.body == http::BodyKind::kContentLength && head.content_length == 0);
  request_decoder_.Reset();
  origin_eof_ = false;
  origin_error_ = false;
  interim_count_ = 0;
  got_response_bytes_ = false;
  response_started_ = false;
  close_client_ = false;
  status_ = 0;
  origin_status_ = 0;
  bytes_to_client_ = 0;
  content_type_.clear();
  retries_left_ = settings().origin_retries;
  origin_contacted_ = false;
  cache_ = worker->cache();
  executor_ = &worker->executor();
  client_gone_ = false;
  cache_eligible_ = false;
  looked_up_variants_ = false;
  revalidating_ = false;
  only_if_cached_ = false;
  known_vary_.clear();
  known_variants_.clear();
  cache_result_ = "-";
  cache_status_.clear();
  fwd_ = cache_ != nullptr ? http::Fwd::kMethod : http::Fwd::kNone;

  // ip_allow.yaml decides which methods this client may use (PURGE only from
  // loopback by default).
  if (!config_->ip_allow.Allowed(session_->client_ip(), head.method)) {
    url_.assign(head.target);
    evbuffer_drain(session_->input(), head.head_length);
    cache_result_ = "TCP_DENIED";
    RespondLocally(403, "Forbidden: this method is not allowed from your address\n", "");
    return;
  }

  // The request target: origin-form, absolute-form (whose authority wins over
  // Host, RFC 9112 §3.2.2), or asterisk-form for OPTIONS.
  std::string_view target = head.target;
  std::string_view host = head.host;
  std::string_view path;
  bool asterisk = false;
  if (!target.empty() && target.front() == '/') {
    path = target;
  } else if (target == "*" && method_ == "OPTIONS") {
    path = "/";
    asterisk = true;
  } else if (StartsWithIgnoreCase(target, "http://") || StartsWithIgnoreCase(target, "https://")) {
    std::string_view rest = target.substr(target.find("//") + 2);
    size_t end = rest.find_first_of("/?");
    host = rest.substr(0, end);
    path = end == std::string_view::npos ? std::string_view("/") : rest.substr(end);
  } else {
    url_.assign(target);
    evbuffer_drain(session_->input(), head.head_length);
    request_body_done_ = false;  // unknown framing state: close after answering
    RespondLocally(method_ == "CONNECT" ? 405 : 400, "Bad Request: unsupported request target\n", "");
    return;
  }
  if (!path.empty() && path.front() == '?') {
    // "http://host?q" has an empty path; RFC 9110 §4.2.3 makes it "/".
    scratch_.assign("/");
    scratch_.append(path);
    path = scratch_;
  }

  bool mapped = config_->remap.Map("http", host, path, &remap_);
  if (!mapped) {
    url_.assign("http://");
    url_.append(host);
    url_.append(path);
    evbuffer_drain(session_->input(), head.head_length);
    RespondLocally(404, "Not Found: no remap rule for this host\n", "");
    return;
  }
  if (remap_.kind != RemapResult::Kind::kMap) {
    url_.assign(remap_.location);
    evbuffer_drain(session_->input(), head.head_length);
    RespondLocally(remap_.kind == RemapResult::Kind::kRedirect ? 301 : 307, "Redirecting\n", remap_.location);
    return;
  }
  url_ = remap_.origin_url;
  if (method_ == "PURGE") {
    evbuffer_drain(session_->input(), head.head_length);
    alive_ = std::make_shared<Transaction*>(this);
    Purge();
    return;
  }
  if (remap_.origin.scheme != "http") {
    // Never send a request meant for TLS in cleartext.
    LOG_WARNING("remap to %s: TLS to origins is not supported yet", url_.c_str());
    evbuffer_drain(session_->input(), head.head_length);
    RespondLocally(502, "Bad Gateway: TLS to origins is not supported yet\n", "");
    return;
  }

  http::OriginRequestParams params;
  params.path = asterisk ? std::string_view("*") : std::string_view(remap_.origin_path);
  // With an absolute-form target, its authority (what remap used) is the
  // host, not the Host field (RFC 9112 §3.2.2).
  params.host_header = settings().preserve_host && !host.empty() ? host : remap_.origin_host_header;
  params.via_name = settings().via_name;
  params.client_ip = settings().insert_x_forwarded_for ? std::string_view(session_->client_ip()) : std::string_view();
  rewritten_.clear();
  rule_actions_ = CacheRuleActions();
  if (cache_ != nullptr) {
    std::string_view path = remap_.origin_path;
    rule_actions_ = config_->cache_rules.Match(remap_.origin.scheme, remap_.origin.host, remap_.origin.port,
                                               path.substr(0, path.find('?')), url_, method_);
  }
  cache_eligible_ = CacheEligible(head) && !rule_actions_.never_cache;
  if (rule_actions_.never_cache) fwd_ = http::Fwd::kBypass;
  std::string normalized_accept_encoding;
  if (cache_eligible_) {
    KeepRequestFields(head);
    client_host_.assign(host);
    client_path_.assign(path);
    http::PolicyOptions options = PolicyOptionsFromSettings();
    only_if_cached_ = http::ParseCacheControl(request_views_).only_if_cached;
    params.strip_cache_conditionals = true;
    if (options.normalize_accept_encoding) {
      normalized_accept_encoding = http::NormalizeAcceptEncoding(request_views_);
      params.accept_encoding = normalized_accept_encoding;
    }
  } else if (cache_ != nullptr) {
    cache_result_ = "TCP_MISS";
  }
  switch (head.body) {
    case http::BodyKind::kContentLength:
      params.body = {http::OutFraming::Kind::kContentLength, head.content_length};
      break;
    case http::BodyKind::kChunked:
      params.body = {http::OutFraming::Kind::kChunked, 0};
      break;
    default:
      break;
  }
  origin_head_.clear();
  http::AppendOriginRequestHead(head, params, &origin_head_);
  bool expect_continue = head.expect_continue && !request_body_done_ && !client_http10_;
  evbuffer_drain(session_->input(), head.head_length);

  // Strata answers 100-continue itself: the body has to come through us anyway.
  if (expect_continue) {
    static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
    evbuffer_add(session_->output(), kContinue, sizeof(kContinue) - 1);
    bytes_to_client_ += sizeof(kContinue) - 1;
  }
  session_->SetReadingBody(!request_body_done_);
  origin_key_ = OriginPool::KeyFor(remap_.origin);
  if (cache_eligible_) {
    alive_ = std::make_shared<Transaction*>(this);
    StartCacheLookup(UrlCacheKey(url_));
    return;
  }
  ConnectToOrigin();
}

void Transaction::ConnectToOrigin() {
  origin_contacted_ = true;
  OriginPool& pool = session_->worker()->origin_pool();
  OriginConnection* conn = pool.TakeIdle(origin_key_);
  if (conn != nullptr) {
    AttachOrigin(conn);
    SendRequestHead();
    return;
  }
  conn = pool.Connect(remap_.origin, origin_key_);
  if (conn == nullptr) {
    OriginFailed(502, "cannot connect to origin");
    return;
  }
  AttachOrigin(conn);
  phase_ = Phase::kConnecting;
  SetOriginTimeouts(std::chrono::milliseconds(0), settings().origin_connect_timeout);
  bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
}

void Transaction::AttachOrigin(OriginConnection* conn) {
  origin_ = conn;
  origin_eof_ = false;
  origin_error_ = false;
  bufferevent_setcb(conn->bev, OnOriginRead, OnOriginWrite, OnOriginEvent, this);
  size_t high_water = settings().buffer_high_water;
  // Reading stops when a slow client leaves this much waiting in our input;
  // never below the head limit, or an oversized head would stall, not fail.
  bufferevent_setwatermark(conn->bev, EV_READ, 0, std::max<size_t>(high_water, settings().max_request_head + 1));
  bufferevent_setwatermark(conn->bev, EV_WRITE, high_water / 2, 0);
  response_parser_.Reset(is_head_);
}

void Transaction::SetOriginTimeouts(std::chrono::milliseconds read, std::chrono::milliseconds write) {
  timeval read_tv = ToTimeval(read);
  timeval write_tv = ToTimeval(write);
  bufferevent_set_timeouts(origin_->bev, read.count() > 0 ? &read_tv : nullptr,
                           write.count() > 0 ? &write_tv : nullptr);
}

void Transaction::SendRequestHead() {
  phase_ = Phase::kAwaitingResponse;
  request_time_ = static_cast<int64_t>(time(nullptr));
  ++origin_->requests;
  // The origin owes us nothing until it has the whole request: while the
  // body uploads only the write side is timed.
  SetOriginTimeouts(request_body_done_ ? settings().origin_first_byte_timeout : std::chrono::milliseconds(0),
                    settings().transfer_idle_timeout);
  evbuffer_add(bufferevent_get_output(origin_->bev), origin_head_.data(), origin_head_.size());
  if (request_body_done_ && WriteSocketNow(origin_->bev)) {
    bufferevent_enable(origin_->bev, EV_READ);
    return;
  }
  bufferevent_enable(origin_->bev, EV_READ | EV_WRITE);
  PumpRequestBody();
}

bool Transaction::MoveChunked(http::ChunkedDecoder* decoder, evbuffer* in, evbuffer* out, bool reframe, bool tee,
                              bool* done, uint64_t* moved) {
  evbuffer_iovec vec;
  if (evbuffer_peek(in, -1, nullptr, &vec, 1) < 1 || vec.iov_len == 0) return true;
  http::ChunkedDecoder::Result result = decoder->Feed(static_cast<const char*>(vec.iov_base), vec.iov_len);
  switch (result.kind) {
    case http::ChunkedDecoder::Result::kError:
      return false;
    case http::ChunkedDecoder::Result::kNeedMore:
      evbuffer_drain(in, result.consumed);
      return true;
    case http::ChunkedDecoder::Result::kData:
      evbuffer_drain(in, result.consumed);
      if (tee) TeeToCache(in, result.data_length);
      if (reframe) AppendChunkSize(out, result.data_length);
      evbuffer_remove_buffer(in, out, result.data_length);
      if (reframe) evbuffer_add(out, "\r\n", 2);
      *moved += result.data_length;
      return true;
    case http::ChunkedDecoder::Result::kDone:
      evbuffer_drain(in, result.consumed);
      if (reframe) {
        evbuffer_add(out, "0\r\n", 3);
        evbuffer_add(out, decoder->trailers().data(), decoder->trailers().size());
        evbuffer_add(out, "\r\n", 2);
      }
      *done = true;
      return true;
  }
  return true;
}

// Moves body bytes from `in` to `out` until `out` reaches the high-water
// mark, `in` is empty or the body ends. False on a framing error.
bool Transaction::MoveBody(http::BodyKind kind, uint64_t* remaining, http::ChunkedDecoder* decoder, evbuffer* in,
                           evbuffer* out, bool reframe_chunked, bool tee, bool* done) {
  size_t high_water = settings().buffer_high_water;
  if (kind == http::BodyKind::kNone || (kind == http::BodyKind::kContentLength && *remaining == 0)) *done = true;
  while (!*done && evbuffer_get_length(out) < high_water) {
    size_t available = evbuffer_get_length(in);
    if (available == 0) break;
    uint64_t moved = 0;
    switch (kind) {
      case http::BodyKind::kNone:
        *done = true;
        break;
      case http::BodyKind::kContentLength: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(*remaining, available));
        if (tee) TeeToCache(in, n);
        evbuffer_remove_buffer(in, out, n);
        *remaining -= n;
        moved = n;
        if (*remaining == 0) *done = true;
        break;
      }
      case http::BodyKind::kChunked:
        if (!MoveChunked(decoder, in, out, reframe_chunked, tee, done, &moved)) return false;
        break;
      case http::BodyKind::kUntilClose:
        if (tee) TeeToCache(in, available);
        moved = evbuffer_remove_buffer(in, out, available);
        break;
    }
    if (out == session_->output() && !client_gone_) bytes_to_client_ += moved;
  }
  return true;
}

void Transaction::PumpRequestBody() {
  if (request_body_done_ || origin_ == nullptr || phase_ == Phase::kConnecting) return;
  bool done = false;
  if (!MoveBody(request_body_, &request_remaining_, &request_decoder_, session_->input(),
                bufferevent_get_output(origin_->bev), /*reframe_chunked=*/true, /*tee=*/false, &done)) {
    LOG_INFO("client %s: bad chunked request body: %s", session_->client_ip().c_str(), request_decoder_.error());
    if (!response_started_) {
      request_body_done_ = false;
      ReleaseOrigin(false);
      RespondLocally(400, "Bad Request: invalid chunked body\n", "");
    } else {
      ReleaseOrigin(false);
      Finish(true);
      session_->Abort();
    }
    return;
  }
  if (done) {
    request_body_done_ = true;
    session_->SetReadingBody(false);
    if (phase_ == Phase::kAwaitingResponse) {
      SetOriginTimeouts(settings().origin_first_byte_timeout, settings().transfer_idle_timeout);
    }
    return;
  }
  // A client that half-closed may still have the rest of its body buffered;
  // it has failed only when that is used up.
  if (session_->client_eof() && evbuffer_get_length(session_->input()) == 0) OnClientError();
}

void Transaction::OnClientReadable() {
  if (!active_) return;
  PumpRequestBody();
}

void Transaction::OnClientWritable() {
  if (!active_) return;
  if (phase_ == Phase::kAwaitingResponse) {
    ParseResponseHead();
  } else if (phase_ == Phase::kStreamingResponse) {
    PumpResponseBody();
  } else if (phase_ == Phase::kServingFromCache) {
    PumpCachedBody();
  } else if (phase_ == Phase::kFollowing) {
    PumpFollow();
  }
}

void Transaction::OnClientEof() {
  if (!active_) return;
  // A client may half-close after sending its request; it still gets the
  // response. Without the whole request body there is nothing to finish.
  if (!request_body_done_ && evbuffer_get_length(session_->input()) == 0) OnClientError();
}

void Transaction::OnClientError() {
  if (!active_) return;
  status_ = status_ == 0 ? 499 : status_;  // nginx's "client closed request"
  if (phase_ == Phase::kStreamingResponse && writer_ != nullptr && origin_ != nullptr && request_body_done_) {
    // A cache fill outlives the client that started it: other requests may
    // follow it, and the next one will hit. The bytes meant for the gone
    // client are dropped from now on.
    client_gone_ = true;
    LOG_DEBUG("client %s left %s; the cache fill goes on", session_->client_ip().c_str(), url_.c_str());
    if (discard_ == nullptr) discard_ = evbuffer_new();
    session_->DetachClient();
    PumpResponseBody();
    return;
  }
  ReleaseOrigin(false);
  Finish(true);
  session_->Abort();
}

void Transaction::OnOriginRead(bufferevent*, void* arg) {
  auto* self = static_cast<Transaction*>(arg);
  OriginConnection* conn = self->origin_;
  // Take the rest of what the origin has sent in large reads, up to the
  // read high-water mark (socket_io.h).
  size_t buffered = evbuffer_get_length(bufferevent_get_input(conn->bev));
  size_t limit = std::max<size_t>(self->settings().buffer_high_water, self->settings().max_request_head + 1);
  if (buffered < limit) ReadSocketMore(conn->bev, limit - buffered);
  if (self->phase_ == Phase::kAwaitingResponse) self->ParseResponseHead();
  // The transaction may have ended (and released this connection) above.
  if (self->origin_ != conn) return;
  if (self->phase_ == Phase::kStreamingResponse) self->PumpResponseBody();
}

void Transaction::OnOriginWrite(bufferevent*, void* arg) { static_cast<Transaction*>(arg)->PumpRequestBody(); }

void Transaction::OnOriginEvent(bufferevent* bev, short events, void* arg) {
  auto* self = static_cast<Transaction*>(arg);
  if (events & BEV_EVENT_CONNECTED) {
    int one = 1;
    setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    self->SendRequestHead();
    return;
  }
  if (events & BEV_EVENT_TIMEOUT) {
    switch (self->phase_) {
      case Phase::kConnecting:
        self->OriginFailed(504, "origin connect timed out");
        return;
      case Phase::kAwaitingResponse:
        self->OriginFailed(504, "origin did not answer in time");
        return;
      default:
        self->OriginFailed(504, "origin transfer stalled");
        return;
    }
  }
  if (events & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
    if (self->phase_ == Phase::kConnecting) {
      int dns_error = bufferevent_socket_get_dns_error(bev);
      self->OriginFailed(502, dns_error != 0 ? evutil_gai_strerror(dns_error) : "origin connect failed");
      return;
    }
  }
  // EOF, or an error on an established connection.
  OriginConnection* conn = self->origin_;
  self->origin_eof_ = true;
  if (events & BEV_EVENT_ERROR) self->origin_error_ = true;
  bufferevent_disable(bev, EV_READ);
  if (self->phase_ == Phase::kAwaitingResponse) {
    // Whatever arrived before the close may still complete a head.
    self->ParseResponseHead();
    if (self->origin_ != conn) return;
    if (self->phase_ == Phase::kAwaitingResponse) {
      self->OriginFailed(502, "origin closed the connection before a complete response head", /*retryable=*/true);
      return;
    }
  }
  if (self->phase_ == Phase::kStreamingResponse) self->PumpResponseBody();
}

void Transaction::ParseResponseHead() {
  evbuffer* in = bufferevent_get_input(origin_->bev);
  size_t max_head = settings().max_request_head;
  while (phase_ == Phase::kAwaitingResponse) {
    size_t length = evbuffer_get_length(in);
    if (length == 0) return;
    // Interim responses are forwarded only as fast as the client reads them.
    if (session_->output_full()) return;
    got_response_bytes_ = true;
    size_t view = std::min(length, max_head + 1);
    const char* data = reinterpret_cast<const char*>(evbuffer_pullup(in, view));
    http::ParseStatus status = response_parser_.Parse(data, view);
    if (status == http::ParseStatus::kNeedMore) {
      if (origin_eof_ || length > max_head) OriginFailed(502, "incomplete or oversized response head from origin");
      return;
    }
    if (status == http::ParseStatus::kError) {
      LOG_INFO("origin %s: invalid response: %s", origin_key_.c_str(), response_parser_.error());
      OriginFailed(502, response_parser_.error());
      return;
    }
    const http::ResponseHead& head = response_parser_.head();
    if (head.status < 200) {
      if (head.status == 101) {
        OriginFailed(502, "origin switched protocols without being asked");
        return;
      }
      if (++interim_count_ > kMaxInterimResponses) {
        OriginFailed(502, "too many interim responses from origin");
        return;
      }
      // 1xx go to HTTP/1.1 clients; our own 100 Continue was already sent.
      if (head.status != 100 && !client_http10_) {
        scratch_.clear();
        http::AppendInterimResponse(head, &scratch_);
        WriteToClient(scratch_);
      }
      evbuffer_drain(in, head.head_length);
      response_parser_.Reset(is_head_);
      continue;
    }
    if (cache_ != nullptr && revalidating_ && head.status == 304 && !Matches304(head)) {
      // The 304 selects nothing stored (RFC 9111 §4.3.4): it must not be
      // used; the request goes again without validators.
      bool reusable = head.is_http11_or_later() ? !head.connection_close : head.connection_keep_alive;
      evbuffer_drain(in, head.head_length);
      ReleaseOrigin(reusable && evbuffer_get_length(in) == 0 && request_body_done_);
      RetryUnconditionally();
      return;
    }
    if (cache_ != nullptr && OnOriginResponseForCache(head)) {
      // The cache answers (a 304 refreshed the stored response, or the
      // origin failed and a stale response may be served).
      bool reusable = head.body == http::BodyKind::kNone &&
                      (head.is_http11_or_later() ? !head.connection_close : head.connection_keep_alive);
      evbuffer_drain(in, head.head_length);
      origin_status_ = head.status;
      ReleaseOrigin(reusable && evbuffer_get_length(in) == 0 && request_body_done_);
      ServeStored(takeover_status_, takeover_result_);
      return;
    }
    StartResponse(head);
    evbuffer_drain(in, head.head_length);
  }
}

void Transaction::StartResponse(const http::ResponseHead& head) {
  origin_status_ = head.status;
  status_ = head.status;
  response_body_ = head.body;
  response_remaining_ = head.content_length;
  response_decoder_.Reset();
  origin_keep_alive_ = head.is_http11_or_later() ? !head.connection_close : head.connection_keep_alive;
  for (const http::Field& field : head.fields) {
    if (http::EqualsIgnoreCase(field.name, "content-type")) content_type_.assign(field.value);
  }

  // How the body goes to the client. Unknown lengths are chunked for
  // HTTP/1.1 clients, so the connection survives; 1.0 clients get a close.
  close_client_ = !client_keep_alive_ || session_->closing() || session_->worker()->draining() || !request_body_done_;
  switch (head.body) {
    case http::BodyKind::kNone:
      client_framing_ = {http::OutFraming::Kind::kNone, 0};
      break;
    case http::BodyKind::kContentLength:
      client_framing_ = {http::OutFraming::Kind::kContentLength, head.content_length};
      break;
    case http::BodyKind::kChunked:
    case http::BodyKind::kUntilClose:
      if (client_http10_) {
        client_framing_ = {http::OutFraming::Kind::kUntilClose, 0};
        close_client_ = true;
      } else {
        client_framing_ = {http::OutFraming::Kind::kChunked, 0};
      }
      break;
  }

  http::ClientResponseParams params;
  params.body = client_framing_;
  params.close = close_client_;
  params.client_is_http10 = client_http10_;
  params.via_name = settings().via_name;
  params.reverse_map = &config_->remap;
  if (cache_ != nullptr && cache_status_.empty()) cache_status_ = CacheStatusFor(fwd_, head.status, false, nullptr);
  params.cache_status = cache_status_;
  params.strip_targeted_cache_control = cache_ != nullptr;
  scratch_.clear();
  http::AppendClientResponseHead(head, params, &scratch_);
  WriteToClient(scratch_);
  response_started_ = true;
  phase_ = Phase::kStreamingResponse;
  SetOriginTimeouts(settings().transfer_idle_timeout, settings().transfer_idle_timeout);
}

void Transaction::PumpResponseBody() {
  evbuffer* in = bufferevent_get_input(origin_->bev);
  // Once the client has left (a fill going on without it), its bytes go to
  // a buffer of our own that is emptied as it fills.
  evbuffer* out = client_gone_ ? discard_ : session_->output();
  bool done = response_body_ == http::BodyKind::kNone;
  bool reframe = client_framing_.kind == http::OutFraming::Kind::kChunked;
  for (;;) {
    size_t in_before = evbuffer_get_length(in);
    if (response_body_ == http::BodyKind::kUntilClose && reframe) {
      // Close-delimited from the origin, chunked to the client.
      size_t high_water = settings().buffer_high_water;
      while (evbuffer_get_length(out) < high_water && evbuffer_get_length(in) > 0) {
        size_t n = evbuffer_get_length(in);
        TeeToCache(in, n);
        AppendChunkSize(out, n);
        evbuffer_remove_buffer(in, out, n);
        evbuffer_add(out, "\r\n", 2);
        if (!client_gone_) bytes_to_client_ += n;
      }
      if (origin_eof_ && !origin_error_ && evbuffer_get_length(in) == 0) {
        evbuffer_add(out, "0\r\n\r\n", 5);
        done = true;
      }
    } else if (!done) {
      if (!MoveBody(response_body_, &response_remaining_, &response_decoder_, in, out, reframe, /*tee=*/true, &done)) {
        LOG_INFO("origin %s: bad chunked response body: %s", origin_key_.c_str(), response_decoder_.error());
        ReleaseOrigin(false);
        Finish(true);
        session_->CloseAfterFlush();
        return;
      }
      if (response_body_ == http::BodyKind::kUntilClose && origin_eof_ && !origin_error_ &&
          evbuffer_get_length(in) == 0) {
        done = true;
      }
    }
    if (!client_gone_ || done) break;
    // Nothing waits on the client: keep going while the origin's bytes do.
    evbuffer_drain(out, evbuffer_get_length(out));
    size_t left = evbuffer_get_length(in);
    if (left == 0 || left == in_before) break;
  }
  if (done) {
    CompleteResponse();
    return;
  }
  if (origin_eof_ && evbuffer_get_length(in) == 0) {
    // The origin closed before the end of the body: the client must see a
    // truncated message, never a complete-looking one.
    LOG_INFO("origin %s: closed mid-body for %s", origin_key_.c_str(), url_.c_str());
    ReleaseOrigin(false);
    Finish(true);
    session_->CloseAfterFlush();
  }
}

void Transaction::CompleteResponse() {
  CommitFill();  // the whole body arrived: the object becomes visible
  bool reusable = origin_keep_alive_ && !origin_eof_ && response_body_ != http::BodyKind::kUntilClose &&
                  request_body_done_ && evbuffer_get_length(bufferevent_get_input(origin_->bev)) == 0;
  ReleaseOrigin(reusable);
  Finish(close_client_);
}

void Transaction::OriginFailed(int status, const char* why, bool retryable_cause) {
  bool retryable = retryable_cause && origin_ != nullptr && origin_->requests > 1 && !got_response_bytes_ &&
                   idempotent_ && request_body_ == http::BodyKind::kNone && retries_left_ > 0 &&
                   phase_ == Phase::kAwaitingResponse;
  ReleaseOrigin(false);
  if (retryable) {
    --retries_left_;
    LOG_DEBUG("origin %s: reused connection failed (%s); retrying %s", origin_key_.c_str(), why, url_.c_str());
    phase_ = Phase::kIdle;
    ConnectToOrigin();
    return;
  }
  LOG_INFO("origin %s: %s (%d for %s)", origin_key_.c_str(), why, status, url_.c_str());
  if (!response_started_ && revalidating_ && ServeStaleOnError(status)) {
    ServeStored(takeover_status_, takeover_result_);
    return;
  }
  if (response_started_) {
    Finish(true);
    session_->CloseAfterFlush();
    return;
  }
  RespondLocally(status, status == 504 ? "Gateway Timeout\n" : "Bad Gateway\n", "");
}

void Transaction::RespondLocally(int status, std::string_view body, std::string_view location) {
  status_ = status;
  // A request body we did not read would be taken for the next request.
  close_client_ = !client_keep_alive_ || !request_body_done_ || session_->closing() || session_->worker()->draining();
  scratch_.clear();
  http::AppendLocalResponse(status, body, close_client_, is_head_, location, &scratch_);
  WriteToClient(scratch_);
  response_started_ = true;
  Finish(close_client_);
}

void Transaction::WriteToClient(const std::string& bytes) {
  evbuffer_add(session_->output(), bytes.data(), bytes.size());
  bytes_to_client_ += bytes.size();
}

void Transaction::ReleaseOrigin(bool reusable) {
  if (origin_ == nullptr) return;
  OriginPool* pool = origin_->pool;
  if (reusable) {
    pool->Release(origin_);
  } else {
    pool->Close(origin_);
  }
  origin_ = nullptr;
}

void Transaction::Finish(bool close_client) {
  if (!active_) return;
  active_ = false;
  phase_ = Phase::kIdle;
  auto elapsed = std::chrono::steady_clock::now() - start_;
  AccessRecord record;
  record.start_time = start_wall_;
  record.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
  record.client_ip = session_->client_ip();
  record.cache_result = cache_result_;
  record.status = status_;
  record.bytes_to_client = bytes_to_client_;
  record.method = method_;
  record.url = url_;
  record.target = target_;
  record.protocol = protocol_;
  record.referer = referer_;
  record.user_agent = user_agent_;
  if (origin_contacted_) record.origin_host = remap_.origin.host;
  record.content_type = content_type_;
  record.origin_status = origin_status_;
  if (config_->settings.access_log_enabled) session_->worker()->access_log().Append(record);
  session_->worker()->counters().CountRequest(method_, cache_result_,
                                              std::chrono::duration_cast<std::chrono::microseconds>(elapsed));
  remap_ = RemapResult();
  EndCacheState();
  session_->TransactionDone(close_client);
}

}  // namespace strata
