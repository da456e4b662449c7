#!/usr/bin/env bash
# Installs what is missing, builds Strata, and starts it with the default
# configuration in etc/ on 127.0.0.1:8080.
#
#   ./run.sh                         in front of a demo origin (started here)
#   ./run.sh http://127.0.0.1:9000/  in front of your origin
#
# Extra settings: STRATA_ARGS="--set server.threads=1" ./run.sh
# Stop with Ctrl-C (SIGINT: in-flight requests finish, then it exits).
set -euo pipefail
top=$(cd "$(dirname "$0")" && pwd)
cd "$top"
./bootstrap.sh

listen=${STRATA_LISTEN:-127.0.0.1:8080}
state="$top/build/var"
mkdir -p "$state/log"
origin=${1:-}
demo_pid=""
cleanup() { [ -n "$demo_pid" ] && kill "$demo_pid" 2>/dev/null || true; }
trap cleanup EXIT

if [ -z "$origin" ]; then
  rm -f "$state/demo-origin.port"
  python3 "$top/tests/origin/origin.py" --port 0 --port-file "$state/demo-origin.port" >"$state/log/demo-origin.log" 2>&1 &
  demo_pid=$!
  for _ in $(seq 50); do [ -s "$state/demo-origin.port" ] && break; sleep 0.1; done
  [ -s "$state/demo-origin.port" ] || { echo "the demo origin did not start; see $state/log/demo-origin.log"; exit 1; }
  origin="http://127.0.0.1:$(cat "$state/demo-origin.port")/"
  echo "== demo origin on $origin (any path; ?size=N sets the body size, /echo shows the request)"
fi

cat <<MSG
== Strata on http://$listen/ in front of $origin
   config:     $top/etc   (check it: build/proxy/strata --check-config etc)
   cache:      $state/cache/cache.db (256 MB, etc/storage.config)
   access log: $state/log/access.log
   admin API:  http://127.0.0.1:8081/metrics  /stats  /health  (docs/ADMIN.md)

   See a miss, then a hit (the demo origin sets Cache-Control from ?hdr=):
     curl -s -o /dev/null -D - 'http://$listen/demo?size=1000&hdr=Cache-Control:max-age=60' | grep -i cache-status
     curl -s -o /dev/null -D - 'http://$listen/demo?size=1000&hdr=Cache-Control:max-age=60' | grep -i cache-status
   The first says "fwd=uri-miss ... stored", the second "hit"; the access log shows TCP_MISS then TCP_HIT.
   curl -i http://$listen/echo   shows the request the origin received.
   Ctrl-C stops Strata (the cache is saved and found again at the next start).
MSG
# shellcheck disable=SC2086
"$top/build/proxy/strata" --config-dir "$top/etc" --listen "$listen" --origin "$origin" \
  --set log.dir="$state/log" --set cache.dir="$state/cache" ${STRATA_ARGS:-}
