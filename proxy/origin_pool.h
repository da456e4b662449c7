// OriginPool: one worker's connections to origin servers.
//
// A connection is either in use by exactly one Transaction or idle in the
// pool under its key ("host:port"). Idle connections are kept in intrusive
// lists (no allocation to park or take one), at most max_idle per key, and
// dropped when the origin closes them or after the idle timeout.
// Connections opened and reused, and every byte read from an origin, count in
// the worker's metrics.
//
// Thread-safety: a pool belongs to one worker thread and its event loop; no
// locks, never touched from another thread.
#pragma once

#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>

#include <boost/intrusive/list.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "proxy/metrics.h"
#include "proxy/remap.h"

namespace strata {

class OriginPool;

struct OriginConnection : public boost::intrusive::list_base_hook<> {
  OriginPool* pool = nullptr;
  bufferevent* bev = nullptr;
  std::string key;
  uint64_t requests = 0;  // transactions carried so far; > 0 means reused
};

class OriginPool {
 public:
  struct Options {
    int max_idle_per_origin = 32;
    std::chrono::milliseconds idle_timeout{30000};
  };

  // `counters` (this worker's metrics) outlives the pool.
  OriginPool(event_base* base, evdns_base* dns, WorkerCounters* counters)
      : base_(base), dns_(dns), counters_(counters) {}
  ~OriginPool();

  OriginPool(const OriginPool&) = delete;
  OriginPool& operator=(const OriginPool&) = delete;

  void set_options(const Options& options) { options_ = options; }

  static std::string KeyFor(const OriginTarget& target);

  // An idle connection for `key`, or nullptr. The caller sets its callbacks.
  OriginConnection* TakeIdle(const std::string& key);

  // Starts connecting to `target` (DNS off the loop through evdns). The
  // caller sets callbacks and waits for BEV_EVENT_CONNECTED. nullptr when the
  // connection cannot even be started.
  OriginConnection* Connect(const OriginTarget& target, const std::string& key);

  // Parks a connection whose last response ended cleanly.
  void Release(OriginConnection* conn);

  // Closes and frees a connection that is not idle in the pool.
  void Close(OriginConnection* conn);

 private:
  using IdleList = boost::intrusive::list<OriginConnection>;

  static void OnIdleEvent(bufferevent* bev, short events, void* arg);
  static void OnIdleRead(bufferevent* bev, void* arg);
  void DropIdle(OriginConnection* conn);

  event_base* base_;
  evdns_base* dns_;
  Options options_;
  std::unordered_map<std::string, IdleList> idle_;
  WorkerCounters* counters_;
};

}  // namespace strata
