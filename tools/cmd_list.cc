// list [--prefix P] [--limit N] [--sort newest|size|url]: every object found
// by scanning the directories, with its stored URL, status, size and
// freshness. Sorting keeps only the top N in memory.
#include <algorithm>

#include "proxy/stored_response.h"
#include "tools/commands.h"
#include "tools/stored.h"

namespace strata::tool {
namespace {

struct Listed {
  std::string url;
  std::string kind;
  int status = 0;
  uint64_t length = 0;
  int64_t stored_at = 0;
  int64_t age = 0;
  int64_t freshness_left = 0;
  size_t fragments = 0;
  std::string vary;
  CacheKey key;
  uint32_t stripe = 0;
};

}  // namespace

int CmdList(Tool& tool, const Arguments& args) {
  CommandArgs parsed;
  std::string error;
  if (!parsed.Parse(args, {{"--prefix", true}, {"--limit", true}, {"--sort", true}}, &error) ||
      !parsed.positional.empty()) {
    return tool.Fail(kExitUsage, "list: " + (error.empty() ? "takes no positional argument" : error));
  }
  std::string sort = parsed.Value("--sort", "newest");
  if (sort != "newest" && sort != "size" && sort != "url") {
    return tool.Fail(kExitUsage, "list: --sort is newest, size or url");
  }
  char* end = nullptr;
  std::string limit_text = parsed.Value("--limit", "0");
  unsigned long long limit = strtoull(limit_text.c_str(), &end, 10);
  if (end == limit_text.c_str() || *end != '\0') return tool.Fail(kExitUsage, "list: --limit wants a number");
  if (tool.online()) return tool.Fail(kExitUsage, "list works offline only (the admin API has no listing)");
  std::unique_ptr<Cache> cache;
  Status s = tool.OpenCache(/*read_only=*/true, &cache);
  if (!s.ok()) return tool.FailOpen(s);

  std::string prefix = parsed.Value("--prefix");
  http::PolicyOptions options = PolicyFromSettings(tool.config().settings);
  int64_t now = NowSeconds();
  auto before = [&sort](const Listed& a, const Listed& b) {
    if (sort == "size") return a.length != b.length ? a.length > b.length : a.url < b.url;
    if (sort == "url") return a.url != b.url ? a.url < b.url : a.kind < b.kind;
    return a.stored_at != b.stored_at ? a.stored_at > b.stored_at : a.url < b.url;
  };
  std::vector<Listed> kept;
  uint64_t scanned = 0, matched = 0;
  s = cache->Scan([&](const ObjectInfo& info) {
    ++scanned;
    StoredResponse stored;
    Listed item;
    item.key = info.key;
    item.stripe = info.stripe;
    item.length = info.length;
    item.fragments = info.fragment_offsets.size();
    if (!DecodeStoredResponse(info.metadata, &stored).ok()) {
      item.url = "(unreadable metadata)";
      item.kind = "?";
    } else {
      item.url = stored.url;
      item.stored_at = stored.response_time;
      if (stored.kind == StoredResponse::Kind::kVariants) {
        item.kind = "variants";
      } else {
        item.kind = stored.vary.empty() ? "response" : "alternate";
        item.status = stored.status;
        std::vector<http::Field> fields = http::FieldViews(stored.fields);
        http::StoredInfo stored_info{stored.status, fields, stored.request_time, stored.response_time};
        http::Evaluation e = http::EvaluateStored(http::RequestInfo{"GET", {}}, stored_info, now, options);
        item.age = e.current_age;
        item.freshness_left = e.ttl;
      }
      for (const std::string& name : stored.vary) item.vary += (item.vary.empty() ? "" : ",") + name;
    }
    if (item.url.compare(0, prefix.size(), prefix) != 0) return true;
    ++matched;
    kept.push_back(std::move(item));
    // Bounded memory with --limit: trim to the best N from time to time.
    if (limit > 0 && kept.size() >= 2 * limit + 1024) {
      std::partial_sort(kept.begin(), kept.begin() + static_cast<long>(limit), kept.end(), before);
      kept.resize(limit);
    }
    return true;
  });
  if (!s.ok()) return tool.Fail(kExitCannotOpen, "scan failed: " + s.message());
  std::sort(kept.begin(), kept.end(), before);
  if (limit > 0 && kept.size() > limit) kept.resize(limit);

  Json objects = Json::Array();
  for (const Listed& item : kept) {
    Json row = Json::Object().Set("url", item.url).Set("kind", item.kind);
    row.Set("status", item.status ? Json(item.status) : Json())
        .Set("bytes", item.length)
        .Set("stored", IsoTime(item.stored_at))
        .Set("age", item.kind == "response" || item.kind == "alternate" ? Json(item.age) : Json())
        .Set("freshness_left", item.kind == "response" || item.kind == "alternate" ? Json(item.freshness_left) : Json())
        .Set("fragments", item.fragments)
        .Set("vary", item.vary.empty() ? Json() : Json(item.vary))
        .Set("stripe", item.stripe)
        .Set("key", item.key.ToHex());
    objects.Push(row);
  }
  Json result = Json::Object()
                    .Set("objects", objects)
                    .Set("scanned", scanned)
                    .Set("matched", matched)
                    .Set("shown", kept.size())
                    .Set("sort", sort);
  return tool.Print(result, kExitOk);
}

}  // namespace strata::tool
