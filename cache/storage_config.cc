#include "cache/storage_config.h"

#include <sys/stat.h>

#include <cctype>
#include <charconv>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/text.h"

namespace strata {
namespace {

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : "\n") + l;
  return out;
}

// Splits a config line (comment removed) into whitespace-separated tokens.
std::vector<std::string_view> Tokens(std::string_view line) {
  line = line.substr(0, line.find('#'));
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

bool ParseInt(std::string_view s, int lo, int hi, int* out) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi) return false;
  *out = v;
  return true;
}

// Parses a size whose bare-number unit is `unit` bytes.
Status ParseSizeWithUnit(std::string_view text, uint64_t unit, uint64_t* bytes) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + digits, n);
  const std::string_view suffix = text.substr(digits);
  if (digits == 0 || ec != std::errc() || end != text.data() + digits || suffix.size() > 1) {
    return Status::InvalidArgument("'" + std::string(text) + "' is not a size (e.g. 512M, 10G)");
  }
  int shift = -1;
  if (suffix.empty()) shift = 0;
  switch (suffix.empty() ? 0 : std::toupper(static_cast<unsigned char>(suffix[0]))) {
    case 'K':
      shift = 10;
      break;
    case 'M':
      shift = 20;
      break;
    case 'G':
      shift = 30;
      break;
    case 'T':
      shift = 40;
      break;
    default:
      break;
  }
  if (shift < 0) return Status::InvalidArgument("'" + std::string(text) + "': unknown size suffix (use K, M, G or T)");
  const uint64_t mult = suffix.empty() ? unit : (uint64_t{1} << shift);
  if (n == 0) return Status::InvalidArgument("size '" + std::string(text) + "' is zero");
  if (n > UINT64_MAX / mult) return Status::InvalidArgument("size '" + std::string(text) + "' is too large");
  *bytes = n * mult;
  return Status::OK();
}

std::string SizeText(uint64_t bytes) {
  if (bytes % (1ull << 30) == 0) return std::to_string(bytes >> 30) + "G";
  if (bytes % (1ull << 20) == 0) return std::to_string(bytes >> 20) + "M";
  return std::to_string(bytes);
}

// Resolves what `path` is and fills the span's path, size and device flag.
// `size` is 0 when none was given. Returns a problem, or "".
std::string ResolveSpan(const std::string& path, uint64_t size, const PathProbe& probe, SpanConfig* span) {
  span->path = path;
  span->size_bytes = size;
  span->is_block_device = false;
  switch (probe(path)) {
    case PathKind::kBlockDevice:
      if (size != 0) return path + ": a block device is used whole; remove the size";
      span->is_block_device = true;
      return "";
    case PathKind::kDirectory:
      span->path = path + "/cache.db";
      if (size == 0) return path + ": a directory span needs a size (e.g. " + path + " 10G)";
      break;
    case PathKind::kOther:
      return path + ": neither a regular file, a directory nor a block device";
    case PathKind::kMissing:
    case PathKind::kRegularFile:
      if (size == 0) return path + ": a file span needs a size (e.g. " + path + " 10G)";
      break;
  }
  if (size < kMinSpanBytes) return path + ": size " + SizeText(size) + " is below the minimum span size 8M";
  return "";
}

}  // namespace

PathKind ProbePath(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return PathKind::kMissing;
  if (S_ISBLK(st.st_mode)) return PathKind::kBlockDevice;
  if (S_ISDIR(st.st_mode)) return PathKind::kDirectory;
  if (S_ISREG(st.st_mode)) return PathKind::kRegularFile;
  return PathKind::kOther;
}

Status ParseSize(std::string_view text, uint64_t* bytes) { return ParseSizeWithUnit(text, 1, bytes); }

