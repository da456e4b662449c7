#!/usr/bin/env bash
# Storage engine benchmarks (dir/, cache/): runs bench/cache_bench (Google
# Benchmark) and `dd oflag=direct` on the same filesystem, then prints one
# summary table with the write ratios. docs/PERFORMANCE.md has the figures.
#
#   bench/cache_bench.sh [extra cache_bench flags, e.g. --benchmark_filter=Dir]
#
# Without CACHE_BENCH_BIN it first builds the binary (make -C BUILD_DIR
# bench/cache_bench). Span files go to a fresh directory under BENCH_DIR
# (default /var/tmp: it must be a real disk, not tmpfs), removed on any exit.
# Env: CACHE_BENCH_BIN, BUILD_DIR (<repo>/build), BENCH_DIR (/var/tmp),
# WRITE_MB (512: bytes per write run, for the engine, pwrite and dd),
# MIN_TIME (0.5 s per directory and RAM benchmark), REPS (3).
# Takes about 1.5 minutes on 2 cores; bounded by a 270 s timeout.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO/build}
BENCH_DIR=${BENCH_DIR:-/var/tmp}
WRITE_MB=${WRITE_MB:-512}
MIN_TIME=${MIN_TIME:-0.5}
REPS=${REPS:-3}

die() { echo "cache_bench: $*" >&2; exit 1; }

if [ -z "${CACHE_BENCH_BIN:-}" ]; then
  [ -f "$BUILD_DIR/Makefile" ] || die "no configured build in $BUILD_DIR (run ./bootstrap.sh or set BUILD_DIR)"
  make -C "$BUILD_DIR" -s bench/cache_bench || die "cannot build bench/cache_bench (is libbenchmark-dev installed?)"
  CACHE_BENCH_BIN=$BUILD_DIR/bench/cache_bench
fi
[ -x "$CACHE_BENCH_BIN" ] || die "benchmark binary not found at $CACHE_BENCH_BIN"
command -v python3 >/dev/null || die "python3 is needed for the summary"

WORK=$(mktemp -d "$BENCH_DIR/strata-cache-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

fs=$(df -PT "$WORK" | awk 'NR == 2 {print $2}')
avail_mb=$(df -Pm "$WORK" | awk 'NR == 2 {print $4}')
[ "$fs" != tmpfs ] || die "$BENCH_DIR is tmpfs: set BENCH_DIR to a directory on a disk"
[ "$avail_mb" -ge $((3 * 1024 + WRITE_MB)) ] || die "need $((3 * 1024 + WRITE_MB)) MB free in $BENCH_DIR, have $avail_mb"

echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)"
echo "== span files: $WORK ($fs on $(df -P "$WORK" | awk 'NR == 2 {print $1}'))"
echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# CPU seconds used by the whole machine (/proc/stat) and by this script's
# children, so that the summary can say how much else was running.
cpu_busy() { awk '/^cpu / {print ($2 + $3 + $4 + $7 + $8) / 100}' /proc/stat; }  # USER_HZ = 100
# `times` must run in this shell (not in a $(...) subshell) to see its children.
children_cpu() { awk 'NR == 2 {s = 0; for (i = 1; i <= 2; i++) {split($i, t, /[ms]/); s += t[1] * 60 + t[2]} print s}' "$1"; }
busy0=$(cpu_busy)
times >"$WORK/times0"
own0=$(children_cpu "$WORK/times0")
start=$(date +%s.%N)

# 1. The engine benchmarks.
STRATA_BENCH_DIR=$WORK STRATA_BENCH_WRITE_MB=$WRITE_MB timeout 270 "$CACHE_BENCH_BIN" \
  --benchmark_min_time="$MIN_TIME" --benchmark_repetitions="$REPS" --benchmark_display_aggregates_only=true \
  --benchmark_out="$WORK/cache_bench.json" --benchmark_out_format=json "$@"

# 2. dd with O_DIRECT and a final fsync, same filesystem, same byte count.
: >"$WORK/dd.txt"
for _ in $(seq "$REPS"); do
  LC_ALL=C dd if=/dev/zero of="$WORK/dd.bin" bs=4M count=$((WRITE_MB / 4)) oflag=direct conv=fsync 2>&1 |
    awk '/copied/ {print $1, $(NF-3)}' >>"$WORK/dd.txt"
  rm -f "$WORK/dd.bin"
done
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
busy1=$(cpu_busy)
times >"$WORK/times1"
own1=$(children_cpu "$WORK/times1")
end=$(date +%s.%N)
awk -v b="$busy1" -v a="$busy0" -v o1="$own1" -v o0="$own0" -v e="$end" -v s="$start" 'BEGIN {
  w = e - s; other = (b - a) - (o1 - o0); if (other < 0) other = 0
  printf "== %.0f s wall; CPU busy %.1f s, of which this benchmark %.1f s; everything else (other processes, kernel writeback) %.1f s = %.2f cores on average\n", w, b - a, o1 - o0, other, other / w }'

