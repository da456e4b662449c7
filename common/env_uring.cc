// The io_uring Env (Env::IoUring(), cache.io_engine=io_uring): the cache
// engine's disk I/O through io_uring instead of pread/pwrite/fdatasync. Files
// are opened, sized and closed by the POSIX code (env_posix.h); only Read,
// Write and Sync differ: each becomes one IORING_OP_READ / IORING_OP_WRITE /
// IORING_OP_FSYNC (IORING_FSYNC_DATASYNC) submission, and the calling thread
// waits for its completion. A short transfer is resubmitted for the rest,
// -EINTR and -EAGAIN are retried, other errors are IOError with strerror.
//
// Rings: one per calling thread (thread_local), created on first use and
// closed when the thread exits. A thread has at most one operation in flight,
// so a ring is never shared and needs no lock. If a submission fails in a way
// that may leave it queued, the ring is torn down (so a stale request can
// never run later against a freed buffer) and the next call makes a new one.
//
// Thread-safety: as for every Env: the Env and its files may be used from any
// number of threads at once.
//
// The honest limit: the engine's I/O threads still issue one operation at a
// time each (submit, then wait), so this swaps the syscall path, not the
// concurrency model; parallelism is still cache.io_threads. Batching
// submissions (the aggregation writer's writes, a fragment table's reads) and
// completing them asynchronously is future work, and where io_uring would
// really pay off.
#include <liburing.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "common/env_posix.h"

namespace strata {
namespace {

constexpr unsigned kRingEntries = 64;
// Largest transfer per submission (the SQE's length is 32 bits, and Linux
// caps one read or write at just under 2 GiB anyway).
constexpr size_t kMaxChunk = size_t{1} << 30;

class ThreadRing {
 public:
  ~ThreadRing() { Close(); }

  // The ring, created on first use; nullptr (with *status) if it cannot be.
  io_uring* Get(Status* status) {
    if (ready_) return &ring_;
    int r = io_uring_queue_init(kRingEntries, &ring_, 0);
    if (r < 0) {
      *status = Status::IOError(std::string("io_uring_queue_init: ") + strerror(-r) +
                                " (the kernel or a seccomp policy does not allow io_uring;"
                                " use cache.io_engine=threads)");
      return nullptr;
    }
    ready_ = true;
    return &ring_;
  }

  void Close() {
    if (ready_) io_uring_queue_exit(&ring_);
    ready_ = false;
  }

 private:
  io_uring ring_{};
  bool ready_ = false;
};

thread_local ThreadRing tls_ring;

enum class Op { kRead, kWrite, kSync };

// Submits one operation on this thread's ring and waits for it: the result is
// the completion's res (bytes transferred, or -errno), or a Status when the
// ring itself failed.
Status SubmitAndWait(Op op, int fd, void* buf, size_t n, uint64_t offset, int* res) {
  Status status;
  io_uring* ring = tls_ring.Get(&status);
  if (ring == nullptr) return status;
  io_uring_sqe* sqe = io_uring_get_sqe(ring);
  if (sqe == nullptr) {
    // Only if an earlier request was left queued; never with one at a time.
    tls_ring.Close();
    return Status::IOError("io_uring: submission queue full");
  }
  switch (op) {
    case Op::kRead:
      io_uring_prep_read(sqe, fd, buf, static_cast<unsigned>(n), offset);
      break;
    case Op::kWrite:
      io_uring_prep_write(sqe, fd, buf, static_cast<unsigned>(n), offset);
      break;
    case Op::kSync:
      io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
      break;
  }
  int r;
  do {
    r = io_uring_submit_and_wait(ring, 1);
  } while (r == -EINTR || r == -EAGAIN || r == -EBUSY);
  if (r < 0) {
    tls_ring.Close();  // the request may still be queued: never let it run later
    return Status::IOError(std::string("io_uring_enter: ") + strerror(-r));
  }
  // The request is in the kernel now; its completion must be reaped before
  // the buffer may go, so waiting is retried for as long as it is interrupted.
  io_uring_cqe* cqe = nullptr;
  do {
    r = io_uring_wait_cqe(ring, &cqe);
  } while (r == -EINTR || r == -EAGAIN);
  if (r < 0) {
    tls_ring.Close();
    return Status::IOError(std::string("io_uring_wait_cqe: ") + strerror(-r));
  }
  *res = cqe->res;
  io_uring_cqe_seen(ring, cqe);
  return Status::OK();
}

class UringRandomRWFile : public PosixRandomRWFile {
 public:
  using PosixRandomRWFile::PosixRandomRWFile;

  Status Read(uint64_t offset, size_t n, char* scratch) const override {
    size_t done = 0;
    while (done < n) {
      int res = 0;
      Status s = SubmitAndWait(Op::kRead, fd(), scratch + done, std::min(n - done, kMaxChunk), offset + done, &res);
      if (!s.ok()) return Status::IOError("read " + path() + ": " + s.message());
      if (res == -EINTR || res == -EAGAIN) continue;
      if (res < 0) return PosixErrorStatus("read", path(), -res);
      if (res == 0) return Status::IOError("short read from " + path() + " at offset " + std::to_string(offset + done));
      done += static_cast<size_t>(res);
    }
    return Status::OK();
  }

  Status Write(uint64_t offset, const char* data, size_t n) override {
    size_t done = 0;
    while (done < n) {
      int res = 0;
      // IORING_OP_WRITE does not write through the pointer; the cast is for
      // the shared submission helper only.
      Status s = SubmitAndWait(Op::kWrite, fd(), const_cast<char*>(data + done), std::min(n - done, kMaxChunk),
                               offset + done, &res);
      if (!s.ok()) return Status::IOError("write " + path() + ": " + s.message());
      if (res == -EINTR || res == -EAGAIN) continue;
      if (res < 0) return PosixErrorStatus("write", path(), -res);
      if (res == 0)
        return Status::IOError("write " + path() + ": no progress at offset " + std::to_string(offset + done));
      done += static_cast<size_t>(res);
    }
    return Status::OK();
  }

  Status Sync() override {
    for (;;) {
      int res = 0;
      Status s = SubmitAndWait(Op::kSync, fd(), nullptr, 0, 0, &res);
      if (!s.ok()) return Status::IOError("sync " + path() + ": " + s.message());
      if (res == -EINTR || res == -EAGAIN) continue;
      if (res < 0) return PosixErrorStatus("sync", path(), -res);
      return Status::OK();
    }
  }
};

class UringEnv : public PosixEnv {
 protected:
  std::unique_ptr<RandomRWFile> NewFile(const std::string& path, int fd) override {
    return std::make_unique<UringRandomRWFile>(path, fd);
  }
};

}  // namespace

Env* Env::IoUring(Status* status) {
  // Creating this thread's ring proves io_uring works here; other threads
  // create theirs on first use (and report the same error if they cannot).
  Status s;
  if (tls_ring.Get(&s) == nullptr) {
    *status = s;
    return nullptr;
  }
  static UringEnv env;
  *status = Status::OK();
  return &env;
}

}  // namespace strata
