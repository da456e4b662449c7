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

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,"err_connect":%d,"err_read":%d,' ..
    '"err_write":%d,"err_status":%d,"err_timeout":%d,"lat_mean_us":%.1f,"lat_p50_us":%d,' ..
    '"lat_p90_us":%d,"lat_p99_us":%d,"lat_p999_us":%d,"lat_max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max))
end
