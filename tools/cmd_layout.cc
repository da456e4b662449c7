// spans, stripes, inspect-span, dir-stats.
#include <algorithm>
#include <cstdio>

#include "cache/layout.h"
#include "common/env.h"
#include "dir/directory.h"
#include "tools/commands.h"

namespace strata::tool {
namespace {

// One header block decoded on its own: what a human needs to see when the
// engine refuses a stripe (which copy is bad, and why).
Json HeaderCopyJson(const RandomRWFile& file, uint64_t offset, StripeHeader* decoded, bool* ok) {
  std::string block(kHeaderBlockBytes, '\0');
  Json copy = Json::Object().Set("offset", offset);
  *ok = false;
  Status s = file.Read(offset, block.size(), block.data());
  if (s.ok()) {
    bool zero = std::all_of(block.begin(), block.end(), [](char c) { return c == 0; });
    s = zero ? Status::NotFound("all zero (never written)") : DecodeStripeHeader(block.data(), decoded);
  }
  *ok = s.ok();
  copy.Set("state", s.ok() ? std::string("ok") : s.ToString());
  if (s.ok()) copy.Set("header_serial", decoded->header_serial);
  return copy;
}

struct SpanReport {
  Json span;
  Json stripes = Json::Array();
};

// Reads every stripe header of a configured span through the engine's own
// ReadStripeHeader (the verdict the daemon would reach) and each copy alone.
SpanReport InspectConfiguredSpan(const Config& config, const SpanConfig& span_config, uint32_t* next_stripe) {
  SpanReport report;
  report.span = Json::Object()
                    .Set("path", span_config.path)
                    .Set("declared", span_config.origin)
                    .Set("configured_bytes", span_config.size_bytes)
                    .Set("block_device", span_config.is_block_device);
  std::unique_ptr<RandomRWFile> file;
  Env::OpenOptions open_options;
  open_options.read_only = true;
  Status s = Env::Default()->OpenRandomRWFile(span_config.path, open_options, &file);
  uint64_t file_bytes = 0;
  if (s.ok()) s = file->Size(&file_bytes);
  report.span.Set("file_bytes", file_bytes);
  report.span.Set("in_use", SpanInUse(span_config.path));
  if (!s.ok()) {
    report.span.Set("stripes", 0).Set("state", s.ToString());
    return report;
  }
  uint64_t span_bytes = span_config.is_block_device ? file_bytes : span_config.size_bytes;
  LayoutOptions layout_options;
  layout_options.average_object_bytes = config.settings.cache_average_object_size;
  std::vector<StripeLayout> layouts;
  s = StripeLayout::Compute(span_bytes, layout_options, &layouts);
  if (!s.ok()) {
    report.span.Set("stripes", 0).Set("state", s.ToString());
    return report;
  }
  if (file_bytes < span_bytes) {
    report.span.Set("stripes", layouts.size())
        .Set("state", "file is " + std::to_string(file_bytes) + " bytes, smaller than configured");
    return report;
  }
  std::string span_state = "ok";
  for (const StripeLayout& layout : layouts) {
    StripeHeader header;
    Status verdict = ReadStripeHeader(*file, layout, &header);
    if (!verdict.ok() && span_state == "ok")
      span_state = "stripe " + std::to_string(layout.index) + ": " + verdict.ToString();
    StripeHeader copy;
    bool header_ok, footer_ok;
    Json header_copy = HeaderCopyJson(*file, layout.header_offset(), &copy, &header_ok);
    Json footer_copy = HeaderCopyJson(*file, layout.footer_offset(), &copy, &footer_ok);
    Json row = Json::Object()
                   .Set("stripe", (*next_stripe)++)
                   .Set("span", span_config.path)
                   .Set("index_in_span", layout.index)
                   .Set("offset", layout.offset)
                   .Set("bytes", layout.bytes)
                   .Set("data_bytes", layout.data_bytes)
                   .Set("dir_entries", layout.dir_entries)
                   .Set("dir_segments", layout.dir_segments);
    if (verdict.ok()) {
      double percent = layout.data_blocks() ? 100.0 * header.write_pos / layout.data_blocks() : 0.0;
      row.Set("write_pos_blocks", header.write_pos)
          .Set("write_pos_percent", percent)
          .Set("phase", header.phase)
          .Set("header_serial", header.header_serial)
          .Set("write_serial", header.write_serial)
          .Set("snapshot_serial", header.snapshot_serial)
          .Set("snapshot", header.snapshot_serial != 0 ? "saved" : "none")
          .Set("created", IsoTime(static_cast<int64_t>(header.create_time)));
    }
    row.Set("state", verdict.ok() ? std::string("ok") : verdict.ToString());
    row.Set("header_copy", header_copy).Set("footer_copy", footer_copy);
    report.stripes.Push(row);
  }
  report.span.Set("stripes", layouts.size()).Set("state", span_state);
  return report;
}

// Table form: the copies' states, flattened, so each stripe stays one row.
Json StripeRow(const Json& full) {
  Json row = Json::Object();
  for (const auto& [key, value] : full.members()) {
    if (key == "header_copy" || key == "footer_copy") {
      row.Set(key == "header_copy" ? "header" : "footer", *value.Get("state"));
    } else {
      row.Set(key, value);
    }
  }
  return row;
}

}  // namespace

int CmdSpans(Tool& tool, const Arguments& args) {
  CommandArgs parsed;
  std::string error;
  if (!parsed.Parse(args, {}, &error) || !parsed.positional.empty()) {
    return tool.Fail(kExitUsage, "spans: " + (error.empty() ? "takes no argument" : error));
  }
  Status s = tool.LoadConfiguration();
  if (!s.ok()) return tool.FailOpen(s);
  Json spans = Json::Array();
  uint32_t next = 0;
  bool all_ok = true;
  for (const SpanConfig& span : tool.config().cache_spans) {
    SpanReport report = InspectConfiguredSpan(tool.config(), span, &next);
    all_ok = all_ok && report.span.Get("state")->ScalarText() == "ok";
    spans.Push(report.span);
  }
  return tool.Print(Json::Object().Set("spans", spans), all_ok ? kExitOk : kExitNotFound);
}

int CmdStripes(Tool& tool, const Arguments& args) {
  CommandArgs parsed;
  std::string error;
  if (!parsed.Parse(args, {}, &error) || !parsed.positional.empty()) {
    return tool.Fail(kExitUsage, "stripes: " + (error.empty() ? "takes no argument" : error));
  }
  Status s = tool.LoadConfiguration();
  if (!s.ok()) return tool.FailOpen(s);
  Json stripes = Json::Array();
  uint32_t next = 0;
  bool all_ok = true;
  for (const SpanConfig& span : tool.config().cache_spans) {
    SpanReport report = InspectConfiguredSpan(tool.config(), span, &next);
    if (report.stripes.empty()) {
      // Nothing to show per stripe: say why in the span's place.
      all_ok = false;
      stripes.Push(Json::Object().Set("span", span.path).Set("state", *report.span.Get("state")));
    }
    for (const Json& stripe : report.stripes.items()) {
      all_ok = all_ok && stripe.Get("state")->ScalarText() == "ok";
      stripes.Push(tool.options().json ? stripe : StripeRow(stripe));
    }
  }
  return tool.Print(Json::Object().Set("stripes", stripes), all_ok ? kExitOk : kExitNotFound);
}

int CmdInspectSpan(Tool& tool, const Arguments& args) {
  CommandArgs parsed;
  std::string error;
  if (!parsed.Parse(args, {}, &error) || parsed.positional.size() != 1) {
    return tool.Fail(kExitUsage, "inspect-span: " + (error.empty() ? "wants one FILE" : error));
  }
  const std::string& path = parsed.positional[0];
  std::unique_ptr<RandomRWFile> file;
  Env::OpenOptions open_options;
  open_options.read_only = true;
  Status s = Env::Default()->OpenRandomRWFile(path, open_options, &file);
  uint64_t file_bytes = 0;
  if (s.ok()) s = file->Size(&file_bytes);
  if (!s.ok()) return tool.Fail(kExitCannotOpen, s.message());
  // The geometry comes from the headers themselves: the first stripe starts
  // after the span's reserved bytes, each names where it ends.
  Json stripes = Json::Array();
  uint64_t offset = kSpanReservedBytes;
  bool all_ok = true;
  for (uint32_t i = 0; offset + kHeaderBlockBytes <= file_bytes && i < 65536; ++i) {
    StripeHeader header;
    bool ok;
    Json copy = HeaderCopyJson(*file, offset, &header, &ok);
    Json stripe = Json::Object().Set("header_copy", copy);
    if (!ok) {
      all_ok = false;
      stripe.Set("note", "no readable header here: the stripes after this one cannot be located from the file alone");
      stripes.Push(stripe);
      break;
    }
    StripeHeader footer;
    bool footer_ok;
    stripe.Set("footer_copy", HeaderCopyJson(*file, header.layout.footer_offset(), &footer, &footer_ok));
    all_ok = all_ok && footer_ok;
    stripe.Set("layout", LayoutJson(header.layout)).Set("header", StripeHeaderJson(header));
    stripes.Push(stripe);
    if (header.layout.index + 1 >= header.layout.count || header.layout.bytes == 0) break;
    offset = header.layout.offset + header.layout.bytes;
  }
  Json result = Json::Object().Set("file", path).Set("file_bytes", file_bytes).Set("stripes", stripes);
  return tool.Print(result, all_ok ? kExitOk : kExitNotFound);
}

int CmdDirStats(Tool& tool, const Arguments& args) {
  CommandArgs parsed;
  std::string error;
  if (!parsed.Parse(args, {{"--segments", false}}, &error) || !parsed.positional.empty()) {
    return tool.Fail(kExitUsage, "dir-stats: " + (error.empty() ? "takes no argument" : error));
  }
  bool per_segment = parsed.Has("--segments") || tool.options().json;
  std::unique_ptr<Cache> cache;
  Status s = tool.OpenCache(/*read_only=*/true, &cache);
  if (!s.ok()) return tool.FailOpen(s);
  Json stripes = Json::Array();
  for (uint32_t id = 0; id < cache->stripe_count(); ++id) {
    Directory& dir = cache->stripe(id).directory();
    DirStats stats = dir.GetStats();
    const DirGeometry& geo = dir.geometry();
    std::vector<uint32_t> used(geo.nsegments), valid(geo.nsegments), heads(geo.nsegments);
    dir.ForEachEntry([&](uint32_t segment, uint32_t, const DirEntry& entry, bool is_valid) {
      ++used[segment];
      if (is_valid) ++valid[segment];
      if (entry.head()) ++heads[segment];
    });
    StripePlace place = tool.PlaceOf(*cache, id);
    Json histogram = Json::Array();
    for (size_t len = 0; len < DirStats::kChainBuckets; ++len) {
      if (stats.chain_length_histogram[len] == 0) continue;
      std::string name = len + 1 == DirStats::kChainBuckets ? ">=" + std::to_string(len) : std::to_string(len);
      histogram.Push(Json::Object().Set("chain_length", name).Set("buckets", stats.chain_length_histogram[len]));
    }
    Json stripe = Json::Object()
                      .Set("stripe", id)
                      .Set("span", place.span)
                      .Set("index_in_span", place.index_in_span)
                      .Set("segments", geo.nsegments)
                      .Set("buckets_per_segment", geo.buckets_per_segment)
                      .Set("entries", stats.total_entries)
                      .Set("used", stats.used_entries)
                      .Set("valid", stats.valid_entries)
                      .Set("objects", stats.head_entries)
                      .Set("pinned", stats.pinned_entries)
                      .Set("free", stats.free_entries)
                      .Set("fill_percent", stats.fill_percent())
                      .Set("chain_length_histogram", histogram);
    uint32_t min_free = UINT32_MAX, max_free = 0;
    for (uint32_t f : stats.free_per_segment) {
      min_free = std::min(min_free, f);
      max_free = std::max(max_free, f);
    }
    stripe.Set("free_per_segment_min", stats.free_per_segment.empty() ? 0u : min_free)
        .Set("free_per_segment_max", max_free);
    if (per_segment) {
      Json segments = Json::Array();
      for (uint32_t seg = 0; seg < geo.nsegments; ++seg) {
        uint32_t total = geo.entries_per_segment();
        segments.Push(Json::Object()
                          .Set("segment", seg)
                          .Set("entries", total)
                          .Set("used", used[seg])
                          .Set("valid", valid[seg])
                          .Set("objects", heads[seg])
                          .Set("free", seg < stats.free_per_segment.size() ? stats.free_per_segment[seg] : 0u)
                          .Set("fill_percent", total ? 100.0 * used[seg] / total : 0.0));
      }
      stripe.Set("per_segment", segments);
    }
    stripes.Push(stripe);
  }
  return tool.Print(Json::Object().Set("stripes", stripes), kExitOk);
}

}  // namespace strata::tool
