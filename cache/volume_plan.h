// How volume.config's volumes divide the spans (ATS semantics):
//  - a span with `volume=N` in storage.config belongs to volume N whole;
//  - every other span is shared: a volume of P% gets P% of each shared span,
//    a volume of an absolute size gets that size spread over the shared
//    spans in proportion to their sizes;
//  - space the volumes leave over stays unused (as in ATS), and a volume's
//    part of a span that would be under 4 MB is not cut (the volume lives in
//    the other spans).
// Each span's shares then go to StripeLayout::Compute (LayoutOptions::volumes),
// which cuts every share into stripes that carry the volume's number in
// their header, so a changed volume.config is a geometry change: refused, or
// re-initialised with cache.reinitialize, never misread.
//
// Objects are spread over the stripes of every volume by size (ATS without
// hosting.config); a volume's avg_obj_size sizes its stripes' directories.
//
// Thread-safety: a pure function.
#pragma once

#include <cstdint>
#include <vector>

#include "cache/layout.h"
#include "cache/storage_config.h"
#include "common/status.h"

namespace strata {

// span_bytes[i]: the size of spans[i] (a block device's actual size). An
// empty `volumes` means one volume of 100%. InvalidArgument, naming the
// volume, when the volumes ask for more than the spans have or a volume gets
// no space at all.
Status PlanVolumeShares(const std::vector<SpanConfig>& spans, const std::vector<uint64_t>& span_bytes,
                        const std::vector<VolumeConfig>& volumes, std::vector<std::vector<VolumeShare>>* shares);

}  // namespace strata
