#include "proxy/server.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <thread>

#include "common/log.h"
#include "proxy/admin_server.h"
#include "proxy/cache_options.h"
#include "proxy/reload.h"
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

void OnReloadSignal(evutil_socket_t, short, void* arg) {
  LOG_INFO("received SIGHUP: reloading the configuration");
  std::string report;
  static_cast<Server*>(arg)->Reload(&report);  // logs its outcome
}

void OnReopenSignal(evutil_socket_t, short, void* arg) {
  Status s = static_cast<Server*>(arg)->ReopenLogs();
  if (s.ok()) LOG_INFO("received SIGUSR1: log files reopened");
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return !path.empty() && stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    if (nl > start) lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

}  // namespace

Server::Server(std::shared_ptr<const Config> config, ConfigOverrides overrides)
    : config_(std::move(config)), overrides_(std::move(overrides)), config_dir_existed_(IsDirectory(config_->dir)) {}

Server::~Server() {
  for (event* e : signal_events_) event_free(e);
  if (signal_base_ != nullptr) event_base_free(signal_base_);
}

Status Server::Start() {
  const Settings& settings = config_->settings;
  if (settings.listen.empty()) {
    return Status::InvalidArgument(
        "nothing to listen on: set server.listen in records.yaml or pass --listen ADDR:PORT");
  }
  evthread_use_pthreads();
  signal(SIGPIPE, SIG_IGN);
  // Handlers first: a signal sent as soon as the port accepts (before Run())
  // must wait for the loop, not kill the process or be lost.
  HandleSignals();

  ApplyGlobalSettings(settings);
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

  status = OpenCache();
  if (!status.ok()) return status;

  int threads = settings.threads > 0 ? settings.threads : static_cast<int>(std::thread::hardware_concurrency());
  if (threads <= 0) threads = 1;
  for (int i = 0; i < threads; ++i) {
    auto worker = std::make_unique<Worker>(i, config_, &access_log_, cache_.get(), metrics_.AddWorker(), purges_.get());
    status = worker->Listen(settings.listen);
    if (!status.ok()) return status;
    workers_.push_back(std::move(worker));
  }
  if (!settings.admin_listen.empty()) {
    admin_ = std::make_unique<AdminServer>(this);
    status = admin_->Listen(settings.admin_listen);
    if (!status.ok()) return status;
  }
  for (auto& worker : workers_) worker->Start();
  if (admin_ != nullptr) {
    admin_->Start();
    LOG_INFO("admin API on http://%s/ (ip_allow.yaml method ADMIN)", settings.admin_listen.c_str());
  }
  std::string addresses;
  for (const std::string& address : settings.listen) addresses += (addresses.empty() ? "" : ", ") + address;
  LOG_INFO("strata %s listening on %s with %d worker thread(s), %zu remap rule(s)", STRATA_VERSION, addresses.c_str(),
           threads, config_->remap.size());
  return Status::OK();
}

Status Server::OpenCache() {
  const Settings& settings = config_->settings;
  if (config_->cache_spans.empty()) {
    LOG_INFO("no cache spans configured (storage.config or --cache): proxying without a cache");
    return Status::OK();
  }
  for (const SpanConfig& span : config_->cache_spans) {
    size_t slash = span.path.rfind('/');
    if (slash != std::string::npos && slash > 0) {
      Status s = MakeDirectories(span.path.substr(0, slash));
      if (!s.ok()) return s;
    }
  }
  CacheOptions options;
  Status options_status = CacheOptionsFromConfig(*config_, &options);
  if (!options_status.ok()) return options_status;
  auto started = std::chrono::steady_clock::now();
  Status s = Cache::Open(options, &cache_);
  if (s.kind() == Status::Kind::kIOError) {
    // Every span failed with an I/O error (a dead, full or read-only disk):
    // keep serving from the origins rather than not at all.
    LOG_ERROR("cache: no span could be opened (%s): proxying without a cache", s.message().c_str());
    cache_.reset();
    metrics_.server().spans_failed_without_cache.store(config_->cache_spans.size(), std::memory_order_relaxed);
    return Status::OK();
  }
  if (!s.ok()) return Status::InvalidArgument("cannot open the cache:\n" + s.message());
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  // Purges by prefix persist beside the cache (proxy/purge.h).
  const std::string state_dir = settings.cache_dir.empty() ? std::string(STRATA_CACHEDIR) : settings.cache_dir;
  Status made = MakeDirectories(state_dir);
  if (!made.ok()) LOG_WARNING("%s; purges by prefix will not be saved", made.message().c_str());
  purges_ = std::make_unique<PurgeList>(state_dir + "/purges");
  s = purges_->Load();
  if (!s.ok()) return Status::InvalidArgument("cannot read the purge records:\n" + s.message());
  uint64_t data_bytes = 0;
  std::map<uint32_t, std::pair<int, uint64_t>> volumes;  // volume -> (stripes, data bytes)
  for (size_t i = 0; i < cache_->stripe_count(); ++i) {
    const StripeLayout& layout = cache_->stripe(i).layout();
    data_bytes += layout.data_bytes;
    volumes[layout.volume].first++;
    volumes[layout.volume].second += layout.data_bytes;
  }
  std::string by_volume;
  for (const auto& [volume, use] : volumes) {
    by_volume += (by_volume.empty() ? "" : ", ") + std::string("volume ") + std::to_string(volume) + ": " +
                 std::to_string(use.first) + " stripe(s), " + std::to_string(use.second >> 20) + " MiB";
  }
  LOG_INFO("cache volumes: %s", by_volume.c_str());
  LOG_INFO(
      "cache: %zu span(s), %zu stripe(s), %llu MiB of data area, RAM cache %llu MiB, I/O engine %s (%zu thread(s)), "
      "opened in %lld ms (recovery %.3f s)",
      config_->cache_spans.size(), cache_->stripe_count(), static_cast<unsigned long long>(data_bytes >> 20),
      static_cast<unsigned long long>(settings.cache_ram_size >> 20), settings.cache_io_engine.c_str(),
      options.io_threads, static_cast<long long>(took.count()), cache_->stats().recovery_seconds);
  return Status::OK();
}

