#include "cache/stripe.h"

#include <algorithm>
#include <cstring>
#include <random>

#include "cache/doc.h"
#include "common/coding.h"
#include "common/log.h"

namespace strata {
Stripe::Stripe(uint32_t id, RandomRWFile* file, const StripeLayout& layout, const StripeHeader& header,
               std::unique_ptr<Directory> directory, ThreadPool* io, RamCache* ram, const StripeOptions& options,
               size_t open_dir_buffer_bytes, std::shared_ptr<SpanHealth> health)
    : id_(id),
      file_(file),
      health_(std::move(health)),
      layout_(layout),
      header_(header),
      dir_(std::move(directory)),
      io_(io),
      ram_(ram),
      open_dir_(open_dir_buffer_bytes),
      options_(options) {
  // A stripe must hold several buffers, or the write position would lap a
  // buffer still being written.
  uint64_t cap = std::min<uint64_t>(options.agg_buffer_bytes, layout.data_bytes / 4);
  agg_capacity_ = std::max<uint64_t>(4 * kBlockBytes, cap / kBlockBytes * kBlockBytes);
  cursor_blocks_ = std::min<uint64_t>(header.write_pos, layout.data_blocks());
  phase_ = header.phase != 0;
  serial_ = header.write_serial;
  // The chain's epoch only has to differ from every earlier open's.
  std::random_device random;
  do {
    epoch_ = (uint64_t{random()} << 32) | random();
  } while (epoch_ == 0);
}

Stripe::~Stripe() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!buffers_.empty() && !buffers_.back()->sealed) {
    if (buffers_.back()->empty()) {
      buffers_.pop_back();
    } else {
      SealLocked();
    }
  }
  written_.wait(lock, [this] { return writes_in_flight_ == 0; });
}

uint64_t Stripe::NextSerial() {
  std::lock_guard<std::mutex> lock(mu_);
  return ++serial_;
}

void Stripe::TakeOffline(const Status& why) const {
  if (!health_->offline.exchange(true)) {
    LOG_ERROR(
        "span %s is OFFLINE after an I/O error (%s): its objects are misses and nothing more is written to it "
        "until a restart",
        health_->path.c_str(), why.ToString().c_str());
  }
}

Status Stripe::ReserveLocked(std::unique_lock<std::mutex>& lock, uint64_t bytes, WaitMode wait) {
  for (;;) {
    if (offline()) return Status::IOError("span " + health_->path + " is offline");
    AggBuffer* open = (!buffers_.empty() && !buffers_.back()->sealed) ? buffers_.back().get() : nullptr;
    if (open != nullptr) {
      // Room for the Doc and for its record in the journal.
      uint64_t need = open->used + bytes + JournalBytes(open->records.size() + (bytes > 0 ? 1 : 0));
      if (need <= agg_capacity_ && open->start_blocks * kBlockBytes + need <= layout_.data_bytes) return Status::OK();
      SealLocked();
    }
    if (writes_in_flight_ >= options_.max_writes_in_flight) {
      if (wait == WaitMode::kFail) {
        ++stats_.write_refusals;
        return Status::Busy("stripe " + std::to_string(id_) + ": disk writes are behind");
      }
      written_.wait(lock, [this] { return writes_in_flight_ < options_.max_writes_in_flight; });
      continue;
    }
    // Place a new buffer at the cursor; wrap when the Doc does not fit
    // before the end of the data area.
    if (cursor_blocks_ * kBlockBytes + kAggHeaderBytes + bytes + JournalBytes(1) > layout_.data_bytes) {
      phase_ = !phase_;
      ++pass_;
      cursor_blocks_ = 0;
      ++stats_.wraps;
      Status s = dir_->SetWritePosition(0, phase_);
      if (!s.ok()) return s;
    }
    uint64_t room = std::min<uint64_t>(agg_capacity_, layout_.data_bytes - cursor_blocks_ * kBlockBytes);
    Status s = dir_->CleanRange(cursor_blocks_, room / kBlockBytes);
    if (!s.ok()) return s;
    auto buffer = std::make_unique<AggBuffer>();
    buffer->start_blocks = cursor_blocks_;
    if (!spare_.empty()) {
      buffer->data = std::move(spare_.back());
      spare_.pop_back();
    } else {
      buffer->data.reset(new char[agg_capacity_]);
    }
    buffers_.push_back(std::move(buffer));
  }
}

