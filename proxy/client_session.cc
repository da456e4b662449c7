#include "proxy/client_session.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common/log.h"
#include "proxy/socket_io.h"
#include "proxy/worker.h"

namespace strata {
namespace {

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv;
  tv.tv_sec = ms.count() / 1000;
  tv.tv_usec = (ms.count() % 1000) * 1000;
  return tv;
}

std::string AddressToString(const sockaddr* addr) {
  char text[INET6_ADDRSTRLEN] = "";
  if (addr->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, text, sizeof(text));
  } else if (addr->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, text, sizeof(text));
  }
  return text;
}

http::ParseLimits LimitsFrom(const Settings& settings) {
  http::ParseLimits limits;
  limits.max_head_bytes = settings.max_request_head;
  limits.max_fields = static_cast<size_t>(settings.max_fields);
  return limits;
}

}  // namespace

ClientSession::ClientSession(Worker* worker, evutil_socket_t fd, const sockaddr* addr, int /*addr_len*/)
    : worker_(worker),
      client_ip_(AddressToString(addr)),
      parser_(LimitsFrom(worker->config()->settings)),
      transaction_(this) {
  bev_ = bufferevent_socket_new(worker->base(), fd, BEV_OPT_CLOSE_ON_FREE);
  bufferevent_set_max_single_write(bev_, kMaxSingleWrite);
  // Schedules Flush and counts the bytes sent (metrics).
  evbuffer_add_cb(bufferevent_get_output(bev_), OnOutputChanged, this);
  evtimer_assign(&head_timer_, worker->base(), OnHeadTimeout, this);
  event_assign(&resume_event_, worker->base(), -1, 0, OnResume, this);
  event_assign(&flush_event_, worker->base(), -1, 0, OnFlush, this);
}

ClientSession::~ClientSession() {
  transaction_.Cancel();
  if (head_timer_armed_) evtimer_del(&head_timer_);
  event_del(&resume_event_);
  event_del(&flush_event_);
  if (bev_ != nullptr) bufferevent_free(bev_);
}

evbuffer* ClientSession::input() const { return bufferevent_get_input(bev_); }
evbuffer* ClientSession::output() const { return bufferevent_get_output(bev_); }

bool ClientSession::output_full() const {
  return evbuffer_get_length(output()) >= worker_->config()->settings.buffer_high_water;
}

void ClientSession::Start() {
  const Settings& settings = worker_->config()->settings;
  size_t high_water = std::max<size_t>(settings.buffer_high_water, settings.max_request_head + 1);
  bufferevent_setwatermark(bev_, EV_READ, 0, high_water);
  bufferevent_setwatermark(bev_, EV_WRITE, settings.buffer_high_water / 2, 0);
  bufferevent_setcb(bev_, OnRead, OnWrite, OnEvent, this);
  // Writing is enabled only while the socket cannot take what is queued (see
  // OnFlush), so the usual response costs no epoll change and no wait.
  bufferevent_disable(bev_, EV_WRITE);  // a new bufferevent starts with writing enabled
  bufferevent_enable(bev_, EV_READ);
  // The first request head must arrive within client_head.
  timeval head = ToTimeval(settings.client_head_timeout);
  evtimer_add(&head_timer_, &head);
  head_timer_armed_ = true;
}

void ClientSession::SetIdleTimeouts() {
  const Settings& settings = worker_->config()->settings;
  timeval idle = ToTimeval(settings.client_keepalive_timeout);
  timeval transfer = ToTimeval(settings.transfer_idle_timeout);
  bufferevent_set_timeouts(bev_, &idle, &transfer);
}

void ClientSession::SetReadingBody(bool reading) {
  timeval transfer = ToTimeval(worker_->config()->settings.transfer_idle_timeout);
  // While the response streams, the client owes us nothing: no read timeout,
  // but reading stays on to notice a close.
  bufferevent_set_timeouts(bev_, reading ? &transfer : nullptr, &transfer);
}

void ClientSession::OnRead(bufferevent*, void* arg) {
  auto* self = static_cast<ClientSession*>(arg);
  if (self->closed_) return;
  if (self->lingering_) {
    self->DiscardLingeringInput();
    return;
  }
  if (self->transaction_.active()) {
    self->transaction_.OnClientReadable();
    return;
  }
  self->ProcessInput();
}

void ClientSession::OnWrite(bufferevent*, void* arg) {
  auto* self = static_cast<ClientSession*>(arg);
  if (self->closed_) return;
  // Drained: back to writing from OnFlush. Disabling a write event that is no
  // longer pending costs no system call.
  if (evbuffer_get_length(self->output()) == 0 && !self->closing_) bufferevent_disable(self->bev_, EV_WRITE);
  self->HandleWritable();
}

