// Collapsed forwarding, for a Transaction (see transaction.h): concurrent
// misses for one URL make one origin request. The transaction holding the
// URL's fill lease announces the response head to the others through the
// OpenDir object of its fill, then the body bytes as they land; followers
// stream them to their clients. A fill that is not shareable (it varies, its
// length is unknown or too large for the in-flight buffer, or it is not
// stored at all) sends its followers to the origin on their own.

#include <event2/buffer.h>

#include <atomic>
#include <cstdio>

#include "common/coding.h"
#include "common/log.h"
#include "proxy/client_session.h"
#include "proxy/transaction.h"
#include "proxy/worker.h"

namespace strata {
namespace {

// What a filling transaction announces to the transactions that follow its
// fill: [u32 metadata length][u64 content length, ~0 = unknown][metadata].
// A zero metadata length declines: the followers fetch for themselves.
constexpr size_t kAnnouncementHeader = 12;
constexpr uint64_t kUnknownLength = ~uint64_t{0};
constexpr size_t kFollowReadBytes = 64 * 1024;

}  // namespace

void Transaction::AnnounceToFollowers(const http::ResponseHead& head, bool share) {
  std::string announcement(kAnnouncementHeader, '\0');
  std::string meta = share ? EncodeStoredResponse(fill_) : std::string();
  if (share && kAnnouncementHeader + meta.size() + head.content_length > writer_->open_object()->max_buffered_bytes()) {
    share = false;
  }
  if (share) {
    EncodeFixed32(announcement.data(), static_cast<uint32_t>(meta.size()));
    EncodeFixed64(announcement.data() + 4,
                  head.body == http::BodyKind::kContentLength ? head.content_length : kUnknownLength);
    announcement.append(meta);
  }
  writer_->Announce(announcement);
}

void Transaction::Follow(std::shared_ptr<OpenObject> object) {
  phase_ = Phase::kFollowing;
  follow_ = std::move(object);
  follow_offset_ = 0;
  follow_head_.clear();
  follow_started_ = false;
  cache_result_ = "TCP_CF_MISS";
  session_->worker()->counters().collapsed_requests.Add(1);
  // The writer's thread calls the listener after each change; the work is
  // posted to this loop, at most one wake-up waiting at a time.
  auto pending = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<Transaction*> alive = alive_;
  Executor* executor = executor_;
  follow_listener_ = follow_->Subscribe([alive, pending, executor] {
    if (pending->exchange(true)) return;
    executor->Post([alive, pending] {
      pending->store(false);
      if (Transaction* self = *alive) self->PumpFollow();
    });
  });
  PumpFollow();
}

void Transaction::StopFollowing() {
  if (follow_ == nullptr) return;
  follow_->Unsubscribe(follow_listener_);
  follow_.reset();
}

// The writer's announcement is complete: send the response head. False when
// the follower must fetch for itself (the writer declined to share).
bool Transaction::StartFollowedResponse() {
  uint32_t meta_length = DecodeFixed32(follow_head_.data());
  uint64_t content_length = DecodeFixed64(follow_head_.data() + 4);
  StoredResponse response;
  if (meta_length == 0 ||
      !DecodeStoredResponse(std::string_view(follow_head_).substr(kAnnouncementHeader, meta_length), &response).ok()) {
    return false;
  }
  stored_ = MakeDecodedResponse(std::move(response), PolicyOptionsFromSettings());
  const StoredResponse& stored = stored_->response;
  http::CacheStatus status;
  status.fwd = http::Fwd::kUriMiss;
  status.collapsed = true;
  cache_status_ = http::CacheStatusValue(status);
  close_client_ = !client_keep_alive_ || session_->closing() || session_->worker()->draining() || !request_body_done_;
  follow_chunked_ = content_length == kUnknownLength && !client_http10_;
  if (content_length == kUnknownLength && client_http10_) close_client_ = true;
  http::CachedResponseParams params;
  params.status = stored.status;
  params.reason = stored.reason;
  params.content_length = content_length;
  params.send_content_length = content_length != kUnknownLength && http::StatusHasBody(stored.status);
  params.chunked = follow_chunked_;
  params.close = close_client_;
  params.client_is_http10 = client_http10_;
  params.via_name = settings().via_name;
  params.cache_status = cache_status_;
  scratch_.clear();
  http::AppendCachedResponseHead(stored_->views, params, &scratch_);
  WriteToClient(scratch_);
  status_ = stored.status;
  response_started_ = true;
  if (const std::string* type = stored.Find("content-type")) content_type_ = *type;
  follow_started_ = true;
  return true;
}

void Transaction::PumpFollow() {
  while (phase_ == Phase::kFollowing) {
    if (follow_started_ && session_->output_full()) return;  // OnClientWritable resumes
    std::string bytes;
    OpenObject::ReadResult result = follow_->Read(follow_offset_, kFollowReadBytes, &bytes);
    if (result == OpenObject::ReadResult::kWouldBlock) return;
    if (result == OpenObject::ReadResult::kData) {
      follow_offset_ += bytes.size();
      if (!follow_started_) {
        follow_head_.append(bytes);
        if (follow_head_.size() < kAnnouncementHeader) continue;
        uint32_t meta_length = DecodeFixed32(follow_head_.data());
        size_t needed = kAnnouncementHeader + meta_length;
        if (meta_length != 0 && follow_head_.size() < needed) continue;
        if (!StartFollowedResponse()) break;  // declined
        bytes = follow_head_.substr(needed);
        follow_head_.clear();
        if (bytes.empty()) continue;
      }
      if (follow_chunked_) {
        char line[24];
        int n = snprintf(line, sizeof(line), "%zx\r\n", bytes.size());
        evbuffer_add(session_->output(), line, n);
      }
      bytes_to_client_ += bytes.size();
      evbuffer_add(session_->output(), bytes.data(), bytes.size());
      if (follow_chunked_) evbuffer_add(session_->output(), "\r\n", 2);
      continue;
    }
    if (result == OpenObject::ReadResult::kEnd && follow_started_) {
      if (follow_chunked_) evbuffer_add(session_->output(), "0\r\n\r\n", 5);
      StopFollowing();
      Finish(close_client_);
      return;
    }
    if (follow_started_) {
      // The fill failed after its head went out: the client sees a truncated
      // response, never a complete-looking one.
      LOG_INFO("cache: %s: the fill this request followed failed", url_.c_str());
      StopFollowing();
      ClientSession* session = session_;
      Finish(true);
      session->Abort();
      return;
    }
    break;  // ended or aborted before announcing: fetch for ourselves
  }
  if (phase_ != Phase::kFollowing) return;
  // Declined (an uncacheable or varying response): go to the origin, without
  // storing, instead of queueing again behind the next fill.
  StopFollowing();
  cache_result_ = "TCP_MISS";
  ConnectToOrigin();
}

}  // namespace strata
