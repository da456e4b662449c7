#include "common/fault_env.h"

#include <utility>

namespace strata {

// A file of the wrapped Env whose reads and writes ask the FaultInjectionEnv
// first.
class FaultInjectionEnv::File : public RandomRWFile {
 public:
  File(FaultInjectionEnv* env, std::unique_ptr<RandomRWFile> base) : env_(env), base_(std::move(base)) {}

  Status Read(uint64_t offset, size_t n, char* scratch) const override {
    Status s = env_->BeforeRead(base_->path());
    if (!s.ok()) return s;
    return base_->Read(offset, n, scratch);
  }

  Status Write(uint64_t offset, const char* data, size_t n) override {
    Status s = env_->BeforeWrite(base_->path());
    if (!s.ok()) return s;
    return base_->Write(offset, data, n);
  }

  Status Sync() override {
    env_->AfterSync();
    return base_->Sync();
  }

  Status Size(uint64_t* size) const override { return base_->Size(size); }
  const std::string& path() const override { return base_->path(); }

 private:
  FaultInjectionEnv* const env_;
  std::unique_ptr<RandomRWFile> base_;
};

FaultInjectionEnv::FaultInjectionEnv(Env* base) : base_(base) {}

FaultInjectionEnv::~FaultInjectionEnv() = default;

void FaultInjectionEnv::FailWrites(const FaultSpec& spec) {
  std::lock_guard<std::mutex> lock(mu_);
  write_fault_ = Fault{true, spec, 0};
}

void FaultInjectionEnv::FailReads(const FaultSpec& spec) {
  std::lock_guard<std::mutex> lock(mu_);
  read_fault_ = Fault{true, spec, 0};
}

void FaultInjectionEnv::ClearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  read_fault_ = Fault{};
  write_fault_ = Fault{};
}

void FaultInjectionEnv::CloseWriteGate(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  gate_closed_ = true;
  gate_path_ = path;
}

void FaultInjectionEnv::OpenWriteGate() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    gate_closed_ = false;
  }
  changed_.notify_all();
}

size_t FaultInjectionEnv::blocked_writes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return blocked_;
}

bool FaultInjectionEnv::WaitForBlockedWrites(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return blocked_ >= n; });
}

FaultInjectionEnv::Counts FaultInjectionEnv::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

Status FaultInjectionEnv::OpenRandomRWFile(const std::string& path, const OpenOptions& options,
                                           std::unique_ptr<RandomRWFile>* out) {
  std::unique_ptr<RandomRWFile> file;
  Status s = base_->OpenRandomRWFile(path, options, &file);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_.opens;
  }
  out->reset(new File(this, std::move(file)));
  return Status::OK();
}

bool FaultInjectionEnv::TakeFaultLocked(Fault* fault, const std::string& path) {
  if (!fault->active) return false;
  if (!fault->spec.path.empty() && fault->spec.path != path) return false;
  if (fault->spec.after > 0) {
    --fault->spec.after;
    return false;
  }
  if (fault->failed >= fault->spec.times) return false;
  ++fault->failed;
  return true;
}

Status FaultInjectionEnv::BeforeRead(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_.reads;
  if (!TakeFaultLocked(&read_fault_, path)) return Status::OK();
  ++counts_.failed_reads;
  return Status::IOError("injected read error on " + path);
}

Status FaultInjectionEnv::BeforeWrite(const std::string& path) {
  std::unique_lock<std::mutex> lock(mu_);
  auto held = [&] { return gate_closed_ && (gate_path_.empty() || gate_path_ == path); };
  if (held()) {
    ++counts_.gated_writes;
    ++blocked_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return !held(); });
    --blocked_;
  }
  ++counts_.writes;
  if (!TakeFaultLocked(&write_fault_, path)) return Status::OK();
  ++counts_.failed_writes;
  return Status::IOError("injected write error on " + path);
}

void FaultInjectionEnv::AfterSync() {
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_.syncs;
}

}  // namespace strata
