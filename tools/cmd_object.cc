// keys, lookup, dump: one object by URL.
#include <cstdio>

#include "cache/stripe_assignment.h"
#include "common/env.h"
#include "dir/directory.h"
#include "tools/commands.h"
#include "tools/stored.h"

namespace strata::tool {
namespace {

// Where `key` goes, computed from the configuration alone (the same
// functions Cache::Open uses), so it works without opening the spans.
Status PlaceKey(const Config& config, const CacheKey& key, Json* out) {
  LayoutOptions layout_options;
  layout_options.average_object_bytes = config.settings.cache_average_object_size;
  std::vector<StripeIdentity> identities;
  std::vector<std::pair<std::string, StripeLayout>> stripes;
  for (const SpanConfig& span : config.cache_spans) {
    uint64_t bytes = span.size_bytes;
    if (span.is_block_device) {
      std::unique_ptr<RandomRWFile> file;
      Env::OpenOptions open_options;
      open_options.read_only = true;
      Status s = Env::Default()->OpenRandomRWFile(span.path, open_options, &file);
      if (s.ok()) s = file->Size(&bytes);
      if (!s.ok()) return s;
    }
    std::vector<StripeLayout> layouts;
    Status s = StripeLayout::Compute(bytes, layout_options, &layouts);
    if (!s.ok()) return Status::InvalidArgument("span " + span.path + ": " + s.message());
    for (const StripeLayout& layout : layouts) {
      identities.push_back({span.identity(), layout.index, layout.data_bytes});
      stripes.emplace_back(span.path, layout);
    }
  }
  StripeAssignment assignment;
  Status s = StripeAssignment::Build(identities, &assignment);
  if (!s.ok()) return s;
  uint32_t id = assignment.StripeForKey(key);
  const StripeLayout& layout = stripes[id].second;
  DirGeometry geometry;
  s = DirGeometry::Compute(layout.data_bytes, layout.average_object_bytes, &geometry);
  if (!s.ok()) return s;
  out->Set("stripe", id)
      .Set("span", stripes[id].first)
      .Set("index_in_span", layout.index)
      .Set("segment", key.segment_bits() % geometry.nsegments)
      .Set("bucket", key.bucket_bits() % geometry.buckets_per_segment);
  return Status::OK();
}

Json KeyJson(const CacheKey& key) {
  return Json::Object()
      .Set("key", key.ToHex())
      .Set("stripe_slot", key.stripe_slot())
      .Set("tag", key.tag())
      .Set("segment_bits", key.segment_bits())
      .Set("bucket_bits", key.bucket_bits());
}

// Where a key lives in an open cache, through the engine's own functions.
Json LocationJson(Tool& tool, Cache& cache, const CacheKey& key) {
  Stripe& stripe = cache.StripeFor(key);
  StripePlace place = tool.PlaceOf(cache, stripe.id());
  return Json::Object()
      .Set("key", key.ToHex())
      .Set("stripe", stripe.id())
      .Set("span", place.span)
      .Set("index_in_span", place.index_in_span)
      .Set("segment", stripe.directory().SegmentOf(key))
      .Set("bucket", stripe.directory().BucketOf(key))
      .Set("tag", key.tag());
}

// Every directory candidate of key's first Doc, with what reading it gives:
// several mean older versions or tag collisions.
Json CandidatesJson(Cache& cache, const CacheKey& key) {
  Stripe& stripe = cache.StripeFor(key);
  std::vector<DirEntry> candidates;
  stripe.Probe(key, /*head=*/true, &candidates);
  Json rows = Json::Array();
  for (const DirEntry& entry : candidates) {
    RamCache::Bytes doc;
    Status s = stripe.ReadDoc(key, entry, &doc);
    Json row = EntryJson(entry);
    row.Set("file_offset", stripe.layout().data_offset + entry.offset() * kBlockBytes);
    row.Set("read", s.ok() ? std::string("ok") : s.ToString());
    rows.Push(row);
  }
  return rows;
}

// The engine's and the proxy's view of one stored object.
struct Found {
  ObjectInfo info;
  StoredResponse stored;
  Status decoded;
};

Status LookupObject(Cache& cache, const CacheKey& key, Found* found) {
  Status s = cache.Lookup(key, &found->info);
  if (!s.ok()) return s;
  found->decoded = DecodeStoredResponse(found->info.metadata, &found->stored);
  return Status::OK();
}

Json ObjectJson(Tool& tool, Cache& cache, const Found& found, const std::vector<http::StoredField>& request_fields) {
  const ObjectInfo& info = found.info;
  Stripe& stripe = cache.stripe(info.stripe);
  Json object = Json::Object();
  Json entry = EntryJson(info.entry);
  entry.Set("file_offset", stripe.layout().data_offset + info.entry.offset() * kBlockBytes);
  object.Set("entry", entry);
  DocHeaderFields header;
  if (info.first_doc != nullptr && DecodeDocHeader(info.first_doc->data(), info.first_doc->size(), &header).ok()) {
    object.Set("doc", DocHeaderJson(header));
  }
  object.Set("object_id", info.object_id).Set("length", info.length);
  object.Set("fragments",
             info.fragment_offsets.empty() ? Json("none (the data is in the first Doc)") : FragmentsJson(cache, info));
  if (found.decoded.ok()) {
    object.Set("stored", StoredJson(found.stored, tool.config(), request_fields, NowSeconds()));
  } else {
    object.Set("stored", "unreadable metadata: " + found.decoded.ToString());
  }
  return object;
}

}  // namespace

int CmdKeys(Tool& tool, const Arguments& args) {
  CommandArgs parsed;
  std::string error;
  if (!parsed.Parse(args, {{"--secondary", true}}, &error) || parsed.positional.size() != 1) {
    return tool.Fail(kExitUsage, "keys: " + (error.empty() ? "wants one URL" : error));
  }
  const std::string& url = parsed.positional[0];
  CacheKey key = parsed.Has("--secondary") ? VariantCacheKey(url, parsed.Value("--secondary")) : UrlCacheKey(url);
  Json result = Json::Object().Set("url", url);
  if (parsed.Has("--secondary")) result.Set("secondary_key", parsed.Value("--secondary"));
  Json location = KeyJson(key);
  Status s = tool.LoadConfiguration();
  if (s.ok()) s = PlaceKey(tool.config(), key, &location);
  result.Set("location", location);
  if (!s.ok()) result.Set("placement", "unknown: " + s.message());
  if (tool.LoadConfiguration().ok()) {
    UrlCandidates urls = ResolveUrl(tool.config(), url);
    if (!urls.remapped.empty()) {
      Json mapped = KeyJson(UrlCacheKey(urls.remapped));
      PlaceKey(tool.config(), UrlCacheKey(urls.remapped), &mapped);
      result.Set("as_client_url", Json::Object().Set("cache_url", urls.remapped).Set("location", mapped));
    }
  }
  return tool.Print(result, kExitOk);
}

int CmdLookup(Tool& tool, const Arguments& args) {
  CommandArgs parsed;
  std::string error;
  std::vector<http::StoredField> request_fields;
  if (!parsed.Parse(args, {{"-H", true}, {"--no-remap", false}}, &error) || parsed.positional.size() != 1 ||
      !ParseHeaderArgs(parsed.Values("-H"), &request_fields, &error)) {
    return tool.Fail(kExitUsage, "lookup: " + (error.empty() ? "wants one URL" : error));
  }
  if (tool.online()) return tool.Fail(kExitUsage, "lookup works offline only (the admin API has no lookup)");
  std::unique_ptr<Cache> cache;
  Status s = tool.OpenCache(/*read_only=*/true, &cache);
  if (!s.ok()) return tool.FailOpen(s);

  UrlCandidates urls = ResolveUrl(tool.config(), parsed.positional[0]);
  std::string url = urls.given;
  Found found;
  s = LookupObject(*cache, UrlCacheKey(url), &found);
  bool remapped = false;
  if (!s.ok() && !urls.remapped.empty() && !parsed.Has("--no-remap")) {
    Found mapped;
    if (LookupObject(*cache, UrlCacheKey(urls.remapped), &mapped).ok()) {
      url = urls.remapped;
      found = std::move(mapped);
      remapped = true;
      s = Status::OK();
    }
  }
  CacheKey key = UrlCacheKey(url);
  Json result = Json::Object().Set("url", urls.given);
  if (remapped) result.Set("cache_url", url).Set("remapped", "the client URL, mapped by remap.config");
  result.Set("location", LocationJson(tool, *cache, key));
  result.Set("candidates", CandidatesJson(*cache, key));
  if (!s.ok()) {
    result.Set("found", false).Set("why", s.message());
    if (!urls.remapped.empty() && !remapped) result.Set("remap_would_give", urls.remapped);
    return tool.Print(result, kExitNotFound);
  }
  result.Set("found", true);
  result.Set("object", ObjectJson(tool, *cache, found, request_fields));
  bool url_matches = found.decoded.ok() && found.stored.url == url;
  if (found.decoded.ok() && !url_matches) {
    result.Set("url_mismatch", "the stored URL differs: a key collision, which the daemon treats as a miss");
  }
  if (url_matches && found.stored.kind == StoredResponse::Kind::kVariants) {
    std::string selected;
    if (!request_fields.empty()) {
      std::vector<http::Field> views = http::FieldViews(request_fields);
      selected = http::VarySecondaryKey(found.stored.vary, views, PolicyFromSettings(tool.config().settings));
    }
    Json alternates = Json::Array();
    for (const std::string& secondary : found.stored.variants) {
      CacheKey variant_key = VariantCacheKey(url, secondary);
      Json alternate = Json::Object().Set("secondary_key", secondary);
      if (!selected.empty()) alternate.Set("selected_by_-H", secondary == selected);
      alternate.Set("location", LocationJson(tool, *cache, variant_key));
      Found variant;
      Status vs = LookupObject(*cache, variant_key, &variant);
      alternate.Set("found", vs.ok());
      if (vs.ok()) alternate.Set("object", ObjectJson(tool, *cache, variant, request_fields));
      alternates.Push(alternate);
    }
    result.Set("alternates", alternates);
  }
  return tool.Print(result, url_matches ? kExitOk : kExitNotFound);
}

int CmdDump(Tool& tool, const Arguments& args) {
  CommandArgs parsed;
  std::string error;
  std::vector<http::StoredField> request_fields;
  if (!parsed.Parse(args, {{"--body", true}, {"-H", true}, {"--variant", true}}, &error) ||
      parsed.positional.size() != 1 || !ParseHeaderArgs(parsed.Values("-H"), &request_fields, &error)) {
    return tool.Fail(kExitUsage, "dump: " + (error.empty() ? "wants one URL" : error));
  }
  if (tool.online()) return tool.Fail(kExitUsage, "dump works offline only (the admin API has no dump)");
  std::unique_ptr<Cache> cache;
  Status s = tool.OpenCache(/*read_only=*/true, &cache);
  if (!s.ok()) return tool.FailOpen(s);
  const std::string& url = parsed.positional[0];
  Found found;
  s = LookupObject(*cache, UrlCacheKey(url), &found);
  if (!s.ok() || !found.decoded.ok() || found.stored.url != url) {
    return tool.Fail(kExitNotFound, url + ": not in cache" + (s.ok() ? " (stored metadata is not this URL's)" : ""));
  }
  if (found.stored.kind == StoredResponse::Kind::kVariants) {
    const std::vector<std::string>& variants = found.stored.variants;
    std::string secondary;
    if (!request_fields.empty()) {
      std::vector<http::Field> views = http::FieldViews(request_fields);
      secondary = http::VarySecondaryKey(found.stored.vary, views, PolicyFromSettings(tool.config().settings));
    } else {
      size_t index = 0;
      if (parsed.Has("--variant")) index = strtoul(parsed.Value("--variant").c_str(), nullptr, 10);
      if (index >= variants.size()) {
        return tool.Fail(kExitNotFound, url + ": no alternate " + std::to_string(index) + " (it has " +
                                            std::to_string(variants.size()) + ")");
      }
      secondary = variants[index];
      fprintf(stderr, "strata-cache: %s varies; dumping alternate %zu of %zu (choose with -H or --variant)\n",
              url.c_str(), index, variants.size());
    }
    Found variant;
    s = LookupObject(*cache, VariantCacheKey(url, secondary), &variant);
    if (!s.ok() || !variant.decoded.ok()) return tool.Fail(kExitNotFound, url + ": that alternate is not in cache");
    found = std::move(variant);
  }
  const StoredResponse& stored = found.stored;
  std::string body_path = parsed.Value("--body");
  FILE* body = nullptr;
  if (!body_path.empty()) {
    body = body_path == "-" ? stdout : fopen(body_path.c_str(), "wb");
    if (body == nullptr) return tool.Fail(kExitUsage, "cannot write " + body_path);
  }
  // The body in fragment-sized reads, so memory stays bounded.
  uint64_t written = 0;
  Status read_status;
  if (body != nullptr) {
    uint64_t step = cache->fragment_bytes();
    for (uint64_t offset = 0; offset < found.info.length && read_status.ok(); offset += step) {
      std::string chunk;
      read_status = cache->Read(found.info, offset, step, &chunk);
      written += fwrite(chunk.data(), 1, chunk.size(), body);
    }
    if (body != stdout) fclose(body);
  }
  Json result = Json::Object()
                    .Set("url", stored.url)
                    .Set("status", stored.status)
                    .Set("reason", stored.reason)
                    .Set("length", found.info.length);
  if (body != nullptr) result.Set("body_file", body_path).Set("body_bytes_written", written);
  Json headers = Json::Array();
  for (const http::StoredField& field : stored.fields) {
    headers.Push(Json::Object().Set("name", field.name).Set("value", field.value));
  }
  result.Set("headers", headers);
  FILE* head_out = body == stdout ? stderr : stdout;
  if (tool.options().json) {
    fprintf(head_out, "%s\n", result.Dump(2).c_str());
  } else {
    fprintf(head_out, "HTTP/1.1 %d %s\n", stored.status, stored.reason.c_str());
    for (const http::StoredField& field : stored.fields) {
      fprintf(head_out, "%s: %s\n", field.name.c_str(), field.value.c_str());
    }
    if (body != nullptr && body != stdout) {
      fprintf(head_out, "\n(%llu body bytes written to %s)\n", static_cast<unsigned long long>(written),
              body_path.c_str());
    }
  }
  if (!read_status.ok()) return tool.Fail(kExitNotFound, "body incomplete: " + read_status.message());
  return kExitOk;
}

}  // namespace strata::tool
