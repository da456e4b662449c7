#include "proxy/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/text.h"

namespace strata {

namespace {

namespace fs = std::filesystem;

bool Exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

void AddProblems(const Status& st, std::vector<std::string>* problems) {
  if (st.ok()) return;
  std::stringstream lines(st.message());
  for (std::string line; std::getline(lines, line);) problems->push_back(line);
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : "\n") + l;
  return out;
}

// The whole file into *text; false (with the problem noted) if unreadable.
bool ReadConfigFile(const std::string& path, std::string* text, std::vector<std::string>* problems) {
  std::ifstream in(path);
  if (!in) {
    problems->push_back(path + ": cannot open");
    return false;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  *text = buffer.str();
  return true;
}

// storage.config (ATS syntax): `PATH [SIZE] [volume=N] [id=NAME]` per line.
void LoadStorage(const std::string& path, std::vector<SpanConfig>* spans, std::vector<std::string>* problems) {
  std::string text;
  if (ReadConfigFile(path, &text, problems)) AddProblems(ParseStorageConfig(path, text, ProbePath, spans), problems);
}

// volume.config (ATS syntax): `volume=N scheme=http size=P%|SIZE ...` per
// line; every span's `volume=N` must name one of its volumes.
void LoadVolumes(const std::string& path, const std::vector<SpanConfig>& spans, std::vector<VolumeConfig>* volumes,
                 std::vector<std::string>* problems) {
  std::string text;
  if (!ReadConfigFile(path, &text, problems)) return;
  Status st = ParseVolumeConfig(path, text, volumes);
  if (!st.ok()) {
    AddProblems(st, problems);
    return;
  }
  for (const SpanConfig& span : spans) {
    bool defined = span.volume == 0;
    for (const VolumeConfig& v : *volumes) defined = defined || v.number == span.volume;
    if (!defined) {
      problems->push_back(span.origin + ": volume=" + std::to_string(span.volume) + " is not defined in " + path);
    }
  }
}

// Relative span paths start from cache.dir (default: the state directory),
// as ATS resolves them against its install layout.
void ResolveSpanPaths(const Settings& settings, std::vector<SpanConfig>* spans) {
  const std::string base = settings.cache_dir.empty() ? std::string(STRATA_CACHEDIR) : settings.cache_dir;
  for (SpanConfig& span : *spans) {
    if (!span.path.empty() && span.path.front() != '/') span.path = base + "/" + span.path;
  }
}

// parent.config: parent selection does not exist yet. A rule would be
// silently ignored, sending traffic straight to origins the operator meant to
// shield, so any rule is an error; comments and blank lines are fine.
void CheckParentConfig(const std::string& path, std::vector<std::string>* problems) {
  std::string text;
  if (!ReadConfigFile(path, &text, problems)) return;
  ForEachLine(text, [&](int line_no, std::string_view line) {
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos || line[start] == '#') return;
    problems->push_back(path + ":" + std::to_string(line_no) +
                        ": parent selection is not implemented yet; comment the rule out (docs/CONFIG.md)");
  });
}

// Every file of `dir` into *config; problems appended.
void LoadFiles(const std::string& dir, Config* config, std::vector<std::string>* problems) {
  AddProblems(LoadRecordsYaml(dir + "/records.yaml", &config->settings), problems);
  const std::string remap = dir + "/remap.config";
  if (Exists(remap)) AddProblems(config->remap.LoadFile(remap), problems);
  const std::string storage = dir + "/storage.config";
  if (Exists(storage)) LoadStorage(storage, &config->cache_spans, problems);
  const std::string volumes = dir + "/volume.config";
  if (Exists(volumes)) LoadVolumes(volumes, config->cache_spans, &config->cache_volumes, problems);
  const std::string cache_rules = dir + "/cache.config";
  if (Exists(cache_rules)) AddProblems(config->cache_rules.LoadFile(cache_rules), problems);
  const std::string ip_allow = dir + "/ip_allow.yaml";
  if (Exists(ip_allow)) AddProblems(IpAllow::Load(ip_allow, &config->ip_allow), problems);
  const std::string parent = dir + "/parent.config";
  if (Exists(parent)) CheckParentConfig(parent, problems);
}

bool IsDirectory(const std::string& dir) {
  std::error_code ec;
  return fs::is_directory(dir, ec);
}

}  // namespace

Status LoadConfig(const std::string& dir, const ConfigOverrides& overrides, Config* out) {
  Config config;
  config.dir = dir;
  std::vector<std::string> problems;
  // A missing directory reads like an empty one: every file in it is optional,
  // and the quick-start form must run without an installed config directory.
  if (!dir.empty() && IsDirectory(dir)) {
    LoadFiles(dir, &config, &problems);
  } else if (!dir.empty() && Exists(dir)) {
    problems.push_back(dir + ": not a directory");
  }
  for (const auto& [name, value] : overrides.sets) {
    Status st = ParseSettingValue(name, value, &config.settings);
    if (!st.ok()) problems.push_back("--set " + st.message());
  }
  for (const std::string& addr : overrides.listen) {
    std::string host;
    uint16_t port;
    Status st = ParseListenAddress(addr, &host, &port);
    if (!st.ok()) {
      problems.push_back("--listen " + st.message());
    } else if (std::find(config.settings.listen.begin(), config.settings.listen.end(), addr) ==
               config.settings.listen.end()) {
      config.settings.listen.push_back(addr);
    }
  }
  if (overrides.admin.has_value()) {
    Status st = ParseSettingValue("admin.listen", *overrides.admin, &config.settings);
    if (!st.ok()) problems.push_back("--admin " + st.message());
  }
  if (!overrides.origin_url.empty()) AddProblems(config.remap.AddCatchAll(overrides.origin_url), &problems);
  ResolveSpanPaths(config.settings, &config.cache_spans);
  // Already validated as a setting: this cannot fail on a value that loaded.
  AddProblems(AccessFormat::Parse(config.settings.access_log_format, &config.access_format), &problems);
  for (const std::string& spec : overrides.cache_specs) {
    SpanConfig span;
    Status st = ParseQuickStartSpan(spec, &span);
    if (!st.ok()) {
      problems.push_back("--cache " + st.message());
      continue;
    }
    // On the command line a relative path is relative to where it was typed.
    if (!span.path.empty() && span.path.front() != '/') span.path = (fs::current_path() / span.path).string();
    config.cache_spans.push_back(span);
  }
  if (!problems.empty()) return Status::InvalidArgument(Join(problems));
  *out = std::move(config);
  return Status::OK();
}

const std::vector<std::string>& ConfigFileNames() {
  static const std::vector<std::string> kNames = {"records.yaml", "remap.config",  "storage.config", "volume.config",
                                                  "cache.config", "ip_allow.yaml", "parent.config"};
  return kNames;
}

Status CheckConfigDir(const std::string& dir, std::string* report) {
  std::vector<std::string> problems;
  if (!IsDirectory(dir)) {
    problems.push_back(dir + ": no such config directory");
  } else {
    Config config;
    LoadFiles(dir, &config, &problems);
  }
  *report = Join(problems);
  return problems.empty() ? Status::OK() : Status::InvalidArgument(*report);
}

}  // namespace strata
