#!/usr/bin/env python3
"""Streaming: a 100 MB response to a slow client and a 100 MB chunked upload
to a slow origin pass through with strata's memory bounded (back-pressure,
not buffering) and the bytes exact."""

import hashlib
import time

import harness
from harness import build_request, body

SIZE = 100 * 1024 * 1024
RSS_GROWTH_LIMIT_KB = 64 * 1024


class Pace:
    """on_recv hook: keeps a reader at about `rate` bytes/s, switching to
    small reads at `slow_rate` for the first `slow_bytes`."""

    def __init__(self, client, rate, slow_bytes, slow_rate):
        self.client, self.rate, self.slow_bytes, self.slow_rate = client, rate, slow_bytes, slow_rate
        self.done = 0
        self.start = time.monotonic()
        client.recv_size = 4096

    def __call__(self, n):
        self.done += n
        if self.done < self.slow_bytes:
            due = self.done / self.slow_rate
        else:
            self.client.recv_size = 64 * 1024
            due = self.slow_bytes / self.slow_rate + (self.done - self.slow_bytes) / self.rate
        ahead = due - (time.monotonic() - self.start)
        if ahead > 0:
            time.sleep(ahead)


class StreamingTest(harness.TestCase):
    timeout = 30.0

    def setUp(self):
        super().setUp()
        self.o = self.origin()
        self.s = self.strata(origin=self.o)
        # Warm up (threads, pools, first buffers) before measuring idle RSS.
        for i in range(3):
            r = harness.request(self.s.port, build_request("GET", "/warm?size=1048576"))
            self.assertEqual(r.status, 200)
        self.idle_kb = self.s.rss_kb()
        self.assertGreater(self.idle_kb, 0)

    def assert_rss_bounded(self, sampler):
        growth = sampler.peak_kb - self.idle_kb
        self.assertLess(growth, RSS_GROWTH_LIMIT_KB,
                        "RSS grew by %d KiB (idle %d KiB, peak %d KiB)"
                        % (growth, self.idle_kb, sampler.peak_kb))

    def test_large_response_to_slow_client(self):
        h = hashlib.sha256()
        with harness.RssSampler(self.s) as sampler, \
                harness.Client(self.s.port, timeout=15, rcvbuf=64 * 1024) as c:
            c.on_recv = Pace(c, rate=20e6, slow_bytes=4 << 20, slow_rate=4e6)
            c.send(build_request("GET", "/big?size=%d" % SIZE))
            r = c.read_response(sink=h.update)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body_length, SIZE)
        self.assertEqual(h.hexdigest(), body.expected_sha256("/big", SIZE))
        self.assert_rss_bounded(sampler)

    def test_large_chunked_upload_to_slow_origin(self):
        piece = 256 * 1024
        with harness.RssSampler(self.s) as sampler, \
                harness.Client(self.s.port, timeout=15) as c:
            c.send(build_request("PUT", "/echo/up?read_rate=25000000",
                                 headers=[("Transfer-Encoding", "chunked")]))
            for part in body.iter_body("/upload", SIZE, piece):
                c.send(b"%x\r\n" % len(part) + part + b"\r\n")
            c.send(b"0\r\n\r\n")
            r = c.read_response("PUT")
        self.assertEqual(r.status, 200)
        e = r.json()
        self.assertEqual(e["body_length"], SIZE)
        self.assertEqual(e["body_sha256"], body.expected_sha256("/upload", SIZE))
        self.assert_rss_bounded(sampler)


if __name__ == "__main__":
    harness.main()