Status Stripe::Append(const CacheKey& key, std::string_view doc, bool head, WaitMode wait, DirEntry* entry,
                      bool pinned) {
  if (options_.read_only) return Status::InvalidArgument("the cache was opened read-only");
  if (doc.empty() || doc.size() % kBlockBytes != 0 || doc.size() > max_doc_bytes()) {
    return Status::InvalidArgument("Doc of " + std::to_string(doc.size()) + " bytes does not fit stripe " +
                                   std::to_string(id_));
  }
  std::unique_lock<std::mutex> lock(mu_);
  Status s = ReserveLocked(lock, doc.size(), wait);
  if (!s.ok()) return s;
  AggBuffer* buffer = buffers_.back().get();
  uint64_t offset_blocks = buffer->start_blocks + buffer->used / kBlockBytes;
  memcpy(buffer->data.get() + buffer->used, doc.data(), doc.size());
  if (buffer->used == kAggHeaderBytes) buffer->first_append = std::chrono::steady_clock::now();
  buffer->used += doc.size();
  cursor_blocks_ = offset_blocks + doc.size() / kBlockBytes;
  s = dir_->SetWritePosition(cursor_blocks_, phase_);
  if (!s.ok()) return s;
  DirLocation location;
  location.offset_blocks = offset_blocks;
  location.size_bytes = doc.size();
  location.head = head;
  location.pinned = pinned;
  DirEntry inserted;
  s = dir_->Insert(key, location, &inserted);
  if (!s.ok()) return s;
  buffer->entries.emplace_back(key, inserted);
  JournalRecord record;
  record.op = JournalRecord::kInsert;
  record.head = head;
  record.pinned = pinned;
  record.size_bytes = static_cast<uint32_t>(doc.size());
  record.offset_blocks = offset_blocks;
  record.key = key;
  buffer->records.push_back(record);
  ++changes_;
  stats_.bytes_appended += doc.size();
  if (entry != nullptr) *entry = inserted;
  if (buffer->used + JournalBytes(buffer->records.size() + 1) + kBlockBytes > agg_capacity_) SealLocked();
  return Status::OK();
}

uint64_t Stripe::MaxJournalRecords(const AggBuffer& buffer) const {
  uint64_t end = std::min<uint64_t>(agg_capacity_, layout_.data_bytes - buffer.start_blocks * kBlockBytes);
  return (end - buffer.used) / kJournalRecordBytes;
}

void Stripe::SealLocked() {
  AggBuffer* buffer = buffers_.back().get();
  // The removes made since the last seal ride in this buffer's journal, as
  // many as fit; the rest wait for the next one.
  uint64_t room = MaxJournalRecords(*buffer) - buffer->records.size();
  size_t take = static_cast<size_t>(std::min<uint64_t>(room, pending_removes_.size()));
  buffer->records.insert(buffer->records.end(), pending_removes_.begin(), pending_removes_.begin() + take);
  pending_removes_.erase(pending_removes_.begin(), pending_removes_.begin() + take);
  removes_since_ = std::chrono::steady_clock::now();

  AggHeader header;
  header.stripe_nonce = header_.nonce;
  header.self = {epoch_, next_seq_++};
  header.prev = chain_;
  header.start_blocks = buffer->start_blocks;
  header.phase = phase_ ? 1 : 0;
  header.journal_offset = static_cast<uint32_t>(buffer->used);
  header.journal_records = static_cast<uint32_t>(buffer->records.size());
  char* journal = buffer->data.get() + buffer->used;
  size_t journal_bytes = JournalBytes(buffer->records.size());
  memset(journal, 0, journal_bytes);
  for (size_t i = 0; i < buffer->records.size(); ++i) {
    EncodeJournalRecord(buffer->records[i], journal + i * kJournalRecordBytes);
  }
  header.journal_crc = Crc32(journal, buffer->records.size() * kJournalRecordBytes);
  buffer->used += journal_bytes;
  header.total_blocks = static_cast<uint32_t>(buffer->used / kBlockBytes);
  header.serial_high = serial_;
  EncodeAggHeader(header, buffer->data.get());
  buffer->link = header.self;
  chain_ = header.self;
  stats_.journal_records += buffer->records.size();
  buffer->records.clear();

  cursor_blocks_ = buffer->start_blocks + header.total_blocks;
  Status s = dir_->SetWritePosition(cursor_blocks_, phase_);
  if (!s.ok()) LOG_ERROR("stripe %u: %s", id_, s.ToString().c_str());  // reservation makes this impossible

  buffer->sealed = true;
  ++writes_in_flight_;
  io_->Submit([this, buffer] { WriteBuffer(buffer); });
}

