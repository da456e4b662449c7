// strata: the caching HTTP reverse proxy daemon. See `strata --help`.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/log.h"
#include "proxy/config.h"
#include "proxy/server.h"
#include "proxy/settings.h"

namespace {

const char kUsage[] =
    "Usage: strata [OPTIONS]\n"
    "\n"
    "A caching HTTP reverse proxy.\n"
    "\n"
    "Options:\n"
    "  --config-dir DIR      read records.yaml, remap.config, ... from DIR\n"
    "                        (default: " STRATA_SYSCONFDIR
    ")\n"
    "  --listen ADDR:PORT    also listen on ADDR:PORT (repeatable); e.g. 127.0.0.1:8080, [::1]:8080\n"
    "  --origin URL          map every host to the origin URL (a catch-all remap rule),\n"
    "                        e.g. http://127.0.0.1:9000/\n"
    "  --set NAME=VALUE      override a records.yaml setting, e.g. --set server.threads=1\n"
    "  --cache PATH,SIZE     add a cache span: a file created at SIZE (e.g. /var/cache/strata.db,1G),\n"
    "                        or a block device used whole (SIZE left out); repeatable\n"
    "  --check-config [DIR]  validate the configuration in DIR (default: --config-dir), print\n"
    "                        every problem as file:line: problem, and exit 0 if it is valid\n"
    "  --settings-doc        print the settings table as Markdown (docs/CONFIG.md) and exit\n"
    "  --version             print the version and exit\n"
    "  --help                print this help and exit\n"
    "\n"
    "Signals: SIGTERM or SIGINT stop accepting connections and let in-flight transactions\n"
    "finish within server.shutdown_grace.\n"
    "\n"
    "Quick start: strata --listen 127.0.0.1:8080 --origin http://127.0.0.1:9000/ --cache /tmp/strata.db,256M\n";

bool TakeValue(int argc, char** argv, int* i, const char* option, std::string* out) {
  if (*i + 1 >= argc) {
    fprintf(stderr, "strata: %s needs a value (see --help)\n", option);
    return false;
  }
  *out = argv[++*i];
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_dir = STRATA_SYSCONFDIR;
  strata::ConfigOverrides overrides;
  bool check_only = false;
  std::string check_dir;

  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    if (arg == "--help" || arg == "-h") {
      fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--settings-doc") {
      fputs(strata::SettingsMarkdown().c_str(), stdout);
      return 0;
    } else if (arg == "--settings-yaml") {
      // Regenerates etc/records.yaml: every setting at its default, commented.
      fputs(strata::SettingsRecordsYaml().c_str(), stdout);
      return 0;
    } else if (arg == "--version") {
      printf("strata %s\n", STRATA_VERSION);
      return 0;
    } else if (arg == "--config-dir") {
      if (!TakeValue(argc, argv, &i, "--config-dir", &config_dir)) return 2;
    } else if (arg == "--listen") {
      if (!TakeValue(argc, argv, &i, "--listen", &value)) return 2;
      overrides.listen.push_back(value);
    } else if (arg == "--origin") {
      if (!TakeValue(argc, argv, &i, "--origin", &overrides.origin_url)) return 2;
    } else if (arg == "--set") {
      if (!TakeValue(argc, argv, &i, "--set", &value)) return 2;
      size_t eq = value.find('=');
      if (eq == std::string::npos) {
        fprintf(stderr, "strata: --set wants NAME=VALUE, got '%s'\n", value.c_str());
        return 2;
      }
      overrides.sets.emplace_back(value.substr(0, eq), value.substr(eq + 1));
    } else if (arg == "--cache") {
      if (!TakeValue(argc, argv, &i, "--cache", &value)) return 2;
      overrides.cache_specs.push_back(value);
    } else if (arg == "--check-config") {
      check_only = true;
      if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) check_dir = argv[++i];
    } else {
      fprintf(stderr, "strata: unknown option '%s' (see --help)\n", arg.c_str());
      return 2;
    }
  }

  if (check_only) {
    std::string dir = check_dir.empty() ? config_dir : check_dir;
    std::string report;
    strata::Status status = strata::CheckConfigDir(dir, &report);
    if (!status.ok()) {
      fputs(report.empty() ? (status.message() + "\n").c_str() : report.c_str(), stderr);
      if (!report.empty() && report.back() != '\n') fputc('\n', stderr);
      return 1;
    }
    printf("%s: configuration is valid\n", dir.c_str());
    return 0;
  }

  auto config = std::make_shared<strata::Config>();
  strata::Status status = strata::LoadConfig(config_dir, overrides, config.get());
  if (!status.ok()) {
    fprintf(stderr, "strata: invalid configuration:\n%s\n", status.message().c_str());
    return 1;
  }
  strata::Server server(config);
  status = server.Start();
  if (!status.ok()) {
    fprintf(stderr, "strata: %s\n", status.message().c_str());
    return 1;
  }
  return server.Run();
}
