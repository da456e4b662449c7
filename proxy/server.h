// Server: the daemon's top level. It opens the logs and the cache, creates the worker
// threads with their listeners, and turns SIGTERM/SIGINT into a graceful
// shutdown: workers stop accepting, finish in-flight transactions within
// server.shutdown_grace, and Run() returns when every worker has stopped.
//
// Thread-safety: Start() and Run() are called from the main thread only.
#pragma once

#include <memory>
#include <vector>

#include "cache/cache.h"
#include "common/status.h"
#include "proxy/access_log.h"
#include "proxy/config.h"

namespace strata {

class Worker;

class Server {
 public:
  explicit Server(std::shared_ptr<const Config> config);
  ~Server();

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every listener; an error here means nothing was started.
  Status Start();

  // Serves until a stop signal, then drains. Returns the exit code.
  int Run();

 private:
  Status OpenCache();

  std::shared_ptr<const Config> config_;
  AccessLog access_log_;
  // The storage engine, when storage.config or --cache names spans. Opened
  // before the workers start, persisted after they stop.
  std::unique_ptr<Cache> cache_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace strata
