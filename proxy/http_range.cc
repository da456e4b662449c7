// Range evaluation and multipart/byteranges planning; see http_range.h.

#include "proxy/http_range.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>

#include "proxy/http_parser.h"

namespace strata::http {

namespace {

constexpr uint64_t kMax = UINT64_MAX;

// One range-spec of the bytes unit, as sent.
struct Spec {
  bool suffix = false;   // "-N": the last N bytes
  uint64_t first = 0;    // int-range first-pos, or the suffix-length
  uint64_t last = kMax;  // int-range last-pos; kMax when open ("N-")
};

// 1*DIGIT, saturating at kMax. False if `s` is empty or not all digits.
bool ParseDigits(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    v = v > (kMax - d) / 10 ? kMax : v * 10 + d;
  }
  *out = v;
  return true;
}

bool ParseSpec(std::string_view s, Spec* spec) {
  const size_t dash = s.find('-');
  if (dash == std::string_view::npos) return false;
  const std::string_view a = s.substr(0, dash), b = s.substr(dash + 1);
  if (a.empty()) {  // suffix-range
    spec->suffix = true;
    return ParseDigits(b, &spec->first);
  }
  if (!ParseDigits(a, &spec->first)) return false;
  if (b.empty()) return true;  // open int-range
  return ParseDigits(b, &spec->last) && spec->last >= spec->first;
}

// The ranges-specifier for the bytes unit; false if invalid, another unit, or
// too many specs.
bool ParseRangeValue(std::string_view value, std::vector<Spec>* specs) {
  const size_t eq = value.find('=');
  if (eq == std::string_view::npos || !EqualsIgnoreCase(value.substr(0, eq), "bytes")) return false;
  bool ok = true;
  ForEachListElement(value.substr(eq + 1), [&](std::string_view element) {
    if (!ok) return;
    Spec spec;
    if (specs->size() >= kMaxRangeSpecs || !ParseSpec(element, &spec)) {
      ok = false;
      return;
    }
    specs->push_back(spec);
  });
  return ok && !specs->empty();
}

// A satisfiable range with the index of the earliest range-spec it covers.
struct Indexed {
  ByteRange range;
  size_t order;
};

// Merges overlapping and adjacent ranges; the result keeps request order.
std::vector<ByteRange> Coalesce(std::vector<Indexed> in) {
  std::sort(in.begin(), in.end(), [](const Indexed& a, const Indexed& b) { return a.range.first < b.range.first; });
  std::vector<Indexed> merged;
  for (const Indexed& r : in) {
    if (!merged.empty() && r.range.first <= merged.back().range.last + 1) {  // last < length, so no overflow
      Indexed& m = merged.back();
      m.range.last = std::max(m.range.last, r.range.last);
      m.order = std::min(m.order, r.order);
    } else {
      merged.push_back(r);
    }
  }
  std::sort(merged.begin(), merged.end(), [](const Indexed& a, const Indexed& b) { return a.order < b.order; });
  std::vector<ByteRange> out;
  out.reserve(merged.size());
  for (const Indexed& m : merged) out.push_back(m.range);
  return out;
}

uint64_t Mix(uint64_t x) {  // splitmix64's finalizer
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

RangeDecision EvaluateRange(std::string_view range_value, uint64_t length, bool if_range_ok) {
  RangeDecision decision;
  std::vector<Spec> specs;
  if (!if_range_ok || !ParseRangeValue(range_value, &specs)) return decision;  // kFull

  std::vector<Indexed> satisfiable;
  bool empty_suffix = false;  // a satisfiable suffix-range of a zero-length representation
  for (size_t i = 0; i < specs.size(); ++i) {
    const Spec& s = specs[i];
    if (s.suffix) {
      if (s.first == 0) continue;  // "-0" is never satisfiable
      if (length == 0) {
        empty_suffix = true;
        continue;
      }
      satisfiable.push_back({{length - std::min(s.first, length), length - 1}, i});
    } else if (s.first < length) {
      satisfiable.push_back({{s.first, std::min(s.last, length - 1)}, i});
    }
  }
  if (!satisfiable.empty()) {
    decision.kind = RangeDecision::Kind::kPartial;
    decision.ranges = Coalesce(std::move(satisfiable));
  } else if (!empty_suffix) {
    decision.kind = RangeDecision::Kind::kUnsatisfiable;
  }
  return decision;
}

std::string ContentRangeValue(const ByteRange& range, uint64_t length) {
  return "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" + std::to_string(length);
}

std::string UnsatisfiedContentRange(uint64_t length) { return "bytes */" + std::to_string(length); }

std::string MakeBoundary() {
  static std::atomic<uint64_t> counter{0};
  static const int anchor = 0;
  const uint64_t n = counter.fetch_add(1, std::memory_order_relaxed);
  const uint64_t seed = reinterpret_cast<uintptr_t>(&anchor) ^
                        static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  const uint64_t a = Mix(seed ^ Mix(n)), b = Mix(a ^ n);
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(a),
                static_cast<unsigned long long>(b));
  return buf;
}

MultipartPlan PlanMultipart(const std::vector<ByteRange>& ranges, uint64_t length, std::string_view content_type,
                            std::string_view boundary) {
  MultipartPlan plan;
  plan.content_type = "multipart/byteranges; boundary=" + std::string(boundary);
  std::string type_line;
  if (!content_type.empty()) type_line = "Content-Type: " + std::string(content_type) + "\r\n";
  for (const ByteRange& r : ranges) {
    MultipartPlan::Part part;
    part.header = "\r\n--" + std::string(boundary) + "\r\n" + type_line +
                  "Content-Range: " + ContentRangeValue(r, length) + "\r\n\r\n";
    part.range = r;
    plan.content_length += part.header.size() + r.length();
    plan.parts.push_back(std::move(part));
  }
  plan.closing = "\r\n--" + std::string(boundary) + "--\r\n";
  plan.content_length += plan.closing.size();
  return plan;
}

}  // namespace strata::http
