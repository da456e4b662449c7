#include "proxy/server.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "common/log.h"
#include "proxy/worker.h"

namespace strata {
namespace {

Status MakeDirectories(const std::string& path) {
  std::string partial;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || (path[i] == '/' && i > 0)) {
      partial = path.substr(0, i);
      if (mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
        return Status::IOError("cannot create directory " + partial + ": " + strerror(errno));
      }
    }
  }
  return Status::OK();
}

void OnStopSignal(evutil_socket_t signal_number, short, void* arg) {
  auto* base = static_cast<event_base*>(arg);
  LOG_INFO("received signal %d: stopping (in-flight transactions may finish)", static_cast<int>(signal_number));
  event_base_loopexit(base, nullptr);
}

}  // namespace

Server::Server(std::shared_ptr<const Config> config) : config_(std::move(config)) {}

Server::~Server() = default;

Status Server::Start() {
  const Settings& settings = config_->settings;
  if (settings.listen.empty()) {
    return Status::InvalidArgument(
        "nothing to listen on: set server.listen in records.yaml or pass --listen ADDR:PORT");
  }
  evthread_use_pthreads();
  signal(SIGPIPE, SIG_IGN);

  LogLevel level = LogLevel::kInfo;
  ParseLogLevel(settings.error_log_level, &level);
  SetLogLevel(level);
  Status status = OpenErrorLog(settings.error_log_path);
  if (!status.ok()) return status;

  if (settings.access_log_enabled) {
    std::string path = settings.access_log_path;
    if (path.empty()) {
      std::string dir = settings.log_dir.empty() ? std::string(STRATA_LOGDIR) : settings.log_dir;
      status = MakeDirectories(dir);
      if (!status.ok()) return status;
      path = dir + "/access.log";
    }
    status = access_log_.Open(path);
    if (!status.ok()) return status;
  }

  int threads = settings.threads > 0 ? settings.threads : static_cast<int>(std::thread::hardware_concurrency());
  if (threads <= 0) threads = 1;
  for (int i = 0; i < threads; ++i) {
    auto worker = std::make_unique<Worker>(i, config_, &access_log_);
    status = worker->Listen(settings.listen);
    if (!status.ok()) return status;
    workers_.push_back(std::move(worker));
  }
  for (auto& worker : workers_) worker->Start();
  std::string addresses;
  for (const std::string& address : settings.listen) addresses += (addresses.empty() ? "" : ", ") + address;
  LOG_INFO("strata %s listening on %s with %d worker thread(s), %zu remap rule(s)", STRATA_VERSION, addresses.c_str(),
           threads, config_->remap.size());
  return Status::OK();
}

int Server::Run() {
  // Signals are handled by this thread alone; workers block them.
  event_base* base = event_base_new();
  event* term = evsignal_new(base, SIGTERM, OnStopSignal, base);
  event* intr = evsignal_new(base, SIGINT, OnStopSignal, base);
  event_add(term, nullptr);
  event_add(intr, nullptr);
  event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
  for (auto& worker : workers_) worker->BeginShutdown();
  for (auto& worker : workers_) worker->Join();
  workers_.clear();
  event_free(term);
  event_free(intr);
  event_base_free(base);
  LOG_INFO("stopped");
  return 0;
}

}  // namespace strata
