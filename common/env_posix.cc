#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/env.h"

namespace strata {
namespace {

Status ErrnoStatus(const std::string& what, const std::string& path, int err) {
  return Status::IOError(what + " " + path + ": " + strerror(err));
}

class PosixRandomRWFile : public RandomRWFile {
 public:
  PosixRandomRWFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixRandomRWFile() override { close(fd_); }

  Status Read(uint64_t offset, size_t n, char* scratch) const override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = pread(fd_, scratch + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("read", path_, errno);
      }
      if (r == 0) return Status::IOError("short read from " + path_ + " at offset " + std::to_string(offset + done));
      done += static_cast<size_t>(r);
    }
    return Status::OK();
  }

  Status Write(uint64_t offset, const char* data, size_t n) override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = pwrite(fd_, data + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write", path_, errno);
      }
      done += static_cast<size_t>(r);
    }
    return Status::OK();
  }

  Status Sync() override {
    if (fdatasync(fd_) != 0) return ErrnoStatus("sync", path_, errno);
    return Status::OK();
  }

  Status Size(uint64_t* size) const override {
    struct stat st;
    if (fstat(fd_, &st) != 0) return ErrnoStatus("stat", path_, errno);
    if (S_ISBLK(st.st_mode)) {
      uint64_t bytes = 0;
      if (ioctl(fd_, BLKGETSIZE64, &bytes) != 0) return ErrnoStatus("size of", path_, errno);
      *size = bytes;
      return Status::OK();
    }
    *size = static_cast<uint64_t>(st.st_size);
    return Status::OK();
  }

  const std::string& path() const override { return path_; }

 private:
  std::string path_;
  int fd_;
};

class PosixEnv : public Env {
 public:
  Status OpenRandomRWFile(const std::string& path, const OpenOptions& options,
                          std::unique_ptr<RandomRWFile>* out) override {
    int flags = (options.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
    if (options.create_size > 0 && !options.read_only) flags |= O_CREAT;
    int fd = open(path.c_str(), flags, 0644);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    struct stat st;
    if (fstat(fd, &st) != 0) {
      int err = errno;
      close(fd);
      return ErrnoStatus("stat", path, err);
    }
    if (S_ISREG(st.st_mode) && !options.read_only && options.extend && options.create_size > 0 &&
        static_cast<uint64_t>(st.st_size) < options.create_size) {
      if (ftruncate(fd, static_cast<off_t>(options.create_size)) != 0) {
        int err = errno;
        close(fd);
        return ErrnoStatus("size", path, err);
      }
    }
    out->reset(new PosixRandomRWFile(path, fd));
    return Status::OK();
  }

  bool FileExists(const std::string& path) override { return access(path.c_str(), F_OK) == 0; }
};

}  // namespace

Env* Env::Default() {
  static PosixEnv env;
  return &env;
}

}  // namespace strata
