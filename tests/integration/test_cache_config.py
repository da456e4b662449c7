"""cache.config rules (ATS syntax) applied to the cache's decisions."""

import os

import harness
from harness import build_request


class CacheConfigTest(harness.TestCase):
    def start(self, rules):
        self.o = self.origin()
        self.s = self.strata(origin=self.o, args=["--cache", os.path.join(self.tmp, "span.db") + ",32M"],
                             files={"cache.config": rules})

    def get(self, target, headers=()):
        return harness.request(self.s.port, build_request("GET", target, headers=list(headers)))

    def count(self, path):
        return self.o.stats()["by_path"].get(path, 0)

    def test_never_cache_bypasses_the_cache(self):
        self.start("url_regex=/nocache/ action=never-cache\n")
        for _ in range(3):
            r = self.get("/nocache/x?size=10&hdr=Cache-Control:max-age=600")
            self.assertEqual(r.status, 200)
            self.assertIn("fwd=bypass", r.header("Cache-Status"))
        self.assertEqual(self.count("/nocache/x"), 3)
        # Other URLs still cache.
        for _ in range(2):
            self.get("/other?size=10&hdr=Cache-Control:max-age=600")
        self.assertEqual(self.count("/other"), 1)

    def test_ttl_in_cache_forces_a_lifetime(self):
        self.start("dest_domain=127.0.0.1 prefix=ttl/ ttl-in-cache=1h\n")
        for _ in range(3):
            r = self.get("/ttl/a?size=10&hdr=Cache-Control:max-age=0")
            self.assertEqual(r.status, 200)
        self.assertEqual(self.count("/ttl/a"), 1)
        r = self.get("/ttl/a?size=10&hdr=Cache-Control:max-age=0")
        self.assertIn("hit", r.header("Cache-Status"))
        self.assertIsNone(r.header("Strata-Cache-Control"))  # our own field never goes downstream

    def test_ignore_client_no_cache(self):
        self.start("url_regex=/stubborn/ action=ignore-client-no-cache\n")
        self.get("/stubborn/a?size=10&hdr=Cache-Control:max-age=600")
        r = self.get("/stubborn/a?size=10&hdr=Cache-Control:max-age=600", headers=[("Cache-Control", "no-cache")])
        self.assertIn("hit", r.header("Cache-Status"))
        self.assertEqual(self.count("/stubborn/a"), 1)
        # Without the rule, a client no-cache goes to the origin.
        self.get("/plain?size=10&hdr=Cache-Control:max-age=600")
        self.get("/plain?size=10&hdr=Cache-Control:max-age=600", headers=[("Cache-Control", "no-cache")])
        self.assertEqual(self.count("/plain"), 2)

    def test_ignore_server_no_cache(self):
        self.start("url_regex=/srv/ action=ignore-no-cache\n")
        for _ in range(3):
            self.get("/srv/a?size=10&hdr=Cache-Control:no-cache,max-age=600")
        self.assertEqual(self.count("/srv/a"), 1)

    def test_heuristic_freshness_is_configurable(self):
        # RFC 9111 §4.2.2: with Last-Modified 10 days old, the default 10%
        # gives about a day of freshness; cache.heuristic_percent=0 gives none.
        lm = "Last-Modified:Sat,%2001%20Jan%202000%2000:00:00%20GMT"
        for percent, expected_origin_requests in ((10, 1), (0, 2)):
            o = self.origin()
            s = self.strata(origin=o, args=["--cache", os.path.join(self.tmp, "h%d.db" % percent) + ",16M",
                                            "--set", "cache.heuristic_percent=%d" % percent])
            for _ in range(2):
                harness.request(s.port, build_request("GET", "/heur?size=10&hdr=" + lm))
            self.assertEqual(o.stats()["by_path"].get("/heur"), expected_origin_requests, percent)

    def test_bad_cache_config_is_refused_with_its_line(self):
        bad = harness.Strata(self.tmp, origin=self.origin(), files={"cache.config": "# ok\ndest_domain=x action=fly\n"})
        with self.assertRaises(AssertionError) as failed:
            bad.start()
        self.assertIn("cache.config:2:", str(failed.exception))


if __name__ == "__main__":
    harness.main()
