// On-disk geometry of spans and stripes, and the stripe header (format
// version 1; docs/FORMAT.md is the byte-exact spec).
//
// A span (a file or block device) is cut into equal stripes. Each stripe is
//
//   [header 4K][directory copy A][directory copy B][data area ...][footer 4K]
//
// The header and the footer hold the same encoded StripeHeader: the stripe's
// geometry (so that a configuration change is detected instead of misread)
// and its state (serials, write position, phase). They are written one after
// the other with a sync in between, so a crash tears at most one of them; on
// open the valid copy with the higher header_serial wins.
//
// Everything here is computed from (span size, LayoutOptions) alone, so the
// same configuration always yields the same offsets, and tools can find every
// structure without the daemon.
//
// Ownership: a Span owns its file; StripeLayout and StripeHeader are values.
// Thread-safety: the functions share no state. A Span is not synchronised;
// the stripe that owns a region serialises the writes to it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cache/storage_config.h"
#include "common/env.h"
#include "common/status.h"

namespace strata {

inline constexpr uint32_t kFormatVersion = 2;
// Docs are placed in units of this many bytes; directory offsets count them.
inline constexpr uint64_t kBlockBytes = 512;
// Every region (header, directory copy, data area, footer) starts and ends on
// this boundary, so O_DIRECT works on 4Kn devices.
inline constexpr uint64_t kRegionAlignBytes = 4096;
// Stripe lengths are multiples of this, so stripe boundaries never split a
// large aggregated write of one stripe with its neighbour.
inline constexpr uint64_t kStripeAlignBytes = 1ull << 20;
// The first bytes of a span are never written: they protect a disk label or
// partition table a device may carry, and leave room for a span label.
inline constexpr uint64_t kSpanReservedBytes = 64ull << 10;
inline constexpr uint64_t kHeaderBlockBytes = 4096;
inline constexpr uint64_t kDirEntryBytes = 10;
inline constexpr uint64_t kDirEntriesPerBucket = 4;
// 16-bit links within a segment: at most 65536 entries = 16384 buckets.
inline constexpr uint64_t kMaxBucketsPerSegment = 16384;
// Each directory copy starts with a header block of its own (dir/ defines
// its content: magic, serial, crc32 of the entry chunks).
inline constexpr uint64_t kDirCopyHeaderBytes = 4096;
inline constexpr uint64_t kMinStripeBytes = 4ull << 20;
inline constexpr uint64_t kMaxStripeBytes = 1ull << 40;
inline constexpr char kStripeMagic[8] = {'S', 'T', 'R', 'P', 'S', 'T', 'R', 'P'};
// Encoded size of a version 1 StripeHeader; the rest of its block is zero.
inline constexpr uint32_t kStripeHeaderBytes = 168;

// The number of directory entries of a stripe whose data area has
// `data_bytes`: one entry per `avg_object_bytes` of data, rounded up to a
// whole bucket of 4:  entries = 4 * ceil(data_bytes / (4 * avg_object_bytes)).
// dir/ sizes its table with this same function; the copies on disk hold
// exactly this many 10-byte entries.
uint64_t DirectoryEntriesFor(uint64_t data_bytes, uint64_t avg_object_bytes);

// Bytes of one directory copy: its header block plus the entries, rounded
// up to kRegionAlignBytes.
uint64_t DirectoryCopyBytes(uint64_t entries);

// One volume's part of a span (volume.config): the span is cut into these
// slices in order, and each slice into stripes of its own.
struct VolumeShare {
  uint32_t volume = 1;
  uint64_t bytes = 0;                 // a multiple of kStripeAlignBytes
  uint64_t average_object_bytes = 0;  // 0 = LayoutOptions::average_object_bytes
};

struct LayoutOptions {
  // Spans larger than this are cut into several equal stripes. 64 GiB keeps
  // per-stripe costs (aggregation buffer, write cursor, directory sync) few
  // on big disks, and leaves every stripe tens of slots of the 65536-slot
  // assignment table even at 100 TB per node; finer locking comes from
  // dir/'s segments, not from more stripes. A multiple of 1 MiB.
  uint64_t max_stripe_bytes = 64ull << 30;
  // Expected mean object size; sets the directory size (ATS's
  // min_average_object_size, same default).
  uint64_t average_object_bytes = 8000;
  // How the span is divided among volumes; empty = all of it to volume 1.
  // Bytes past the last share stay unused.
  std::vector<VolumeShare> volumes;
};

// Where everything of one stripe lives. Offsets are bytes from the start of
// the span (file offsets), so a tool can read any region directly.
struct StripeLayout {
  uint32_t index = 0;   // stripe number within the span
  uint32_t count = 0;   // stripes in the span
  uint32_t volume = 1;  // the volume.config volume the stripe belongs to
  uint64_t offset = 0;  // first byte: the header block
  uint64_t bytes = 0;   // the footer block is the last 4K
  uint64_t dir_a_offset = 0;
  uint64_t dir_b_offset = 0;
  uint64_t dir_copy_bytes = 0;
  uint64_t data_offset = 0;
  uint64_t data_bytes = 0;  // a multiple of kRegionAlignBytes
  uint64_t dir_entries = 0;
  uint64_t dir_buckets = 0;   // dir_entries / 4
  uint32_t dir_segments = 0;  // ceil(dir_buckets / kMaxBucketsPerSegment)
  uint64_t average_object_bytes = 0;

