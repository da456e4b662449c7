// LoopExecutor: runs functions posted from any thread on one event loop.
//
// The cache engine completes its asynchronous calls on its I/O threads; it
// posts the completion here, and the worker's loop runs it, so transaction
// state is only ever touched by its own loop thread.
//
// Thread-safety: Post() from any thread; the functions run on the loop.
#pragma once

#include <event2/event.h>

#include <functional>
#include <mutex>
#include <vector>

#include "common/thread_pool.h"

namespace strata {

class LoopExecutor : public Executor {
 public:
  explicit LoopExecutor(event_base* base);
  ~LoopExecutor() override;

  LoopExecutor(const LoopExecutor&) = delete;
  LoopExecutor& operator=(const LoopExecutor&) = delete;

  void Post(std::function<void()> fn) override;

 private:
  static void OnWake(evutil_socket_t, short, void* arg);

  event* wake_;
  std::mutex mu_;  // guards queue_
  std::vector<std::function<void()>> queue_;
  std::vector<std::function<void()>> running_;  // loop thread only
};

}  // namespace strata
