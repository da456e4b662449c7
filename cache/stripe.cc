#include "cache/stripe.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "cache/doc.h"
#include "common/coding.h"
#include "common/log.h"

namespace strata {
namespace {

constexpr char kDirCopyMagic[8] = {'S', 'T', 'R', 'P', 'D', 'I', 'R', '1'};
constexpr size_t kDirCopyHeaderUsed = 48;

uint32_t Crc(const char* data, size_t n) {
  return static_cast<uint32_t>(crc32_z(0L, reinterpret_cast<const Bytef*>(data), n));
}

}  // namespace

Stripe::Stripe(uint32_t id, RandomRWFile* file, const StripeLayout& layout, const StripeHeader& header,
               std::unique_ptr<Directory> directory, ThreadPool* io, RamCache* ram, const StripeOptions& options,
               size_t open_dir_buffer_bytes)
    : id_(id),
      file_(file),
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
  agg_capacity_ = std::max<uint64_t>(kBlockBytes, cap / kBlockBytes * kBlockBytes);
  cursor_blocks_ = std::min<uint64_t>(header.write_pos, layout.data_blocks());
  phase_ = header.phase != 0;
  serial_ = header.write_serial;
}

Stripe::~Stripe() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!buffers_.empty() && !buffers_.back()->sealed) SealLocked();
  written_.wait(lock, [this] { return writes_in_flight_ == 0; });
}

uint64_t Stripe::NextSerial() {
  std::lock_guard<std::mutex> lock(mu_);
  return ++serial_;
}

Status Stripe::Load() {
  Status status = LoadDirectory();
  DirPosition position;
  position.write_pos = cursor_blocks_;
  position.clean_end = cursor_blocks_;
  position.phase = phase_;
  if (!status.ok()) {
    if (header_.snapshot_serial != 0) {
      LOG_WARNING("stripe %u of %s: saved directory not usable (%s); starting empty", id_, file_->path().c_str(),
                  status.ToString().c_str());
    }
    std::unique_ptr<Directory> fresh;
    Status s = Directory::Create(layout_.data_bytes, layout_.average_object_bytes, &fresh);
    if (!s.ok()) return s;
    dir_ = std::move(fresh);
  }
  Status s = dir_->RestorePosition(position);
  if (!s.ok()) return s;
  if (header_.snapshot_serial != 0) {
    // From here on the saved directory goes stale; until the next clean close
    // a crash must not bring it back (crash recovery rebuilds instead).
    std::lock_guard<std::mutex> lock(mu_);
    header_.snapshot_serial = 0;
    return WriteStripeHeader(*file_, layout_, &header_);
  }
  return Status::OK();
}

