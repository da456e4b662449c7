// Stripe snapshots: the directory written to one of the stripe's two copy
// areas (docs/FORMAT.md, "Directory copies").
//
// A copy is written while the stripe serves: segment by segment, each one
// copied under the directory's writer lock (a memcpy of at most 640 KB;
// probes never take that lock), so it is not one instant's picture. It does
// not need to be: it records the chain point (the last aggregation write
// sealed before the copy started, and the write position after it), and
// recovery replays every journal record from there on top of it. Replay is
// idempotent (an insert already present is skipped, a remove of an absent
// entry does nothing), and entries the copy caught from writes that never
// reached the disk lie past the recovered write position, where the final
// sweep removes them.
//
// Copies alternate (odd serials in A, even in B) and the header block,
// carrying the crc of the whole body, is written last after a sync: a crash
// while writing one copy leaves the other, older one intact.
#include <cstring>
#include <ctime>
#include <vector>

#include "cache/stripe.h"
#include "common/coding.h"
#include "common/log.h"

namespace strata {
namespace {

constexpr char kDirCopyMagic[8] = {'S', 'T', 'R', 'P', 'D', 'I', 'R', '2'};
constexpr size_t kDirCopyHeaderUsed = 112;
// Segments are gathered into writes of about this size.
constexpr size_t kSnapshotWriteBytes = 1 << 20;

void EncodeWords(const uint16_t* words, size_t n, char* out) {
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = static_cast<char>(words[i]);
    out[2 * i + 1] = static_cast<char>(words[i] >> 8);
  }
}

void DecodeWords(const char* in, size_t n, uint16_t* words) {
  for (size_t i = 0; i < n; ++i) {
    words[i] =
        static_cast<uint16_t>(static_cast<unsigned char>(in[2 * i]) | (static_cast<unsigned char>(in[2 * i + 1]) << 8));
  }
}

}  // namespace

bool Stripe::ChangedSinceSnapshot() const {
  std::lock_guard<std::mutex> snap(snapshot_mu_);
  std::lock_guard<std::mutex> lock(mu_);
  return changes_ != changes_at_snapshot_ || !pending_removes_.empty();
}

Status Stripe::Snapshot() {
  if (options_.read_only) return Status::InvalidArgument("the cache was opened read-only");
  std::lock_guard<std::mutex> snap(snapshot_mu_);
  SnapshotPoint point;
  uint64_t changes;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (offline()) return Status::IOError("span " + health_->path + " is offline");
    // Seal the open buffer, so that the chain point is a buffer boundary.
    if (!buffers_.empty() && !buffers_.back()->sealed) {
      if (buffers_.back()->empty()) {
        buffers_.pop_back();
      } else {
        SealLocked();
      }
    }
    point.chain = chain_;
    DirPosition position = dir_->position();
    point.write_pos = position.write_pos;
    point.clean_end = position.clean_end;
    point.phase = position.phase;
    point.serial_high = serial_;
    changes = changes_;
    // Every buffer up to the chain point must be on disk before a snapshot
    // that does not replay them can be trusted.
    const uint64_t last_seq = chain_.epoch == epoch_ ? chain_.seq : 0;
    written_.wait(lock, [&] {
      for (const auto& buffer : buffers_) {
        if (buffer->sealed && buffer->link.seq <= last_seq) return false;
      }
      return true;
    });
    if (offline()) return Status::IOError("span " + health_->path + " is offline");
  }
  Status s = file_->Sync();
  if (s.ok()) {
    point.serial = snapshot_serial_ + 1;
    s = WriteSnapshotCopy(point);
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!s.ok()) {
    ++stats_.snapshot_failures;
    if (s.kind() == Status::Kind::kIOError) TakeOffline(s);
    return s;
  }
  snapshot_serial_ = point.serial;
  changes_at_snapshot_ = changes;
  ++stats_.snapshots;
  stats_.last_snapshot_serial = point.serial;
  return Status::OK();
}

