#!/usr/bin/env bash
# Throughput of strata against its origin, or its memory while streaming.
#
#   bench/proxy_vs_origin.sh          wrk req/s for a 1 KiB file from nginx
#                                     directly and through strata (median of
#                                     REPS runs each) and their ratio
#   bench/proxy_vs_origin.sh --rss    stream a 100 MiB file through strata to
#                                     a slow curl (--limit-rate 20M); print
#                                     strata's idle and peak VmRSS
#
# The origin is nginx (1 worker; installed with apt-get if missing), since a
# Python origin would be the bottleneck. Everything listens on 127.0.0.1 on
# ephemeral ports; the script stops what it started, by PID, on any exit.
# Env: STRATA_BIN (default <repo>/proxy/strata), DURATION (10s), REPS (3),
# CONNS (64), STRATA_THREADS (1, like the single nginx worker), TMPDIR.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
STRATA_BIN=${STRATA_BIN:-$REPO/proxy/strata}
DURATION=${DURATION:-10s}
REPS=${REPS:-3}
CONNS=${CONNS:-64}
MODE=throughput
case "${1:-}" in
  --rss) MODE=rss ;;
  "") ;;
  -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
  *) echo "usage: $0 [--rss]" >&2; exit 2 ;;
esac

WORK=$(mktemp -d "${TMPDIR:-/tmp}/strata-bench.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "proxy_vs_origin: $*" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() {  # port pid log
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    kill -0 "$2" 2>/dev/null || { cat "$3" >&2; die "process $2 exited before listening on $1"; }
    sleep 0.1
  done
  cat "$3" >&2
  die "nothing listening on 127.0.0.1:$1 after 10 s"
}

NGINX=$(command -v nginx || true)
[ -n "$NGINX" ] || [ ! -x /usr/sbin/nginx ] || NGINX=/usr/sbin/nginx
if [ -z "$NGINX" ]; then
  echo "installing nginx-light ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq nginx-light; } >&2 || die "cannot install nginx-light"
  NGINX=/usr/sbin/nginx
  # The package starts a system nginx on port 80; this script does not use it.
fi
command -v wrk >/dev/null || [ "$MODE" = rss ] || die "wrk not found"
[ -x "$STRATA_BIN" ] || die "strata binary not found at $STRATA_BIN (set STRATA_BIN)"

# --- origin: nginx, 1 worker, serving $WORK/www
chmod 755 "$WORK"
mkdir -p "$WORK/www" "$WORK/nginx/tmp" "$WORK/etc" "$WORK/log"
head -c 1024 /dev/urandom >"$WORK/www/1k.bin"
if [ "$MODE" = rss ]; then head -c $((100 * 1024 * 1024)) /dev/urandom >"$WORK/www/100m.bin"; fi
chmod -R a+rX "$WORK/www"
NPORT=$(free_port)
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/tmp/body;
  proxy_temp_path $WORK/nginx/tmp/proxy;
  fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
  uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
  scgi_temp_path $WORK/nginx/tmp/scgi;
  keepalive_requests 1000000;
  sendfile on;
  server {
    listen 127.0.0.1:$NPORT;
    location / { root $WORK/www; }
  }
}
EOF
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" \
  >"$WORK/nginx/out.log" 2>&1 &
PIDS+=($!)
wait_port "$NPORT" "${PIDS[-1]}" "$WORK/nginx/out.log"

# --- strata in front of it
SPORT=$(free_port)
printf 'records:\n  log:\n    dir: %s\n' "$WORK/log" >"$WORK/etc/records.yaml"
"$STRATA_BIN" --config-dir "$WORK/etc" --listen "127.0.0.1:$SPORT" \
  --origin "http://127.0.0.1:$NPORT" --set server.threads="${STRATA_THREADS:-1}" >"$WORK/strata.log" 2>&1 &
STRATA_PID=$!
PIDS+=("$STRATA_PID")
wait_port "$SPORT" "$STRATA_PID" "$WORK/strata.log"

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$STRATA_PID/status" 2>/dev/null || echo 0; }

if [ "$MODE" = rss ]; then
  curl -sf --max-time 10 -o /dev/null "http://127.0.0.1:$SPORT/1k.bin" || die "warm-up request failed"
  sleep 0.5
  idle=$(rss_kb)
  peak=$idle
  curl -s --max-time 60 --limit-rate 20M -o /dev/null -w '%{http_code} %{size_download}\n' \
    "http://127.0.0.1:$SPORT/100m.bin" >"$WORK/curl.out" &
  curl_pid=$!
  PIDS+=("$curl_pid")
  while kill -0 "$curl_pid" 2>/dev/null; do
    r=$(rss_kb)
    if [ "${r:-0}" -gt "$peak" ]; then peak=$r; fi
    sleep 0.05
  done
  wait "$curl_pid" || true
  read -r code got <"$WORK/curl.out" || true
  echo "transfer:  status ${code:-?}, ${got:-0} of $((100 * 1024 * 1024)) bytes"
  echo "idle RSS:  $idle KiB"
  echo "peak RSS:  $peak KiB"
  echo "growth:    $((peak - idle)) KiB"
  exit 0
fi

reqs_per_sec() {  # url -> req/s of one wrk run
  timeout 60 wrk -t1 -c"$CONNS" -d"$DURATION" "$1" | awk '/^Requests\/sec:/ { print $2 }'
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

MEDIAN=0
run_reps() {  # label url; prints a line and sets MEDIAN
  local runs=() r
  for _ in $(seq "$REPS"); do
    r=$(reqs_per_sec "$2")
    runs+=("${r:-0}")
  done
  MEDIAN=$(median "${runs[@]}")
  printf '%-16s %10.0f req/s   (runs: %s)\n' "$1" "$MEDIAN" "${runs[*]}"
}

echo "wrk -t1 -c$CONNS -d$DURATION, 1 KiB file, median of $REPS runs"
run_reps "nginx direct" "http://127.0.0.1:$NPORT/1k.bin"
direct=$MEDIAN
run_reps "through strata" "http://127.0.0.1:$SPORT/1k.bin"
proxied=$MEDIAN
awk -v d="$direct" -v p="$proxied" 'BEGIN { printf "ratio strata/origin: %.3f\n", (d > 0 ? p / d : 0) }'
