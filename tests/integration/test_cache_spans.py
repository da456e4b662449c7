"""The daemon opens its cache spans (storage.config and --cache), saves the
cache on a clean stop, reopens it, and refuses a span it cannot trust with a
message naming it (unless cache.reinitialize is set)."""

import os
import subprocess

import harness
from harness import build_request


class CacheSpanTest(harness.TestCase):
    def span_path(self, name="span.db"):
        return os.path.join(self.tmp, name)

    def test_cache_flag_creates_the_span_and_a_clean_stop_saves_it(self):
        origin = self.origin()
        span = self.span_path()
        s = self.strata(origin=origin, args=["--cache", span + ",16M"])
        r = harness.request(s.port, build_request("GET", "/hello?size=10"))
        self.assertEqual(r.status, 200)
        self.assertEqual(os.path.getsize(span), 16 << 20)
        self.assertEqual(s.stop(), 0)
        log = s.log_text()
        self.assertIn("cache: 1 span(s)", log)
        self.assertIn("cache saved", log)
        # Reopening the same span works and reports no problem with it.
        s2 = self.strata(origin=origin, args=["--cache", span + ",16M"])
        self.assertEqual(s2.stop(), 0)
        self.assertNotIn("not usable", s2.log_text())

    def test_storage_config_relative_path_starts_from_cache_dir(self):
        origin = self.origin()
        cache_dir = os.path.join(self.tmp, "state", "cache")
        s = self.strata(origin=origin, records={"cache.dir": cache_dir},
                        files={"storage.config": "# one span\nspan.db 12M\n"})
        self.assertEqual(s.stop(), 0)
        self.assertEqual(os.path.getsize(os.path.join(cache_dir, "span.db")), 12 << 20)

    def test_garbage_span_header_is_refused_then_reinitialized_on_request(self):
        origin = self.origin()
        span = self.span_path()
        s = self.strata(origin=origin, args=["--cache", span + ",16M"])
        self.assertEqual(s.stop(), 0)
        # Scribble over the stripe's header and footer copies (docs/FORMAT.md:
        # the span's first 64 KiB are reserved; the stripe is 15 MiB).
        stripe_start, stripe_bytes = 64 * 1024, 15 << 20
        with open(span, "r+b") as f:
            f.seek(stripe_start)
            f.write(os.urandom(4096))
            f.seek(stripe_start + stripe_bytes - 4096)
            f.write(os.urandom(4096))
        bad = harness.Strata(self.tmp, origin=origin, args=["--cache", span + ",16M"])
        with self.assertRaises(AssertionError) as refused:
            bad.start()
        self.assertIn(span, str(refused.exception))
        fixed = self.strata(origin=origin, args=["--cache", span + ",16M", "--set", "cache.reinitialize=true"])
        self.assertEqual(fixed.stop(), 0)

    def test_io_uring_engine_serves_a_miss_then_a_hit(self):
        origin = self.origin()
        span = self.span_path()
        s = harness.Strata(self.tmp, origin=origin,
                           args=["--cache", span + ",16M", "--set", "cache.io_engine=io_uring"])
        try:
            s.start()
        except AssertionError as e:
            # Built without liburing, or the kernel (seccomp) refuses io_uring:
            # the daemon must say so rather than fall back silently.
            self.assertIn("cache.io_engine=io_uring is not available", str(e))
            self.skipTest("io_uring unavailable here: " + str(e).splitlines()[0])
        self.addCleanup(s.__exit__, None, None, None)
        self.assertIn("I/O engine io_uring", s.log_text())
        tgt = "/uring?size=1000&hdr=Cache-Control:max-age=60"
        first = harness.request(s.port, build_request("GET", tgt))
        self.assertEqual(first.status, 200)
        self.assertEqual(len(first.body), 1000)
        self.assertNotIn("hit", first.joined("Cache-Status"))
        second = harness.request(s.port, build_request("GET", tgt))
        self.assertEqual(second.status, 200)
        self.assertIn("hit", second.joined("Cache-Status"))
        self.assertEqual(second.body, first.body)
        self.assertEqual(s.stop(), 0)
        self.assertIn("cache saved", s.log_text())

    def test_bad_cache_flag_is_a_clear_error(self):
        p = subprocess.run([harness.STRATA_BIN, "--listen", "127.0.0.1:1", "--cache", self.span_path() + ",lots"],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=10)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("--cache", p.stderr)


    def test_volume_config_divides_the_span_and_a_change_is_refused(self):
        origin = self.origin()
        cache_dir = os.path.join(self.tmp, "state")
        files = {"storage.config": "span.db 64M\n",
                 "volume.config": "volume=1 scheme=http size=75%\nvolume=2 scheme=http size=25% avg_obj_size=4K\n"}
        s = self.strata(origin=origin, records={"cache.dir": cache_dir}, files=files)
        self.assertRegex(s.log_text(), r"cache volumes: volume 1: 1 stripe\(s\), \d+ MiB, volume 2: 1 stripe\(s\)")
        r = harness.request(s.port, build_request("GET", "/vol?size=100"))
        self.assertEqual(r.status, 200)
        self.assertEqual(s.stop(), 0)
        # Another division of the same span is another geometry: refused,
        # naming the span and the volume, and the objects are not misread.
        files["volume.config"] = "volume=1 scheme=http size=50%\nvolume=2 scheme=http size=50%\n"
        p = self.run_strata_expecting_failure(origin, cache_dir, files)
        self.assertIn("span.db", p)
        self.assertIn("another geometry", p)

    def test_span_volume_must_be_defined_in_volume_config(self):
        files = {"storage.config": "span.db 64M volume=3\n",
                 "volume.config": "volume=1 scheme=http size=100%\n"}
        etc = os.path.join(self.tmp, "etc")
        os.makedirs(etc)
        for name, text in files.items():
            with open(os.path.join(etc, name), "w") as f:
                f.write(text)
        p = subprocess.run([harness.STRATA_BIN, "--check-config", etc], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("storage.config:1: volume=3 is not defined in", p.stdout + p.stderr)

    def run_strata_expecting_failure(self, origin, cache_dir, files):
        etc = os.path.join(self.tmp, "etc2")
        os.makedirs(etc, exist_ok=True)
        for name, text in files.items():
            with open(os.path.join(etc, name), "w") as f:
                f.write(text)
        with open(os.path.join(etc, "records.yaml"), "w") as f:
            # Its own log directory: the default one is the install prefix's.
            f.write(harness.render_records({"cache.dir": cache_dir, "log.dir": os.path.join(self.tmp, "log2")}))
        p = subprocess.run([harness.STRATA_BIN, "--config-dir", etc, "--listen", "127.0.0.1:%d" % harness.free_port(),
                            "--origin", origin.url], capture_output=True, text=True, timeout=30)
        self.assertNotEqual(p.returncode, 0)
        return p.stdout + p.stderr


if __name__ == "__main__":
    harness.main()
