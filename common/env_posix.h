// The POSIX Env's file and Env classes, shared with the io_uring Env
// (env_uring.cc), which reuses opening, sizing and closing and replaces only
// the data path (Read, Write, Sync). Internal to common/: everything else
// reaches these through Env::Default() / Env::IoUring().
//
// Ownership: a PosixRandomRWFile owns its descriptor and closes it when
// destroyed.
//
// Thread-safety: as for Env (env.h): every method may be called from any
// thread; pread/pwrite at explicit offsets share no state.
#pragma once

#include <memory>
#include <string>

#include "common/env.h"

namespace strata {

// IOError "<what> <path>: <strerror(err)>".
Status PosixErrorStatus(const std::string& what, const std::string& path, int err);

class PosixRandomRWFile : public RandomRWFile {
 public:
  PosixRandomRWFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixRandomRWFile() override;

  PosixRandomRWFile(const PosixRandomRWFile&) = delete;
  PosixRandomRWFile& operator=(const PosixRandomRWFile&) = delete;

  Status Read(uint64_t offset, size_t n, char* scratch) const override;
  Status Write(uint64_t offset, const char* data, size_t n) override;
  Status Sync() override;
  Status Size(uint64_t* size) const override;
  const std::string& path() const override { return path_; }

 protected:
  int fd() const { return fd_; }

 private:
  std::string path_;
  int fd_;
};

class PosixEnv : public Env {
 public:
  Status OpenRandomRWFile(const std::string& path, const OpenOptions& options,
                          std::unique_ptr<RandomRWFile>* out) override;
  bool FileExists(const std::string& path) override;

 protected:
  // Wraps a descriptor that OpenRandomRWFile opened (and sized) for `path`;
  // the file takes ownership of fd.
  virtual std::unique_ptr<RandomRWFile> NewFile(const std::string& path, int fd);
};

}  // namespace strata