  uint64_t header_offset() const { return offset; }
  uint64_t footer_offset() const { return offset + bytes - kHeaderBlockBytes; }
  uint64_t data_blocks() const { return data_bytes / kBlockBytes; }

  // Cuts a span of `span_bytes` into stripes, share by share (or all of it
  // for volume 1). InvalidArgument for a span below kMinSpanBytes, shares
  // that do not fit or are below kMinStripeBytes, or options out of range.
  static Status Compute(uint64_t span_bytes, const LayoutOptions& options, std::vector<StripeLayout>* out);

  friend bool operator==(const StripeLayout&, const StripeLayout&) = default;
};

// The stripe header: the geometry it was created with, plus mutable state.
struct StripeHeader {
  uint32_t version = kFormatVersion;
  StripeLayout layout;
  uint64_t create_time = 0;  // seconds since the Unix epoch
  // Random at initialisation. Docs carry its low 32 bits, so recovery never
  // takes a Doc left by an earlier life of the stripe for a new one.
  uint64_t nonce = 0;
  // Bumped by every WriteStripeHeader; the newer of header and footer wins.
  uint64_t header_serial = 0;
  uint64_t write_serial = 0;     // of the last aggregated write covered
  uint64_t snapshot_serial = 0;  // of the last directory snapshot
  uint64_t write_pos = 0;        // next write, in blocks from data_offset
  uint32_t phase = 0;            // flips (0/1) each time write_pos wraps
};

// The bytes a span offers to stripes: its size less the reserved start,
// rounded down to kStripeAlignBytes.
uint64_t UsableSpanBytes(uint64_t span_bytes);

// A header for a stripe that holds nothing yet.
StripeHeader NewStripeHeader(const StripeLayout& layout, uint64_t create_time, uint64_t nonce);

// Encodes into a kHeaderBlockBytes block (the rest zero-filled).
void EncodeStripeHeader(const StripeHeader& header, char* block);
// Decodes one block. Corruption for a bad magic, length or crc;
// InvalidArgument for a well-formed header of another format version.
Status DecodeStripeHeader(const char* block, StripeHeader* header);

// Reads header and footer and returns the newer valid one, checked against
// `layout`. NotFound if both blocks are all zero (never initialised);
// Corruption if neither is valid; InvalidArgument if the format version or
// the geometry differs from `layout`. Messages name the span and the stripe.
Status ReadStripeHeader(const RandomRWFile& file, const StripeLayout& layout, StripeHeader* header);

// Bumps header->header_serial, then writes the header block, syncs, writes
// the footer block and syncs.
Status WriteStripeHeader(RandomRWFile& file, const StripeLayout& layout, StripeHeader* header);

// Makes the stripe empty: zeroes the header blocks of both directory copies
// (so no snapshot of an earlier life is loaded) and writes a new header.
Status InitializeStripe(RandomRWFile& file, const StripeLayout& layout, uint64_t create_time, uint64_t nonce,
                        StripeHeader* header);

struct SpanStripe {
  StripeLayout layout;
  StripeHeader header;
  bool initialized = false;  // created empty by this OpenSpan
};

struct Span {
  std::string path;
  uint64_t bytes = 0;  // size the geometry was computed from
  std::unique_ptr<RandomRWFile> file;
  std::vector<SpanStripe> stripes;
};

// Opens (creating a regular file at its configured size) and checks every
// stripe. A stripe that was never written is initialised. A stripe whose
// header is garbage, of another version or of another geometry is an error
// naming the span and what differs, unless `reinitialize` is set: then that
// stripe (only) is initialised anew, losing its objects. All stripes'
// problems are reported together. `read_only`: the file is opened read-only
// and nothing is created, grown or initialised (a stripe never written is an
// error too). An IOError means the file or device could not be used at all
// (the caller may go on without it); other errors are the operator's to fix.
// A read-write open locks the file (Env::OpenOptions::lock): Busy when another
// process (a running daemon) has it; read-only opens take no lock.
Status OpenSpan(Env* env, const SpanConfig& config, const LayoutOptions& options, bool reinitialize, bool read_only,
                std::unique_ptr<Span>* out);

}  // namespace strata