void ClientSession::HandleWritable() {
  if (closing_) {
    if (evbuffer_get_length(output()) == 0 && !lingering_) Linger();
    return;
  }
  if (transaction_.active()) {
    transaction_.OnClientWritable();
    return;
  }
  ProcessInput();
}

void ClientSession::OnOutputChanged(evbuffer*, const evbuffer_cb_info* info, void* arg) {
  auto* self = static_cast<ClientSession*>(arg);
  // What leaves the output buffer has been written to the client socket.
  if (info->n_deleted > 0 && !self->detached_) self->worker_->counters().client_bytes.Add(info->n_deleted);
  // Everything a callback queues (head, then body) goes out in one write
  // once the callback returns: the flush event runs later in this same loop
  // iteration, before the loop waits again.
  if (info->n_added > 0 && !self->flush_scheduled_) {
    self->flush_scheduled_ = true;
    event_active(&self->flush_event_, EV_TIMEOUT, 1);
  }
}

void ClientSession::OnFlush(evutil_socket_t, short, void* arg) { static_cast<ClientSession*>(arg)->Flush(); }

// Writes the output buffer to the socket now instead of waiting for the loop
// to report the socket writable (socket_io.h). What the socket does not
// take is left to the bufferevent (EV_WRITE), and so are write errors: its
// own write then reports them through OnEvent.
void ClientSession::Flush() {
  flush_scheduled_ = false;
  if (closed_ || detached_ || lingering_) return;
  if (evbuffer_get_length(output()) == 0) return;
  if (bufferevent_get_enabled(bev_) & EV_WRITE) return;  // the socket is full; libevent writes when it drains
  if (!WriteSocketNow(bev_)) {
    bufferevent_enable(bev_, EV_WRITE);
    return;
  }
  HandleWritable();
}

void ClientSession::OnEvent(bufferevent*, short events, void* arg) {
  auto* self = static_cast<ClientSession*>(arg);
  if (self->closed_) return;
  if (self->lingering_) {
    self->Close();  // the client is done: EOF, error or the linger timeout
    return;
  }
  if (events & BEV_EVENT_EOF) {
    self->client_eof_ = true;
    bufferevent_disable(self->bev_, EV_READ);
    if (self->transaction_.active()) {
      self->transaction_.OnClientEof();
    } else if (!self->closing_) {
      // A half-closed client may still have complete requests buffered.
      self->Resume();
    }
    return;
  }
  if (events & BEV_EVENT_TIMEOUT) {
    if (self->transaction_.active()) {
      self->transaction_.OnClientError();
    } else {
      self->Close();
    }
    return;
  }
  // BEV_EVENT_ERROR
  if (self->transaction_.active()) {
    self->transaction_.OnClientError();
  } else {
    self->Close();
  }
}

void ClientSession::OnHeadTimeout(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<ClientSession*>(arg);
  self->head_timer_armed_ = false;
  if (self->closed_ || self->transaction_.active()) return;
  // Also the end of a lingering close.
  LOG_DEBUG("client %s: request head timed out", self->client_ip_.c_str());
  self->Close();
}

void ClientSession::ProcessInput() {
  if (in_process_input_) return;  // TransactionDone() inside the loop below
  in_process_input_ = true;
  const Settings& settings = worker_->config()->settings;
  while (!closed_ && !closing_ && !transaction_.active()) {
    evbuffer* in = input();
    size_t length = evbuffer_get_length(in);
    if (length == 0) break;
    // Pipelined responses are produced only as fast as the client reads them.
    if (output_full()) break;
    if (!head_timer_armed_) {
      timeval head = ToTimeval(settings.client_head_timeout);
      evtimer_add(&head_timer_, &head);
      head_timer_armed_ = true;
    }
    size_t view = std::min<size_t>(length, settings.max_request_head + 1);
    const char* data = reinterpret_cast<const char*>(evbuffer_pullup(in, view));
    http::ParseStatus status = parser_.Parse(data, view);
    if (status == http::ParseStatus::kNeedMore) {
      if (client_eof_) CloseAfterFlush();
      break;
    }
    if (status == http::ParseStatus::kError) {
      RejectRequest(parser_.error());
      break;
    }
    evtimer_del(&head_timer_);
    head_timer_armed_ = false;
    transaction_.Start(parser_.head());
    parser_.Reset();
  }
  in_process_input_ = false;
}

