// FaultInjectionEnv: an Env for tests that wraps another Env (by default
// Env::Default()) and, on request, makes the files it opens misbehave: reads
// or writes fail with IOError, writes block behind a gate, and every call is
// counted. Modelled on LevelDB's fault_injection_test Env; the crash tests
// build on it, so the knobs are general rather than tailored to one test.
//
// Knobs (each may be changed at any time, from any thread; a call in
// progress sees the setting of the moment it started):
//
//  - FailWrites(spec) / FailReads(spec): from now on, Write (resp. Read)
//    calls that match spec.path (empty = every file) return IOError without
//    touching the underlying file. spec.after lets that many more matching
//    calls succeed first ("fail after N more successful calls"); spec.times
//    bounds how many calls then fail (default: all of them, until cleared),
//    after which matching calls succeed again. A new FailWrites replaces the
//    previous write fault (likewise for reads).
//  - ClearFaults(): no more injected read or write errors.
//  - CloseWriteGate(path) / OpenWriteGate(): while the gate is closed, Write
//    calls on matching files (empty path = every file) block before doing
//    anything, until the gate opens; then they proceed (and may still fail
//    if a write fault is set). WaitForBlockedWrites() lets a test wait,
//    without sleeping, until a given number of writes are held at the gate,
//    which makes back-pressure tests deterministic.
//  - counts(): calls made through this Env's files (reads, writes, syncs),
//    how many of them were failed on purpose, and opens.
//
// Sync and Size are passed through (counted, never failed). Open failures
// are not injected: pass a path that cannot be opened for that.
//
// Ownership: files opened through this Env point back to it, so the Env must
// outlive them (and the Cache using it). Destroying the Env with writes held
// at the gate is a bug in the test: open the gate first.
//
// Thread-safety: every method, and every method of the files, may be called
// from any thread; one mutex guards the settings and counters and is never
// held across a call into the wrapped Env.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <string>

#include "common/env.h"

namespace strata {

class FaultInjectionEnv : public Env {
 public:
  // Which calls fail; see FailWrites above.
  struct FaultSpec {
    std::string path;  // the file's path as opened; empty = every file
    uint64_t after = 0;
    uint64_t times = std::numeric_limits<uint64_t>::max();
  };

  struct Counts {
    uint64_t opens = 0;
    uint64_t reads = 0;
    uint64_t writes = 0;  // calls that returned (blocked ones are not counted until they do)
    uint64_t syncs = 0;
    uint64_t failed_reads = 0;  // injected errors only
    uint64_t failed_writes = 0;
    uint64_t gated_writes = 0;  // writes that had to wait at the gate
  };

  explicit FaultInjectionEnv(Env* base = Env::Default());
  ~FaultInjectionEnv() override;

  FaultInjectionEnv(const FaultInjectionEnv&) = delete;
  FaultInjectionEnv& operator=(const FaultInjectionEnv&) = delete;

  void FailWrites(const FaultSpec& spec);
  void FailReads(const FaultSpec& spec);
  void ClearFaults();

  void CloseWriteGate(const std::string& path = "");
  void OpenWriteGate();
  // Number of writes held at the gate right now.
  size_t blocked_writes() const;
  // Waits until at least n writes are held at the gate; false on timeout.
  bool WaitForBlockedWrites(size_t n, std::chrono::milliseconds timeout) const;

  Counts counts() const;

  Status OpenRandomRWFile(const std::string& path, const OpenOptions& options,
                          std::unique_ptr<RandomRWFile>* out) override;
  bool FileExists(const std::string& path) override { return base_->FileExists(path); }

 private:
  class File;
  struct Fault {
    bool active = false;
    FaultSpec spec;
    uint64_t failed = 0;  // calls failed under this spec
  };

  // Called by File; the Status is OK to go ahead, IOError to fail the call.
  Status BeforeRead(const std::string& path);
  Status BeforeWrite(const std::string& path);
  void AfterSync();
  // Under mu_: whether this call fails under *fault (and consumes it).
  static bool TakeFaultLocked(Fault* fault, const std::string& path);

  Env* const base_;
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;  // gate opened or a writer arrived
  Fault read_fault_;
  Fault write_fault_;
  bool gate_closed_ = false;
  std::string gate_path_;
  size_t blocked_ = 0;
  Counts counts_;
};

}  // namespace strata
