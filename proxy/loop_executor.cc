#include "proxy/loop_executor.h"

namespace strata {

LoopExecutor::LoopExecutor(event_base* base) { wake_ = event_new(base, -1, 0, OnWake, this); }

LoopExecutor::~LoopExecutor() { event_free(wake_); }

void LoopExecutor::Post(std::function<void()> fn) {
  bool first;
  {
    std::lock_guard<std::mutex> lock(mu_);
    first = queue_.empty();
    queue_.push_back(std::move(fn));
  }
  // One activation drains the whole queue; event_active is thread-safe once
  // evthread_use_pthreads() has run.
  if (first) event_active(wake_, EV_TIMEOUT, 0);
}

void LoopExecutor::OnWake(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<LoopExecutor*>(arg);
  {
    std::lock_guard<std::mutex> lock(self->mu_);
    self->running_.swap(self->queue_);
  }
  for (auto& fn : self->running_) fn();
  self->running_.clear();
}

}  // namespace strata
