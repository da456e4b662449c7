#include "cache/cache.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "cache/doc.h"
#include "cache/volume_plan.h"
#include "common/coding.h"
#include "common/log.h"

namespace strata {
namespace {

// Room kept in a fragment's Doc for the header and metadata.
constexpr uint64_t kDocOverheadBytes = 4096;

// Views into a verified Doc (the bytes passed the crc when they were read).
Status ViewVerifiedDoc(const RamCache::Bytes& doc, DocHeaderFields* header, std::string_view* meta,
                       std::string_view* data) {
  Status s = DecodeDocHeader(doc->data(), doc->size(), header);
  if (!s.ok()) return s;
  if (kDocHeaderBytes + header->meta_length + header->data_length > doc->size()) {
    return Status::Corruption("Doc shorter than its lengths");
  }
  *meta = std::string_view(*doc).substr(kDocHeaderBytes, header->meta_length);
  *data = std::string_view(*doc).substr(kDocHeaderBytes + header->meta_length, header->data_length);
  return Status::OK();
}

// The first Doc's user bytes start with the object id (8 bytes, little
// endian), which names the fragments. It is not the Doc's write serial: a
// metadata update writes a newer first Doc for the same fragments.
std::string ObjectMetadata(uint64_t object_id, std::string_view user, const std::vector<uint64_t>& fragments) {
  std::string prefixed(8, '\0');
  EncodeFixed64(prefixed.data(), object_id);
  prefixed.append(user);
  return EncodeMetadata(prefixed, fragments);
}

}  // namespace

CacheKey Cache::FragmentKey(const CacheKey& key, uint64_t object_id, uint32_t index) {
  CacheKey base{key.hi ^ object_id, key.lo ^ (object_id * 0x9e3779b97f4a7c15ULL)};
  return base.Fragment(index + 1);
}

Status Cache::Open(const CacheOptions& options, std::unique_ptr<Cache>* out) {
  if (options.spans.empty()) return Status::InvalidArgument("no cache span configured");
  auto started = std::chrono::steady_clock::now();
  std::unique_ptr<Cache> cache(new Cache());
  cache->options_ = options;
  Env* env = options.env != nullptr ? options.env : Env::Default();
  std::string problems;
  // Divide the spans among the volumes; a block device's size is its own.
  std::vector<uint64_t> span_bytes;
  for (const SpanConfig& config : options.spans) {
    uint64_t bytes = config.size_bytes;
    if (config.is_block_device) {
      Env::OpenOptions probe;
      probe.read_only = true;
      std::unique_ptr<RandomRWFile> device;
      if (!env->OpenRandomRWFile(config.path, probe, &device).ok() || !device->Size(&bytes).ok()) bytes = 0;
    }
    span_bytes.push_back(bytes);
  }
  std::vector<std::vector<VolumeShare>> shares;
  Status planned = PlanVolumeShares(options.spans, span_bytes, options.volumes, &shares);
  if (!planned.ok()) return planned;
  std::vector<size_t> config_index;  // spans_[i] is options.spans[config_index[i]]
  for (size_t i = 0; i < options.spans.size(); ++i) {
    const SpanConfig& config = options.spans[i];
    auto health = std::make_shared<SpanHealth>();
    health->path = config.path;
    cache->health_.push_back(health);
    if (shares[i].empty()) {
      LOG_WARNING("span %s: volume.config leaves it no volume of 4M or more; the span is not used",
                  config.path.c_str());
      continue;
    }
    LayoutOptions layout = options.layout;
    layout.volumes = shares[i];
    std::unique_ptr<Span> span;
    Status s = OpenSpan(env, config, layout, options.reinitialize, options.read_only, &span);
    if (s.kind() == Status::Kind::kIOError) {
      // A dead, full or read-only disk: serve from the others.
      health->offline = true;
      LOG_ERROR("span %s is OFFLINE: %s", config.path.c_str(), s.message().c_str());
      continue;
    }
    if (!s.ok()) {
      problems += (problems.empty() ? "" : "\n") + s.message();
      continue;
    }
    config_index.push_back(i);
    cache->spans_.push_back(std::move(span));
  }
  if (!problems.empty()) return Status::InvalidArgument(problems);
  if (cache->spans_.empty()) return Status::IOError("no cache span could be opened");

  cache->ram_ = std::make_unique<RamCache>(options.ram_cache_bytes, options.ram_admit_on_first_offer);
  cache->io_ = std::make_unique<ThreadPool>(options.io_threads);
  StripeOptions stripe_options = options.stripe;
  stripe_options.read_only = options.read_only;
  std::vector<StripeIdentity> identities;
  uint64_t max_doc = UINT64_MAX;
  for (size_t span_index = 0; span_index < cache->spans_.size(); ++span_index) {
    Span& span = *cache->spans_[span_index];
    const size_t config = config_index[span_index];
    for (const SpanStripe& ss : span.stripes) {
      std::unique_ptr<Directory> directory;
      Status s = Directory::Create(ss.layout.data_bytes, ss.layout.average_object_bytes, &directory);
      if (!s.ok()) return s;
      uint32_t id = static_cast<uint32_t>(cache->stripes_.size());
      auto stripe = std::make_unique<Stripe>(id, span.file.get(), ss.layout, ss.header, std::move(directory),
                                             cache->io_.get(), cache->ram_.get(), stripe_options,
                                             options.open_object_buffer_bytes, cache->health_[config]);
      RecoveryStats recovered;
      s = stripe->Load(&recovered);
      if (!s.ok()) return s;
      cache->recovery_.writes_replayed += recovered.writes_replayed;
      cache->recovery_.records_rejected += recovered.records_rejected;
      cache->recovery_.snapshot_copies_bad += recovered.snapshot_copies_bad;
      max_doc = std::min(max_doc, stripe->max_doc_bytes());
      identities.push_back({options.spans[config].identity(), ss.layout.index, ss.layout.data_bytes});
      cache->stripes_.push_back(std::move(stripe));
    }
  }
  Status s = StripeAssignment::Build(identities, &cache->assignment_);
  if (!s.ok()) return s;
  if (max_doc <= 2 * kDocOverheadBytes) return Status::InvalidArgument("cache stripes are too small");
  // A fragment must fit one aggregation buffer of the smallest stripe.
  cache->fragment_bytes_ = std::min(options.fragment_bytes, (max_doc - kDocOverheadBytes) / 4096 * 4096);
  cache->recovery_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!options.read_only) {
    cache->flusher_ = std::thread([c = cache.get()] { c->FlusherLoop(); });
    if (options.snapshot_interval.count() > 0)
      cache->snapshotter_ = std::thread([c = cache.get()] { c->SnapshotLoop(); });
  }
  *out = std::move(cache);
  return Status::OK();
}

