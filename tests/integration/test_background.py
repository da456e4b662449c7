"""Work Strata does behind a response: stale-while-revalidate (RFC 5861 §3)
and the whole-object fill after a Range miss."""

import os
import time

import harness
from harness import body, build_request


class BackgroundTest(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.o = self.origin()
        self.s = self.strata(origin=self.o, args=["--cache", os.path.join(self.tmp, "span.db") + ",64M"])

    def count(self, path):
        return self.o.stats()["by_path"].get(path, 0)

    def wait_count(self, path, n, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.count(path) < n:
            time.sleep(0.05)
        return self.count(path)

    def get(self, target, headers=()):
        return harness.request(self.s.port, build_request("GET", target, headers=list(headers)))

    def test_rfc5861_3_stale_while_revalidate_serves_stale_and_revalidates_in_background(self):
        p = "/bg/swr"
        t = p + "?size=100&etag=%22v1%22&hdr=Cache-Control:max-age=1,stale-while-revalidate=60"
        self.assertEqual(self.get(t).status, 200)
        time.sleep(2.2)  # stale now, within the stale-while-revalidate window
        r = self.get(t)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, body.expected_body(p, 100))
        self.assertIn("hit", r.header("Cache-Status"))  # answered at once, from the cache
        # ... and the origin is asked again behind it, conditionally.
        self.assertEqual(self.wait_count(p, 2), 2)

    def test_rfc9110_14_range_miss_fills_the_whole_object_in_the_background(self):
        p = "/bg/range"
        size = 2000000
        t = p + "?size=%d&hdr=Cache-Control:max-age=600" % size
        r = self.get(t, headers=[("Range", "bytes=10-19")])
        self.assertIn(r.status, (200, 206))
        self.assertEqual(self.wait_count(p, 2), 2)  # the client's request, then the whole-object fill
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            # only-if-cached: a poll that comes before the fill has begun
            # writing is a 504 from Strata, not one more origin request.
            r = self.get(t, headers=[("Range", "bytes=1000000-1000009"), ("Cache-Control", "only-if-cached")])
            if "hit" in (r.header("Cache-Status") or ""):
                break
            time.sleep(0.1)
        self.assertEqual(r.status, 206)
        self.assertIn("hit", r.header("Cache-Status"))
        self.assertEqual(r.body, body.expected_body(p, size)[1000000:1000010])
        self.assertEqual(self.count(p), 2)


if __name__ == "__main__":
    harness.main()
