#include "cache/doc.h"

#include <algorithm>
#include <cstring>

#include "common/coding.h"
#include "common/crc32.h"

namespace strata {
namespace {

// Field offsets of the version 1 Doc header (docs/FORMAT.md).
enum : size_t {
  kOffMagic = 0,
  kOffVersion = 4,
  kOffFlags = 6,
  kOffKeyHi = 8,
  kOffKeyLo = 16,
  kOffObjectLength = 24,
  kOffDataLength = 32,
  kOffMetaLength = 36,
  kOffFragmentIndex = 40,
  kOffWriteSerial = 44,
  kOffCrc = 52,
  kOffStripeNonce = 56,
  kOffReserved = 60,
};
static_assert(kOffReserved + 4 == kDocHeaderBytes);

// crc32 of the header with its crc field taken as zero, then of the
// `body_len` bytes (metadata and data) that follow it.
uint32_t DocCrc(const char* doc, size_t body_len) {
  char header[kDocHeaderBytes];
  memcpy(header, doc, kDocHeaderBytes);
  EncodeFixed32(header + kOffCrc, 0);
  return Crc32(doc + kDocHeaderBytes, body_len, Crc32(header, kDocHeaderBytes));
}

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    const uint64_t byte = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    if (shift == 63 && byte > 1) return false;  // more than 64 bits
    result |= (byte & 0x7f) << shift;
    if (!(byte & 0x80)) {
      *v = result;
      return true;
    }
  }
  return false;
}

}  // namespace

size_t DocSize(size_t meta_len, size_t data_len) {
  return (kDocHeaderBytes + meta_len + data_len + kDocAlignBytes - 1) / kDocAlignBytes * kDocAlignBytes;
}

size_t EncodeDoc(const DocHeaderFields& f, std::string_view meta, std::string_view data, char* out) {
  if (meta.size() > kMaxDocBytes || data.size() > kMaxDocBytes) return 0;
  const size_t size = DocSize(meta.size(), data.size());
  if (size > kMaxDocBytes) return 0;
  memset(out, 0, kDocHeaderBytes);
  EncodeFixed32(out + kOffMagic, kDocMagic);
  EncodeFixed16(out + kOffVersion, kDocVersion);
  EncodeFixed16(out + kOffFlags, f.flags);
  EncodeFixed64(out + kOffKeyHi, f.key.hi);
  EncodeFixed64(out + kOffKeyLo, f.key.lo);
  EncodeFixed64(out + kOffObjectLength, f.object_length);
  EncodeFixed32(out + kOffDataLength, static_cast<uint32_t>(data.size()));
  EncodeFixed32(out + kOffMetaLength, static_cast<uint32_t>(meta.size()));
  EncodeFixed32(out + kOffFragmentIndex, f.fragment_index);
  EncodeFixed64(out + kOffWriteSerial, f.write_serial);
  EncodeFixed32(out + kOffStripeNonce, f.stripe_nonce);
  char* p = out + kDocHeaderBytes;
  if (!meta.empty()) memcpy(p, meta.data(), meta.size());
  p += meta.size();
  if (!data.empty()) memcpy(p, data.data(), data.size());
  p += data.size();
  memset(p, 0, out + size - p);
  EncodeFixed32(out + kOffCrc, DocCrc(out, meta.size() + data.size()));
  return size;
}

Status DecodeDocHeader(const char* buf, size_t len, DocHeaderFields* out) {
  if (len < kDocHeaderBytes) return Status::Corruption("Doc shorter than its header");
  if (DecodeFixed32(buf + kOffMagic) != kDocMagic) return Status::Corruption("bad Doc magic");
  DocHeaderFields f;
  f.version = DecodeFixed16(buf + kOffVersion);
  if (f.version != kDocVersion) return Status::Corruption("Doc format version " + std::to_string(f.version));
  f.flags = DecodeFixed16(buf + kOffFlags);
  if (f.flags & ~kDocKnownFlags) return Status::Corruption("unknown Doc flags " + std::to_string(f.flags));
  if (DecodeFixed32(buf + kOffReserved) != 0) return Status::Corruption("Doc reserved bytes not zero");
  f.key.hi = DecodeFixed64(buf + kOffKeyHi);
  f.key.lo = DecodeFixed64(buf + kOffKeyLo);
  f.object_length = DecodeFixed64(buf + kOffObjectLength);
  f.data_length = DecodeFixed32(buf + kOffDataLength);
  f.meta_length = DecodeFixed32(buf + kOffMetaLength);
  f.fragment_index = DecodeFixed32(buf + kOffFragmentIndex);
  f.write_serial = DecodeFixed64(buf + kOffWriteSerial);
  f.stripe_nonce = DecodeFixed32(buf + kOffStripeNonce);
  if (uint64_t{f.meta_length} + f.data_length > kMaxDocBytes - kDocHeaderBytes) {
    return Status::Corruption("Doc lengths too large");
  }
  *out = f;
  return Status::OK();
}

