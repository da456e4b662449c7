// strata-cache: the cache inspection tool. Parses the global options, then
// runs one command (tools/commands.h). See `strata-cache --help` and
// docs/STRATA_CACHE.md.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/log.h"
#include "tools/commands.h"

namespace {

const char kUsage[] =
    "Usage: strata-cache [GLOBAL OPTIONS] COMMAND [ARGS]\n"
    "\n"
    "Inspect Strata's cache: offline on the span files (read-only, safe while the daemon\n"
    "runs), or online through a running daemon's admin API.\n"
    "\n"
    "Global options (anywhere on the line):\n"
    "  --config-dir DIR    the daemon's config directory: storage.config, records.yaml\n"
    "                      (cache.* settings fix the geometry), remap.config\n"
    "                      (default: " STRATA_SYSCONFDIR
    ")\n"
    "  --cache PATH,SIZE   a span, as given to the daemon (repeatable)\n"
    "  --set NAME=VALUE    a records.yaml setting, as given to the daemon\n"
    "  --admin HOST:PORT   work online against the daemon's admin listener (purge, stats)\n"
    "  --json              print one JSON object instead of tables\n"
    "  --help, --version\n"
    "\n"
    "URLs are the cache key: the origin URL after remap, as the access log shows it\n"
    "(e.g. http://origin.example:8080/img/1.png?v=2). `lookup` also accepts the client's\n"
    "URL when remap.config maps it.\n"
    "\n"
    "Commands:\n"
    "  spans                 each span: path, declared where, sizes, in use by a daemon,\n"
    "                        stripes, state (read from the headers; works when the cache\n"
    "                        cannot open)\n"
    "  stripes               each stripe: geometry, write position (blocks, % of the data\n"
    "                        area, as of the last header write), phase (flips at each wrap),\n"
    "                        serials, last directory snapshot (none before the first),\n"
    "                        header and footer copies\n"
    "  dir-stats [--segments]\n"
    "                        directory per stripe: entries used/valid/free, objects, pinned,\n"
    "                        fill %, bucket chain length histogram, free per segment;\n"
    "                        --segments (always in --json) adds one row per segment\n"
    "  lookup URL [-H 'Name: value']... [--no-remap]\n"
    "                        key hash -> stripe, span, segment, bucket, tag; every directory\n"
    "                        candidate and what reading it gives; the entry (offset, size,\n"
    "                        phase, pinned, file offset); the Doc header; stored URL, status,\n"
    "                        response headers, validators, age, lifetime, freshness left;\n"
    "                        fragment table; for a Vary'ing URL every alternate (-H picks\n"
    "                        the one a request with those fields gets)\n"
    "  dump URL [--body FILE|-] [-H 'Name: value']... [--variant N]\n"
    "                        the stored response head; --body writes the body to FILE\n"
    "                        (- = stdout, the head then goes to stderr)\n"
    "  verify [--repair]     read every Doc a directory entry points at: crc32, key, tag,\n"
    "                        stripe, head flag, reachability, stored metadata, every\n"
    "                        fragment; --repair removes the bad entries (needs the daemon\n"
    "                        stopped: the spans are locked while it runs)\n"
    "  list [--prefix P] [--limit N] [--sort newest|size|url]\n"
    "                        objects found by scanning: URL, kind, status, bytes, stored,\n"
    "                        age, freshness left, fragments, vary (default: newest first)\n"
    "  purge URL | purge --prefix P\n"
    "                        remove a URL (with its alternates), or every URL starting with\n"
    "                        P; offline needs the daemon stopped; with --admin it sends\n"
    "                        POST /purge?url=URL (or ?prefix=P) to the daemon\n"
    "  stats                 with --admin: the daemon's GET /stats JSON\n"
    "  keys URL [--secondary KEY]\n"
    "                        the cache key of URL (or of its alternate KEY) and where it\n"
    "                        goes, computed from the configuration without opening the spans\n"
    "  inspect-span FILE     every stripe header and footer of FILE, found from the headers\n"
    "                        alone (for a span whose configuration is lost or different)\n"
    "\n"
    "Offline, the tool reads the newest directory snapshot plus the journal, read-only: it\n"
    "sees what a running daemon has written to disk (all but its last few milliseconds).\n"
    "\n"
    "Exit codes:\n"
    "  0  success\n"
    "  1  not found (lookup, dump, purge), or problems found (verify, spans, stripes,\n"
    "     inspect-span)\n"
    "  2  usage error\n"
    "  3  cannot open the cache (configuration, span files, spans locked by a running\n"
    "     daemon) or cannot reach the admin API\n";

struct Command {
  const char* name;
  int (*run)(strata::tool::Tool&, const strata::tool::Arguments&);
};

const Command kCommands[] = {
    {"spans", strata::tool::CmdSpans},
    {"stripes", strata::tool::CmdStripes},
    {"dir-stats", strata::tool::CmdDirStats},
    {"lookup", strata::tool::CmdLookup},
    {"dump", strata::tool::CmdDump},
    {"verify", strata::tool::CmdVerify},
    {"list", strata::tool::CmdList},
    {"purge", strata::tool::CmdPurge},
    {"stats", strata::tool::CmdStats},
    {"keys", strata::tool::CmdKeys},
    {"inspect-span", strata::tool::CmdInspectSpan},
};

int Usage(const std::string& problem) {
  fprintf(stderr, "strata-cache: %s (see --help)\n", problem.c_str());
  return strata::tool::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  strata::tool::GlobalOptions options;
  std::vector<std::string> rest;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (arg == "--help" || arg == "-h") {
      fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--version") {
      printf("strata-cache %s\n", STRATA_VERSION);
      return 0;
    } else if (arg == "--json") {
      options.json = true;
    } else if (arg == "--config-dir") {
      if (!value(&options.config_dir)) return Usage("--config-dir needs a value");
      options.config_dir_given = true;
    } else if (arg == "--cache") {
      if (!value(&v)) return Usage("--cache needs PATH,SIZE");
      options.overrides.cache_specs.push_back(v);
    } else if (arg == "--set") {
      if (!value(&v)) return Usage("--set needs NAME=VALUE");
      size_t eq = v.find('=');
      if (eq == std::string::npos) return Usage("--set wants NAME=VALUE, got '" + v + "'");
      options.overrides.sets.emplace_back(v.substr(0, eq), v.substr(eq + 1));
    } else if (arg == "--admin") {
      if (!value(&options.admin)) return Usage("--admin needs HOST:PORT");
    } else {
      rest.push_back(arg);
    }
  }
  if (rest.empty()) return Usage("no command given");
  // Engine warnings (a directory snapshot not usable, a bad Doc) go to
  // stderr; the routine info lines would only clutter a tool's output.
  strata::SetLogLevel(strata::LogLevel::kWarning);
  strata::tool::Tool tool(options);
  for (const Command& command : kCommands) {
    if (rest[0] == command.name) return command.run(tool, {rest.begin() + 1, rest.end()});
  }
  return Usage("unknown command '" + rest[0] + "'");
}
