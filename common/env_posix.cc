#include "common/env_posix.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace strata {

Status PosixErrorStatus(const std::string& what, const std::string& path, int err) {
  return Status::IOError(what + " " + path + ": " + strerror(err));
}

PosixRandomRWFile::~PosixRandomRWFile() { close(fd_); }

Status PosixRandomRWFile::Read(uint64_t offset, size_t n, char* scratch) const {
  size_t done = 0;
  while (done < n) {
    ssize_t r = pread(fd_, scratch + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return PosixErrorStatus("read", path_, errno);
    }
    if (r == 0) return Status::IOError("short read from " + path_ + " at offset " + std::to_string(offset + done));
    done += static_cast<size_t>(r);
  }
  return Status::OK();
}

Status PosixRandomRWFile::Write(uint64_t offset, const char* data, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = pwrite(fd_, data + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return PosixErrorStatus("write", path_, errno);
    }
    done += static_cast<size_t>(r);
  }
  return Status::OK();
}

Status PosixRandomRWFile::Sync() {
  if (fdatasync(fd_) != 0) return PosixErrorStatus("sync", path_, errno);
  return Status::OK();
}

Status PosixRandomRWFile::Size(uint64_t* size) const {
  struct stat st;
  if (fstat(fd_, &st) != 0) return PosixErrorStatus("stat", path_, errno);
  if (S_ISBLK(st.st_mode)) {
    uint64_t bytes = 0;
    if (ioctl(fd_, BLKGETSIZE64, &bytes) != 0) return PosixErrorStatus("size of", path_, errno);
    *size = bytes;
    return Status::OK();
  }
  *size = static_cast<uint64_t>(st.st_size);
  return Status::OK();
}

Status PosixEnv::OpenRandomRWFile(const std::string& path, const OpenOptions& options,
                                  std::unique_ptr<RandomRWFile>* out) {
  int flags = (options.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
  if (options.create_size > 0 && !options.read_only) flags |= O_CREAT;
  int fd = open(path.c_str(), flags, 0644);
  if (fd < 0) return PosixErrorStatus("open", path, errno);
  if (options.lock && !options.read_only && flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    close(fd);
    if (err == EWOULDBLOCK) {
      return Status::Busy(path +
                          " is in use by another process (a running strata, or strata-cache purge/verify --repair)");
    }
    return PosixErrorStatus("lock", path, err);
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return PosixErrorStatus("stat", path, err);
  }
  if (S_ISREG(st.st_mode) && !options.read_only && options.extend && options.create_size > 0 &&
      static_cast<uint64_t>(st.st_size) < options.create_size) {
    if (ftruncate(fd, static_cast<off_t>(options.create_size)) != 0) {
      int err = errno;
      close(fd);
      return PosixErrorStatus("size", path, err);
    }
  }
  *out = NewFile(path, fd);
  return Status::OK();
}

bool PosixEnv::FileExists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

std::unique_ptr<RandomRWFile> PosixEnv::NewFile(const std::string& path, int fd) {
  return std::make_unique<PosixRandomRWFile>(path, fd);
}

Env* Env::Default() {
  static PosixEnv env;
  return &env;
}

}  // namespace strata
