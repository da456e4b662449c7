// purge (offline on the spans, or online through the admin API) and stats
// (online). Offline purge opens the spans read-write, which their lock
// refuses while the daemon runs.
#include "proxy/stored_response.h"
#include "tools/admin_client.h"
#include "tools/commands.h"

namespace strata::tool {
namespace {

// What the daemon's PURGE removes: the URL's object and, when it is a
// variants index, every alternate it lists.
Status PurgeUrl(Cache& cache, const std::string& url, Json* removed) {
  CacheKey key = UrlCacheKey(url);
  ObjectInfo info;
  StoredResponse stored;
  if (cache.Lookup(key, &info).ok() && DecodeStoredResponse(info.metadata, &stored).ok() && stored.url == url &&
      stored.kind == StoredResponse::Kind::kVariants) {
    for (const std::string& variant : stored.variants) {
      CacheKey variant_key = VariantCacheKey(url, variant);
      if (cache.Remove(variant_key).ok()) {
        removed->Push(Json::Object().Set("url", url).Set("secondary_key", variant).Set("key", variant_key.ToHex()));
      }
    }
  }
  Status s = cache.Remove(key);
  if (s.ok()) removed->Push(Json::Object().Set("url", url).Set("key", key.ToHex()));
  return s;
}

int PurgeOnline(Tool& tool, const std::string& what, const std::string& value) {
  AdminClient client(tool.options().admin);
  AdminResponse response;
  std::string target = "/purge?" + what + "=" + PercentEncode(value);
  Status s = client.Request("POST", target, &response);
  if (!s.ok()) return tool.Fail(kExitCannotOpen, s.message());
  Json result = Json::Object()
                    .Set(what, value)
                    .Set("admin", tool.options().admin)
                    .Set("request", "POST " + target)
                    .Set("status", response.status)
                    .Set("answer", response.body);
  if (response.status == 200) return tool.Print(result.Set("purged", true), kExitOk);
  if (response.status == 404) return tool.Print(result.Set("purged", false), kExitNotFound);
  tool.Print(result, kExitCannotOpen);
  return tool.Fail(kExitCannotOpen, "the admin API answered " + std::to_string(response.status) + " to " + target);
}

}  // namespace

int CmdPurge(Tool& tool, const Arguments& args) {
  CommandArgs parsed;
  std::string error;
  if (!parsed.Parse(args, {{"--prefix", true}}, &error) ||
      parsed.positional.size() != (parsed.Has("--prefix") ? 0u : 1u)) {
    return tool.Fail(kExitUsage, "purge: " + (error.empty() ? "wants one URL, or --prefix P" : error));
  }
  bool by_prefix = parsed.Has("--prefix");
  std::string value = by_prefix ? parsed.Value("--prefix") : parsed.positional[0];
  if (by_prefix && value.empty()) return tool.Fail(kExitUsage, "purge: --prefix must not be empty");
  if (tool.online()) return PurgeOnline(tool, by_prefix ? "prefix" : "url", value);

  std::unique_ptr<Cache> cache;
  Status s = tool.OpenCache(/*read_only=*/false, &cache);
  if (!s.ok()) return tool.FailOpen(s);
  Json removed = Json::Array();
  bool any = false;
  if (!by_prefix) {
    any = PurgeUrl(*cache, value, &removed).ok();
  } else {
    // Collect first: removing while scanning would change what Scan sees.
    std::vector<std::string> urls;
    cache->Scan([&](const ObjectInfo& info) {
      StoredResponse stored;
      if (DecodeStoredResponse(info.metadata, &stored).ok() && stored.url.compare(0, value.size(), value) == 0 &&
          (stored.kind == StoredResponse::Kind::kVariants || stored.vary.empty())) {
        urls.push_back(stored.url);
      }
      return true;
    });
    for (const std::string& url : urls) any = PurgeUrl(*cache, url, &removed).ok() || any;
  }
  // Closing the cache saves the directory without the purged entries.
  cache.reset();
  Json result = Json::Object().Set(by_prefix ? "prefix" : "url", value).Set("purged", any).Set("removed", removed);
  return tool.Print(result, any ? kExitOk : kExitNotFound);
}

int CmdStats(Tool& tool, const Arguments& args) {
  CommandArgs parsed;
  std::string error;
  if (!parsed.Parse(args, {}, &error) || !parsed.positional.empty()) {
    return tool.Fail(kExitUsage, "stats: " + (error.empty() ? "takes no argument" : error));
  }
  if (!tool.online()) {
    return tool.Fail(kExitUsage,
                     "stats reads a running daemon's counters: give --admin HOST:PORT (offline, see dir-stats)");
  }
  AdminClient client(tool.options().admin);
  AdminResponse response;
  Status s = client.Request("GET", "/stats", &response);
  if (!s.ok()) return tool.Fail(kExitCannotOpen, s.message());
  if (response.status != 200) {
    return tool.Fail(kExitCannotOpen, "the admin API answered " + std::to_string(response.status) + " to GET /stats");
  }
  // The daemon's JSON as it is: scripts parse it, humans read it.
  fwrite(response.body.data(), 1, response.body.size(), stdout);
  if (response.body.empty() || response.body.back() != '\n') fputc('\n', stdout);
  return kExitOk;
}

}  // namespace strata::tool
