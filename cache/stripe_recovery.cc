// Stripe recovery: rebuilds the directory after a clean shutdown or a crash
// from the newest valid snapshot copy and the journal chain written after it
// (see the header comments of stripe.h, stripe_snapshot.cc and journal.h).
//
// What makes a recovered entry safe to serve is not this code but the read
// path: every Doc read is checked against its key, its crc32 and the
// stripe's nonce. Recovery's job is to find every Doc whose aggregation
// write completed (in chain order), and to forget the removes of none of
// them.
#include <algorithm>
#include <chrono>

#include "cache/stripe.h"
#include "common/log.h"

namespace strata {

Status Stripe::Load(RecoveryStats* out) {
  auto started = std::chrono::steady_clock::now();
  RecoveryStats stats;
  Status s = Recover(&stats);
  if (!s.ok()) return s;
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  DirStats dir = dir_->GetStats();
  LOG_INFO(
      "stripe %u of %s: recovered %llu object(s) in %.3f s (snapshot %s, %llu aggregation write(s) and %llu "
      "journal record(s) replayed, %llu rejected, %llu stale entr(ies) swept; the chain ended: %s)",
      id_, file_->path().c_str(), static_cast<unsigned long long>(dir.head_entries), stats.seconds,
      stats.snapshot_used ? std::to_string(stats.snapshot_serial).c_str() : "none",
      static_cast<unsigned long long>(stats.writes_replayed), static_cast<unsigned long long>(stats.records_replayed),
      static_cast<unsigned long long>(stats.records_rejected), static_cast<unsigned long long>(stats.entries_swept),
      stats.stopped_because.c_str());
  if (!options_.read_only && (stats.writes_replayed > 0 || !stats.snapshot_used)) {
    // Start the next recovery from here rather than from the old chain.
    s = Snapshot();
    if (!s.ok()) LOG_WARNING("stripe %u: snapshot after recovery failed: %s", id_, s.ToString().c_str());
  }
  if (out != nullptr) *out = stats;
  return Status::OK();
}

Status Stripe::Recover(RecoveryStats* stats) {
  // The newest copy whose header and body check out; the older one if not.
  SnapshotPoint copies[2];
  bool present[2];
  const uint64_t offsets[2] = {layout_.dir_a_offset, layout_.dir_b_offset};
  for (int i = 0; i < 2; ++i) {
    std::string block;
    Status s = ReadSnapshotHeader(offsets[i], &copies[i], &block);
    present[i] = s.ok();
    if (s.kind() == Status::Kind::kCorruption) {
      ++stats->snapshot_copies_bad;
      LOG_WARNING("stripe %u of %s: directory copy %c: %s", id_, file_->path().c_str(), "AB"[i], s.message().c_str());
    }
  }
  int order[2] = {0, 1};
  if (present[1] && (!present[0] || copies[1].serial > copies[0].serial)) std::swap(order[0], order[1]);
  SnapshotPoint point;
  point.serial_high = header_.write_serial;
  for (int i : order) {
    if (!present[i]) continue;
    SnapshotPoint candidate;
    Status s = LoadSnapshotCopy(offsets[i], &candidate);
    if (s.ok()) {
      point = candidate;
      stats->snapshot_used = true;
      stats->snapshot_serial = candidate.serial;
      break;
    }
    ++stats->snapshot_copies_bad;
    LOG_WARNING("stripe %u of %s: directory copy %c (serial %llu) not usable: %s", id_, file_->path().c_str(), "AB"[i],
                static_cast<unsigned long long>(copies[i].serial), s.message().c_str());
    // A copy may have been restored halfway: start again from empty.
    std::unique_ptr<Directory> fresh;
    s = Directory::Create(layout_.data_bytes, layout_.average_object_bytes, &fresh);
    if (!s.ok()) return s;
    dir_ = std::move(fresh);
  }
  // Without a snapshot the chain starts where an initialised stripe starts.
  snapshot_serial_ = std::max(copies[0].serial, copies[1].serial);
  Status s = dir_->RestorePosition({point.write_pos, point.clean_end, point.phase});
  if (!s.ok()) return s;

  ChainLink link = point.chain;
  uint64_t pos = point.write_pos;
  bool phase = point.phase;
  uint64_t serial_high = std::max(point.serial_high, header_.write_serial);
  for (;;) {
    AggHeader header;
    std::string journal;
    if (!ReadChainSuccessor(link, pos, phase, &header, &journal, &stats->stopped_because)) break;
    if ((header.phase != 0) != phase) {
      s = dir_->SetWritePosition(0, header.phase != 0);
      if (!s.ok()) return s;
      phase = header.phase != 0;
      ++pass_;
    }
    s = dir_->CleanRange(header.start_blocks, header.total_blocks);
    if (s.ok()) s = dir_->SetWritePosition(header.start_blocks + header.total_blocks, phase);
    if (!s.ok()) return s;
    ReplayRecords(header, journal, stats);
    link = header.self;
    pos = header.start_blocks + header.total_blocks;
    serial_high = std::max(serial_high, header.serial_high);
    ++stats->writes_replayed;
  }

  // Writes that were in flight at the crash may have torn the bytes just
  // past the chain's end: what the previous pass left there is forgotten.
  uint64_t window = (uint64_t(options_.max_writes_in_flight) + 1) * agg_capacity_ / kBlockBytes;
  window = std::min(window, layout_.data_blocks() - pos);
  if (window > 0) {
    s = dir_->CleanRange(pos, window);
    if (!s.ok()) return s;
  }
  // Entries the snapshot caught from writes that never completed lie past
  // the recovered position: remove them before a later pass revalidates them.
  stats->entries_swept = dir_->RemoveInvalidEntries();

  std::lock_guard<std::mutex> lock(mu_);
  cursor_blocks_ = pos;
  phase_ = phase;
  serial_ = serial_high;
  chain_ = link;
  next_seq_ = 1;
  return Status::OK();
}

bool Stripe::ReadChainSuccessor(const ChainLink& link, uint64_t pos_blocks, bool phase, AggHeader* header,
                                std::string* journal, std::string* why) {
  struct Candidate {
    uint64_t pos;
    bool phase;
  };
  Candidate candidates[2];
  int n = 0;
  if (pos_blocks < layout_.data_blocks()) candidates[n++] = {pos_blocks, phase};
  if (pos_blocks != 0) candidates[n++] = {0, !phase};
  *why = "no aggregation write follows";
  for (int i = 0; i < n; ++i) {
    const Candidate& c = candidates[i];
    std::string block(kAggHeaderBytes, '\0');
    Status s = file_->Read(layout_.data_offset + c.pos * kBlockBytes, block.size(), block.data());
    if (!s.ok()) {
      *why = "read error: " + s.message();
      continue;
    }
    AggHeader h;
    if (!DecodeAggHeader(block.data(), &h).ok()) continue;
    // Only the write that names this link as its predecessor, from this
    // life of the stripe, placed where it says it is.
    if (h.stripe_nonce != header_.nonce || !(h.prev == link) || h.start_blocks != c.pos || (h.phase != 0) != c.phase) {
      continue;
    }
    uint64_t journal_bytes = JournalBytes(h.journal_records);
    if (h.total_blocks < 1 || h.start_blocks + h.total_blocks > layout_.data_blocks() ||
        h.journal_offset < kAggHeaderBytes || h.journal_offset % kBlockBytes != 0 ||
        h.journal_offset + journal_bytes > uint64_t{h.total_blocks} * kBlockBytes) {
      *why = "a damaged aggregation write header";
      continue;
    }
    journal->assign(journal_bytes, '\0');
    if (journal_bytes > 0) {
      s = file_->Read(layout_.data_offset + c.pos * kBlockBytes + h.journal_offset, journal_bytes, journal->data());
      if (!s.ok()) {
        *why = "read error: " + s.message();
        continue;
      }
    }
    if (Crc32(journal->data(), uint64_t{h.journal_records} * kJournalRecordBytes) != h.journal_crc) {
      *why = "a torn journal (the write did not complete)";
      continue;
    }
    *header = h;
    return true;
  }
  return false;
}

void Stripe::ReplayRecords(const AggHeader& header, const std::string& journal, RecoveryStats* stats) {
  const uint64_t first = header.start_blocks + kAggHeaderBytes / kBlockBytes;
  const uint64_t end = header.start_blocks + header.journal_offset / kBlockBytes;
  std::vector<DirEntry> found;
  for (uint32_t i = 0; i < header.journal_records; ++i) {
    JournalRecord record;
    if (!DecodeJournalRecord(journal.data() + uint64_t{i} * kJournalRecordBytes, &record).ok()) {
      ++stats->records_rejected;
      continue;
    }
    dir_->Probe(record.key, &found);
    auto same = std::find_if(found.begin(), found.end(), [&](const DirEntry& e) {
      return e.offset() == record.offset_blocks && e.head() == record.head;
    });
    if (record.op == JournalRecord::kInsert) {
      uint64_t blocks = (uint64_t{record.size_bytes} + kBlockBytes - 1) / kBlockBytes;
      if (record.offset_blocks < first || record.offset_blocks + blocks > end || record.size_bytes == 0) {
        ++stats->records_rejected;  // an insert must name a Doc of its own write
        continue;
      }
      if (same != found.end()) continue;  // the snapshot already had it
      DirLocation location;
      location.offset_blocks = record.offset_blocks;
      location.size_bytes = record.size_bytes;
      location.head = record.head;
      location.pinned = record.pinned;
      if (!dir_->Insert(record.key, location).ok()) {
        ++stats->records_rejected;
        continue;
      }
    } else if (same != found.end()) {
      dir_->Remove(record.key, *same);
    }
    ++stats->records_replayed;
  }
}

}  // namespace strata
