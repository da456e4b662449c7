#include "proxy/worker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace strata {
namespace {

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv;
  tv.tv_sec = ms.count() / 1000;
  tv.tv_usec = (ms.count() % 1000) * 1000;
  return tv;
}

}  // namespace

Worker::Worker(int index, std::shared_ptr<const Config> config, AccessLog* access_log, Cache* cache,
               WorkerCounters* counters, const PurgeList* purges)
    : index_(index),
      config_(std::move(config)),
      access_log_buffer_(access_log),
      cache_(cache),
      counters_(counters),
      purges_(purges) {
  base_ = event_base_new();
  executor_ = std::make_unique<LoopExecutor>(base_);
  // The resolver reads /etc/resolv.conf and /etc/hosts; without them it
  // still resolves numeric addresses.
  dns_ = evdns_base_new(base_, EVDNS_BASE_INITIALIZE_NAMESERVERS | EVDNS_BASE_DISABLE_WHEN_INACTIVE);
  if (dns_ == nullptr) dns_ = evdns_base_new(base_, 0);
  origin_pool_ = std::make_unique<OriginPool>(base_, dns_, counters_);
  ApplyConfig(config_);
  shutdown_event_ = event_new(base_, -1, 0, OnShutdownRequested, this);
  grace_timer_ = evtimer_new(base_, OnGraceExpired, this);
  flush_timer_ = event_new(base_, -1, EV_PERSIST, OnFlushTimer, this);
  accept_retry_timer_ = evtimer_new(base_, OnAcceptRetry, this);
  timeval one_second{1, 0};
  event_add(flush_timer_, &one_second);
}

Worker::~Worker() {
  DestroySessions();
  for (auto& [key, sink] : background_) {
    bufferevent_free(sink->bev);
    delete sink;
  }
  background_.clear();
  for (evconnlistener* listener : listeners_) evconnlistener_free(listener);
  origin_pool_.reset();
  executor_.reset();
  access_log_buffer_.Flush();
  event_free(shutdown_event_);
  event_free(grace_timer_);
  event_free(flush_timer_);
  event_free(accept_retry_timer_);
  if (dns_ != nullptr) evdns_base_free(dns_, 1);
  event_base_free(base_);
}

Status Worker::Listen(const std::vector<std::string>& addresses) {
  for (const std::string& address : addresses) {
    sockaddr_storage addr{};
    int len = sizeof(addr);
    if (evutil_parse_sockaddr_port(address.c_str(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return Status::InvalidArgument("bad listen address '" + address + "' (want HOST:PORT)");
    }
    evconnlistener* listener = evconnlistener_new_bind(
        base_, OnAccept, this,
        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT | LEV_OPT_DISABLED,
        1024, reinterpret_cast<sockaddr*>(&addr), len);
    if (listener == nullptr) {
      return Status::IOError("cannot listen on " + address + ": " + strerror(errno));
    }
    evconnlistener_set_error_cb(listener, OnAcceptError);
    listeners_.push_back(listener);
  }
  return Status::OK();
}

void Worker::DestroySessions() {
  // Sessions still open after the grace period are cut here.
  while (!sessions_.empty()) {
    ClientSession* session = &sessions_.front();
    sessions_.pop_front();
    delete session;
  }
}

void Worker::Start() {
  for (evconnlistener* listener : listeners_) evconnlistener_enable(listener);
  thread_ = std::thread([this] { Run(); });
}

void Worker::Join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::Run() { event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY); }

void Worker::BeginShutdown() { event_active(shutdown_event_, EV_TIMEOUT, 0); }

void Worker::UpdateConfig(std::shared_ptr<const Config> config) {
  executor_->Post([this, config = std::move(config)]() mutable { ApplyConfig(std::move(config)); });
}

// Loop thread (or the constructor): everything the worker derives from the
// configuration. Sessions read config() afresh, so new requests see the new
// snapshot; a session's parser limits are set when it is accepted.
void Worker::ApplyConfig(std::shared_ptr<const Config> config) {
  config_ = std::move(config);
  const Settings& s = config_->settings;
  OriginPool::Options pool_options;
  pool_options.max_idle_per_origin = s.origin_max_idle_per_origin;
  pool_options.idle_timeout = s.origin_idle_timeout;
  origin_pool_->set_options(pool_options);
  access_log_buffer_.set_format(config_->access_format);
}

void Worker::OnShutdownRequested(evutil_socket_t, short, void* arg) { static_cast<Worker*>(arg)->Drain(); }

void Worker::Drain() {
  if (draining_) return;
  draining_ = true;
  for (evconnlistener* listener : listeners_) evconnlistener_free(listener);
  listeners_.clear();
  timeval grace = ToTimeval(config_->settings.shutdown_grace);
  event_add(grace_timer_, &grace);
  // Shutdown() may end a session at once; take the next one first.
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    ClientSession& session = *it++;
    session.Shutdown();
  }
  MaybeFinish();
}

