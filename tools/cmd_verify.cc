// verify [--repair]: reads every Doc a valid directory entry points at and
// checks it (crc32, key, tag, stripe, head flag, reachability by probing
// its key, the stored metadata, every fragment of every object), and checks
// both copies of every stripe header. --repair removes the bad entries (and
// objects whose fragments are bad or gone) from the directory, which the
// engine saves when the cache closes.
#include <set>

#include "cache/doc.h"
#include "dir/directory.h"
#include "proxy/stored_response.h"
#include "tools/commands.h"

namespace strata::tool {
namespace {

struct BadEntry {
  uint32_t stripe = 0;
  uint32_t segment = 0;
  uint32_t index = 0;
  DirEntry entry;
  bool key_known = false;
  CacheKey key;
  std::string url;
  std::string problem;
};

// An object's first Doc whose fragments are checked after the pass.
struct HeadToCheck {
  BadEntry where;  // problem empty
  std::vector<CacheKey> fragments;
};

struct Verifier {
  explicit Verifier(Cache* c) : cache(c) {}

  Cache* cache;
  std::vector<BadEntry> bad;
  std::vector<HeadToCheck> heads;
  std::set<CacheKey> good_fragments;
  uint64_t checked = 0, objects = 0, fragments = 0, stale = 0;

  void Problem(BadEntry where, std::string problem) {
    where.problem = std::move(problem);
    bad.push_back(std::move(where));
  }

  // The stored URL must hash to the key it is stored under.
  static bool KeyMatchesUrl(const StoredResponse& stored, const CacheKey& key) {
    if (stored.kind == StoredResponse::Kind::kResponse && !stored.vary.empty()) {
      return VariantCacheKey(stored.url, stored.secondary_key) == key;
    }
    return UrlCacheKey(stored.url) == key;
  }

  void CheckEntry(Stripe& stripe, uint32_t segment, uint32_t index, const DirEntry& entry) {
    ++checked;
    BadEntry where;
    where.stripe = stripe.id();
    where.segment = segment;
    where.index = index;
    where.entry = entry;
    RamCache::Bytes doc;
    CacheKey key;
    Status s = stripe.ReadDocAt(entry, &doc, &key);
    if (!s.ok()) {
      Problem(where,
              s.kind() == Status::Kind::kNotFound ? "no Doc of this stripe's life here: " + s.message() : s.ToString());
      return;
    }
    where.key_known = true;
    where.key = key;
    DocHeaderFields header;
    Status hs = DecodeDocHeader(doc->data(), doc->size(), &header);
    if (!hs.ok()) return Problem(where, hs.ToString());
    bool head = (header.flags & kDocHead) != 0;
    if (head != entry.head()) return Problem(where, "entry head flag disagrees with the Doc's flags");
    if (key.tag() != entry.tag()) return Problem(where, "entry tag differs from the Doc key's tag");
    if (&cache->StripeFor(key) != &stripe) return Problem(where, "the Doc's key belongs to another stripe");
    if (stripe.directory().SegmentOf(key) != segment) return Problem(where, "entry in the wrong segment for its key");
    std::vector<DirEntry> probed;
    stripe.directory().Probe(key, &probed);
    bool reachable = false;
    for (const DirEntry& e : probed) reachable = reachable || e.SameDoc(entry);
    if (!reachable) return Problem(where, "entry not reachable by probing its key");
    if (!head) {
      ++fragments;
      good_fragments.insert(key);
      return;
    }
    ++objects;
    std::string_view meta(doc->data() + kDocHeaderBytes, header.meta_length);
    std::string_view user;
    std::vector<uint64_t> table;
    Status ms = DecodeMetadata(meta, &user, &table);
    if (!ms.ok() || user.size() < 8) {
      return Problem(where, "object metadata: " + (ms.ok() ? std::string("no object id") : ms.message()));
    }
    StoredResponse stored;
    Status ss = DecodeStoredResponse(user.substr(8), &stored);
    if (!ss.ok()) return Problem(where, "stored response: " + ss.message());
    where.url = stored.url;
    if (!KeyMatchesUrl(stored, key)) return Problem(where, "the stored URL does not hash to this key");
    if (table.empty()) return;
    uint64_t object_id = 0;
    for (int i = 7; i >= 0; --i) object_id = (object_id << 8) | static_cast<unsigned char>(user[i]);
    HeadToCheck check{where, {}};
    for (size_t i = 0; i < table.size(); ++i) {
      check.fragments.push_back(Cache::FragmentKey(key, object_id, static_cast<uint32_t>(i)));
    }
    heads.push_back(std::move(check));
  }