Status Stripe::WriteSnapshotCopy(const SnapshotPoint& point) {
  const DirGeometry& geo = dir_->geometry();
  const size_t words_per_segment = dir_->segment_word_count();
  const size_t segment_bytes = words_per_segment * sizeof(uint16_t);
  const uint64_t body_bytes = uint64_t{segment_bytes} * geo.nsegments;
  if (kDirCopyHeaderBytes + body_bytes > layout_.dir_copy_bytes) {
    return Status::InvalidArgument("directory does not fit its copy area");
  }
  const uint64_t where = (point.serial % 2 == 1) ? layout_.dir_a_offset : layout_.dir_b_offset;
  std::vector<uint16_t> words(words_per_segment);
  std::string chunk;
  chunk.reserve(std::max(kSnapshotWriteBytes, segment_bytes));
  uint64_t chunk_offset = where + kDirCopyHeaderBytes;
  uint32_t crc = 0;
  for (uint32_t seg = 0; seg < geo.nsegments; ++seg) {
    dir_->CopySegmentWords(seg, words.data());
    size_t at = chunk.size();
    chunk.resize(at + segment_bytes);
    EncodeWords(words.data(), words_per_segment, chunk.data() + at);
    if (chunk.size() >= kSnapshotWriteBytes || seg + 1 == geo.nsegments) {
      crc = Crc32(chunk.data(), chunk.size(), crc);
      Status s = file_->Write(chunk_offset, chunk.data(), chunk.size());
      if (!s.ok()) return s;
      chunk_offset += chunk.size();
      chunk.clear();
    }
  }
  Status s = file_->Sync();
  if (!s.ok()) return s;
  std::string block(kDirCopyHeaderBytes, '\0');
  char* h = block.data();
  memcpy(h, kDirCopyMagic, 8);
  EncodeFixed64(h + 8, point.serial);
  EncodeFixed32(h + 16, geo.nsegments);
  EncodeFixed32(h + 20, geo.entries_per_segment());
  EncodeFixed64(h + 24, body_bytes);
  EncodeFixed32(h + 32, crc);
  EncodeFixed32(h + 36, point.phase ? 1 : 0);
  EncodeFixed64(h + 40, point.chain.epoch);
  EncodeFixed64(h + 48, point.chain.seq);
  EncodeFixed64(h + 56, point.write_pos);
  EncodeFixed64(h + 64, point.clean_end);
  EncodeFixed64(h + 72, point.serial_high);
  EncodeFixed64(h + 80, static_cast<uint64_t>(time(nullptr)));
  EncodeFixed64(h + 88, header_.nonce);
  EncodeFixed32(h + kDirCopyHeaderUsed, Crc32(h, kDirCopyHeaderUsed));
  s = file_->Write(where, block.data(), block.size());
  if (!s.ok()) return s;
  return file_->Sync();
}

Status Stripe::ReadSnapshotHeader(uint64_t copy_offset, SnapshotPoint* point, std::string* block) const {
  block->assign(kDirCopyHeaderBytes, '\0');
  Status s = file_->Read(copy_offset, block->size(), block->data());
  if (!s.ok()) return s;
  const char* h = block->data();
  if (memcmp(h, kDirCopyMagic, 8) != 0) return Status::NotFound("no directory copy");
  if (DecodeFixed32(h + kDirCopyHeaderUsed) != Crc32(h, kDirCopyHeaderUsed)) {
    return Status::Corruption("directory copy header checksum mismatch");
  }
  const DirGeometry& geo = dir_->geometry();
  if (DecodeFixed32(h + 16) != geo.nsegments || DecodeFixed32(h + 20) != geo.entries_per_segment() ||
      DecodeFixed64(h + 24) != uint64_t{dir_->segment_word_count()} * 2 * geo.nsegments ||
      DecodeFixed64(h + 88) != header_.nonce) {
    return Status::Corruption("directory copy does not match the stripe");
  }
  point->serial = DecodeFixed64(h + 8);
  point->phase = DecodeFixed32(h + 36) != 0;
  point->chain = {DecodeFixed64(h + 40), DecodeFixed64(h + 48)};
  point->write_pos = DecodeFixed64(h + 56);
  point->clean_end = DecodeFixed64(h + 64);
  point->serial_high = DecodeFixed64(h + 72);
  if (point->write_pos > point->clean_end || point->clean_end > layout_.data_blocks()) {
    return Status::Corruption("directory copy names a write position outside the data area");
  }
  return Status::OK();
}

Status Stripe::LoadSnapshotCopy(uint64_t copy_offset, SnapshotPoint* point) {
  std::string block;
  Status s = ReadSnapshotHeader(copy_offset, point, &block);
  if (!s.ok()) return s;
  const DirGeometry& geo = dir_->geometry();
  const size_t words_per_segment = dir_->segment_word_count();
  const size_t segment_bytes = words_per_segment * sizeof(uint16_t);
  std::string body(uint64_t{segment_bytes} * geo.nsegments, '\0');
  s = file_->Read(copy_offset + kDirCopyHeaderBytes, body.size(), body.data());
  if (!s.ok()) return s;
  if (Crc32(body.data(), body.size()) != DecodeFixed32(block.data() + 32)) {
    return Status::Corruption("directory copy checksum mismatch (torn or damaged)");
  }
  std::vector<uint16_t> words(words_per_segment);
  for (uint32_t seg = 0; seg < geo.nsegments; ++seg) {
    DecodeWords(body.data() + uint64_t{seg} * segment_bytes, words_per_segment, words.data());
    s = dir_->RestoreSegment(seg, words.data(), words.size());
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Status Stripe::Persist() {
  if (options_.read_only || offline()) return Status::OK();
  Status s = Flush();
  if (!s.ok()) return s;
  s = Snapshot();
  if (!s.ok()) return s;
  // The header's state fields are informational (tools show them); the
  // copies and the journal are what recovery trusts.
  std::lock_guard<std::mutex> snap(snapshot_mu_);
  std::lock_guard<std::mutex> lock(mu_);
  header_.write_pos = cursor_blocks_;
  header_.phase = phase_ ? 1 : 0;
  header_.write_serial = serial_;
  header_.snapshot_serial = snapshot_serial_;
  return WriteStripeHeader(*file_, layout_, &header_);
}

}  // namespace strata
