// strata-cache's commands. Each takes the tool context and its own
// arguments (after the command name) and returns the process exit code
// (tools/tool.h). docs/STRATA_CACHE.md describes what each prints.
#pragma once

#include <string>
#include <vector>

#include "tools/tool.h"

namespace strata::tool {

using Arguments = std::vector<std::string>;

// cmd_layout.cc: the spans and stripes from their headers, without opening
// the cache (so they work when it cannot open), and the directory.
int CmdSpans(Tool& tool, const Arguments& args);
int CmdStripes(Tool& tool, const Arguments& args);
int CmdInspectSpan(Tool& tool, const Arguments& args);
int CmdDirStats(Tool& tool, const Arguments& args);

// cmd_object.cc: one object by URL.
int CmdKeys(Tool& tool, const Arguments& args);
int CmdLookup(Tool& tool, const Arguments& args);
int CmdDump(Tool& tool, const Arguments& args);

// cmd_verify.cc
int CmdVerify(Tool& tool, const Arguments& args);

// cmd_list.cc
int CmdList(Tool& tool, const Arguments& args);

// cmd_admin.cc: purge (offline or through the admin API) and stats (admin API).
int CmdPurge(Tool& tool, const Arguments& args);
int CmdStats(Tool& tool, const Arguments& args);

}  // namespace strata::tool
