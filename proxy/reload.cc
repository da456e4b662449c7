#include "proxy/reload.h"

namespace strata {
namespace {

bool SameSpans(const std::vector<SpanConfig>& a, const std::vector<SpanConfig>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].path != b[i].path || a[i].size_bytes != b[i].size_bytes || a[i].is_block_device != b[i].is_block_device ||
        a[i].id != b[i].id || a[i].volume != b[i].volume) {
      return false;
    }
  }
  return true;
}

// `origin` (the file:line a volume came from) is left out: moving a line
// changes nothing on disk.
bool SameVolumes(const std::vector<VolumeConfig>& a, const std::vector<VolumeConfig>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].number != b[i].number || a[i].scheme != b[i].scheme || a[i].percent != b[i].percent ||
        a[i].size_bytes != b[i].size_bytes || a[i].avg_obj_size != b[i].avg_obj_size ||
        a[i].fragment_size != b[i].fragment_size) {
      return false;
    }
  }
  return true;
}

std::string Shown(const std::string& value) { return value.empty() ? "(empty)" : value; }

}  // namespace

std::vector<std::string> KeepRestartOnlyParts(const Config& running, Config* fresh) {
  std::vector<std::string> kept;
  for (const SettingDef* def : ChangedSettings(running.settings, fresh->settings)) {
    if (def->reloadable) continue;
    const std::string old_value = Shown(FormatSettingValue(*def, running.settings));
    const std::string new_value = Shown(FormatSettingValue(*def, fresh->settings));
    kept.push_back(std::string(def->name) + ": needs a restart to change from " + old_value + " to " + new_value +
                   "; keeping " + old_value);
    CopySetting(*def, running.settings, &fresh->settings);
  }
  if (!SameSpans(running.cache_spans, fresh->cache_spans)) {
    kept.push_back("storage.config: the cache spans changed; needs a restart; keeping the running spans");
    fresh->cache_spans = running.cache_spans;
  }
  if (!SameVolumes(running.cache_volumes, fresh->cache_volumes)) {
    kept.push_back("volume.config: the volumes changed; needs a restart; keeping the running volumes");
    fresh->cache_volumes = running.cache_volumes;
  }
  return kept;
}

}  // namespace strata
