-- wrk script for the disk-hit test: every request asks for <path>K, K drawn uniformly from
-- 1..N, where <path> is the URL path given to wrk (e.g. /disk/<runid>/) and N the first
-- script argument: a working set filled beforehand (fill.lua), larger than the RAM caches.
-- Prints BENCHJSON like report.lua.
-- usage: wrk -t1 -c64 -d10s -s random.lua http://127.0.0.1:PORT/disk/run1/ -- 12288
local path, N = wrk.path, 1

function init(args)
  if args[1] then N = tonumber(args[1]) end
  math.randomseed(os.time())
end

function request()
  return wrk.format("GET", path .. math.random(N))
end

-- done(): the BENCHJSON line, shared with report.lua (loaded from beside this script).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
