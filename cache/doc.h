// Doc: one chunk of an object as it lies in a stripe's data area (format
// version 1; docs/FORMAT.md is the byte-exact spec).
//
//   [64-byte header][metadata][data][zero padding to a multiple of 512]
//
// The header names the object (full 128-bit key, so a directory tag
// collision is detected as a miss), gives the lengths, and carries a crc32
// over header (crc field zero), metadata and data, so a torn or rotted chunk
// is detected on every read. All integers are little-endian, encoded byte by
// byte.
//
// The first Doc of an object (flag kDocHead) carries the metadata: a small
// container holding the proxy's opaque metadata and, for an object of
// several fragments, the fragment table (the object offset at which each
// fragment starts), searched by binary search to serve a Range.
//
// Thread-safety: pure functions on caller-owned buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/cache_key.h"
#include "common/status.h"

namespace strata {

inline constexpr uint32_t kDocMagic = 0x434f4453;  // bytes "SDOC" on disk
inline constexpr uint16_t kDocVersion = 1;
inline constexpr size_t kDocHeaderBytes = 64;
inline constexpr size_t kDocAlignBytes = 512;
// Largest Doc, padding included. Far above any fragment size; it keeps a
// reader from trusting a garbage length before the crc can be checked.
inline constexpr size_t kMaxDocBytes = 64u << 20;

// Flags.
inline constexpr uint16_t kDocHead = 1 << 0;      // first Doc: holds the metadata
inline constexpr uint16_t kDocFragment = 1 << 1;  // part of an object of several Docs
inline constexpr uint16_t kDocKnownFlags = kDocHead | kDocFragment;

struct DocHeaderFields {
  CacheKey key;
  uint16_t flags = 0;
  uint64_t object_length = 0;  // bytes of the whole object
  uint32_t fragment_index = 0;
  uint64_t write_serial = 0;
  // Low 32 bits of the stripe's nonce (StripeHeader::nonce): recovery skips
  // Docs left by an earlier life of the stripe. 0 = not bound to a stripe.
  uint32_t stripe_nonce = 0;
  // Filled by decoding; EncodeDoc takes them from its arguments.
  uint16_t version = kDocVersion;
  uint32_t meta_length = 0;
  uint32_t data_length = 0;
};

struct DocView {
  DocHeaderFields header;
  std::string_view meta;  // point into the decoded buffer
  std::string_view data;
  size_t size = 0;  // DocSize(meta, data): bytes the Doc occupies on disk
};

// Bytes a Doc occupies: round_up(64 + meta_len + data_len, 512).
size_t DocSize(size_t meta_len, size_t data_len);

// Writes the Doc into `out` (DocSize(meta.size(), data.size()) bytes, pad
// bytes zero) and returns its size; returns 0, writing nothing, if that size
// exceeds kMaxDocBytes.
size_t EncodeDoc(const DocHeaderFields& fields, std::string_view meta, std::string_view data, char* out);

// Decodes and checks the 64-byte header alone (magic, version, flags,
// reserved bytes, lengths within kMaxDocBytes), not the crc: enough to learn
// how many bytes to read. Corruption on failure.
Status DecodeDocHeader(const char* buf, size_t len, DocHeaderFields* out);

// Decodes a whole Doc read from disk. Corruption for a bad magic, version,
// lengths that do not fit in `len`, or a crc mismatch; NotFound when the Doc
// is intact but belongs to another key (a directory tag collision: a miss).
// The crc is checked before the key, so a damaged key reads as Corruption.
Status DecodeDoc(const char* buf, size_t len, const CacheKey& expected_key, DocView* out);

// Fragment table: offsets[i] is the object offset of fragment i's first
// byte; offsets[0] == 0 and the offsets strictly increase. Encoded as
// varints: the count, then offsets[0], then the differences. An empty table
// (an object of one fragment) encodes as nothing.
std::string EncodeFragmentTable(const std::vector<uint64_t>& fragment_offsets);
Status DecodeFragmentTable(std::string_view in, std::vector<uint64_t>* fragment_offsets);
// Index of the fragment holding object byte `offset`: the last i with
// table[i] <= offset (binary search). Offsets past the object's end give the
// last fragment; the caller checks object_length. An empty table gives 0.
size_t FragmentForOffset(const std::vector<uint64_t>& table, uint64_t offset);

// The first Doc's metadata: [u8 version 1][u32 user length][user bytes]
// [u32 table length][fragment table]. DecodeMetadata returns Corruption for
// another version, lengths that overrun, trailing bytes or a bad table;
// `user_meta` points into `in`.
std::string EncodeMetadata(std::string_view user_meta, const std::vector<uint64_t>& fragment_offsets);
Status DecodeMetadata(std::string_view in, std::string_view* user_meta, std::vector<uint64_t>* fragment_offsets);

}  // namespace strata
