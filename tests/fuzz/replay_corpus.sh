#!/bin/sh
# Replays every seed corpus through its fuzz target (a libFuzzer binary with
# --enable-fuzzers, a standalone driver otherwise). Run by `make check`.
set -e
builddir=${STRATA_BUILDDIR:-.}
srcdir=${STRATA_SRCDIR:-.}
for target in http_parser; do
  bin="$builddir/tests/fuzz/${target}_fuzz"
  corpus="$srcdir/tests/fuzz/corpus/$target"
  if [ "${STRATA_FUZZ_MODE:-standalone}" = libfuzzer ]; then
    "$bin" -runs=0 "$corpus"
  else
    "$bin" "$corpus"
  fi
done
echo "1 passed, 0 failed"