Cache::~Cache() {
  {
    std::lock_guard<std::mutex> lock(flusher_mu_);
    stopping_ = true;
  }
  flusher_wake_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  if (snapshotter_.joinable()) snapshotter_.join();
  for (auto& stripe : stripes_) {
    Status s = stripe->Persist();
    if (!s.ok()) LOG_ERROR("stripe %u: could not save its directory: %s", stripe->id(), s.ToString().c_str());
  }
  stripes_.clear();  // before the I/O pool their writes run on
  io_.reset();
}

void Cache::FlusherLoop() {
  auto period = std::max(std::chrono::milliseconds(1), options_.stripe.flush_delay / 2);
  std::unique_lock<std::mutex> lock(flusher_mu_);
  while (!stopping_) {
    flusher_wake_.wait_for(lock, period);
    if (stopping_) break;
    auto now = std::chrono::steady_clock::now();
    for (auto& stripe : stripes_) stripe->FlushIfDue(now);
  }
}

void Cache::SnapshotLoop() {
  std::unique_lock<std::mutex> lock(flusher_mu_);
  while (!stopping_) {
    flusher_wake_.wait_for(lock, options_.snapshot_interval);
    if (stopping_) break;
    lock.unlock();
    for (auto& stripe : stripes_) {
      if (stripe->offline() || !stripe->ChangedSinceSnapshot()) continue;
      Status s = stripe->Snapshot();
      if (!s.ok()) LOG_WARNING("stripe %u: directory snapshot failed: %s", stripe->id(), s.ToString().c_str());
    }
    lock.lock();
  }
}

Status Cache::Snapshot() {
  Status result;
  for (auto& stripe : stripes_) {
    if (stripe->offline()) continue;
    Status s = stripe->Snapshot();
    if (!s.ok()) result = s;
  }
  return result;
}

Status Cache::Flush() {
  Status result;
  for (auto& stripe : stripes_) {
    Status s = stripe->Flush();
    if (!s.ok()) result = s;
  }
  return result;
}

// --- Writing ---

