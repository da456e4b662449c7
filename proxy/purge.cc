#include "proxy/purge.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include "proxy/stored_response.h"

namespace strata {
namespace {

constexpr std::string_view kHeader = "# strata purge records 1";

std::string CheckPrefix(std::string_view prefix) {
  if (prefix.empty()) return "empty prefix";
  for (char c : prefix) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return "prefix contains a blank or a control character";
  }
  return "";
}

Status WriteAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::IOError(strerror(errno));
    done += static_cast<size_t>(n);
  }
  return Status::OK();
}

}  // namespace

void PurgeUrl(Cache* cache, const std::string& url, Executor* executor, std::function<void(bool removed)> done) {
  CacheKey key = UrlCacheKey(url);
  cache->LookupAsync(
      key, executor,
      [cache, url, key, executor, done = std::move(done)](Status status, std::shared_ptr<ObjectInfo> info) {
        StoredResponse stored;
        if (status.ok() && DecodeStoredResponse(info->metadata, &stored).ok() && stored.url == url &&
            stored.kind == StoredResponse::Kind::kVariants) {
          // Every alternate of the URL goes with it.
          for (const std::string& variant : stored.variants) {
            cache->RemoveAsync(VariantCacheKey(url, variant), executor, [](Status) {});
          }
        }
        cache->RemoveAsync(key, executor, [done](Status removed) { done(removed.ok()); });
      });
}

Status PurgeList::Load() {
  std::ifstream in(path_);
  if (!in) return Status::OK();  // no purge yet
  std::vector<Record> loaded;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    auto problem = [&](const std::string& what) {
      return Status::InvalidArgument(path_ + ":" + std::to_string(number) + ": " + what);
    };
    size_t space = line.find(' ');
    if (space == std::string::npos) return problem("want '<unix seconds> <url prefix>'");
    Record record;
    auto [end, ec] = std::from_chars(line.data(), line.data() + space, record.time);
    if (ec != std::errc() || end != line.data() + space || record.time < 0) {
      return problem("bad time '" + line.substr(0, space) + "'");
    }
    record.prefix = line.substr(space + 1);
    std::string bad = CheckPrefix(record.prefix);
    if (!bad.empty()) return problem(bad);
    loaded.push_back(std::move(record));
  }
  std::lock_guard<std::mutex> lock(mu_);
  records_ = std::move(loaded);
  record_count_.store(records_.size(), std::memory_order_release);
  return Status::OK();
}

Status PurgeList::Add(std::string_view prefix, int64_t now) {
  std::string bad = CheckPrefix(prefix);
  if (!bad.empty()) return Status::InvalidArgument(bad);
  std::lock_guard<std::mutex> write_lock(write_mu_);
  std::vector<Record> next = records();
  // The new record covers every older one under its prefix.
  std::erase_if(next, [prefix](const Record& r) { return std::string_view(r.prefix).starts_with(prefix); });
  next.push_back({now, std::string(prefix)});
  {
    std::lock_guard<std::mutex> lock(mu_);
    records_ = next;
    record_count_.store(records_.size(), std::memory_order_release);
  }
  return Save(next);
}

bool PurgeList::Purged(std::string_view url, int64_t stored_time) const {
  if (record_count_.load(std::memory_order_acquire) == 0) return false;
  std::lock_guard<std::mutex> lock(mu_);
  for (const Record& r : records_) {
    if (stored_time <= r.time && url.starts_with(r.prefix)) return true;
  }
  return false;
}

std::vector<PurgeList::Record> PurgeList::records() const {
  std::lock_guard<std::mutex> lock(mu_);
  return records_;
}

Status PurgeList::Save(const std::vector<Record>& records) const {
  if (path_.empty()) return Status::OK();
  std::string text = std::string(kHeader) + "\n";
  for (const Record& r : records) text += std::to_string(r.time) + " " + r.prefix + "\n";
  std::string tmp = path_ + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot write " + tmp + ": " + strerror(errno));
  Status s = WriteAll(fd, text);
  if (s.ok() && fsync(fd) != 0) s = Status::IOError(strerror(errno));
  close(fd);
  if (s.ok() && rename(tmp.c_str(), path_.c_str()) != 0) s = Status::IOError(strerror(errno));
  if (!s.ok()) {
    unlink(tmp.c_str());
    return Status::IOError("cannot save " + path_ + ": " + s.message());
  }
  return Status::OK();
}

}  // namespace strata