  void CheckFragments() {
    for (HeadToCheck& head : heads) {
      for (size_t i = 0; i < head.fragments.size(); ++i) {
        if (good_fragments.count(head.fragments[i]) == 0) {
          Problem(head.where, "fragment " + std::to_string(i) + " of " + std::to_string(head.fragments.size()) +
                                  " is missing or bad");
          break;
        }
      }
    }
  }
};

// Removes a bad entry. When its Doc's key is unknown (or damaged), the
// entry's segment is known but not its bucket chain: each bucket is tried
// (Directory::Remove matches the exact entry, so only it can go).
bool RemoveEntry(Cache& cache, const BadEntry& bad) {
  Stripe& stripe = cache.stripe(bad.stripe);
  if (bad.key_known && stripe.Remove(bad.key, bad.entry).ok()) return true;
  const DirGeometry& geometry = stripe.directory().geometry();
  for (uint32_t bucket = 0; bucket < geometry.buckets_per_segment; ++bucket) {
    CacheKey probe{(uint64_t{bad.segment} << 32) | bucket, uint64_t{bad.entry.tag()} << 52};
    if (stripe.Remove(probe, bad.entry).ok()) return true;
  }
  return false;
}

}  // namespace

int CmdVerify(Tool& tool, const Arguments& args) {
  CommandArgs parsed;
  std::string error;
  if (!parsed.Parse(args, {{"--repair", false}}, &error) || !parsed.positional.empty()) {
    return tool.Fail(kExitUsage, "verify: " + (error.empty() ? "takes no argument" : error));
  }
  if (tool.online()) return tool.Fail(kExitUsage, "verify works offline only");
  bool repair = parsed.Has("--repair");
  std::unique_ptr<Cache> cache;
  Status s = tool.OpenCache(/*read_only=*/!repair, &cache);
  if (!s.ok()) return tool.FailOpen(s);

  Verifier verifier(cache.get());
  Json stripes = Json::Array();
  for (uint32_t id = 0; id < cache->stripe_count(); ++id) {
    Stripe& stripe = cache->stripe(id);
    struct Visit {
      uint32_t segment, index;
      DirEntry entry;
    };
    std::vector<Visit> visits;
    uint64_t stale = 0;
    stripe.directory().ForEachEntry([&](uint32_t segment, uint32_t index, const DirEntry& entry, bool valid) {
      if (valid) {
        visits.push_back({segment, index, entry});
      } else {
        ++stale;  // overwritten by the write position: normal, swept later
      }
    });
    size_t problems_before = verifier.bad.size();
    uint64_t objects_before = verifier.objects;
    for (const Visit& v : visits) verifier.CheckEntry(stripe, v.segment, v.index, v.entry);
    verifier.stale += stale;
    StripePlace place = tool.PlaceOf(*cache, id);
    stripes.Push(Json::Object()
                     .Set("stripe", id)
                     .Set("span", place.span)
                     .Set("entries_checked", visits.size())
                     .Set("first_docs", verifier.objects - objects_before)
                     .Set("stale_entries", stale)
                     .Set("problems", verifier.bad.size() - problems_before));
  }
  verifier.CheckFragments();

  Json problems = Json::Array();
  uint64_t repaired = 0;
  for (const BadEntry& bad : verifier.bad) {
    Stripe& stripe = cache->stripe(bad.stripe);
    Json row = Json::Object()
                   .Set("stripe", bad.stripe)
                   .Set("segment", bad.segment)
                   .Set("entry", bad.index)
                   .Set("offset_blocks", bad.entry.offset())
                   .Set("file_offset", stripe.layout().data_offset + bad.entry.offset() * kBlockBytes)
                   .Set("head", bad.entry.head())
                   .Set("key", bad.key_known ? Json(bad.key.ToHex()) : Json())
                   .Set("url", bad.url.empty() ? Json() : Json(bad.url))
                   .Set("problem", bad.problem);
    if (repair) {
      bool removed = RemoveEntry(*cache, bad);
      repaired += removed ? 1 : 0;
      row.Set("repaired", removed);
    }
    problems.Push(row);
  }
  Json result = Json::Object().Set("stripes", stripes).Set("problems", problems);
  Json summary = Json::Object()
                     .Set("entries_checked", verifier.checked)
                     .Set("first_docs", verifier.objects)
                     .Set("fragments", verifier.fragments)
                     .Set("stale_entries", verifier.stale)
                     .Set("problems", verifier.bad.size());
  if (repair) summary.Set("entries_removed", repaired);
  result.Set("summary", summary);
  // Closing the cache saves the repaired directory.
  cache.reset();
  return tool.Print(result, verifier.bad.empty() ? kExitOk : kExitNotFound);
}

}  // namespace strata::tool
