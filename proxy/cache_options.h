// CacheOptionsFromConfig: the one translation of a Config's cache settings
// (records.yaml cache.*, storage.config, --cache) into the engine's
// CacheOptions. The daemon and strata-cache both call it, so the tool
// computes the same stripe geometry, directory size and stripe assignment as
// the daemon that wrote the spans.
//
// Thread-safety: a pure function of its arguments (Env::IoUring is
// process-wide and thread-safe).
#pragma once

#include "cache/cache.h"
#include "common/status.h"
#include "proxy/config.h"

namespace strata {

// InvalidArgument when cache.io_engine=io_uring is configured but unavailable.
Status CacheOptionsFromConfig(const Config& config, CacheOptions* out);

}  // namespace strata