void Server::ApplyGlobalSettings(const Settings& settings) {
  LogLevel level = LogLevel::kInfo;
  ParseLogLevel(settings.error_log_level, &level);
  SetLogLevel(level);
  access_log_.SetRotation(settings.access_log_max_size, settings.access_log_keep);
}

std::shared_ptr<const Config> Server::config() const {
  std::lock_guard<std::mutex> lock(mu_);
  return config_;
}

Status Server::Reload(std::string* report) {
  std::lock_guard<std::mutex> lock(mu_);
  report->clear();
  if (stopping_) {
    *report = "shutting down: reload refused";
    LOG_WARNING("%s", report->c_str());
    return Status::InvalidArgument(*report);
  }
  const std::string& dir = config_->dir;
  auto fresh = std::make_shared<Config>();
  Status status = Status::OK();
  if (config_dir_existed_ && !IsDirectory(dir)) {
    // LoadConfig reads a missing directory as an empty one (no rules at all).
    status = Status::InvalidArgument(dir + ": no such config directory");
  } else {
    status = LoadConfig(dir, overrides_, fresh.get());
  }
  if (!status.ok()) {
    *report = status.message();
    metrics_.server().config_reload_failures.fetch_add(1, std::memory_order_relaxed);
    for (const std::string& line : Lines(*report)) LOG_ERROR("reload: %s", line.c_str());
    LOG_ERROR("reload rejected: the running configuration keeps serving");
    return status;
  }
  const std::vector<std::string> kept = KeepRestartOnlyParts(*config_, fresh.get());
  std::shared_ptr<const Config> snapshot = std::move(fresh);
  config_ = snapshot;
  ApplyGlobalSettings(snapshot->settings);
  for (auto& worker : workers_) worker->UpdateConfig(snapshot);
  metrics_.server().config_reloads.fetch_add(1, std::memory_order_relaxed);
  *report = "configuration reloaded from " + (dir.empty() ? std::string("the command line") : dir) + ": " +
            std::to_string(snapshot->remap.size()) + " remap rule(s)";
  LOG_INFO("%s", report->c_str());
  for (const std::string& line : kept) {
    LOG_WARNING("reload: %s", line.c_str());
    *report += "\n" + line;
  }
  return Status::OK();
}

Status Server::ReopenLogs() {
  Status access = access_log_.Reopen();
  if (!access.ok()) LOG_ERROR("%s", access.message().c_str());
  Status error = ReopenErrorLog();
  if (!error.ok()) LOG_ERROR("%s", error.message().c_str());
  return access.ok() ? error : access;
}

void Server::HandleSignals() {
  if (signal_base_ != nullptr) return;
  signal_base_ = event_base_new();
  signal_events_ = {evsignal_new(signal_base_, SIGTERM, OnStopSignal, signal_base_),
                    evsignal_new(signal_base_, SIGINT, OnStopSignal, signal_base_),
                    evsignal_new(signal_base_, SIGHUP, OnReloadSignal, this),
                    evsignal_new(signal_base_, SIGUSR1, OnReopenSignal, this)};
  for (event* e : signal_events_) event_add(e, nullptr);
}

int Server::Run() {
  // Signals are handled on this thread: libevent's handler, whichever thread
  // it interrupts, only wakes this loop.
  HandleSignals();
  event_base_loop(signal_base_, EVLOOP_NO_EXIT_ON_EMPTY);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;  // no reload from the admin API while the workers go
  }
  draining_.store(true, std::memory_order_relaxed);  // /health says so while workers drain
  for (auto& worker : workers_) worker->BeginShutdown();
  for (auto& worker : workers_) worker->Join();
  if (admin_ != nullptr) admin_->Stop();
  // Order matters: transactions end (releasing cache writes), then the cache
  // closes (its I/O threads post their last completions to the workers' and
  // the admin's executors, which still exist), then the workers go.
  for (auto& worker : workers_) worker->DestroySessions();
  if (cache_ != nullptr) {
    cache_.reset();  // writes every stripe's directory: a restart finds the objects
    LOG_INFO("cache saved");
  }
  admin_.reset();
  workers_.clear();
  LOG_INFO("stopped");
  return 0;
}

}  // namespace strata