# 3. Summary (medians of the repetitions).
python3 - "$WORK/cache_bench.json" "$WORK/dd.txt" <<'EOF'
import json, statistics, sys

runs = json.load(open(sys.argv[1]))["benchmarks"]
med = {r["run_name"]: r for r in runs if r.get("aggregate_name") == "median"}
for r in runs:  # single runs (REPS=1) have no aggregates
    med.setdefault(r["run_name"], r)
dd = [int(b) / float(s) / 2**20 for b, s in (line.split() for line in open(sys.argv[2]) if line.strip())]
MiB = 2**20

def get(name, field):
    r = med.get(name)
    return r.get(field) if r else None

def mib(v):
    return "-" if v is None else f"{v:,.0f}"

def fmt(v, unit=""):
    if v is None:
        return "-"
    if v >= 1e6:
        return f"{v / 1e6:.2f} M{unit}"
    if v >= 1e4:
        return f"{v / 1e3:.1f} k{unit}"
    return f"{v:.1f}{unit}" if v < 100 else f"{v:.0f}{unit}"

print("\n== Directory (1,048,576 entries; medians)")
print(f"{'benchmark':44} {'ops/s':>12}")
for fill in (50, 90):
    for hit in (1, 0):
        for t in (1, 2):
            n = f"BM_DirProbe/fill:{fill}/hit:{hit}/real_time/threads:{t}"
            label = f"Probe {'hit ' if hit else 'miss'} fill {fill}% {t} thread{'s' if t > 1 else ''}"
            print(f"{label:44} {fmt(get(n, 'items_per_second')):>12}")
for fill in (50, 90):
    for t in (1, 2):
        n = f"BM_DirInsertRemove/fill:{fill}/real_time/threads:{t}"
        label = f"Insert+Remove fill {fill}% {t} thread{'s' if t > 1 else ''}"
        print(f"{label:44} {fmt(get(n, 'items_per_second')):>12}")
for n in sorted(k for k in med if k.startswith("BM_DirMemory")):
    r = med[n]
    print(f"Memory: {int(r['total_entries'])} entries, {int(r['segments'])} segments: "
          f"{int(r['allocated_bytes'])} bytes allocated = {r['bytes_per_entry']:.4f} bytes/entry "
          f"(overhead beyond 10 B/entry: {int(r['overhead_bytes'])} bytes)")

print("\n== Writes: Cache::Put + Flush() + fdatasync vs pwrite(4 MB) + fdatasync of the same disk bytes (MiB/s)")
dd_med = statistics.median(dd) if dd else None
print(f"{'object':>7} {'payload':>8} {'disk':>8} {'raw':>8} {'disk/raw':>8} {'payload/raw':>11} {'no-sync':>8} {'dd':>8}")
for size in (4096, 16384):
    put = f"BM_CachePut/object:{size}/iterations:1/repeats:3/manual_time"
    raw = f"BM_RawWrite/object:{size}/iterations:1/repeats:3/manual_time"
    payload, disk = get(put, "payload_MiBps"), get(put, "disk_MiBps")
    nosync = get(put, "to_page_cache_MiBps")
    rawv = get(raw, "bytes_per_second")
    rawv = rawv / MiB if rawv else None
    ratio = lambda a: f"{a / rawv:.2f}" if a and rawv else "-"
    print(f"{size // 1024:>6}K {mib(payload):>8} {mib(disk):>8} {mib(rawv):>8} {ratio(disk):>8} {ratio(payload):>11} "
          f"{mib(nosync):>8} {mib(dd_med):>8}")
print("dd if=/dev/zero bs=4M oflag=direct conv=fsync, MiB/s per run: " + ", ".join(f"{v:.0f}" for v in dd))

print("\n== Reads: Cache::Get (RAM: every Get a RAM-cache hit; disk: no RAM cache, one pass in shuffled order)")
print(f"{'source':34} {'MiB/s':>8} {'objects/s':>10} {'resident before':>16}")
rows = [("RAM 16 KiB", "BM_CacheGetRam/object:16384/real_time"),
        ("RAM 1 MiB", "BM_CacheGetRam/object:1048576/real_time"),
        ("disk 16 KiB, page cache hot", "BM_CacheGetDisk/object:16384/cold:0/iterations:8192/real_time"),
        ("disk 16 KiB, page cache dropped", "BM_CacheGetDisk/object:16384/cold:1/iterations:8192/real_time"),
        ("disk 1 MiB, page cache hot", "BM_CacheGetDisk/object:1048576/cold:0/iterations:128/real_time"),
        ("disk 1 MiB, page cache dropped", "BM_CacheGetDisk/object:1048576/cold:1/iterations:128/real_time")]
for label, n in rows:
    bps = get(n, "bytes_per_second")
    res = get(n, "resident_MiB_before")
    hit = get(n, "ram_hit_ratio")
    extra = f"{res:.0f} MiB" if res is not None else (f"hit ratio {hit:.2f}" if hit is not None else "")
    print(f"{label:34} {mib(bps / MiB if bps else None):>8} {fmt(get(n, 'items_per_second')):>10} {extra:>16}")
EOF
