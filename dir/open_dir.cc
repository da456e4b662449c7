#include "dir/open_dir.h"

#include <algorithm>
#include <cassert>

namespace strata {

OpenObject::OpenObject(const CacheKey& key, size_t max_buffered_bytes) : key_(key), cap_(max_buffered_bytes) {}

OpenObject::State OpenObject::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

uint64_t OpenObject::bytes_written() const {
  std::lock_guard<std::mutex> lock(mu_);
  return written_;
}

size_t OpenObject::follower_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return listeners_.size();
}

OpenObject::ReadResult OpenObject::Read(uint64_t offset, size_t max_bytes, std::string* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ == State::kAborted) return ReadResult::kAborted;
  if (offset >= written_) return state_ == State::kComplete ? ReadResult::kEnd : ReadResult::kWouldBlock;
  if (offset >= buffer_.size()) return ReadResult::kNotBuffered;
  size_t n = std::min<uint64_t>(max_bytes, buffer_.size() - offset);
  out->append(buffer_, offset, n);
  return ReadResult::kData;
}

uint64_t OpenObject::Subscribe(Listener fn) {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t id = next_listener_id_++;
  if (state_ == State::kWriting) listeners_.emplace_back(id, std::make_shared<const Listener>(std::move(fn)));
  return id;
}

void OpenObject::Unsubscribe(uint64_t id) {
  std::unique_lock<std::mutex> lock(mu_);
  std::erase_if(listeners_, [id](const auto& l) { return l.first == id; });
  // The listener may be running on the writer's thread right now; wait for
  // that round to end so the caller may free what the listener touches.
  notified_.wait(lock, [this] { return !notifying_ || notifier_ == std::this_thread::get_id(); });
}

Status OpenObject::Append(std::string_view data) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ != State::kWriting) return Status::InvalidArgument("append to a finished object");
    if (buffer_.size() < cap_) buffer_.append(data.substr(0, cap_ - buffer_.size()));
    written_ += data.size();
  }
  Notify(false);
  return Status::OK();
}

bool OpenObject::Finish(State final_state) {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ != State::kWriting) return false;
  state_ = final_state;
  if (final_state == State::kAborted) std::string().swap(buffer_);  // partial bytes never readable
  return true;
}

void OpenObject::Notify(bool final_call) {
  std::vector<std::shared_ptr<const Listener>> fns;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (listeners_.empty()) return;
    fns.reserve(listeners_.size());
    for (const auto& l : listeners_) fns.push_back(l.second);
    if (final_call) listeners_.clear();
    notifying_ = true;
    notifier_ = std::this_thread::get_id();
  }
  for (const auto& fn : fns) (*fn)();
  {
    std::lock_guard<std::mutex> lock(mu_);
    notifying_ = false;
  }
  notified_.notify_all();
}

WriteLease::~WriteLease() { Release(OpenObject::State::kAborted); }

WriteLease::WriteLease(WriteLease&& other) noexcept
    : dir_(std::exchange(other.dir_, nullptr)), obj_(std::move(other.obj_)) {}

WriteLease& WriteLease::operator=(WriteLease&& other) noexcept {
  if (this != &other) {
    Release(OpenObject::State::kAborted);
    dir_ = std::exchange(other.dir_, nullptr);
    obj_ = std::move(other.obj_);
  }
  return *this;
}

Status WriteLease::Append(std::string_view data) {
  if (!obj_) return Status::InvalidArgument("append through a released lease");
  return obj_->Append(data);
}

Status WriteLease::Complete() {
  if (!obj_) return Status::InvalidArgument("complete through a released lease");
  Release(OpenObject::State::kComplete);
  return Status::OK();
}

void WriteLease::Abort() { Release(OpenObject::State::kAborted); }

// Final state first (so no reader sees the key free and the object still
// writing), then the key, then the listeners, with no lock held across.
void WriteLease::Release(OpenObject::State final_state) {
  if (!obj_) return;
  std::shared_ptr<OpenObject> obj = std::move(obj_);
  OpenDir* dir = std::exchange(dir_, nullptr);
  bool changed = obj->Finish(final_state);
  dir->ReleaseKey(obj.get());
  if (changed) obj->Notify(true);
}

OpenDir::OpenDir(size_t max_buffered_bytes) : max_buffered_(max_buffered_bytes) {}

OpenDir::~OpenDir() { assert(open_.empty() && "an OpenDir must outlive its leases"); }

Status OpenDir::OpenWrite(const CacheKey& key, WriteLease* lease, std::shared_ptr<OpenObject>* in_progress) {
  std::shared_ptr<OpenObject> obj;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, inserted] = open_.try_emplace(key);
    if (!inserted) {
      *in_progress = it->second;
      return Status::Busy("key is being written");
    }
    it->second = std::make_shared<OpenObject>(key, max_buffered_);
    obj = it->second;
  }
  // Assigned outside mu_: releasing the caller's previous lease takes mu_.
  *lease = WriteLease(this, std::move(obj));
  return Status::OK();
}

std::shared_ptr<OpenObject> OpenDir::OpenRead(const CacheKey& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = open_.find(key);
  return it == open_.end() ? nullptr : it->second;
}

size_t OpenDir::open_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_.size();
}

std::vector<std::shared_ptr<OpenObject>> OpenDir::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<OpenObject>> out;
  out.reserve(open_.size());
  for (const auto& [key, object] : open_) out.push_back(object);
  return out;
}

void OpenDir::ReleaseKey(const OpenObject* obj) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = open_.find(obj->key());
  if (it != open_.end() && it->second.get() == obj) open_.erase(it);
}

}  // namespace strata
