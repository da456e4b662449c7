// Reload: which parts of a freshly loaded Config may replace the running one.
//
// A reload builds a whole new Config with LoadConfig and swaps it in only
// when it loaded without error. Some parts cannot change under a running
// daemon: the listeners and worker threads, the log files, and everything
// that shapes the cache's storage (settings without the table's `reloadable`
// flag, the spans of storage.config and the volumes of volume.config). For
// those the new Config gets the running value back, and the operator is told
// that the change needs a restart.
//
// Thread-safety: a pure function of its arguments.
#pragma once

#include <string>
#include <vector>

#include "proxy/config.h"

namespace strata {

// Puts the running value of every restart-only part that differs back into
// *fresh, and returns one line per such part, e.g.
//   "server.threads: needs a restart to change from 2 to 4; keeping 2"
std::vector<std::string> KeepRestartOnlyParts(const Config& running, Config* fresh);

}  // namespace strata
