#include "tools/tool.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>

#include "proxy/cache_options.h"

namespace strata::tool {

bool CommandArgs::Parse(const std::vector<std::string>& args, std::initializer_list<Spec> specs, std::string* error) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 2 || arg[0] != '-' || arg == "-") {
      positional.push_back(arg);
      continue;
    }
    const Spec* spec = nullptr;
    for (const Spec& s : specs) {
      if (arg == s.name) spec = &s;
    }
    if (spec == nullptr) {
      *error = "unknown option " + arg;
      return false;
    }
    if (!spec->takes_value) {
      options.emplace_back(arg, "");
      continue;
    }
    if (i + 1 >= args.size()) {
      *error = arg + " needs a value";
      return false;
    }
    options.emplace_back(arg, args[++i]);
  }
  return true;
}

bool CommandArgs::Has(const std::string& name) const {
  for (const auto& [n, v] : options) {
    if (n == name) return true;
  }
  return false;
}

std::string CommandArgs::Value(const std::string& name, const std::string& fallback) const {
  std::string value = fallback;
  for (const auto& [n, v] : options) {
    if (n == name) value = v;
  }
  return value;
}

std::vector<std::string> CommandArgs::Values(const std::string& name) const {
  std::vector<std::string> values;
  for (const auto& [n, v] : options) {
    if (n == name) values.push_back(v);
  }
  return values;
}

Status Tool::LoadConfiguration() {
  if (loaded_) return load_status_;
  loaded_ = true;
  if (options_.config_dir_given && access(options_.config_dir.c_str(), F_OK) != 0) {
    load_status_ = Status::NotFound("config directory " + options_.config_dir + " does not exist");
    return load_status_;
  }
  load_status_ = LoadConfig(options_.config_dir, options_.overrides, &config_);
  if (load_status_.ok() && config_.cache_spans.empty()) {
    load_status_ =
        Status::NotFound("no cache spans: give --config-dir DIR (with a storage.config) or --cache PATH,SIZE");
  }
  return load_status_;
}

Status Tool::OpenCache(bool read_only, std::unique_ptr<Cache>* out) {
  Status s = LoadConfiguration();
  if (!s.ok()) return s;
  CacheOptions options;
  s = CacheOptionsFromConfig(config_, &options);
  if (!s.ok()) return s;
  options.read_only = read_only;
  // A tool reads each Doc about once: a small RAM cache and one I/O thread.
  options.ram_cache_bytes = 1 << 20;
  options.io_threads = 1;
  if (!read_only) {
    options.reinitialize = false;  // a purge never wipes a stripe
    for (const SpanConfig& span : config_.cache_spans) {
      if (SpanInUse(span.path)) return Status::Busy(span.path + " is locked by another process");
    }
  }
  if (read_only) {
    for (const SpanConfig& span : config_.cache_spans) {
      if (SpanInUse(span.path)) {
        fprintf(stderr,
                "strata-cache: note: %s is in use by a running strata: this is its last directory snapshot plus "
                "the journal on disk, so objects still in its write buffers (the last few milliseconds) are not "
                "visible, and objects it overwrites meanwhile may read as problems.\n",
                span.path.c_str());
      }
    }
  }
  return Cache::Open(options, out);
}

StripePlace Tool::PlaceOf(Cache& cache, uint32_t stripe_id) const {
  // Cache::Open numbers stripes span by span, in configuration order.
  uint32_t first = 0;
  for (const SpanConfig& span : config_.cache_spans) {
    if (first >= cache.stripe_count()) break;
    uint32_t count = cache.stripe(first).layout().count;
    if (stripe_id < first + count) return {span.path, stripe_id - first};
    first += count;
  }
  return {"?", 0};
}

int Tool::Print(const Json& result, int code) const {
  std::string text = options_.json ? result.Dump(2) + "\n" : RenderText(result);
  fwrite(text.data(), 1, text.size(), stdout);
  fflush(stdout);
  return code;
}

int Tool::Fail(int code, const std::string& message) const {
  fprintf(stderr, "strata-cache: %s\n", message.c_str());
  return code;
}

int Tool::FailOpen(const Status& status) const {
  if (status.kind() == Status::Kind::kBusy) {
    return Fail(kExitCannotOpen, "cannot open the cache for writing: " + status.message() +
                                     "\n  stop the daemon first, or do it online with --admin HOST:PORT");
  }
  return Fail(kExitCannotOpen, "cannot open the cache:\n" + status.message());
}

bool SpanInUse(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool in_use = false;
  // A shared lock conflicts only with the exclusive lock of a writer; it is
  // released at once, so a daemon starting meanwhile is not refused.
  if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
    in_use = errno == EWOULDBLOCK;
  } else {
    flock(fd, LOCK_UN);
  }
  close(fd);
  return in_use;
}

std::string IsoTime(int64_t seconds) {
  if (seconds <= 0) return "-";
  time_t t = static_cast<time_t>(seconds);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Json EntryJson(const DirEntry& entry) {
  return Json::Object()
      .Set("offset_blocks", entry.offset())
      .Set("approx_bytes", entry.approx_size_bytes())
      .Set("tag", entry.tag())
      .Set("phase", entry.phase() ? 1 : 0)
      .Set("head", entry.head())
      .Set("pinned", entry.pinned());
}

Json DocHeaderJson(const DocHeaderFields& h) {
  std::string flags;
  if (h.flags & kDocHead) flags += "head";
  if (h.flags & kDocFragment) flags += flags.empty() ? "fragment" : ",fragment";
  return Json::Object()
      .Set("version", h.version)
      .Set("key", h.key.ToHex())
      .Set("flags", flags.empty() ? std::string("-") : flags)
      .Set("object_length", h.object_length)
      .Set("fragment_index", h.fragment_index)
      .Set("meta_length", h.meta_length)
      .Set("data_length", h.data_length)
      .Set("write_serial", h.write_serial)
      .Set("stripe_nonce", h.stripe_nonce);
}

Json StripeHeaderJson(const StripeHeader& h) {
  char nonce[24];
  snprintf(nonce, sizeof(nonce), "%016llx", static_cast<unsigned long long>(h.nonce));
  return Json::Object()
      .Set("version", h.version)
      .Set("created", IsoTime(static_cast<int64_t>(h.create_time)))
      .Set("nonce", nonce)
      .Set("header_serial", h.header_serial)
      .Set("write_serial", h.write_serial)
      .Set("snapshot_serial", h.snapshot_serial)
      .Set("write_pos_blocks", h.write_pos)
      .Set("phase", h.phase);
}

Json LayoutJson(const StripeLayout& l) {
  return Json::Object()
      .Set("index_in_span", l.index)
      .Set("stripes_in_span", l.count)
      .Set("offset", l.offset)
      .Set("bytes", l.bytes)
      .Set("dir_a_offset", l.dir_a_offset)
      .Set("dir_b_offset", l.dir_b_offset)
      .Set("dir_copy_bytes", l.dir_copy_bytes)
      .Set("data_offset", l.data_offset)
      .Set("data_bytes", l.data_bytes)
      .Set("dir_entries", l.dir_entries)
      .Set("dir_buckets", l.dir_buckets)
      .Set("dir_segments", l.dir_segments)
      .Set("average_object_bytes", l.average_object_bytes);
}

}  // namespace strata::tool
