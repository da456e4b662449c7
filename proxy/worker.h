// Worker: one thread, one libevent event_base, its own SO_REUSEPORT listeners,
// resolver, origin pool and access-log buffer. Connections never move between
// workers, so nothing on the connection path takes a lock.
//
// Lifecycle: constructed and Listen()ed on the main thread (so a bind error
// stops start-up with a clear message), then Start()ed. BeginShutdown() may be
// called from any thread: the worker stops accepting, closes idle client
// connections, lets in-flight transactions finish, and its loop ends when the
// last session is gone or the grace period is over.
//
// Configuration: the worker holds one Config snapshot, read without a lock
// by its own thread. UpdateConfig() (any thread, on reload) posts the new
// snapshot to the loop, which swaps it in between callbacks; transactions
// already running keep the snapshot they started with.
#pragma once

#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <boost/intrusive/list.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "cache/cache.h"
#include "common/status.h"
#include "proxy/access_log.h"
#include "proxy/client_session.h"
#include "proxy/config.h"
#include "proxy/decoded_response.h"
#include "proxy/loop_executor.h"
#include "proxy/metrics.h"
#include "proxy/origin_pool.h"
#include "proxy/purge.h"

namespace strata {

class Worker {
 public:
  // `cache` may be null (no spans configured); it, `counters` and `purges`
  // (null without a cache) outlive the worker.
  Worker(int index, std::shared_ptr<const Config> config, AccessLog* access_log, Cache* cache, WorkerCounters* counters,
         const PurgeList* purges);
  ~Worker();

  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Binds one listener per address ("host:port", "[v6]:port").
  Status Listen(const std::vector<std::string>& addresses);

  void Start();
  void Join();
  // After Join(): ends the connections the grace period cut, so their
  // transactions release their cache writes before the cache closes.
  void DestroySessions();

  // Thread-safe.
  void BeginShutdown();
  // Thread-safe: the new snapshot takes over on the worker's own thread.
  void UpdateConfig(std::shared_ptr<const Config> config);

  event_base* base() const { return base_; }
  OriginPool& origin_pool() { return *origin_pool_; }
  AccessLogBuffer& access_log() { return access_log_buffer_; }
  Cache* cache() const { return cache_; }
  // Runs cache-engine completions on this worker's loop.
  LoopExecutor& executor() { return *executor_; }
  const std::shared_ptr<const Config>& config() const { return config_; }
  // This thread's metrics; only this worker's thread writes them.
  WorkerCounters& counters() { return *counters_; }
  const PurgeList* purges() const { return purges_; }
  // Stored responses decoded once for every hit on the same stored bytes.
  DecodedResponseCache& decoded_responses() { return decoded_responses_; }
  bool draining() const { return draining_; }
  int index() const { return index_; }

  // Called by sessions when they end.
  void RemoveSession(ClientSession* session);

  // Runs `request` (a complete request head ending in "Connection: close")
  // through this worker's own request path, as a client on this host would,
  // and discards the response: stale-while-revalidate revalidations and the
  // whole-object fill after a Range miss. The request goes over a socketpair
  // to a session of this worker, so it takes exactly the path of a real one
  // (remap, cache, collapsed forwarding). False when one with the same
  // `dedup_key` is already running here.
  bool StartBackgroundRequest(const std::string& dedup_key, const std::string& request);

 private:
  static void OnAccept(evconnlistener* listener, evutil_socket_t fd, sockaddr* addr, int len, void* arg);
  static void OnAcceptError(evconnlistener* listener, void* arg);
  static void OnShutdownRequested(evutil_socket_t, short, void* arg);
  static void OnGraceExpired(evutil_socket_t, short, void* arg);
  static void OnFlushTimer(evutil_socket_t, short, void* arg);
  static void OnAcceptRetry(evutil_socket_t, short, void* arg);
  void Run();
  void ApplyConfig(std::shared_ptr<const Config> config);
  void Drain();
  void MaybeFinish();

  int index_;
  std::shared_ptr<const Config> config_;
  event_base* base_ = nullptr;
  evdns_base* dns_ = nullptr;
  std::unique_ptr<OriginPool> origin_pool_;
  AccessLogBuffer access_log_buffer_;
  Cache* cache_;
  WorkerCounters* counters_;
  const PurgeList* purges_;
  DecodedResponseCache decoded_responses_;
  std::unique_ptr<LoopExecutor> executor_;
  std::vector<evconnlistener*> listeners_;
  event* shutdown_event_ = nullptr;
  event* grace_timer_ = nullptr;
  event* flush_timer_ = nullptr;
  event* accept_retry_timer_ = nullptr;
  boost::intrusive::list<ClientSession> sessions_;
  struct BackgroundSink {
    Worker* worker;
    bufferevent* bev;
    std::string key;
  };
  static void OnSinkRead(bufferevent* bev, void* arg);
  static void OnSinkEvent(bufferevent* bev, short events, void* arg);
  std::unordered_map<std::string, BackgroundSink*> background_;  // by dedup key
  bool draining_ = false;
  std::thread thread_;
};

}  // namespace strata
