"""Collapsed forwarding (issue: HTTP caching): concurrent misses for one key
make one origin request; the others follow the fill as it is written."""

import hashlib
import os
import threading
import time

import harness
from harness import body, build_request


class CollapsedForwardingTest(harness.TestCase):
    def start(self, origin, **kw):
        span = os.path.join(self.tmp, "span.db")
        return self.strata(origin=origin, args=["--cache", span + ",64M"], **kw)

    def fetch_all(self, port, target, clients):
        results = [None] * clients

        def fetch(i):
            try:
                with harness.Client(port, timeout=60) as c:
                    r = c.request(build_request("GET", target))
                    results[i] = (r.status, hashlib.sha256(r.body).hexdigest(), len(r.body),
                                  r.header("Cache-Status") or "")
            except Exception as e:  # noqa: BLE001 - recorded and asserted below
                results[i] = ("error", repr(e), 0, "")

        threads = [threading.Thread(target=fetch, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        return results

    def test_100_concurrent_requests_for_a_slow_10mb_object_make_one_origin_request(self):
        origin = self.origin()
        s = self.start(origin, records={"server.threads": 2})
        size = 10 * 1000 * 1000
        target = "/cf/slow.bin?size=%d&rate=10000000&hdr=Cache-Control:max-age=600" % size
        results = self.fetch_all(s.port, target, 100)
        expected = body.expected_sha256("/cf/slow.bin", size)
        for status, digest, length, _ in results:
            self.assertEqual(status, 200, digest)
            self.assertEqual(length, size)
            self.assertEqual(digest, expected)
        self.assertEqual(origin.stats()["by_path"].get("/cf/slow.bin"), 1)
        collapsed = sum(1 for r in results if "collapsed" in r[3])
        self.assertGreater(collapsed, 0)
        # And it was stored: one more request is a hit.
        r = harness.request(s.port, build_request("GET", target))
        self.assertIn("hit", r.header("Cache-Status"))
        self.assertEqual(origin.stats()["by_path"].get("/cf/slow.bin"), 1)

    def test_followers_get_a_clean_error_when_the_origin_fails_midway(self):
        origin = self.origin()
        s = self.start(origin)
        size = 4 * 1000 * 1000
        target = "/cf/broken.bin?size=%d&rate=4000000&abort_after=2000000&hdr=Cache-Control:max-age=600" % size
        results = self.fetch_all(s.port, target, 10)
        for status, digest, length, _ in results:
            # Every client sees failure (a truncated body or a dropped
            # connection), never a complete-looking 200.
            self.assertFalse(status == 200 and length == size, (status, length))
        self.assertEqual(origin.stats()["by_path"].get("/cf/broken.bin"), 1)

    def test_uncacheable_response_releases_followers_to_the_origin(self):
        origin = self.origin()
        s = self.start(origin)
        target = "/cf/private.bin?size=100000&delay_ms=300&hdr=Cache-Control:no-store"
        results = self.fetch_all(s.port, target, 5)
        for status, digest, length, _ in results:
            self.assertEqual(status, 200)
            self.assertEqual(length, 100000)
            self.assertEqual(digest, body.expected_sha256("/cf/private.bin", 100000))
        # Each follower fetched for itself once the writer declined.
        self.assertEqual(origin.stats()["by_path"].get("/cf/private.bin"), 5)

    def test_fill_goes_on_when_its_client_leaves(self):
        origin = self.origin()
        s = self.start(origin)
        size = 4 * 1000 * 1000
        path = "/cf/leaver.bin"
        target = path + "?size=%d&rate=4000000&hdr=Cache-Control:max-age=600" % size
        # The first client starts the fill, reads a little, and goes away.
        leaver = harness.Client(s.port, timeout=10)
        leaver.sock.sendall(build_request("GET", target))
        leaver.sock.recv(65536)
        # A second client follows the fill while it is written.
        follower = threading.Thread(target=lambda: self.follower_result.append(
            self.fetch_all(s.port, target, 1)[0]))
        self.follower_result = []
        follower.start()
        time.sleep(0.2)
        leaver.sock.close()
        follower.join(30)
        status, digest, length, _ = self.follower_result[0]
        self.assertEqual((status, length), (200, size))
        self.assertEqual(digest, body.expected_sha256(path, size))
        # The fill completed without its client: the object is stored.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            r = harness.request(s.port, build_request("GET", target))
            if "hit" in (r.header("Cache-Status") or ""):
                break
            time.sleep(0.1)
        self.assertIn("hit", r.header("Cache-Status"))
        self.assertEqual(r.body, body.expected_body(path, size))
        self.assertEqual(origin.stats()["by_path"].get(path), 1)


if __name__ == "__main__":
    harness.main()
