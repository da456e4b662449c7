#!/usr/bin/env bash
# Installs what is missing, builds Strata, runs every test (unit, fuzz corpus
# replay, integration against the real daemon and a real origin), and ends
# with one line: "N passed, M failed". Exits non-zero on any failure.
set -uo pipefail
top=$(cd "$(dirname "$0")" && pwd)
cd "$top"
configure_flags=()
[ -n "${CI:-}" ] && configure_flags+=(--enable-werror)
./bootstrap.sh "${configure_flags[@]}" || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
cd build
echo "== make check"
make -j2 check >/dev/null 2>&1
check_status=$?
python3 "$top/tests/summarize.py" .
summary_status=$?
[ $check_status -eq 0 ] && [ $summary_status -eq 0 ]