Status Stripe::ReserveLocked(std::unique_lock<std::mutex>& lock, uint64_t bytes, WaitMode wait) {
  for (;;) {
    AggBuffer* open = (!buffers_.empty() && !buffers_.back()->sealed) ? buffers_.back().get() : nullptr;
    if (open != nullptr) {
      uint64_t end = open->start_blocks * kBlockBytes + open->used + bytes;
      if (open->used + bytes <= agg_capacity_ && end <= layout_.data_bytes) return Status::OK();
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
    if (cursor_blocks_ * kBlockBytes + bytes > layout_.data_bytes) {
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
  if (doc.empty() || doc.size() % kBlockBytes != 0 || doc.size() > agg_capacity_) {
    return Status::InvalidArgument("Doc of " + std::to_string(doc.size()) + " bytes does not fit stripe " +
                                   std::to_string(id_));
  }
  std::unique_lock<std::mutex> lock(mu_);
  Status s = ReserveLocked(lock, doc.size(), wait);
  if (!s.ok()) return s;
  AggBuffer* buffer = buffers_.back().get();
  uint64_t offset_blocks = buffer->start_blocks + buffer->used / kBlockBytes;
  memcpy(buffer->data.get() + buffer->used, doc.data(), doc.size());
  if (buffer->used == 0) buffer->first_append = std::chrono::steady_clock::now();
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
  stats_.bytes_appended += doc.size();
  if (entry != nullptr) *entry = inserted;
  if (buffer->used == agg_capacity_) SealLocked();
  return Status::OK();
}

void Stripe::SealLocked() {
  AggBuffer* buffer = buffers_.back().get();
  buffer->sealed = true;
  ++writes_in_flight_;
  io_->Submit([this, buffer] { WriteBuffer(buffer); });
}

void Stripe::WriteBuffer(AggBuffer* buffer) {
  Status s = file_->Write(layout_.data_offset + buffer->start_blocks * kBlockBytes, buffer->data.get(), buffer->used);
  std::lock_guard<std::mutex> lock(mu_);
  if (!s.ok()) {
    // The Docs never reached the disk: their entries must not outlive the
    // buffer that still answers for them.
    LOG_ERROR("stripe %u of %s: %s", id_, file_->path().c_str(), s.ToString().c_str());
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

void Stripe::FlushIfDue(std::chrono::steady_clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (buffers_.empty() || buffers_.back()->sealed || buffers_.back()->used == 0) return;
  if (now - buffers_.back()->first_append >= options_.flush_delay) SealLocked();
}

Status Stripe::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  // Report the buffers this call waits for, not every write since open: a
  // failed write's Docs were dropped when it failed, and a sticky error
  // would keep Persist from ever saving the directory again.
  const uint64_t errors_before = stats_.write_errors;
  if (!buffers_.empty() && !buffers_.back()->sealed) {
    if (buffers_.back()->used == 0) {
      buffers_.pop_back();
    } else {
      SealLocked();
    }
  }
  written_.wait(lock, [this] { return writes_in_flight_ == 0; });
  return stats_.write_errors == errors_before ? Status::OK()
                                              : Status::IOError("stripe " + std::to_string(id_) + ": write failed");
}

void Stripe::Probe(const CacheKey& key, bool head, std::vector<DirEntry>* out) const {
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
  return file_->Read(layout_.data_offset + from, n, out->data());
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
  return dir_->Remove(key, entry);
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
  return s;
}

Status Stripe::Persist() {
  Status s = Flush();
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t snapshot_serial = ++serial_;
  s = SaveDirectory(snapshot_serial);
  if (!s.ok()) return s;
  header_.write_pos = cursor_blocks_;
  header_.phase = phase_ ? 1 : 0;
  header_.write_serial = serial_;
  header_.snapshot_serial = snapshot_serial;
  return WriteStripeHeader(*file_, layout_, &header_);
}

// The directory copy: a 4K header block (magic, serial, geometry, position,
// crc32 of the words, crc32 of the block) then every segment's words. Odd
// serials go to copy A, even to copy B, so the previous copy survives a
// crash in the middle of writing the next.
Status Stripe::SaveDirectory(uint64_t serial) {
  const DirGeometry& geo = dir_->geometry();
  size_t words_per_segment = dir_->segment_word_count();
  size_t word_bytes = words_per_segment * sizeof(uint16_t) * geo.nsegments;
  if (kDirCopyHeaderBytes + word_bytes > layout_.dir_copy_bytes) {
    return Status::InvalidArgument("directory does not fit its copy area");
  }
  std::string image(kDirCopyHeaderBytes + word_bytes, '\0');
  std::vector<uint16_t> words(words_per_segment);
  char* out = image.data() + kDirCopyHeaderBytes;
  for (uint32_t seg = 0; seg < geo.nsegments; ++seg) {
    dir_->CopySegmentWords(seg, words.data());
    for (size_t i = 0; i < words_per_segment; ++i) {
      out[2 * i] = static_cast<char>(words[i]);
      out[2 * i + 1] = static_cast<char>(words[i] >> 8);
    }
    out += words_per_segment * 2;
  }
  char* h = image.data();
  memcpy(h, kDirCopyMagic, 8);
  EncodeFixed64(h + 8, serial);
  EncodeFixed32(h + 16, geo.nsegments);
  EncodeFixed32(h + 20, geo.entries_per_segment());
  EncodeFixed64(h + 24, cursor_blocks_);
  EncodeFixed32(h + 32, phase_ ? 1 : 0);
  EncodeFixed32(h + 36, Crc(image.data() + kDirCopyHeaderBytes, word_bytes));
  EncodeFixed64(h + 40, word_bytes);
  EncodeFixed32(h + kDirCopyHeaderUsed, Crc(h, kDirCopyHeaderUsed));
  uint64_t where = (serial % 2 == 1) ? layout_.dir_a_offset : layout_.dir_b_offset;
  Status s = file_->Write(where, image.data(), image.size());
  if (!s.ok()) return s;
  return file_->Sync();
}

Status Stripe::LoadDirectory() {
  if (header_.snapshot_serial == 0) return Status::NotFound("no saved directory");
  const DirGeometry& geo = dir_->geometry();
  size_t words_per_segment = dir_->segment_word_count();
  size_t word_bytes = words_per_segment * sizeof(uint16_t) * geo.nsegments;
  uint64_t where = (header_.snapshot_serial % 2 == 1) ? layout_.dir_a_offset : layout_.dir_b_offset;
  std::string image(kDirCopyHeaderBytes + word_bytes, '\0');
  Status s = file_->Read(where, image.size(), image.data());
  if (!s.ok()) return s;
  const char* h = image.data();
  if (memcmp(h, kDirCopyMagic, 8) != 0 || DecodeFixed32(h + kDirCopyHeaderUsed) != Crc(h, kDirCopyHeaderUsed)) {
    return Status::Corruption("directory copy header is damaged");
  }
  if (DecodeFixed64(h + 8) != header_.snapshot_serial || DecodeFixed32(h + 16) != geo.nsegments ||
      DecodeFixed32(h + 20) != geo.entries_per_segment() || DecodeFixed64(h + 40) != word_bytes) {
    return Status::Corruption("directory copy does not match the stripe header");
  }
  if (DecodeFixed64(h + 24) != header_.write_pos || DecodeFixed32(h + 32) != header_.phase) {
    return Status::Corruption("directory copy was saved at another write position");
  }
  if (DecodeFixed32(h + 36) != Crc(image.data() + kDirCopyHeaderBytes, word_bytes)) {
    return Status::Corruption("directory copy checksum mismatch");
  }
  std::vector<uint16_t> words(words_per_segment);
  const char* in = image.data() + kDirCopyHeaderBytes;
  for (uint32_t seg = 0; seg < geo.nsegments; ++seg) {
    for (size_t i = 0; i < words_per_segment; ++i) {
      words[i] = static_cast<uint16_t>(static_cast<unsigned char>(in[2 * i]) |
                                       (static_cast<unsigned char>(in[2 * i + 1]) << 8));
    }
    s = dir_->RestoreSegment(seg, words.data(), words.size());
    if (!s.ok()) return s;
    in += words_per_segment * 2;
  }
  return Status::OK();
}

}  // namespace strata
