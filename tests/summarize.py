#!/usr/bin/env python3
"""Sums the results of `make check` per test case and prints "N passed, M failed".

Each automake test leaves NAME.log and NAME.trs. A gtest binary's log has
"[  PASSED  ] N tests" / "[  FAILED  ] N tests"; our Python and replay tests
end with "N passed, M failed". A test whose log has neither counts as one
test, by its automake result. Exit status 1 when anything failed."""
import os
import re
import sys

GTEST_PASSED = re.compile(r"^\[  PASSED  \] (\d+) tests?\.", re.M)
GTEST_FAILED = re.compile(r"^\[  FAILED  \] (\d+) tests?, listed below", re.M)
PLAIN = re.compile(r"^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$", re.M)


def main(builddir):
    total_passed = total_failed = total_skipped = 0
    rows = []
    for root, _, files in os.walk(builddir):
        for name in sorted(files):
            if not name.endswith(".trs"):
                continue
            trs_path = os.path.join(root, name)
            log_path = trs_path[:-4] + ".log"
            trs = open(trs_path, errors="replace").read()
            log = open(log_path, errors="replace").read() if os.path.exists(log_path) else ""
            result = re.search(r"^:test-result: (\w+)", trs, re.M)
            result = result.group(1) if result else "ERROR"
            passed = failed = skipped = 0
            plain = PLAIN.findall(log)
            gp, gf = GTEST_PASSED.search(log), GTEST_FAILED.search(log)
            if gp or gf:
                passed = int(gp.group(1)) if gp else 0
                failed = int(gf.group(1)) if gf else 0
            elif plain:
                p, f, s = plain[-1]
                passed, failed, skipped = int(p), int(f), int(s or 0)
            elif result == "PASS":
                passed = 1
            elif result == "SKIP":
                skipped = 1
            else:
                failed = 1
            if result in ("FAIL", "ERROR") and failed == 0:
                failed = 1  # crashed after printing its counts
            rel = os.path.relpath(trs_path[:-4], builddir)
            rows.append((rel, result, passed, failed, skipped))
            total_passed += passed
            total_failed += failed
            total_skipped += skipped
    for rel, result, passed, failed, skipped in sorted(rows):
        print(f"{result:5} {rel}: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
        if result in ("FAIL", "ERROR"):
            print(f"      see {os.path.join(builddir, rel)}.log")
    if not rows:
        print("no test results found")
        total_failed += 1
    tail = f", {total_skipped} skipped" if total_skipped else ""
    print(f"{total_passed} passed, {total_failed} failed{tail}")
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
