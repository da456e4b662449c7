"""Crash safety of the storage engine, out of process.

tests/crash/cache_crash_writer fills a cache with objects whose bodies are
derived from their names and logs what each Flush() made durable; this test
kills it with SIGKILL at random moments, reopens the span (crash recovery),
and checks that every durable object is found again byte-exact, that no
removed object comes back, and that nothing is ever served with wrong bytes.
A second test also zeroes or scrambles random 512-byte sectors of the span
file between runs: damage must become misses, counted, never wrong bytes.
The in-process cases (interrupted snapshot, failing span) are gtest cases in
tests/unit/cache_recovery_test.cc."""

import json
import os
import random
import subprocess
import time

import harness
from harness import build_request

WRITER = os.path.join(os.environ.get("STRATA_BUILDDIR") or harness.REPO, "tests", "crash", "cache_crash_writer")
SPAN_MB = 256


class CrashRecoveryTest(harness.TestCase):
    timeout = 240.0

    def setUp(self):
        super().setUp()
        self.span = os.path.join(self.tmp, "span.db")
        self.log = os.path.join(self.tmp, "durable.log")
        self.rng = random.Random(int(os.environ.get("STRATA_CRASH_SEED", "0")) or None)

    def fill_and_kill(self, run):
        out = os.path.join(self.tmp, "writer.out")
        proc = harness._spawn([WRITER, "fill", self.span, str(SPAN_MB), self.log, str(run)], out)
        time.sleep(self.rng.uniform(0.15, 1.0))
        self.assertIsNone(proc.poll(), "the writer stopped on its own: " + open(out).read())
        harness._reap(proc, harness.signal.SIGKILL)

    def verify(self, run):
        p = subprocess.run([WRITER, "verify", self.span, str(SPAN_MB), self.log, str(run)],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout.strip().splitlines()[-1])

    def test_twenty_kills_lose_nothing_durable_and_serve_nothing_wrong(self):
        for run in range(1, 21):
            self.fill_and_kill(run)
            v = self.verify(run)
            context = "run %d: %s" % (run, v)
            self.assertGreater(v["durable"], 0, context)
            self.assertEqual(v["found"], v["durable"], context)  # at least: the log lists only durable ones
            self.assertEqual(v["wrong"], 0, context)
            self.assertEqual(v["scanned_wrong"], 0, context)
            self.assertEqual(v["resurrected"], 0, context)
            self.assertEqual(v["crc_failures"], 0, context)

    def scramble(self, v, sectors):
        """Zeroes or fills with random bytes `sectors` sectors in the written
        part of the data area, and now and then one in a directory copy."""
        regions = [(v["data_offset"], v["write_pos_bytes"] or v["data_bytes"])]
        if self.rng.random() < 0.3:
            copy = self.rng.choice([v["dir_a_offset"], v["dir_b_offset"]])
            regions.append((copy, v["dir_copy_bytes"]))
        with open(self.span, "r+b") as f:
            for _ in range(sectors):
                start, length = self.rng.choice(regions)
                offset = start + self.rng.randrange(max(1, length // 512)) * 512
                f.seek(offset)
                f.write(bytes(512) if self.rng.random() < 0.5 else os.urandom(512))

    def test_torn_and_scrambled_sectors_become_counted_misses(self):
        damage = 0
        for run in range(1, 9):
            self.fill_and_kill(run)
            v = self.verify(run)
            self.scramble(v, self.rng.randint(5, 40))
            v = self.verify(run)
            context = "run %d: %s" % (run, v)
            self.assertEqual(v["wrong"], 0, context)
            self.assertEqual(v["scanned_wrong"], 0, context)
            damage += v["crc_failures"] + v["snapshot_copies_bad"] + v["records_rejected"] + v["missing"]
        self.assertGreater(damage, 0, "the scrambling never hit anything that mattered")



class DaemonKillTest(harness.TestCase):
    """The daemon itself, killed with SIGKILL, serves its objects again as
    hits after a restart, and says in its log how long recovery took."""

    def test_objects_stored_before_a_kill_are_hits_after_restart(self):
        origin = self.origin()
        span = os.path.join(self.tmp, "span.db")
        args = ["--cache", span + ",32M"]
        s = self.strata(origin=origin, args=args)
        paths = ["/kill/%d?size=%d&hdr=Cache-Control%%3A%%20max-age%%3D600" % (i, 3000 + 97 * i) for i in range(20)]
        bodies = {}
        for path in paths:
            r = harness.request(s.port, build_request("GET", path))
            self.assertEqual(r.status, 200)
            bodies[path] = r.body
        # Stored objects reach the disk within cache.flush_delay (5 ms); the
        # fills end with the responses, so a short pause covers both.
        time.sleep(0.5)
        self.assertEqual(s.stop(harness.signal.SIGKILL), -harness.signal.SIGKILL)
        origin_requests = origin.stats()["requests"]
        s2 = self.strata(origin=origin, args=args)
        for path in paths:
            r = harness.request(s2.port, build_request("GET", path))
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body, bodies[path], path)
            self.assertIn("hit", r.joined("Cache-Status"), path)
        self.assertEqual(origin.stats()["requests"], origin_requests, "a request went to the origin")
        self.assertRegex(s2.log_text(), r"recovered 20 object\(s\)")
        self.assertIn("recovery", s2.log_text())
        self.assertEqual(s2.stop(), 0)


if __name__ == "__main__":
    harness.main()