Status Cache::OpenWrite(const CacheKey& key, std::unique_ptr<CacheWriter>* writer,
                        std::shared_ptr<OpenObject>* in_progress, Stripe::WaitMode wait) {
  Stripe& stripe = StripeFor(key);
  WriteLease lease;
  std::shared_ptr<OpenObject> current;
  Status s = stripe.open_dir().OpenWrite(key, &lease, &current);
  if (!s.ok()) {
    if (in_progress != nullptr) *in_progress = std::move(current);
    return s;
  }
  writer->reset(new CacheWriter(this, key, &stripe, std::move(lease), stripe.NextSerial(), wait));
  return Status::OK();
}

std::shared_ptr<OpenObject> Cache::OpenRead(const CacheKey& key) { return StripeFor(key).open_dir().OpenRead(key); }

CacheWriter::CacheWriter(Cache* cache, const CacheKey& key, Stripe* stripe, WriteLease lease, uint64_t object_id,
                         Stripe::WaitMode wait)
    : cache_(cache), key_(key), stripe_(stripe), lease_(std::move(lease)), object_id_(object_id), wait_(wait) {}

CacheWriter::~CacheWriter() {
  if (!finished_) Abort();
}

Status CacheWriter::Announce(std::string_view bytes) {
  if (finished_ || written_ > 0) return Status::InvalidArgument("announce after the first write");
  return lease_.Append(bytes);
}

Status CacheWriter::Write(std::string_view data) {
  if (finished_) return Status::InvalidArgument("write after commit or abort");
  lease_.Append(data);
  written_ += data.size();
  uint64_t fragment = cache_->fragment_bytes_;
  while (!data.empty()) {
    size_t take = static_cast<size_t>(std::min<uint64_t>(data.size(), fragment - pending_.size()));
    pending_.append(data.substr(0, take));
    data.remove_prefix(take);
    if (pending_.size() == fragment) {
      Status s = WriteFragment(pending_);
      if (!s.ok()) {
        Abort();
        return s;
      }
      pending_.clear();
    }
  }
  return Status::OK();
}

Status CacheWriter::WriteFragment(std::string_view data) {
  uint32_t index = static_cast<uint32_t>(fragment_offsets_.size());
  fragment_offsets_.push_back(fragmented_bytes_);
  fragmented_bytes_ += data.size();
  CacheKey key = Cache::FragmentKey(key_, object_id_, index);
  Stripe& stripe = cache_->StripeFor(key);
  DocHeaderFields fields;
  fields.key = key;
  fields.flags = kDocFragment;
  fields.fragment_index = index;
  fields.write_serial = stripe.NextSerial();
  fields.stripe_nonce = stripe.nonce32();
  std::string doc(DocSize(0, data.size()), '\0');
  EncodeDoc(fields, {}, data, doc.data());
  DirEntry entry;
  Status s = stripe.Append(key, doc, /*head=*/false, wait_, &entry, pinned_);
  if (!s.ok()) return s;
  placed_.push_back({&stripe, key, entry});
  return Status::OK();
}

Status CacheWriter::Commit(std::string_view metadata) {
  if (finished_) return Status::InvalidArgument("commit after commit or abort");
  std::string meta = ObjectMetadata(object_id_, metadata, {});
  bool single = fragment_offsets_.empty() && DocSize(meta.size(), pending_.size()) <= stripe_->max_doc_bytes();
  std::string_view data;
  if (single) {
    data = pending_;
  } else {
    if (!pending_.empty()) {
      Status s = WriteFragment(pending_);
      if (!s.ok()) {
        Abort();
        return s;
      }
      pending_.clear();
    }
    meta = ObjectMetadata(object_id_, metadata, fragment_offsets_);
    if (DocSize(meta.size(), 0) > stripe_->max_doc_bytes()) {
      Abort();
      return Status::InvalidArgument("object metadata too large");
    }
  }
  DocHeaderFields fields;
  fields.key = key_;
  fields.flags = single ? kDocHead : (kDocHead | kDocFragment);
  fields.object_length = written_;
  fields.write_serial = object_id_;
  fields.stripe_nonce = stripe_->nonce32();
  std::string doc(DocSize(meta.size(), data.size()), '\0');
  EncodeDoc(fields, meta, data, doc.data());
  // Inserting the first Doc is what makes the object visible: last.
  Status s = stripe_->Append(key_, doc, /*head=*/true, wait_, nullptr, pinned_);
  if (!s.ok()) {
    Abort();
    return s;
  }
  finished_ = true;
  lease_.Complete();
  cache_->objects_written_.fetch_add(1, std::memory_order_relaxed);
  return Status::OK();
}