Status ParseStorageConfig(const std::string& file_name, std::string_view text, const PathProbe& probe,
                          std::vector<SpanConfig>* spans) {
  std::vector<std::string> problems;
  std::vector<SpanConfig> out;
  std::map<std::string, std::string> seen_paths;  // path -> where
  std::map<std::string, std::string> seen_ids;
  ForEachLine(text, [&](int line_no, std::string_view line) {
    const std::vector<std::string_view> tokens = Tokens(line);
    if (tokens.empty()) return;
    const std::string where = file_name + ":" + std::to_string(line_no);
    auto problem = [&](const std::string& p) { problems.push_back(where + ": " + p); };
    SpanConfig span;
    span.origin = where;
    uint64_t size = 0;
    bool ok = true;
    for (size_t i = 1; i < tokens.size(); ++i) {
      const std::string_view tok = tokens[i];
      const size_t eq = tok.find('=');
      if (eq == std::string_view::npos) {
        if (size != 0) {
          problem("more than one size ('" + std::string(tok) + "')");
          ok = false;
          continue;
        }
        Status st = ParseSize(tok, &size);
        if (!st.ok()) {
          problem(st.message());
          ok = false;
        }
        continue;
      }
      const std::string_view key = tok.substr(0, eq), value = tok.substr(eq + 1);
      if (key == "volume") {
        if (!ParseInt(value, 1, 255, &span.volume)) {
          problem("volume must be 1..255, not '" + std::string(value) + "'");
          ok = false;
        }
      } else if (key == "id") {
        if (value.empty()) {
          problem("id= needs a value");
          ok = false;
        }
        span.id = std::string(value);
      } else {
        problem("unknown option '" + std::string(key) + "' (known: id, volume)");
        ok = false;
      }
    }
    if (!ok) return;
    const std::string p = ResolveSpan(std::string(tokens[0]), size, probe, &span);
    if (!p.empty()) return problem(p);
    if (auto it = seen_paths.find(span.path); it != seen_paths.end()) {
      return problem(span.path + " is already a span (" + it->second + ")");
    }
    if (!span.id.empty()) {
      if (auto it = seen_ids.find(span.id); it != seen_ids.end()) {
        return problem("id=" + span.id + " is already used (" + it->second + ")");
      }
      seen_ids[span.id] = where;
    }
    seen_paths[span.path] = where;
    out.push_back(std::move(span));
  });
  if (!problems.empty()) return Status::InvalidArgument(Join(problems));
  *spans = std::move(out);
  return Status::OK();
}

Status ParseVolumeConfig(const std::string& file_name, std::string_view text, std::vector<VolumeConfig>* volumes) {
  std::vector<std::string> problems;
  std::vector<VolumeConfig> out;
  std::set<int> numbers;
  int percent_total = 0;
  ForEachLine(text, [&](int line_no, std::string_view line) {
    const std::vector<std::string_view> tokens = Tokens(line);
    if (tokens.empty()) return;
    const std::string where = file_name + ":" + std::to_string(line_no);
    const size_t before = problems.size();
    auto problem = [&](const std::string& p) { problems.push_back(where + ": " + p); };
    VolumeConfig vol;
    vol.origin = where;
    bool have_volume = false, have_scheme = false, have_size = false;  // the key was present
    for (std::string_view tok : tokens) {
      const size_t eq = tok.find('=');
      if (eq == std::string_view::npos) {
        problem("expected key=value, not '" + std::string(tok) + "'");
        continue;
      }
      const std::string_view key = tok.substr(0, eq), value = tok.substr(eq + 1);
      if (key == "volume") {
        have_volume = true;
        if (!ParseInt(value, 1, 255, &vol.number)) problem("volume must be 1..255, not '" + std::string(value) + "'");
      } else if (key == "scheme") {
        have_scheme = true;
        if (value != "http") problem("scheme must be http, not '" + std::string(value) + "'");
      } else if (key == "size") {
        have_size = true;
        if (!value.empty() && value.back() == '%') {
          if (!ParseInt(value.substr(0, value.size() - 1), 1, 100, &vol.percent)) {
            problem("size percentage must be 1%..100%, not '" + std::string(value) + "'");
          }
        } else if (Status st = ParseSizeWithUnit(value, 1ull << 20, &vol.size_bytes); !st.ok()) {
          problem("size: " + st.message());
        }
      } else if (key == "avg_obj_size" || key == "fragment_size") {
        uint64_t* field = key == "avg_obj_size" ? &vol.avg_obj_size : &vol.fragment_size;
        if (Status st = ParseSize(value, field); !st.ok()) problem(std::string(key) + ": " + st.message());
      } else {
        problem("unknown option '" + std::string(key) + "' (known: volume, scheme, size, avg_obj_size, fragment_size)");
      }
    }
    if (!have_volume) problem("missing volume=N");
    if (!have_scheme) problem("missing scheme=http");
    if (!have_size) problem("missing size= (a percentage like 50% or a size like 512M)");
    if (problems.size() != before) return;
    if (!numbers.insert(vol.number).second) return problem("volume " + std::to_string(vol.number) + " defined twice");
    percent_total += vol.percent;
    if (vol.percent > 0 && percent_total > 100) {
      return problem("volume sizes add up to " + std::to_string(percent_total) + "%, more than 100%");
    }
    out.push_back(std::move(vol));
  });
  if (!problems.empty()) return Status::InvalidArgument(Join(problems));
  if (out.empty()) {
    VolumeConfig all;
    all.percent = 100;
    all.origin = file_name + " (default)";
    out.push_back(all);
  }
  *volumes = std::move(out);
  return Status::OK();
}