void ClientSession::RejectRequest(const char* reason) {
  LOG_INFO("client %s: bad request: %s", client_ip_.c_str(), reason);
  std::string response;
  std::string body = "Bad Request: ";
  body.append(reason);
  body.push_back('\n');
  http::AppendLocalResponse(400, body, /*close=*/true, /*head_request=*/false, "", &response);
  evbuffer_add(output(), response.data(), response.size());
  AccessRecord record;
  record.client_ip = client_ip_;
  record.cache_result = "-";
  record.status = 400;
  record.bytes_to_client = response.size();
  record.method = "-";
  record.url = "-";
  worker_->access_log().Append(record);
  CloseAfterFlush();
}

void ClientSession::TransactionDone(bool close) {
  if (close || closing_ || worker_->draining()) {
    CloseAfterFlush();
    return;
  }
  SetIdleTimeouts();
  // The next pipelined request starts from the event loop, never inside the
  // callbacks of the transaction that just ended.
  event_active(&resume_event_, EV_TIMEOUT, 1);
}

void ClientSession::OnResume(evutil_socket_t, short, void* arg) { static_cast<ClientSession*>(arg)->Resume(); }

void ClientSession::Resume() {
  if (closed_ || closing_ || transaction_.active()) return;
  ProcessInput();
  // A half-closed client gets answers to what it sent, then the close.
  if (client_eof_ && !transaction_.active() && !closed_) CloseAfterFlush();
}

void ClientSession::Shutdown() {
  if (closed_ || closing_) return;
  if (!transaction_.active()) CloseAfterFlush();
}

void ClientSession::CloseAfterFlush() {
  if (closed_) return;
  closing_ = true;
  bufferevent_disable(bev_, EV_READ);
  if (evbuffer_get_length(output()) == 0) {
    Linger();
    return;
  }
  // Called back (OnWrite, or OnFlush when one write takes it all) only when
  // everything is written.
  bufferevent_setwatermark(bev_, EV_WRITE, 0, 0);
  if (!flush_scheduled_) bufferevent_enable(bev_, EV_WRITE);
}

// Closing a socket with unread input makes the kernel send a reset, which
// can destroy the response still in flight (an error answered before the
// request body was read). So: send FIN, read and discard until the client
// closes, goes quiet for 2 s, or 5 s have passed in all (RFC 9112 §9.6; the
// same scheme as nginx's lingering close).
void ClientSession::Linger() {
  if (client_eof_) {
    Close();
    return;
  }
  lingering_ = true;
  shutdown(bufferevent_getfd(bev_), SHUT_WR);
  evbuffer_drain(input(), evbuffer_get_length(input()));
  timeval quiet{2, 0};
  bufferevent_set_timeouts(bev_, &quiet, nullptr);
  timeval total{5, 0};
  evtimer_add(&head_timer_, &total);
  head_timer_armed_ = true;
  bufferevent_setwatermark(bev_, EV_READ, 0, 0);
  bufferevent_disable(bev_, EV_WRITE);
  bufferevent_enable(bev_, EV_READ);
}

void ClientSession::DiscardLingeringInput() { evbuffer_drain(input(), evbuffer_get_length(input())); }

void ClientSession::Abort() { Close(); }

void ClientSession::DetachClient() {
  client_eof_ = true;
  closing_ = true;
  detached_ = true;  // the bytes drained below are dropped, not sent
  bufferevent_disable(bev_, EV_READ | EV_WRITE);
  bufferevent_set_timeouts(bev_, nullptr, nullptr);
  evbuffer_drain(output(), evbuffer_get_length(output()));
  if (head_timer_armed_) {
    evtimer_del(&head_timer_);
    head_timer_armed_ = false;
  }
}

void ClientSession::Close() {
  if (closed_) return;
  closed_ = true;
  transaction_.Cancel();
  bufferevent_disable(bev_, EV_READ | EV_WRITE);
  bufferevent_setcb(bev_, nullptr, nullptr, nullptr, nullptr);
  event_del(&resume_event_);
  event_del(&flush_event_);
  if (head_timer_armed_) {
    evtimer_del(&head_timer_);
    head_timer_armed_ = false;
  }
  // Deleted from the loop, after every caller on the stack has returned.
  timeval now{0, 0};
  event_base_once(worker_->base(), -1, EV_TIMEOUT, OnDestroy, this, &now);
}

void ClientSession::OnDestroy(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<ClientSession*>(arg);
  Worker* worker = self->worker_;
  worker->RemoveSession(self);
  delete self;
}

}  // namespace strata