void CacheWriter::Abort() {
  if (finished_) return;
  finished_ = true;
  for (const Placed& p : placed_) p.stripe->Remove(p.key, p.entry);
  placed_.clear();
  lease_.Abort();
  cache_->writes_aborted_.fetch_add(1, std::memory_order_relaxed);
}

Status Cache::Put(const CacheKey& key, std::string_view metadata, std::string_view data) {
  std::unique_ptr<CacheWriter> writer;
  Status s = OpenWrite(key, &writer);
  if (!s.ok()) return s;
  s = writer->Write(data);
  if (!s.ok()) return s;
  return writer->Commit(metadata);
}

Status Cache::UpdateMetadata(const ObjectInfo& info, std::string_view metadata, Stripe::WaitMode wait) {
  Stripe& stripe = StripeFor(info.key);
  std::string meta = ObjectMetadata(info.object_id, metadata, info.fragment_offsets);
  std::string_view data = info.fragment_offsets.empty() ? info.inline_data : std::string_view();
  size_t size = DocSize(meta.size(), data.size());
  if (size > stripe.max_doc_bytes()) return Status::InvalidArgument("object metadata too large");
  DocHeaderFields fields;
  fields.key = info.key;
  fields.flags = info.fragment_offsets.empty() ? kDocHead : (kDocHead | kDocFragment);
  fields.object_length = info.length;
  // The object id names the fragments, so it must stay; the newer first Doc
  // wins by its write serial, which is therefore a fresh one.
  fields.write_serial = stripe.NextSerial();
  fields.stripe_nonce = stripe.nonce32();
  std::string doc(size, '\0');
  EncodeDoc(fields, meta, data, doc.data());
  return stripe.Append(info.key, doc, /*head=*/true, wait, nullptr);
}

// --- Reading ---

Status Cache::ReadFirstDoc(Stripe& stripe, const CacheKey& key, ObjectInfo* info, bool memory_only) {
  std::vector<DirEntry> candidates;
  stripe.Probe(key, /*head=*/true, &candidates);
  RamCache::Bytes best;
  DirEntry best_entry;
  DocHeaderFields best_header;
  for (const DirEntry& candidate : candidates) {
    RamCache::Bytes doc;
    Status read = memory_only ? stripe.ReadDocFromMemory(key, candidate, &doc) : stripe.ReadDoc(key, candidate, &doc);
    if (read.kind() == Status::Kind::kBusy) return read;
    if (!read.ok()) continue;
    DocHeaderFields header;
    std::string_view meta, data;
    if (!ViewVerifiedDoc(doc, &header, &meta, &data).ok() || !(header.flags & kDocHead)) continue;
    if (best != nullptr) {
      // Two versions of one key: keep the newer, drop the other's entry.
      if (header.write_serial <= best_header.write_serial) {
        stripe.Remove(key, candidate);
        continue;
      }
      stripe.Remove(key, best_entry);
    }
    best = doc;
    best_entry = candidate;
    best_header = header;
  }
  if (best == nullptr) return Status::NotFound("not in cache");
  std::string_view meta, data, user;
  ViewVerifiedDoc(best, &best_header, &meta, &data);
  std::vector<uint64_t> fragments;
  Status s = DecodeMetadata(meta, &user, &fragments);
  if (s.ok() && user.size() < 8) s = Status::Corruption("object metadata without an object id");
  if (!s.ok()) {
    stripe.Remove(key, best_entry);
    return Status::NotFound("unreadable object metadata");
  }
  info->key = key;
  info->length = best_header.object_length;
  info->metadata.assign(user.substr(8));
  info->fragment_offsets = std::move(fragments);
  info->object_id = DecodeFixed64(user.data());
  info->stripe = stripe.id();
  info->entry = best_entry;
  info->first_doc = best;
  info->inline_data = info->fragment_offsets.empty() ? data : std::string_view();
  return Status::OK();
}

bool Cache::BeingRemoved(const CacheKey& key) {
  if (removing_count_.load(std::memory_order_acquire) == 0) return false;
  std::lock_guard<std::mutex> lock(removing_mu_);
  return removing_.count(key) > 0;
}

Status Cache::Lookup(const CacheKey& key, ObjectInfo* info) {
  lookups_.fetch_add(1, std::memory_order_relaxed);
  if (BeingRemoved(key)) return Status::NotFound("being removed");
  Status s = ReadFirstDoc(StripeFor(key), key, info);
  if (s.ok()) lookup_hits_.fetch_add(1, std::memory_order_relaxed);
  return s;
}