void Stripe::WriteBuffer(AggBuffer* buffer) {
  Status s = offline() ? Status::IOError("span offline")
                       : file_->Write(layout_.data_offset + buffer->start_blocks * kBlockBytes, buffer->data.get(),
                                      buffer->used);
  if (!s.ok()) TakeOffline(s);
  std::lock_guard<std::mutex> lock(mu_);
  if (!s.ok()) {
    // The Docs never reached the disk: their entries must not outlive the
    // buffer that still answers for them.
    ++stats_.write_errors;
    for (auto& [key, entry] : buffer->entries) dir_->Remove(key, entry);
  }
  ++stats_.agg_writes;
  stats_.agg_bytes += buffer->used;
  for (auto it = buffers_.begin(); it != buffers_.end(); ++it) {
    if (it->get() == buffer) {
      if (spare_.size() < static_cast<size_t>(options_.max_writes_in_flight)) spare_.push_back(std::move((*it)->data));
      buffers_.erase(it);
      break;
    }
  }
  --writes_in_flight_;
  written_.notify_all();
}

bool Stripe::SealWithRemovesLocked(std::unique_lock<std::mutex>& lock, WaitMode wait) {
  AggBuffer* open = (!buffers_.empty() && !buffers_.back()->sealed) ? buffers_.back().get() : nullptr;
  if (open == nullptr) {
    if (pending_removes_.empty()) return true;
    if (!ReserveLocked(lock, 0, wait).ok()) return false;
    open = buffers_.back().get();
  }
  if (open->empty() && pending_removes_.empty()) {
    buffers_.pop_back();
    return true;
  }
  SealLocked();
  return true;
}

void Stripe::FlushIfDue(std::chrono::steady_clock::time_point now) {
  std::unique_lock<std::mutex> lock(mu_);
  if (offline()) return;
  bool open = !buffers_.empty() && !buffers_.back()->sealed;
  // While a write is in flight the open buffer keeps filling instead: under
  // load, writes stay few and large, and a write slot is not spent on 5 ms
  // of data (the buffer goes when full, or when due with no write running).
  bool data_due = open && writes_in_flight_ == 0 && buffers_.back()->used > kAggHeaderBytes &&
                  now - buffers_.back()->first_append >= options_.flush_delay;
  bool removes_due = !pending_removes_.empty() && now - removes_since_ >= options_.flush_delay;
  if (data_due || removes_due) SealWithRemovesLocked(lock, WaitMode::kFail);
}

Status Stripe::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  // Report the buffers this call waits for, not every write since open: a
  // failed write's Docs were dropped when it failed, and a sticky error
  // would keep Persist from ever saving the directory again.
  const uint64_t errors_before = stats_.write_errors;
  do {
    if (offline() || !SealWithRemovesLocked(lock, WaitMode::kWait)) break;
  } while (!pending_removes_.empty());
  written_.wait(lock, [this] { return writes_in_flight_ == 0; });
  if (offline()) return Status::IOError("span " + health_->path + " is offline");
  return stats_.write_errors == errors_before ? Status::OK()
                                              : Status::IOError("stripe " + std::to_string(id_) + ": write failed");
}

void Stripe::Probe(const CacheKey& key, bool head, std::vector<DirEntry>* out) const {
  if (offline()) {
    out->clear();
    return;
  }
  dir_->Probe(key, out);
  out->erase(std::remove_if(out->begin(), out->end(), [head](const DirEntry& e) { return e.head() != head; }),
             out->end());
}

bool Stripe::CopyFromBuffersLocked(uint64_t offset_blocks, uint64_t bytes, std::string* out) {
  for (const auto& buffer : buffers_) {
    uint64_t start = buffer->start_blocks;
    uint64_t end = start + buffer->used / kBlockBytes;
    if (offset_blocks < start || offset_blocks >= end) continue;
    uint64_t from = (offset_blocks - start) * kBlockBytes;
    uint64_t n = std::min<uint64_t>(bytes, buffer->used - from);
    out->assign(buffer->data.get() + from, n);
    return true;
  }
  return false;
}

Status Stripe::ReadFromDisk(uint64_t offset_blocks, uint64_t bytes, std::string* out) const {
  uint64_t from = offset_blocks * kBlockBytes;
  if (from >= layout_.data_bytes) return Status::NotFound("offset past the data area");
  uint64_t n = std::min<uint64_t>(bytes, layout_.data_bytes - from);
  out->resize(n);
  if (offline()) return Status::IOError("span " + health_->path + " is offline");
  Status s = file_->Read(layout_.data_offset + from, n, out->data());
  if (!s.ok()) TakeOffline(s);
  return s;
}

Status Stripe::ReadDoc(const CacheKey& key, const DirEntry& entry, RamCache::Bytes* doc) {
  CacheKey found;
  return ReadVerified(&key, entry, doc, &found);
}

Status Stripe::ReadDocFromMemory(const CacheKey& key, const DirEntry& entry, RamCache::Bytes* doc) {
  CacheKey found;
  return ReadVerified(&key, entry, doc, &found, /*memory_only=*/true);
}

Status Stripe::ReadDocAt(const DirEntry& entry, RamCache::Bytes* doc, CacheKey* key) {
  return ReadVerified(nullptr, entry, doc, key);
}

