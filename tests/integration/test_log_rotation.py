#!/usr/bin/env python3
"""Log rotation: on SIGUSR1 strata reopens its access and error logs under
their paths (a rotation tool renamed them: a new file is created and written,
the old one keeps what came before); with log.access.max_size the access log
is renamed to access.log.1 (.1 to .2, ...) when it reaches that size, and
only log.access.keep old files are kept."""

import os
import signal

import harness
from harness import build_request


def read_lines(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return [line.rstrip("\n") for line in f if line.strip()]
    except FileNotFoundError:
        return []


class LogRotationTest(harness.TestCase):
    def get(self, s, path):
        r = harness.request(s.port, build_request("GET", path))
        self.assertEqual(r.status, 200)

    def test_sigusr1_reopens_access_and_error_logs(self):
        o = self.origin()
        error_log = os.path.join(self.tmp, "error.log")
        s = self.strata(origin=o, records={"server.threads": 1, "log.error.path": error_log})
        log = s.access_log_path()
        for i in range(3):
            self.get(s, "/before/%d?size=10" % i)
        self.assertTrue(harness.wait_for(lambda: len(read_lines(log)) == 3, timeout=5), read_lines(log))
        os.rename(log, log + ".old")
        os.rename(error_log, error_log + ".old")
        s.send_signal(signal.SIGUSR1)
        self.assertTrue(harness.wait_for(lambda: os.path.exists(log), timeout=5), "access.log not recreated")
        self.assertTrue(harness.wait_for(lambda: os.path.exists(error_log), timeout=5), "error log not recreated")
        for i in range(2):
            self.get(s, "/after/%d?size=10" % i)
        self.assertTrue(harness.wait_for(lambda: len(read_lines(log)) == 2, timeout=5), read_lines(log))
        self.assertTrue(all("/after/" in line for line in read_lines(log)), read_lines(log))
        old = read_lines(log + ".old")
        self.assertEqual(len(old), 3, old)
        self.assertTrue(all("/before/" in line for line in old), old)
        # The error log goes on in the new file too.
        self.assertTrue(harness.wait_for(lambda: "log files reopened" in "\n".join(read_lines(error_log)),
                                         timeout=5), read_lines(error_log))
        self.assertIn("listening on", "\n".join(read_lines(error_log + ".old")))
        self.assertEqual(s.stop(), 0)
        self.assertIn("stopped", "\n".join(read_lines(error_log)))

    def test_rotation_by_size_keeps_n_files(self):
        o = self.origin()
        limit, keep, rounds, per_round = 1024, 2, 4, 15  # each round writes well over 1 KB
        s = self.strata(origin=o, records={"server.threads": 1, "log.access.max_size": limit,
                                           "log.access.keep": keep})
        log = s.access_log_path()
        files = [log] + ["%s.%d" % (log, i) for i in range(1, keep + 2)]

        def all_lines():
            return [line for path in files for line in read_lines(path)]

        for r in range(rounds):
            for i in range(per_round):
                self.get(s, "/round%d/%d?size=10" % (r, i))
            last = "/round%d/%d?" % (r, per_round - 1)
            self.assertTrue(harness.wait_for(lambda: any(last in line for line in all_lines()), timeout=5),
                            "round %d not logged" % r)
        self.assertFalse(os.path.exists("%s.%d" % (log, keep + 1)), "more than %d rotated files kept" % keep)
        for path in files[1:keep + 1]:
            self.assertTrue(os.path.exists(path), path + " missing")
            self.assertGreaterEqual(os.path.getsize(path), limit, path)  # rotated only when full
            with open(path, "rb") as f:
                self.assertTrue(f.read().endswith(b"\n"), path + " ends in a partial line")
        # Oldest file first, the lines run in request order; the first round is gone.
        ordered = [line for path in reversed(files[:keep + 1]) for line in read_lines(path)]
        seen = [int(line.split()[6].split("/round")[1].split("/")[0]) for line in ordered]
        self.assertEqual(seen, sorted(seen))
        self.assertNotIn(0, seen)
        self.assertEqual(seen.count(rounds - 1), per_round)
        for line in ordered:
            self.assertEqual(len(line.split()), 11, line)


if __name__ == "__main__":
    harness.main()