void Worker::MaybeFinish() {
  if (draining_ && sessions_.empty()) {
    access_log_buffer_.Flush();
    event_base_loopexit(base_, nullptr);
  }
}

void Worker::OnGraceExpired(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Worker*>(arg);
  LOG_WARNING("worker %d: grace period over, cutting %zu connection(s)", self->index_, self->sessions_.size());
  event_base_loopbreak(self->base_);
}

void Worker::OnFlushTimer(evutil_socket_t, short, void* arg) { static_cast<Worker*>(arg)->access_log_buffer_.Flush(); }

void Worker::OnAccept(evconnlistener*, evutil_socket_t fd, sockaddr* addr, int len, void* arg) {
  auto* self = static_cast<Worker*>(arg);
  if (self->draining_) {
    evutil_closesocket(fd);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  auto* session = new ClientSession(self, fd, addr, len);
  self->sessions_.push_back(*session);
  session->Start();
}

void Worker::OnAcceptError(evconnlistener*, void* arg) {
  auto* self = static_cast<Worker*>(arg);
  int err = EVUTIL_SOCKET_ERROR();
  // EMFILE and friends: the listening socket stays readable, so retrying at
  // once would spin. Pause accepting for a second and serve what we have.
  LOG_ERROR("worker %d: accept failed: %s; pausing accepts for 1 s", self->index_, evutil_socket_error_to_string(err));
  for (evconnlistener* listener : self->listeners_) evconnlistener_disable(listener);
  timeval pause{1, 0};
  event_add(self->accept_retry_timer_, &pause);
}

void Worker::OnAcceptRetry(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Worker*>(arg);
  if (self->draining_) return;
  for (evconnlistener* listener : self->listeners_) evconnlistener_enable(listener);
}

bool Worker::StartBackgroundRequest(const std::string& dedup_key, const std::string& request) {
  if (draining_ || background_.count(dedup_key) != 0) return false;
  evutil_socket_t fds[2];
  if (evutil_socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return false;
  evutil_make_socket_nonblocking(fds[0]);
  evutil_make_socket_nonblocking(fds[1]);
  evutil_make_socket_closeonexec(fds[0]);
  evutil_make_socket_closeonexec(fds[1]);
  // The session sees the request as coming from this host.
  sockaddr_in self{};
  self.sin_family = AF_INET;
  self.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  auto* session = new ClientSession(this, fds[0], reinterpret_cast<sockaddr*>(&self), sizeof(self));
  sessions_.push_back(*session);
  session->Start();
  auto* sink = new BackgroundSink{this, bufferevent_socket_new(base_, fds[1], BEV_OPT_CLOSE_ON_FREE), dedup_key};
  bufferevent_setcb(sink->bev, OnSinkRead, nullptr, OnSinkEvent, sink);
  bufferevent_write(sink->bev, request.data(), request.size());
  bufferevent_enable(sink->bev, EV_READ | EV_WRITE);
  background_.emplace(dedup_key, sink);
  return true;
}

// The response is not wanted: what matters is what the request did to the cache.
void Worker::OnSinkRead(bufferevent* bev, void*) {
  evbuffer* in = bufferevent_get_input(bev);
  evbuffer_drain(in, evbuffer_get_length(in));
}

void Worker::OnSinkEvent(bufferevent*, short, void* arg) {
  auto* sink = static_cast<BackgroundSink*>(arg);
  sink->worker->background_.erase(sink->key);
  bufferevent_free(sink->bev);
  delete sink;
}

void Worker::RemoveSession(ClientSession* session) {
  sessions_.erase(sessions_.iterator_to(*session));
  MaybeFinish();
}

}  // namespace strata