Status DecodeDoc(const char* buf, size_t len, const CacheKey& expected_key, DocView* out) {
  DocHeaderFields f;
  Status st = DecodeDocHeader(buf, len, &f);
  if (!st.ok()) return st;
  const size_t body = size_t{f.meta_length} + f.data_length;
  if (kDocHeaderBytes + body > len) {
    return Status::Corruption("Doc of " + std::to_string(kDocHeaderBytes + body) + " bytes overruns the " +
                              std::to_string(len) + " bytes read");
  }
  if (DocCrc(buf, body) != DecodeFixed32(buf + kOffCrc)) return Status::Corruption("Doc crc mismatch");
  if (f.key != expected_key) return Status::NotFound("Doc holds another key");
  out->header = f;
  out->meta = std::string_view(buf + kDocHeaderBytes, f.meta_length);
  out->data = std::string_view(buf + kDocHeaderBytes + f.meta_length, f.data_length);
  out->size = DocSize(f.meta_length, f.data_length);
  return Status::OK();
}

std::string EncodeFragmentTable(const std::vector<uint64_t>& offsets) {
  std::string out;
  if (offsets.empty()) return out;
  PutVarint(&out, offsets.size());
  PutVarint(&out, offsets[0]);
  // A non-increasing input encodes a zero or wrapped difference, which
  // DecodeFragmentTable rejects.
  for (size_t i = 1; i < offsets.size(); ++i) PutVarint(&out, offsets[i] - offsets[i - 1]);
  return out;
}

Status DecodeFragmentTable(std::string_view in, std::vector<uint64_t>* offsets) {
  std::vector<uint64_t> out;
  if (!in.empty()) {
    uint64_t count = 0, first = 0;
    // Each entry takes at least a byte: a count beyond that is garbage, and
    // checking first keeps a garbage count from sizing the vector.
    if (!GetVarint(&in, &count) || count == 0 || count > in.size()) {
      return Status::Corruption("fragment table: bad count");
    }
    if (!GetVarint(&in, &first) || first != 0) return Status::Corruption("fragment table: first offset is not 0");
    out.reserve(count);
    out.push_back(0);
    for (uint64_t i = 1; i < count; ++i) {
      uint64_t delta = 0;
      if (!GetVarint(&in, &delta)) return Status::Corruption("fragment table: truncated");
      if (delta == 0 || delta > UINT64_MAX - out.back()) {
        return Status::Corruption("fragment table: offsets not strictly increasing");
      }
      out.push_back(out.back() + delta);
    }
    if (!in.empty()) return Status::Corruption("fragment table: trailing bytes");
  }
  *offsets = std::move(out);
  return Status::OK();
}

size_t FragmentForOffset(const std::vector<uint64_t>& table, uint64_t offset) {
  auto it = std::upper_bound(table.begin(), table.end(), offset);
  return it == table.begin() ? 0 : static_cast<size_t>(it - table.begin()) - 1;
}

std::string EncodeMetadata(std::string_view user_meta, const std::vector<uint64_t>& fragment_offsets) {
  const std::string table = EncodeFragmentTable(fragment_offsets);
  std::string out(1 + 4 + user_meta.size() + 4 + table.size(), '\0');
  char* p = out.data();
  *p++ = 1;
  EncodeFixed32(p, static_cast<uint32_t>(user_meta.size()));
  p += 4;
  if (!user_meta.empty()) memcpy(p, user_meta.data(), user_meta.size());
  p += user_meta.size();
  EncodeFixed32(p, static_cast<uint32_t>(table.size()));
  p += 4;
  if (!table.empty()) memcpy(p, table.data(), table.size());
  return out;
}

Status DecodeMetadata(std::string_view in, std::string_view* user_meta, std::vector<uint64_t>* fragment_offsets) {
  if (in.empty() || in[0] != 1) return Status::Corruption("metadata: unknown version");
  in.remove_prefix(1);
  std::string_view parts[2];
  for (std::string_view& part : parts) {
    if (in.size() < 4) return Status::Corruption("metadata: truncated");
    const uint32_t n = DecodeFixed32(in.data());
    in.remove_prefix(4);
    if (n > in.size()) return Status::Corruption("metadata: length overruns");
    part = in.substr(0, n);
    in.remove_prefix(n);
  }
  if (!in.empty()) return Status::Corruption("metadata: trailing bytes");
  std::vector<uint64_t> table;
  Status st = DecodeFragmentTable(parts[1], &table);
  if (!st.ok()) return Status::Corruption("metadata: " + st.message());
  *user_meta = parts[0];
  *fragment_offsets = std::move(table);
  return Status::OK();
}

}  // namespace strata
