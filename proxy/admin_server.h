// AdminServer: the admin API on its own listener (records.yaml admin.listen,
// or --admin ADDR:PORT; default 127.0.0.1:8081), served by its own thread
// with its own event_base and libevent's evhttp: it is never on the request
// path, and a slow scrape never delays a worker.
//
//   GET  /metrics              Prometheus text format (proxy/metrics_render.h)
//   GET  /stats                the same figures as JSON, plus per-stripe fill
//   GET  /health               200 "ok" while serving, 503 "draining" on shutdown
//   GET  /inflight             objects being written now (OpenDir), as JSON
//   GET  /purges               the purge-by-prefix records, as JSON
//   POST /reload               reloads the configuration (Server::Reload)
//   POST /purge?url=URL        removes one URL's stored responses
//   POST /purge?prefix=PREFIX  purges every URL under PREFIX (lazily)
// docs/ADMIN.md is the operator's description.
//
// Access: every request is checked against the current ip_allow.yaml with
// the pseudo-method ADMIN, from the client's address; a refused client gets
// 403. Without ip_allow.yaml only loopback clients may use it.
//
// Thread-safety: Listen/Start/Stop from the main thread; the handlers run on
// the admin thread only.
#pragma once

#include <event2/event.h>
#include <event2/http.h>

#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "proxy/loop_executor.h"

namespace strata {

class Server;

class AdminServer {
 public:
  // `server` outlives this object.
  explicit AdminServer(Server* server);
  ~AdminServer();

  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds "HOST:PORT"; an error here stops the daemon's start-up.
  Status Listen(const std::string& address);
  void Start();
  // Ends the admin loop and joins its thread. The object (and its executor,
  // which late cache completions may still post to) lives on until
  // destroyed, after the cache.
  void Stop();

 private:
  static void OnRequest(evhttp_request* req, void* arg);
  void Handle(evhttp_request* req);
  void HandleReload(evhttp_request* req);
  void HandlePurge(evhttp_request* req, const std::string& query);
  void HandleInflight(evhttp_request* req);
  void HandlePurges(evhttp_request* req);
  // The URL as the cache keys it: remapped like a request when a remap rule
  // matches, otherwise taken as the origin URL it already is.
  std::string CacheUrl(const std::string& url) const;

  Server* server_;
  event_base* base_ = nullptr;
  evhttp* http_ = nullptr;
  std::unique_ptr<LoopExecutor> executor_;
  std::thread thread_;
};

}  // namespace strata
