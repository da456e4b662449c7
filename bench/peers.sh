#!/usr/bin/env bash
# Strata beside nginx proxy_cache, Varnish, Apache Traffic Server and Squid, each on one
# pinned core in front of the same nginx origin (issue 7; design: bench/peers/README.md).
# Installs the peers and wrk with apt-get if they are missing, checks the strata binary,
# then runs bench/peers/bench.py with every argument given here.
#
#   bench/peers.sh                     full run, about 40 minutes: the limit (nginx
#                                      serving the files itself), strata, nginx, varnish,
#                                      ats, squid; report in /tmp/pbench/results/<runid>/
#   bench/peers.sh --check-only        start them all, prove hits and revalidation, stop
#   bench/peers.sh --duration 3 --reps 1 --fill-n 2000 --reval-n 2000 --disk-set-mb 300
#                                      a short run (a few minutes)
#   bench/peers.sh --report /tmp/pbench/results/<runid>/results.json    re-render a report
#   bench/peers.sh --help              every option of bench.py
#
# Needs root (the peers' privilege handling, taskset, apt-get), 2 CPUs or more (the
# targets on CPU 0, wrk and the origin on CPU 1) and the ports 28000-28999 of 127.0.0.1.
# Env: STRATA_BIN (default <repo>/build/proxy/strata; `make bench-peers` passes its own).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
bench="$top/bench/peers/bench.py"
export STRATA_BIN=${STRATA_BIN:-$top/build/proxy/strata}

die() { echo "peers.sh: $*" >&2; exit 1; }

for a in "$@"; do
  case "$a" in
    -h | --help | --report | --report=*) exec python3 "$bench" "$@" ;;   # starts nothing
  esac
done

[ "$(id -u)" = 0 ] || die "must run as root (squid/ATS/varnish privileges, taskset, apt-get)"
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs or more (targets on CPU 0, wrk + origin on CPU 1)"

# package providing each command (Debian/Ubuntu names)
missing=()
for pair in nginx:nginx varnishd:varnish squid:squid traffic_server:trafficserver wrk:wrk; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair##*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get: install them"
  echo "peers.sh: installing ${missing[*]}"
  # The harness starts its own instances; keep the packages' system services from starting
  # (policy-rc.d exit 101 = "not allowed"), unless the machine already has a policy.
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"
  fi
  rc=0
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" || rc=$?
  [ -z "$policy" ] || rm -f "$policy"
  [ "$rc" = 0 ] || die "apt-get install ${missing[*]} failed"
fi

[ -x "$STRATA_BIN" ] || die "no strata binary at $STRATA_BIN: build it first (./bootstrap.sh
  or ./run.sh builds build/proxy/strata; or make in a configured build tree), or point
  STRATA_BIN at one"

exec python3 "$bench" "$@"
