#include "cache/stripe_assignment.h"

#include <xxhash.h>

#include <cmath>
#include <set>
#include <utility>

namespace strata {

uint64_t StripeIdentityHash(const std::string& span, uint32_t index) {
  std::string bytes = span;
  bytes.push_back('\0');  // "a" + 12 differs from "a1" + 2
  for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>(index >> (8 * i)));
  return XXH3_64bits(bytes.data(), bytes.size());
}

Status StripeAssignment::Build(const std::vector<StripeIdentity>& stripes, StripeAssignment* out) {
  if (stripes.empty()) return Status::InvalidArgument("no stripes to assign keys to");
  if (stripes.size() > kMaxStripes) {
    return Status::InvalidArgument(std::to_string(stripes.size()) + " stripes; at most 65535 are supported");
  }
  std::vector<uint64_t> seeds;
  std::vector<double> weights;
  std::set<std::pair<std::string, uint32_t>> seen;
  for (const StripeIdentity& s : stripes) {
    const std::string name = s.span + " stripe " + std::to_string(s.index);
    if (s.weight == 0) return Status::InvalidArgument(name + " has weight 0");
    if (!seen.insert({s.span, s.index}).second) return Status::InvalidArgument(name + " is listed twice");
    seeds.push_back(StripeIdentityHash(s.span, s.index));
    weights.push_back(static_cast<double>(s.weight));
  }
  std::vector<uint16_t> table(kSlots);
  for (uint32_t slot = 0; slot < kSlots; ++slot) {
    const unsigned char input[4] = {static_cast<unsigned char>(slot), static_cast<unsigned char>(slot >> 8), 0, 0};
    // Weighted rendezvous: u uniform in (0,1) per (slot, stripe); the stripe
    // with the smallest -ln(u)/weight wins, which happens with probability
    // weight / total weight (an exponential race).
    double best = 0;
    size_t winner = 0;
    for (size_t i = 0; i < seeds.size(); ++i) {
      const uint64_t h = XXH3_64bits_withSeed(input, sizeof(input), seeds[i]);
      const double u = (static_cast<double>(h >> 11) + 0.5) * 0x1.0p-53;
      const double score = -std::log(u) / weights[i];
      if (i == 0 || score < best || (score == best && seeds[i] < seeds[winner])) {
        best = score;
        winner = i;
      }
    }
    table[slot] = static_cast<uint16_t>(winner);
  }
  out->table_ = std::move(table);
  out->stripe_count_ = stripes.size();
  return Status::OK();
}

}  // namespace strata
