// Storage configuration: which spans the cache uses (storage.config, or the
// `--cache PATH[,SIZE]` quick-start option) and how their space is divided
// into volumes (volume.config). Both files use Apache Traffic Server's syntax
// so that an ATS operator can reuse theirs.
//
//   storage.config   PATH [SIZE] [id=NAME] [volume=N]      one span per line
//   volume.config    volume=N scheme=http size=P%|SIZE [avg_obj_size=SIZE]
//                    [fragment_size=SIZE]
//
// `#` starts a comment. SIZE is bytes or a number with a K/M/G/T suffix
// (binary units); a bare number in volume.config `size=` is MB, as in ATS.
// A block device is used whole and takes no SIZE; a regular file (created
// when missing) and a directory (the span is DIR/cache.db) need one.
//
// Parsing only reads the config text and looks at what each span path is
// (stat); it opens no span. Every problem is reported, one per line, as
// `file:line: problem`, in a single InvalidArgument Status.
//
// Thread-safety: free functions on caller-owned values; no shared state.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace strata {

// Smallest span accepted: a stripe must hold several 1 MiB fragments next to
// its headers and directory copies.
inline constexpr uint64_t kMinSpanBytes = 8ull << 20;

struct SpanConfig {
  // The file or device opened for this span (for a directory in the config,
  // DIR/cache.db).
  std::string path;
  // Bytes to use; 0 for a block device, whose whole size is used.
  uint64_t size_bytes = 0;
  bool is_block_device = false;
  // `id=`: seeds the stripes' identities in place of the path, so that a
  // device may be renamed (/dev/sdb -> /dev/sdc) without moving keys.
  std::string id;
  // `volume=`: the span belongs to this volume only; 0 = shared by all.
  int volume = 0;
  // Where the span was declared, for messages ("storage.config:3" or
  // "--cache").
  std::string origin;

  // What identifies this span's stripes in the stripe assignment.
  const std::string& identity() const { return id.empty() ? path : id; }
};

struct VolumeConfig {
  int number = 1;  // 1..255
  std::string scheme = "http";
  // Exactly one of these is set: a share of the total, or an absolute size.
  int percent = 0;  // 1..100
  uint64_t size_bytes = 0;
  uint64_t avg_obj_size = 0;   // 0 = the global default
  uint64_t fragment_size = 0;  // 0 = the global default
  std::string origin;          // "volume.config:2"
};

struct CacheConfig {
  std::vector<SpanConfig> spans;
  std::vector<VolumeConfig> volumes;
};

// What a span path names. The probe is a parameter so that tests can pretend
// a path is a block device.
enum class PathKind { kMissing, kRegularFile, kBlockDevice, kDirectory, kOther };
using PathProbe = std::function<PathKind(const std::string& path)>;
PathKind ProbePath(const std::string& path);  // stat(2)

// "1048576", "512K", "64M", "10G", "2T" (case-insensitive, binary units).
// Zero, overflow and anything else are InvalidArgument.
Status ParseSize(std::string_view text, uint64_t* bytes);

// Parses storage.config text; `file_name` only labels messages.
Status ParseStorageConfig(const std::string& file_name, std::string_view text, const PathProbe& probe,
                          std::vector<SpanConfig>* spans);

// Parses volume.config text. No volume lines at all means one volume (1) of
// 100%, as when the file is absent.
Status ParseVolumeConfig(const std::string& file_name, std::string_view text, std::vector<VolumeConfig>* volumes);

// Reads both files (a missing volume.config is one volume of 100%; a missing
// storage.config is an error) and checks that every `volume=` of a span
// names a volume of volume.config.
Status LoadCacheConfig(const std::string& storage_path, const std::string& volume_path, CacheConfig* out);

// The `--cache PATH[,SIZE]` quick-start form: one span; the SIZE may be left
// out only for a block device.
Status ParseQuickStartSpan(std::string_view spec, SpanConfig* out);
Status ParseQuickStartSpan(std::string_view spec, const PathProbe& probe, SpanConfig* out);

}  // namespace strata