Status Stripe::ReadVerified(const CacheKey* expected, const DirEntry& entry, RamCache::Bytes* doc, CacheKey* key,
                            bool memory_only) {
  if (expected != nullptr) {
    RamKey ram_key;
    bool valid;
    {
      std::lock_guard<std::mutex> lock(mu_);
      valid = RamKeyLocked(*expected, entry, &ram_key);
    }
    if (!valid) return Status::NotFound("Doc was overwritten");
    if (RamCache::Bytes cached = ram_->Lookup(ram_key)) {
      *doc = std::move(cached);
      *key = *expected;
      return Status::OK();
    }
  }
  std::string bytes;
  bool from_buffer;
  {
    std::lock_guard<std::mutex> lock(mu_);
    from_buffer = CopyFromBuffersLocked(entry.offset(), entry.approx_size_bytes(), &bytes);
    if (from_buffer) ++stats_.reads_from_buffer;
  }
  if (!from_buffer && memory_only) return Status::Busy("on disk");
  if (!from_buffer) {
    Status s = ReadFromDisk(entry.offset(), entry.approx_size_bytes(), &bytes);
    std::lock_guard<std::mutex> lock(mu_);
    if (!s.ok()) {
      ++stats_.read_errors;
      return s;
    }
    ++stats_.reads_from_disk;
  }
  CacheKey want;
  if (expected != nullptr) {
    want = *expected;
  } else {
    DocHeaderFields header;
    Status s = DecodeDocHeader(bytes.data(), bytes.size(), &header);
    if (!s.ok()) return Status::NotFound("no Doc at this entry");
    want = header.key;
  }
  DocView view;
  Status s = DecodeDoc(bytes.data(), bytes.size(), want, &view);
  if (s.kind() == Status::Kind::kCorruption) {
    // The write position may have passed over the Doc while it was read: that
    // is an overwritten object (a miss), not a damaged one.
    if (!dir_->IsValid(entry)) return Status::NotFound("Doc was overwritten while it was read");
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.crc_failures;
    }
    LOG_WARNING("stripe %u of %s: %s at block %llu; dropping the entry", id_, file_->path().c_str(),
                s.message().c_str(), static_cast<unsigned long long>(entry.offset()));
    if (expected != nullptr) dir_->Remove(want, entry);
    return s;
  }
  if (!s.ok()) return s;
  // The Doc must be of this life of the stripe, and still where the
  // directory says: a read that raced the write position is a miss.
  RamKey ram_key;
  bool valid;
  {
    std::lock_guard<std::mutex> lock(mu_);
    valid = RamKeyLocked(want, entry, &ram_key);
  }
  if (view.header.stripe_nonce != nonce32() || !valid) return Status::NotFound("Doc was overwritten");
  bytes.resize(view.size);
  auto shared = std::make_shared<const std::string>(std::move(bytes));
  ram_->Offer(ram_key, shared);
  *doc = std::move(shared);
  *key = want;
  return Status::OK();
}

Status Stripe::Remove(const CacheKey& key, const DirEntry& entry) {
  RamKey ram_key;
  bool valid;
  {
    std::lock_guard<std::mutex> lock(mu_);
    valid = RamKeyLocked(key, entry, &ram_key);
  }
  // An invalid entry's RAM copy can never be looked up again (see
  // RamKeyLocked); the LRU drops it.
  if (valid) ram_->Erase(ram_key);
  Status s = dir_->Remove(key, entry);
  if (!s.ok() || options_.read_only) return s;
  // Journaled with the next aggregation write, so that a crash does not
  // bring a purged object back.
  JournalRecord record;
  record.op = JournalRecord::kRemove;
  record.head = entry.head();
  record.offset_blocks = entry.offset();
  record.key = key;
  std::lock_guard<std::mutex> lock(mu_);
  if (pending_removes_.empty()) removes_since_ = std::chrono::steady_clock::now();
  pending_removes_.push_back(record);
  ++changes_;
  return s;
}

bool Stripe::RamKeyLocked(const CacheKey& key, const DirEntry& entry, RamKey* out) const {
  // The directory's position moves only under mu_, so validity and phase_
  // agree here. A valid entry is of the current pass or, phase bit
  // differing, of the previous one.
  if (!dir_->IsValid(entry)) return false;
  uint64_t pass = entry.phase() == phase_ ? pass_ : pass_ - 1;
  *out = RamKey{key, id_, pass * layout_.data_blocks() + entry.offset()};
  return true;
}

StripeStats Stripe::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  StripeStats s = stats_;
  s.write_pos_blocks = cursor_blocks_;
  s.phase = phase_;
  s.offline = offline();
  return s;
}

}  // namespace strata
