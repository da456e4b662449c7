#include "cache/layout.h"

#include <chrono>
#include <cstring>
#include <random>

#include "common/coding.h"
#include "common/crc32.h"

namespace strata {
namespace {

uint64_t RoundUp(uint64_t n, uint64_t align) { return (n + align - 1) / align * align; }
uint64_t RoundDown(uint64_t n, uint64_t align) { return n / align * align; }

// Field offsets of the version 1 stripe header (docs/FORMAT.md). Magic,
// version, crc and length keep these offsets in every future version, so any
// version's header can be recognised and checksummed.
enum : size_t {
  kOffMagic = 0,
  kOffVersion = 8,
  kOffCrc = 12,
  kOffHeaderBytes = 16,
  kOffIndex = 20,
  kOffCount = 24,
  kOffSegments = 28,
  kOffStripeOffset = 32,
  kOffStripeBytes = 40,
  kOffDirA = 48,
  kOffDirB = 56,
  kOffDirCopyBytes = 64,
  kOffDataOffset = 72,
  kOffDataBytes = 80,
  kOffEntries = 88,
  kOffBuckets = 96,
  kOffAvgObject = 104,
  kOffCreateTime = 112,
  kOffNonce = 120,
  kOffHeaderSerial = 128,
  kOffWriteSerial = 136,
  kOffSnapshotSerial = 144,
  kOffWritePos = 152,
  kOffPhase = 160,
  kOffVolume = 164,
};
static_assert(kOffVolume + 4 == kStripeHeaderBytes);

uint32_t HeaderCrc(const char* block, uint32_t len) {
  char copy[kHeaderBlockBytes];
  memcpy(copy, block, len);
  EncodeFixed32(copy + kOffCrc, 0);
  return Crc32(copy, len);
}

// Fills everything inside one stripe from its offset and length.
void LayoutStripe(uint64_t offset, uint64_t bytes, uint64_t avg, StripeLayout* s) {
  s->offset = offset;
  s->bytes = bytes;
  s->average_object_bytes = avg;
  // The directory size depends on the data size and the other way round:
  // size the copies for the largest possible data area, then give the data
  // area what is left and recount the entries for it. The second count is
  // never larger, so the copies still fit; any slack sits before the footer.
  const uint64_t inner = bytes - 2 * kHeaderBlockBytes;
  const uint64_t upper_copy = DirectoryCopyBytes(DirectoryEntriesFor(inner, avg));
  s->data_bytes = RoundDown(inner - 2 * upper_copy, kRegionAlignBytes);
  s->dir_entries = DirectoryEntriesFor(s->data_bytes, avg);
  s->dir_buckets = s->dir_entries / kDirEntriesPerBucket;
  s->dir_segments = static_cast<uint32_t>((s->dir_buckets + kMaxBucketsPerSegment - 1) / kMaxBucketsPerSegment);
  s->dir_copy_bytes = DirectoryCopyBytes(s->dir_entries);
  s->dir_a_offset = offset + kHeaderBlockBytes;
  s->dir_b_offset = s->dir_a_offset + s->dir_copy_bytes;
  s->data_offset = s->dir_b_offset + s->dir_copy_bytes;
}

std::string Where(const std::string& path, const StripeLayout& layout) {
  return "span " + path + " stripe " + std::to_string(layout.index) + "/" + std::to_string(layout.count) + " (offset " +
         std::to_string(layout.offset) + ")";
}

// "stripe_bytes 7340032 on disk, 8388608 configured; ..." for every field of
// the geometry that differs.
std::string GeometryDifferences(const StripeLayout& disk, const StripeLayout& want) {
  std::string out;
  auto field = [&](const char* name, uint64_t d, uint64_t w) {
    if (d == w) return;
    out += (out.empty() ? "" : "; ") + std::string(name) + " " + std::to_string(d) + " on disk, " + std::to_string(w) +
           " configured";
  };
  field("volume", disk.volume, want.volume);
  field("stripe_count", disk.count, want.count);
  field("stripe_index", disk.index, want.index);
  field("stripe_offset", disk.offset, want.offset);
  field("stripe_bytes", disk.bytes, want.bytes);
  field("average_object_bytes", disk.average_object_bytes, want.average_object_bytes);
  field("dir_entries", disk.dir_entries, want.dir_entries);
  field("dir_buckets", disk.dir_buckets, want.dir_buckets);
  field("dir_segments", disk.dir_segments, want.dir_segments);
  field("dir_copy_bytes", disk.dir_copy_bytes, want.dir_copy_bytes);
  field("dir_a_offset", disk.dir_a_offset, want.dir_a_offset);
  field("dir_b_offset", disk.dir_b_offset, want.dir_b_offset);
  field("data_offset", disk.data_offset, want.data_offset);
  field("data_bytes", disk.data_bytes, want.data_bytes);
  return out;
}

bool AllZero(const char* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

constexpr const char* kReinitHint = " (reinitialize the span to discard this stripe's objects)";

}  // namespace

uint64_t DirectoryEntriesFor(uint64_t data_bytes, uint64_t avg_object_bytes) {
  const uint64_t per_bucket = kDirEntriesPerBucket * avg_object_bytes;
  return (data_bytes + per_bucket - 1) / per_bucket * kDirEntriesPerBucket;
}

uint64_t DirectoryCopyBytes(uint64_t entries) {
  return RoundUp(kDirCopyHeaderBytes + entries * kDirEntryBytes, kRegionAlignBytes);
}

uint64_t UsableSpanBytes(uint64_t span_bytes) {
  return span_bytes < kSpanReservedBytes ? 0 : RoundDown(span_bytes - kSpanReservedBytes, kStripeAlignBytes);
}

Status StripeLayout::Compute(uint64_t span_bytes, const LayoutOptions& options, std::vector<StripeLayout>* out) {
  const uint64_t max = options.max_stripe_bytes;
  if (max % kStripeAlignBytes != 0 || max < kMinStripeBytes || max > kMaxStripeBytes) {
    return Status::InvalidArgument("max stripe size " + std::to_string(max) +
                                   " must be a multiple of 1M between 4M and 1T");
  }
  if (span_bytes < kMinSpanBytes) {
    return Status::InvalidArgument("span of " + std::to_string(span_bytes) + " bytes is below the minimum 8M");
  }
  const uint64_t usable = UsableSpanBytes(span_bytes);
  std::vector<VolumeShare> shares = options.volumes;
  if (shares.empty()) shares.push_back({1, usable, 0});
  uint64_t total = 0;
  for (const VolumeShare& share : shares) total += share.bytes;
  if (total > usable) {
    return Status::InvalidArgument("volumes take " + std::to_string(total) + " bytes of a span offering " +
                                   std::to_string(usable));
  }
  std::vector<StripeLayout> stripes;
  uint64_t offset = kSpanReservedBytes;
  for (const VolumeShare& share : shares) {
    const uint64_t avg = share.average_object_bytes ? share.average_object_bytes : options.average_object_bytes;
    if (avg < kBlockBytes || avg > (64ull << 20)) {
      return Status::InvalidArgument("average object size " + std::to_string(avg) + " must be between 512 and 64M");
    }
    if (share.bytes % kStripeAlignBytes != 0 || share.bytes < kMinStripeBytes) {
      return Status::InvalidArgument("volume " + std::to_string(share.volume) + " gets " +
                                     std::to_string(share.bytes >> 20) +
                                     "M of this span: a volume's part must be a multiple of 1M and at least 4M");
    }
    const uint64_t count = (share.bytes + max - 1) / max;
    const uint64_t stripe_bytes = RoundDown(share.bytes / count, kStripeAlignBytes);
    for (uint64_t i = 0; i < count; ++i) {
      StripeLayout layout;
      layout.volume = share.volume;
      LayoutStripe(offset + i * stripe_bytes, stripe_bytes, avg, &layout);
      stripes.push_back(layout);
    }
    offset += share.bytes;
  }
  for (size_t i = 0; i < stripes.size(); ++i) {
    stripes[i].index = static_cast<uint32_t>(i);
    stripes[i].count = static_cast<uint32_t>(stripes.size());
  }
  *out = std::move(stripes);
  return Status::OK();
}

StripeHeader NewStripeHeader(const StripeLayout& layout, uint64_t create_time, uint64_t nonce) {
  StripeHeader h;
  h.layout = layout;
  h.create_time = create_time;
  h.nonce = nonce;
  return h;
}

void EncodeStripeHeader(const StripeHeader& h, char* block) {
  memset(block, 0, kHeaderBlockBytes);
  const StripeLayout& l = h.layout;
  memcpy(block + kOffMagic, kStripeMagic, sizeof(kStripeMagic));
  EncodeFixed32(block + kOffVersion, h.version);
  EncodeFixed32(block + kOffHeaderBytes, kStripeHeaderBytes);
  EncodeFixed32(block + kOffIndex, l.index);
  EncodeFixed32(block + kOffCount, l.count);
  EncodeFixed32(block + kOffSegments, l.dir_segments);
  EncodeFixed64(block + kOffStripeOffset, l.offset);
  EncodeFixed64(block + kOffStripeBytes, l.bytes);
  EncodeFixed64(block + kOffDirA, l.dir_a_offset);
  EncodeFixed64(block + kOffDirB, l.dir_b_offset);
  EncodeFixed64(block + kOffDirCopyBytes, l.dir_copy_bytes);
  EncodeFixed64(block + kOffDataOffset, l.data_offset);
  EncodeFixed64(block + kOffDataBytes, l.data_bytes);
  EncodeFixed64(block + kOffEntries, l.dir_entries);
  EncodeFixed64(block + kOffBuckets, l.dir_buckets);
  EncodeFixed64(block + kOffAvgObject, l.average_object_bytes);
  EncodeFixed64(block + kOffCreateTime, h.create_time);
  EncodeFixed64(block + kOffNonce, h.nonce);
  EncodeFixed64(block + kOffHeaderSerial, h.header_serial);
  EncodeFixed64(block + kOffWriteSerial, h.write_serial);
  EncodeFixed64(block + kOffSnapshotSerial, h.snapshot_serial);
  EncodeFixed64(block + kOffWritePos, h.write_pos);
  EncodeFixed32(block + kOffPhase, h.phase);
  EncodeFixed32(block + kOffVolume, l.volume);
  EncodeFixed32(block + kOffCrc, HeaderCrc(block, kStripeHeaderBytes));
}

Status DecodeStripeHeader(const char* block, StripeHeader* h) {
  if (memcmp(block + kOffMagic, kStripeMagic, sizeof(kStripeMagic)) != 0) return Status::Corruption("bad magic");
  const uint32_t len = DecodeFixed32(block + kOffHeaderBytes);
  if (len < kOffHeaderBytes + 4 || len > kHeaderBlockBytes) {
    return Status::Corruption("bad header length " + std::to_string(len));
  }
  if (HeaderCrc(block, len) != DecodeFixed32(block + kOffCrc)) return Status::Corruption("crc mismatch");
  const uint32_t version = DecodeFixed32(block + kOffVersion);
  if (version != kFormatVersion || len != kStripeHeaderBytes) {
    return Status::InvalidArgument("format version " + std::to_string(version) + " on disk, this build uses version " +
                                   std::to_string(kFormatVersion));
  }
  StripeHeader out;
  StripeLayout& l = out.layout;
  out.version = version;
  l.index = DecodeFixed32(block + kOffIndex);
  l.count = DecodeFixed32(block + kOffCount);
  l.dir_segments = DecodeFixed32(block + kOffSegments);
  l.offset = DecodeFixed64(block + kOffStripeOffset);
  l.bytes = DecodeFixed64(block + kOffStripeBytes);
  l.dir_a_offset = DecodeFixed64(block + kOffDirA);
  l.dir_b_offset = DecodeFixed64(block + kOffDirB);
  l.dir_copy_bytes = DecodeFixed64(block + kOffDirCopyBytes);
  l.data_offset = DecodeFixed64(block + kOffDataOffset);
  l.data_bytes = DecodeFixed64(block + kOffDataBytes);
  l.dir_entries = DecodeFixed64(block + kOffEntries);
  l.dir_buckets = DecodeFixed64(block + kOffBuckets);
  l.average_object_bytes = DecodeFixed64(block + kOffAvgObject);
  out.create_time = DecodeFixed64(block + kOffCreateTime);
  out.nonce = DecodeFixed64(block + kOffNonce);
  out.header_serial = DecodeFixed64(block + kOffHeaderSerial);
  out.write_serial = DecodeFixed64(block + kOffWriteSerial);
  out.snapshot_serial = DecodeFixed64(block + kOffSnapshotSerial);
  out.write_pos = DecodeFixed64(block + kOffWritePos);
  out.phase = DecodeFixed32(block + kOffPhase);
  l.volume = DecodeFixed32(block + kOffVolume);
  if (out.phase > 1) return Status::Corruption("phase " + std::to_string(out.phase) + " is not 0 or 1");
  *h = out;
  return Status::OK();
}

Status ReadStripeHeader(const RandomRWFile& file, const StripeLayout& layout, StripeHeader* header) {
  const std::string where = Where(file.path(), layout);
  const uint64_t offsets[2] = {layout.header_offset(), layout.footer_offset()};
  const char* names[2] = {"header", "footer"};
  StripeHeader copies[2];
  Status status[2];
  bool zero[2];
  for (int i = 0; i < 2; ++i) {
    char block[kHeaderBlockBytes];
    Status st = file.Read(offsets[i], kHeaderBlockBytes, block);
    if (!st.ok()) return Status::IOError(where + ": reading the " + names[i] + ": " + st.message());
    zero[i] = AllZero(block, kHeaderBlockBytes);
    status[i] = zero[i] ? Status::Corruption("all zero") : DecodeStripeHeader(block, &copies[i]);
  }
  if (zero[0] && zero[1]) return Status::NotFound(where + ": not initialised");
  // The newer valid copy wins; on a tie the header (written first).
  int pick = -1;
  for (int i = 0; i < 2; ++i) {
    if (status[i].ok() && (pick < 0 || copies[i].header_serial > copies[pick].header_serial)) pick = i;
  }
  if (pick < 0) {
    for (int i = 0; i < 2; ++i) {
      if (status[i].kind() == Status::Kind::kInvalidArgument) {
        return Status::InvalidArgument(where + ": " + status[i].message() + kReinitHint);
      }
    }
    return Status::Corruption(where + ": no valid stripe header: header: " + status[0].message() +
                              "; footer: " + status[1].message() + kReinitHint);
  }
  const StripeHeader& h = copies[pick];
  if (!(h.layout == layout)) {
    return Status::InvalidArgument(where + ": the stripe on disk has another geometry than the configuration (" +
                                   GeometryDifferences(h.layout, layout) + ")" + kReinitHint);
  }
  if (h.write_pos > layout.data_blocks()) {
    return Status::Corruption(where + ": write position " + std::to_string(h.write_pos) + " is beyond the data area (" +
                              std::to_string(layout.data_blocks()) + " blocks)" + kReinitHint);
  }
  *header = h;
  return Status::OK();
}

Status WriteStripeHeader(RandomRWFile& file, const StripeLayout& layout, StripeHeader* header) {
  header->header_serial++;
  header->layout = layout;
  char block[kHeaderBlockBytes];
  EncodeStripeHeader(*header, block);
  // The sync orders the two writes: a crash can tear only one copy.
  Status st = file.Write(layout.header_offset(), block, kHeaderBlockBytes);
  if (st.ok()) st = file.Sync();
  if (st.ok()) st = file.Write(layout.footer_offset(), block, kHeaderBlockBytes);
  if (st.ok()) st = file.Sync();
  return st;
}

Status InitializeStripe(RandomRWFile& file, const StripeLayout& layout, uint64_t create_time, uint64_t nonce,
                        StripeHeader* header) {
  char zero[kDirCopyHeaderBytes] = {};
  Status st = file.Write(layout.dir_a_offset, zero, sizeof(zero));
  if (st.ok()) st = file.Write(layout.dir_b_offset, zero, sizeof(zero));
  if (!st.ok()) return st;
  StripeHeader h = NewStripeHeader(layout, create_time, nonce);
  st = WriteStripeHeader(file, layout, &h);
  if (st.ok()) *header = h;
  return st;
}

Status OpenSpan(Env* env, const SpanConfig& config, const LayoutOptions& options, bool reinitialize, bool read_only,
                std::unique_ptr<Span>* out) {
  auto span = std::make_unique<Span>();
  span->path = config.path;
  Env::OpenOptions open_options;
  open_options.read_only = read_only;
  // One writer per span: a second daemon, or an offline purge beside the
  // daemon, is refused (Busy) instead of corrupting it.
  open_options.lock = !read_only;
  if (read_only) {
    open_options.extend = false;
  } else if (!config.is_block_device) {
    open_options.create_size = config.size_bytes;
  }
  Status st = env->OpenRandomRWFile(config.path, open_options, &span->file);
  if (!st.ok()) return st;
  if (config.is_block_device) {
    st = span->file->Size(&span->bytes);
    if (!st.ok()) return st;
  } else {
    span->bytes = config.size_bytes;
  }
  std::vector<StripeLayout> layouts;
  st = StripeLayout::Compute(span->bytes, options, &layouts);
  if (!st.ok()) return Status::InvalidArgument("span " + config.path + ": " + st.message());

  // Check every stripe before writing any: a span that is refused (say, a
  // device holding something else) must be left untouched.
  std::vector<SpanStripe> stripes(layouts.size());
  std::vector<bool> needs_init(layouts.size(), false);
  Status first_problem;
  std::string problems;
  for (size_t i = 0; i < layouts.size(); ++i) {
    stripes[i].layout = layouts[i];
    st = ReadStripeHeader(*span->file, layouts[i], &stripes[i].header);
    if (st.kind() == Status::Kind::kIOError) return st;
    if (st.ok()) continue;
    needs_init[i] = true;
    if (read_only && st.kind() == Status::Kind::kNotFound) {
      st = Status::NotFound("span " + config.path + ": stripe " + std::to_string(i) + " was never initialised");
    } else if (st.kind() == Status::Kind::kNotFound || (reinitialize && !read_only)) {
      continue;
    }
    if (first_problem.ok()) first_problem = st;
    problems += (problems.empty() ? "" : "\n") + st.message();
  }
  if (!first_problem.ok()) {
    return first_problem.kind() == Status::Kind::kCorruption ? Status::Corruption(problems)
                                                             : Status::InvalidArgument(problems);
  }
  std::random_device random;
  const uint64_t now = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  for (size_t i = 0; i < layouts.size(); ++i) {
    if (!needs_init[i]) continue;
    const uint64_t nonce = (uint64_t{random()} << 32) | random();
    st = InitializeStripe(*span->file, layouts[i], now, nonce, &stripes[i].header);
    if (!st.ok()) return st;
    stripes[i].initialized = true;
  }
  span->stripes = std::move(stripes);
  *out = std::move(span);
  return Status::OK();
}

}  // namespace strata
