#include "cache/volume_plan.h"

#include <algorithm>
#include <map>
#include <string>

namespace strata {
namespace {

uint64_t RoundDownToStripeAlign(uint64_t bytes) { return bytes / kStripeAlignBytes * kStripeAlignBytes; }

}  // namespace

Status PlanVolumeShares(const std::vector<SpanConfig>& spans, const std::vector<uint64_t>& span_bytes,
                        const std::vector<VolumeConfig>& volumes, std::vector<std::vector<VolumeShare>>* shares) {
  std::vector<VolumeConfig> sorted = volumes;
  if (sorted.empty()) {
    VolumeConfig all;
    all.percent = 100;
    sorted.push_back(all);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const VolumeConfig& a, const VolumeConfig& b) { return a.number < b.number; });
  uint64_t shared_total = 0;
  for (size_t i = 0; i < spans.size(); ++i) {
    if (spans[i].volume == 0) shared_total += UsableSpanBytes(span_bytes[i]);
  }
  // Absolute sizes and percentages together must fit the shared spans.
  uint64_t asked = 0;
  for (const VolumeConfig& v : sorted) {
    asked += v.size_bytes ? v.size_bytes : shared_total * v.percent / 100;
  }
  if (asked > shared_total && shared_total > 0) {
    return Status::InvalidArgument("volume.config: the volumes ask for " + std::to_string(asked >> 20) +
                                   "M, more than the " + std::to_string(shared_total >> 20) + "M of the shared spans");
  }
  std::map<int, uint64_t> granted;
  std::vector<std::vector<VolumeShare>> out(spans.size());
  for (size_t i = 0; i < spans.size(); ++i) {
    const uint64_t usable = UsableSpanBytes(span_bytes[i]);
    for (const VolumeConfig& v : sorted) {
      uint64_t bytes;
      if (spans[i].volume != 0) {
        if (v.number != spans[i].volume) continue;
        bytes = usable;
      } else if (v.size_bytes != 0) {
        bytes =
            shared_total ? static_cast<uint64_t>(static_cast<long double>(v.size_bytes) * usable / shared_total) : 0;
      } else {
        bytes = usable * v.percent / 100;
      }
      bytes = RoundDownToStripeAlign(bytes);
      if (bytes < kMinStripeBytes) continue;
      out[i].push_back({static_cast<uint32_t>(v.number), bytes, v.avg_obj_size});
      granted[v.number] += bytes;
    }
  }
  for (const VolumeConfig& v : sorted) {
    if (granted[v.number] == 0) {
      return Status::InvalidArgument((v.origin.empty() ? "volume.config" : v.origin) + ": volume " +
                                     std::to_string(v.number) + " gets no space (under 4M in every span)");
    }
  }
  *shares = std::move(out);
  return Status::OK();
}

}  // namespace strata