Status Cache::Read(const ObjectInfo& info, uint64_t offset, uint64_t length, std::string* out) {
  uint64_t end = std::min(info.length, offset + length);
  for (uint64_t pos = offset; pos < end;) {
    ObjectSlice slice;
    Status s = ReadSlice(info, pos, end - pos, /*memory_only=*/false, &slice);
    if (!s.ok()) return s;
    if (slice.data.empty()) return Status::Corruption("empty fragment inside the object");
    out->append(slice.data);
    pos += slice.data.size();
  }
  return Status::OK();
}

Status Cache::ReadSlice(const ObjectInfo& info, uint64_t offset, uint64_t length, bool memory_only, ObjectSlice* out) {
  *out = ObjectSlice();
  if (offset >= info.length || length == 0) return Status::OK();
  uint64_t end = std::min(info.length, offset + length);
  if (info.fragment_offsets.empty()) {
    out->doc = info.first_doc;
    out->data = info.inline_data.substr(offset, end - offset);
    return Status::OK();
  }
  size_t index = FragmentForOffset(info.fragment_offsets, offset);
  if (index >= info.fragment_offsets.size()) return Status::Corruption("fragment table shorter than the object");
  CacheKey key = FragmentKey(info.key, info.object_id, static_cast<uint32_t>(index));
  Stripe& stripe = StripeFor(key);
  std::vector<DirEntry> candidates;
  stripe.Probe(key, /*head=*/false, &candidates);
  for (const DirEntry& candidate : candidates) {
    RamCache::Bytes doc;
    Status read = memory_only ? stripe.ReadDocFromMemory(key, candidate, &doc) : stripe.ReadDoc(key, candidate, &doc);
    if (read.kind() == Status::Kind::kBusy) return read;
    DocHeaderFields header;
    std::string_view meta, data;
    if (!read.ok() || !ViewVerifiedDoc(doc, &header, &meta, &data).ok() || header.fragment_index != index) continue;
    uint64_t from = offset - info.fragment_offsets[index];
    if (from >= data.size()) return Status::Corruption("fragment shorter than its table entry");
    out->doc = std::move(doc);
    out->data = data.substr(from, std::min<uint64_t>(data.size() - from, end - offset));
    return Status::OK();
  }
  return Status::NotFound("fragment " + std::to_string(index) + " is gone");
}

Status Cache::Get(const CacheKey& key, std::string* metadata, std::string* data) {
  ObjectInfo info;
  Status s = Lookup(key, &info);
  if (!s.ok()) return s;
  metadata->assign(info.metadata);
  data->clear();
  data->reserve(info.length);
  return Read(info, 0, info.length, data);
}

Status Cache::Remove(const CacheKey& key) {
  Stripe& stripe = StripeFor(key);
  std::vector<DirEntry> candidates;
  stripe.Probe(key, /*head=*/true, &candidates);
  bool removed = false;
  for (const DirEntry& candidate : candidates) {
    RamCache::Bytes doc;
    // Only entries whose Doc really is this key's: a tag collision with
    // another object must not remove it. A Doc the disk failed to read goes
    // too: dropping another object's entry costs a miss, while keeping a
    // purged object would serve it again once the disk recovers.
    Status s = stripe.ReadDoc(key, candidate, &doc);
    if ((s.ok() || s.kind() == Status::Kind::kIOError) && stripe.Remove(key, candidate).ok()) removed = true;
  }
  // An offline span cannot journal the remove: after a restart the object
  // would be back. Say so rather than claim a purge that did not stick.
  if (stripe.offline()) return Status::IOError("span offline: the remove cannot be recorded");
  return removed ? Status::OK() : Status::NotFound("not in cache");
}

Status Cache::Scan(const std::function<bool(const ObjectInfo&)>& fn) {
  bool stop = false;
  for (auto& stripe_ptr : stripes_) {
    Stripe& stripe = *stripe_ptr;
    std::vector<DirEntry> heads;
    stripe.directory().ForEachEntry([&heads](uint32_t, uint32_t, const DirEntry& entry, bool valid) {
      if (valid && entry.head()) heads.push_back(entry);
    });
    for (const DirEntry& entry : heads) {
      RamCache::Bytes doc;
      CacheKey key;
      if (!stripe.ReadDocAt(entry, &doc, &key).ok()) continue;
      ObjectInfo info;
      if (!ReadFirstDoc(stripe, key, &info).ok() || !info.entry.SameDoc(entry)) continue;
      if (!fn(info)) {
        stop = true;
        break;
      }
    }
    if (stop) break;
  }
  return Status::OK();
}

