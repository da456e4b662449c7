// The journal: how each aggregation write describes itself, so that crash
// recovery can replay the directory changes made since the last snapshot
// (docs/FORMAT.md, "Aggregation writes and the journal").
//
// Every aggregation write is laid out as
//
//   [write header, 1 block][Docs ...][journal records, whole blocks]
//
// and goes to disk in the one sequential pwrite that carries its Docs, so the
// journal costs no extra seek. The header names the write (epoch, seq) and
// the write it follows (prev_epoch, prev_seq): recovery follows that chain
// from the snapshot's chain point, write by write, and stops at the first
// place where the next link is missing, torn (a crc fails) or belongs to
// another chain. The epoch is random per open of the stripe, so a write left
// over from before a crash (whose predecessor was never recovered) can never
// be taken for a link of the current chain.
//
// Records are directory changes, in the order they were made: the insert of
// each Doc of the write, then the removes made since the previous write.
//
// Thread-safety: plain functions and values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/cache_key.h"
#include "common/crc32.h"
#include "common/status.h"

namespace strata {

inline constexpr char kAggHeaderMagic[8] = {'S', 'T', 'R', 'P', 'A', 'G', 'G', '1'};
inline constexpr uint32_t kAggHeaderBytes = 512;  // one block
inline constexpr uint32_t kJournalRecordBytes = 32;

// (epoch, seq) of an aggregation write. {0, 0} is the start of a stripe's
// very first chain.
struct ChainLink {
  uint64_t epoch = 0;
  uint64_t seq = 0;
  friend bool operator==(const ChainLink&, const ChainLink&) = default;
};

struct AggHeader {
  uint64_t stripe_nonce = 0;
  ChainLink self;
  ChainLink prev;
  uint64_t start_blocks = 0;    // where the write starts in the data area
  uint32_t phase = 0;           // the stripe's phase when it was written
  uint32_t total_blocks = 0;    // header + Docs + journal
  uint32_t journal_offset = 0;  // bytes from the start of the write
  uint32_t journal_records = 0;
  uint32_t journal_crc = 0;  // crc32 of the record bytes
  uint64_t serial_high = 0;  // every Doc serial of this write is <= this
};

struct JournalRecord {
  enum Op : uint8_t { kInsert = 1, kRemove = 2 };
  Op op = kInsert;
  bool head = false;
  bool pinned = false;
  uint32_t size_bytes = 0;  // the Doc's length (inserts)
  uint64_t offset_blocks = 0;
  CacheKey key;
};

// Bytes the journal of `records` records takes: whole blocks.
inline uint64_t JournalBytes(uint64_t records) {
  return (records * kJournalRecordBytes + kAggHeaderBytes - 1) / kAggHeaderBytes * kAggHeaderBytes;
}

// Encodes into one kAggHeaderBytes block (zero-filled past the fields).
void EncodeAggHeader(const AggHeader& header, char* block);
// Corruption for a bad magic or crc.
Status DecodeAggHeader(const char* block, AggHeader* header);

void EncodeJournalRecord(const JournalRecord& record, char* out);
// Corruption for an unknown op.
Status DecodeJournalRecord(const char* in, JournalRecord* record);

}  // namespace strata
