#include "proxy/cache_options.h"

namespace strata {

Status CacheOptionsFromConfig(const Config& config, CacheOptions* out) {
  const Settings& settings = config.settings;
  CacheOptions options;
  options.spans = config.cache_spans;
  options.volumes = config.cache_volumes;
  options.layout.average_object_bytes = settings.cache_average_object_size;
  options.stripe.agg_buffer_bytes = settings.cache_agg_buffer_size;
  options.stripe.flush_delay = settings.cache_flush_delay;
  options.snapshot_interval = settings.cache_snapshot_interval;
  options.fragment_bytes = settings.cache_fragment_size;
  options.ram_cache_bytes = settings.cache_ram_size;
  options.io_threads = static_cast<size_t>(settings.cache_io_threads);
  options.reinitialize = settings.cache_reinitialize;
  if (settings.cache_io_engine == "io_uring") {
    Status engine = Status::OK();
    options.env = Env::IoUring(&engine);
    if (options.env == nullptr) {
      return Status::InvalidArgument("cache.io_engine=io_uring is not available: " + engine.message());
    }
  }
  *out = std::move(options);
  return Status::OK();
}

}  // namespace strata
