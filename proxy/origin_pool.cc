#include "proxy/origin_pool.h"

#include <event2/buffer.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "common/log.h"

namespace strata {
namespace {

void CountBytesAdded(evbuffer* /*buffer*/, const evbuffer_cb_info* info, void* counter) {
  if (info->n_added > 0) static_cast<LocalCounter*>(counter)->Add(info->n_added);
}

}  // namespace

OriginPool::~OriginPool() {
  for (auto& [key, list] : idle_) {
    while (!list.empty()) {
      OriginConnection* conn = &list.front();
      list.pop_front();
      bufferevent_free(conn->bev);
      delete conn;
    }
  }
}

std::string OriginPool::KeyFor(const OriginTarget& target) {
  return target.scheme + "://" + target.host + ":" + std::to_string(target.port);
}

OriginConnection* OriginPool::TakeIdle(const std::string& key) {
  auto it = idle_.find(key);
  if (it == idle_.end() || it->second.empty()) return nullptr;
  // Most recently used first: it is the least likely to have been closed by
  // the origin's own idle timeout.
  OriginConnection* conn = &it->second.back();
  it->second.pop_back();
  bufferevent_setcb(conn->bev, nullptr, nullptr, nullptr, nullptr);
  bufferevent_set_timeouts(conn->bev, nullptr, nullptr);
  counters_->origin_connections_reused.Add(1);
  return conn;
}

OriginConnection* OriginPool::Connect(const OriginTarget& target, const std::string& key) {
  bufferevent* bev = bufferevent_socket_new(base_, -1, BEV_OPT_CLOSE_ON_FREE);
  if (bev == nullptr) return nullptr;
  auto* conn = new OriginConnection;
  conn->pool = this;
  conn->bev = bev;
  conn->key = key;
  // Numeric addresses skip the resolver: evdns may answer them synchronously,
  // before the caller has set its callbacks.
  sockaddr_storage addr{};
  int addr_len = sizeof(addr);
  std::string numeric = target.host;
  if (numeric.find(':') != std::string::npos) numeric = "[" + numeric + "]";
  numeric += ":" + std::to_string(target.port);
  int rc;
  if (evutil_parse_sockaddr_port(numeric.c_str(), reinterpret_cast<sockaddr*>(&addr), &addr_len) == 0) {
    rc = bufferevent_socket_connect(bev, reinterpret_cast<sockaddr*>(&addr), addr_len);
  } else {
    rc = bufferevent_socket_connect_hostname(bev, dns_, AF_UNSPEC, target.host.c_str(), target.port);
  }
  if (rc != 0) {
    LOG_WARNING("origin %s: cannot start connecting", key.c_str());
    bufferevent_free(bev);
    delete conn;
    return nullptr;
  }
  counters_->origin_connections_opened.Add(1);
  // Every byte the origin sends lands in this buffer first.
  evbuffer_add_cb(bufferevent_get_input(bev), CountBytesAdded, &counters_->origin_bytes);
  return conn;
}

void OriginPool::Release(OriginConnection* conn) {
  IdleList& list = idle_[conn->key];
  if (static_cast<int>(list.size()) >= options_.max_idle_per_origin) {
    Close(conn);
    return;
  }
  bufferevent_setcb(conn->bev, OnIdleRead, nullptr, OnIdleEvent, conn);
  timeval idle;
  idle.tv_sec = options_.idle_timeout.count() / 1000;
  idle.tv_usec = (options_.idle_timeout.count() % 1000) * 1000;
  bufferevent_set_timeouts(conn->bev, &idle, nullptr);
  // Off while idle, so the next request head can be written at once
  // (socket_io.h) rather than queued behind a write event.
  bufferevent_disable(conn->bev, EV_WRITE);
  bufferevent_enable(conn->bev, EV_READ);
  list.push_back(*conn);
}

void OriginPool::Close(OriginConnection* conn) {
  bufferevent_free(conn->bev);
  delete conn;
}

void OriginPool::DropIdle(OriginConnection* conn) {
  auto it = idle_.find(conn->key);
  if (it != idle_.end()) {
    it->second.erase(it->second.iterator_to(*conn));
    if (it->second.empty()) idle_.erase(it);
  }
  Close(conn);
}

// An idle origin must not send anything; bytes or a close both end it.
void OriginPool::OnIdleRead(bufferevent* /*bev*/, void* arg) {
  auto* conn = static_cast<OriginConnection*>(arg);
  conn->pool->DropIdle(conn);
}

void OriginPool::OnIdleEvent(bufferevent* /*bev*/, short /*events*/, void* arg) {
  auto* conn = static_cast<OriginConnection*>(arg);
  conn->pool->DropIdle(conn);
}

}  // namespace strata