Status LoadCacheConfig(const std::string& storage_path, const std::string& volume_path, CacheConfig* out) {
  auto read = [](const std::string& path, std::string* text) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::ostringstream buf;
    buf << in.rdbuf();
    *text = buf.str();
    return true;
  };
  std::vector<std::string> problems;
  CacheConfig config;
  std::string text;
  if (!read(storage_path, &text)) {
    problems.push_back(storage_path + ": cannot open");
  } else if (Status st = ParseStorageConfig(storage_path, text, ProbePath, &config.spans); !st.ok()) {
    problems.push_back(st.message());
  }
  text.clear();
  const bool have_volumes = read(volume_path, &text);  // absent: one volume of 100%
  if (Status st = ParseVolumeConfig(volume_path, have_volumes ? text : "", &config.volumes); !st.ok()) {
    problems.push_back(st.message());
  }
  std::set<int> defined;
  for (const VolumeConfig& v : config.volumes) defined.insert(v.number);
  for (const SpanConfig& s : config.spans) {
    if (s.volume != 0 && !defined.count(s.volume)) {
      problems.push_back(s.origin + ": volume=" + std::to_string(s.volume) + " is not defined in " + volume_path);
    }
  }
  if (config.spans.empty() && problems.empty()) problems.push_back(storage_path + ": no spans");
  if (!problems.empty()) return Status::InvalidArgument(Join(problems));
  *out = std::move(config);
  return Status::OK();
}

Status ParseQuickStartSpan(std::string_view spec, const PathProbe& probe, SpanConfig* out) {
  const size_t comma = spec.rfind(',');
  const std::string path(spec.substr(0, comma));
  uint64_t size = 0;
  auto fail = [&](const std::string& p) {
    return Status::InvalidArgument("--cache " + std::string(spec) + ": " + p + " (expected PATH,SIZE, e.g. " +
                                   "/var/cache/strata,1G)");
  };
  if (path.empty()) return fail("missing path");
  if (comma != std::string_view::npos) {
    if (Status st = ParseSize(spec.substr(comma + 1), &size); !st.ok()) return fail(st.message());
  }
  SpanConfig span;
  span.origin = "--cache";
  const std::string p = ResolveSpan(path, size, probe, &span);
  if (!p.empty()) return fail(p);
  *out = std::move(span);
  return Status::OK();
}

Status ParseQuickStartSpan(std::string_view spec, SpanConfig* out) { return ParseQuickStartSpan(spec, ProbePath, out); }

}  // namespace strata