// --- Asynchronous forms: the work runs on the I/O pool, the answer on the
// caller's executor. ---

void Cache::LookupAsync(const CacheKey& key, Executor* executor, LookupCallback done) {
  // The dispatcher: a lookup that memory answers (no candidate in the
  // directory, or every candidate in the RAM cache or a pending buffer)
  // completes on the caller's executor without a trip through the I/O
  // threads, whose wake-up would cost more than the lookup itself. Only a
  // disk read goes to the pool.
  auto info = std::make_shared<ObjectInfo>();
  Status s = BeingRemoved(key) ? Status::NotFound("being removed")
                               : ReadFirstDoc(StripeFor(key), key, info.get(), /*memory_only=*/true);
  if (s.kind() != Status::Kind::kBusy) {
    lookups_.fetch_add(1, std::memory_order_relaxed);
    if (s.ok()) lookup_hits_.fetch_add(1, std::memory_order_relaxed);
    executor->Post([done = std::move(done), s, info]() { done(s, s.ok() ? info : nullptr); });
    return;
  }
  io_->Submit([this, key, executor, done = std::move(done)]() mutable {
    auto info = std::make_shared<ObjectInfo>();
    Status s = Lookup(key, info.get());
    executor->Post([done = std::move(done), s, info]() { done(s, s.ok() ? info : nullptr); });
  });
}

void Cache::ReadAsync(std::shared_ptr<ObjectInfo> info, uint64_t offset, uint64_t length, Executor* executor,
                      ReadCallback done) {
  ObjectSlice slice;
  Status s = ReadSlice(*info, offset, length, /*memory_only=*/true, &slice);
  if (s.kind() != Status::Kind::kBusy) {
    executor->Post([done = std::move(done), s, slice = std::move(slice)]() mutable { done(s, std::move(slice)); });
    return;
  }
  io_->Submit([this, info, offset, length, executor, done = std::move(done)]() mutable {
    ObjectSlice slice;
    Status s = ReadSlice(*info, offset, length, /*memory_only=*/false, &slice);
    executor->Post([done = std::move(done), s, slice = std::move(slice)]() mutable { done(s, std::move(slice)); });
  });
}

void Cache::RemoveAsync(const CacheKey& key, Executor* executor, StatusCallback done) {
  {
    std::lock_guard<std::mutex> lock(removing_mu_);
    removing_.insert(key);
    removing_count_.fetch_add(1, std::memory_order_release);
  }
  io_->Submit([this, key, executor, done = std::move(done)]() mutable {
    Status s = Remove(key);
    {
      std::lock_guard<std::mutex> lock(removing_mu_);
      removing_.erase(removing_.find(key));
      removing_count_.fetch_sub(1, std::memory_order_release);
    }
    executor->Post([done = std::move(done), s]() { done(s); });
  });
}

void Cache::ScanAsync(std::function<bool(const ObjectInfo&)> fn, Executor* executor, StatusCallback done) {
  io_->Submit([this, fn = std::move(fn), executor, done = std::move(done)]() mutable {
    Status s = Scan(fn);
    executor->Post([done = std::move(done), s]() { done(s); });
  });
}

CacheStats Cache::stats() const {
  CacheStats s;
  s.objects_written = objects_written_.load(std::memory_order_relaxed);
  s.writes_aborted = writes_aborted_.load(std::memory_order_relaxed);
  s.lookups = lookups_.load(std::memory_order_relaxed);
  s.lookup_hits = lookup_hits_.load(std::memory_order_relaxed);
  for (const auto& stripe : stripes_) {
    StripeStats st = stripe->stats();
    s.crc_failures += st.crc_failures;
    s.agg_writes += st.agg_writes;
    s.agg_bytes += st.agg_bytes;
    s.write_refusals += st.write_refusals;
    s.write_errors += st.write_errors;
    s.read_errors += st.read_errors;
    s.snapshots += st.snapshots;
    s.snapshot_failures += st.snapshot_failures;
    s.journal_records += st.journal_records;
  }
  for (const auto& health : health_) s.spans_offline += health->offline.load(std::memory_order_relaxed) ? 1 : 0;
  s.recovery_seconds = recovery_seconds_;
  s.recovery_writes_replayed = recovery_.writes_replayed;
  s.recovery_records_rejected = recovery_.records_rejected;
  s.recovery_snapshot_copies_bad = recovery_.snapshot_copies_bad;
  s.ram = ram_->stats();
  return s;
}

}  // namespace strata
