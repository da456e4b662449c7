#include "cache/journal.h"

#include <cstring>

#include "common/coding.h"

namespace strata {
namespace {

// Bytes of the header block covered by its crc (the crc follows them).
constexpr size_t kAggHeaderUsed = 96;

}  // namespace

void EncodeAggHeader(const AggHeader& h, char* block) {
  memset(block, 0, kAggHeaderBytes);
  memcpy(block, kAggHeaderMagic, 8);
  EncodeFixed64(block + 8, h.stripe_nonce);
  EncodeFixed64(block + 16, h.self.epoch);
  EncodeFixed64(block + 24, h.self.seq);
  EncodeFixed64(block + 32, h.prev.epoch);
  EncodeFixed64(block + 40, h.prev.seq);
  EncodeFixed64(block + 48, h.start_blocks);
  EncodeFixed32(block + 56, h.phase);
  EncodeFixed32(block + 60, h.total_blocks);
  EncodeFixed32(block + 64, h.journal_offset);
  EncodeFixed32(block + 68, h.journal_records);
  EncodeFixed32(block + 72, h.journal_crc);
  EncodeFixed64(block + 80, h.serial_high);
  EncodeFixed32(block + kAggHeaderUsed, Crc32(block, kAggHeaderUsed));
}

Status DecodeAggHeader(const char* block, AggHeader* h) {
  if (memcmp(block, kAggHeaderMagic, 8) != 0) return Status::Corruption("no aggregation write header");
  if (DecodeFixed32(block + kAggHeaderUsed) != Crc32(block, kAggHeaderUsed)) {
    return Status::Corruption("aggregation write header checksum mismatch");
  }
  h->stripe_nonce = DecodeFixed64(block + 8);
  h->self = {DecodeFixed64(block + 16), DecodeFixed64(block + 24)};
  h->prev = {DecodeFixed64(block + 32), DecodeFixed64(block + 40)};
  h->start_blocks = DecodeFixed64(block + 48);
  h->phase = DecodeFixed32(block + 56);
  h->total_blocks = DecodeFixed32(block + 60);
  h->journal_offset = DecodeFixed32(block + 64);
  h->journal_records = DecodeFixed32(block + 68);
  h->journal_crc = DecodeFixed32(block + 72);
  h->serial_high = DecodeFixed64(block + 80);
  return Status::OK();
}

// Record: op(1) flags(1) reserved(2) size(4) offset(8) key.hi(8) key.lo(8).
void EncodeJournalRecord(const JournalRecord& r, char* out) {
  memset(out, 0, kJournalRecordBytes);
  out[0] = static_cast<char>(r.op);
  out[1] = static_cast<char>((r.head ? 1 : 0) | (r.pinned ? 2 : 0));
  EncodeFixed32(out + 4, r.size_bytes);
  EncodeFixed64(out + 8, r.offset_blocks);
  EncodeFixed64(out + 16, r.key.hi);
  EncodeFixed64(out + 24, r.key.lo);
}

Status DecodeJournalRecord(const char* in, JournalRecord* r) {
  uint8_t op = static_cast<uint8_t>(in[0]);
  if (op != JournalRecord::kInsert && op != JournalRecord::kRemove) {
    return Status::Corruption("unknown journal record");
  }
  r->op = static_cast<JournalRecord::Op>(op);
  r->head = (in[1] & 1) != 0;
  r->pinned = (in[1] & 2) != 0;
  r->size_bytes = DecodeFixed32(in + 4);
  r->offset_blocks = DecodeFixed64(in + 8);
  r->key = CacheKey{DecodeFixed64(in + 16), DecodeFixed64(in + 24)};
  return Status::OK();
}

}  // namespace strata
