// Server: the daemon's top level. It opens the logs and the cache, creates the worker
// threads with their listeners, and handles the signals on the main thread:
//   SIGTERM, SIGINT  graceful shutdown: workers stop accepting, finish
//                    in-flight transactions within server.shutdown_grace, and
//                    Run() returns when every worker has stopped
//   SIGHUP           Reload()
//   SIGUSR1          ReopenLogs() (after a log rotation tool renamed them)
//
// Reload builds a new Config from the same directory and command line, and
// swaps it in only when it is valid as a whole; an invalid one is rejected
// with its `file:line: problem` lines and the running one keeps serving.
// The new snapshot is posted to every worker, which swaps it in on its own
// thread, so the request path takes no lock and no connection is dropped.
//
// The admin API (proxy/admin_server.h) has a listener and a thread of its
// own, started after the workers and stopped after they have drained (so
// /health answers 503 meanwhile); it reads the accessors below.
//
// Thread-safety: Start() and Run() are called from the main thread only.
// Reload(), ReopenLogs(), config() and the metrics, cache, purges and
// draining accessors may be called from any thread once Start() has
// succeeded (the signal handlers and the admin API both do); reloads are
// serialised.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cache/cache.h"
#include "common/status.h"
#include "proxy/access_log.h"
#include "proxy/config.h"
#include "proxy/metrics.h"
#include "proxy/purge.h"

struct event;
struct event_base;

namespace strata {

class AdminServer;
class Worker;

class Server {
 public:
  // `overrides` are the command line's, applied again on every reload.
  explicit Server(std::shared_ptr<const Config> config, ConfigOverrides overrides = {});
  ~Server();

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every listener; an error here means nothing was started.
  Status Start();

  // Serves until a stop signal, then drains. Returns the exit code.
  int Run();

  // Loads the configuration again and swaps it in when it is valid. On
  // success *report says what was reloaded and names every change that needs
  // a restart (those keep their running values); on failure it holds the
  // `file:line: problem` lines and nothing changed. Both are logged too.
  Status Reload(std::string* report);

  // Reopens the access and error logs under their paths.
  Status ReopenLogs();

  // The running configuration.
  std::shared_ptr<const Config> config() const;

  Metrics& metrics() { return metrics_; }
  Cache* cache() const { return cache_.get(); }
  // Purge-by-prefix records; null without a cache.
  PurgeList* purges() const { return purges_.get(); }
  // True from the stop signal on.
  bool draining() const { return draining_.load(std::memory_order_relaxed); }

 private:
  Status OpenCache();
  void HandleSignals();
  // Process-wide parts of the settings: the error log level, access log rotation.
  void ApplyGlobalSettings(const Settings& settings);

  mutable std::mutex mu_;  // guards config_ and stopping_; serialises Reload()
  std::shared_ptr<const Config> config_;
  const ConfigOverrides overrides_;
  const bool config_dir_existed_;  // a reload must not read a vanished directory as an empty one
  bool stopping_ = false;
  AccessLog access_log_;
  Metrics metrics_;
  // The storage engine, when storage.config or --cache names spans. Opened
  // before the workers start, persisted after they stop.
  std::unique_ptr<Cache> cache_;
  std::unique_ptr<PurgeList> purges_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<AdminServer> admin_;
  std::atomic<bool> draining_{false};
  // The main thread's loop, which only handles signals.
  event_base* signal_base_ = nullptr;
  std::vector<event*> signal_events_;
};

}  // namespace strata
