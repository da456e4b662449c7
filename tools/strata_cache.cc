// strata-cache: the cache inspection tool.
//
// The cache engine is not built yet, so this prints its usage and says so;
// every subcommand listed here arrives with the cache and operations work.
#include <cstdio>
#include <cstring>

namespace {

const char kUsage[] =
    "Usage: strata-cache [--config-dir DIR] [--cache PATH,SIZE] [--admin HOST:PORT] [--json] COMMAND [ARGS]\n"
    "\n"
    "Inspect Strata's cache, offline on the span files or online through the admin API.\n"
    "\n"
    "Commands (arriving with the cache engine):\n"
    "  spans              list the spans and their state\n"
    "  stripes            stripe geometry, write position, wrap count, last snapshot\n"
    "  dir-stats          directory fill per segment and bucket chain lengths\n"
    "  lookup URL         where URL's object lives and its stored metadata\n"
    "  dump URL           print an object's headers (and body with --body FILE)\n"
    "  verify [--repair]  check every checksum and directory entry\n"
    "  purge URL          remove an object\n"
    "  list               list objects by scanning\n"
    "\n"
    "Exit codes: 0 success, 1 the command failed, 2 usage error.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    fputs(kUsage, stdout);
    return 0;
  }
  if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
    printf("strata-cache %s\n", STRATA_VERSION);
    return 0;
  }
  fputs(kUsage, stderr);
  fputs("\nstrata-cache: this build has no cache engine yet; no command is available.\n", stderr);
  return 2;
}
