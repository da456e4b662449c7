// strata: the caching HTTP reverse proxy daemon. See `strata --help`.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/log.h"
#include "proxy/config.h"
#include "proxy/metrics_render.h"
#include "proxy/server.h"
#include "proxy/settings.h"

namespace {

const char kUsage[] =
    "Usage: strata [OPTIONS]\n"
    "\n"
    "Strata, a caching HTTP reverse proxy. It reads its configuration from a directory\n"
    "(records.yaml, remap.config, storage.config, volume.config, cache.config,\n"
    "ip_allow.yaml, parent.config; each optional); the options below add to it.\n"
    "\n"
    "Options:\n"
    "  --config-dir DIR      read the configuration files from DIR\n"
    "                        (default: " STRATA_SYSCONFDIR
    ")\n"
    "  --listen ADDR:PORT    also listen on ADDR:PORT (repeatable); e.g. 127.0.0.1:8080, [::1]:8080\n"
    "  --origin URL          map every host to the origin URL (a catch-all remap rule after\n"
    "                        those of remap.config), e.g. http://127.0.0.1:9000/\n"
    "  --set NAME=VALUE      override a records.yaml setting (repeatable), e.g. --set server.threads=1;\n"
    "                        it still applies after a reload\n"
    "  --admin ADDR:PORT     serve the admin API (/metrics, /stats, /health, /reload, purges) on\n"
    "                        ADDR:PORT instead of admin.listen (default 127.0.0.1:8081); \"\" = none\n"
    "  --cache PATH,SIZE     add a cache span: a file created at SIZE (e.g. /var/cache/strata.db,1G),\n"
    "                        or a block device used whole (SIZE left out); repeatable\n"
    "  --check-config [DIR]  validate every configuration file in DIR (default: --config-dir),\n"
    "                        print every problem as file:line: problem, exit 0 if all are valid\n"
    "  --settings-doc        print the settings table as Markdown (docs/CONFIG.md) and exit\n"
    "  --settings-yaml       print a records.yaml with every setting at its default, commented\n"
    "                        (etc/records.yaml), and exit\n"
    "  --metrics-doc         print the metrics table as Markdown (docs/METRICS.md) and exit\n"
    "  --version             print the version and exit\n"
    "  -h, --help            print this help and exit\n"
    "\n"
    "Signals:\n"
    "  SIGTERM, SIGINT  stop accepting connections; in-flight transactions finish within\n"
    "                   server.shutdown_grace\n"
    "  SIGHUP           reload the configuration without dropping connections; an invalid one is\n"
    "                   rejected (file:line: problem in the error log) and the running one keeps\n"
    "                   serving; settings marked \"restart\" keep their running value until a restart\n"
    "  SIGUSR1          reopen the access and error logs (after a rotation tool renamed them)\n"
    "\n"
    "Exit status: 0 after a clean stop or a valid --check-config, 1 for an invalid configuration\n"
    "or a start-up failure, 2 for a bad command line.\n"
    "\n"
    "Quick start: strata --listen 127.0.0.1:8080 --origin http://127.0.0.1:9000/ --cache /tmp/strata.db,256M\n"
    "Documentation: strata(8), docs/CONFIG.md, docs/ACCESS_LOG.md\n";

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
    } else if (arg == "--metrics-doc") {
      fputs(strata::MetricsMarkdown().c_str(), stdout);
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
    } else if (arg == "--admin") {
      if (!TakeValue(argc, argv, &i, "--admin", &value)) return 2;
      overrides.admin = value;
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
    std::string checked;
    for (const std::string& name : strata::ConfigFileNames()) {
      if (access((dir + "/" + name).c_str(), F_OK) == 0) checked += (checked.empty() ? "" : ", ") + name;
    }
    printf("%s: configuration is valid (%s)\n", dir.c_str(),
           checked.empty() ? "no files: all defaults" : checked.c_str());
    return 0;
  }

  auto config = std::make_shared<strata::Config>();
  strata::Status status = strata::LoadConfig(config_dir, overrides, config.get());
  if (!status.ok()) {
    fprintf(stderr, "strata: invalid configuration:\n%s\n", status.message().c_str());
    return 1;
  }
  strata::Server server(config, overrides);
  status = server.Start();
  if (!status.ok()) {
    fprintf(stderr, "strata: %s\n", status.message().c_str());
    return 1;
  }
  return server.Run();
}
