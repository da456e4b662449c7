// ThreadPool: a fixed set of threads running submitted tasks in FIFO order.
//
// The cache engine's disk I/O runs here, never on an event loop. Submit()
// never blocks: the queue is bounded by the callers (the engine limits how
// many writes are in flight and readers wait for their own completions).
// The destructor runs every task already queued, then joins.
//
// Thread-safety: Submit() may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace strata {

class ThreadPool {
 public:
  explicit ThreadPool(size_t threads);
  ~ThreadPool();

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Submit(std::function<void()> task);

  size_t queued() const;
  size_t size() const { return threads_.size(); }

 private:
  void Run();

  mutable std::mutex mu_;  // guards queue_ and stopping_
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// Where a completion runs: the proxy passes one per event loop, so a cache
// callback lands on the loop that asked; tools and tests run it inline.
class Executor {
 public:
  virtual ~Executor() = default;
  virtual void Post(std::function<void()> fn) = 0;
};

class InlineExecutor : public Executor {
 public:
  void Post(std::function<void()> fn) override { fn(); }
};

}  // namespace strata
