#!/usr/bin/env python3
"""Access log: one squid-like line per request in log.dir/access.log,
  timestamp elapsed_ms client result/status bytes method url - hierarchy/origin content-type
flushed at least every second and at shutdown."""

import harness
from harness import build_request

REQUESTS = [  # (method, target, body, status)
    ("GET", "/logged/a?size=1000", None, 200),
    ("POST", "/echo/b", b"hello", 200),
    ("GET", "/logged/c?status=404&size=7", None, 404),
]


class AccessLogTest(harness.TestCase):
    def send_requests(self, s):
        sizes = []
        for method, target, payload, status in REQUESTS:
            r = harness.request(s.port, build_request(method, target, body=payload))
            self.assertEqual(r.status, status)
            sizes.append(r.body_length)
        return sizes

    def check_lines(self, lines, sizes):
        # Worker threads may write their lines in any order: match by URL.
        for req, size in zip(REQUESTS, sizes):
            mine = [line for line in lines if len(line.split()) > 6 and line.split()[6].endswith(req[1])]
            self.assertEqual(len(mine), 1, "no single line for %s in %s" % (req[1], lines))
            self.check_line(mine[0], req, size)

    def check_line(self, line, request, body_size):
        method, target, _, status = request
        f = line.split()
        self.assertGreaterEqual(len(f), 7, line)
        self.assertEqual(f[2], "127.0.0.1", line)
        self.assertTrue(f[3].endswith("/%d" % status), line)
        self.assertTrue(f[4].isdigit() and int(f[4]) >= body_size, line)
        self.assertEqual(f[5], method, line)
        self.assertTrue(f[6].endswith(target), line)

    def test_three_requests_three_lines_after_stop(self):
        o = self.origin()
        s = self.strata(origin=o)
        sizes = self.send_requests(s)
        self.assertEqual(s.stop(), 0)
        lines = s.access_log_lines()
        self.assertEqual(len(lines), 3, lines)
        self.check_lines(lines, sizes)

    def test_log_flushed_while_running(self):
        o = self.origin()
        s = self.strata(origin=o)
        sizes = self.send_requests(s)
        # Flushed at least every second: poll with a generous liveness bound.
        lines = harness.wait_for(lambda: len(s.access_log_lines()) >= 3 and s.access_log_lines(),
                                 timeout=5)
        self.assertTrue(lines, "access.log has %d lines" % len(s.access_log_lines()))
        self.assertEqual(len(lines), 3, lines)
        self.check_lines(lines, sizes)

    def test_disabled(self):
        o = self.origin()
        s = self.strata(origin=o, records={"log.access.enabled": False})
        self.send_requests(s)
        self.assertEqual(s.stop(), 0)
        self.assertEqual(s.access_log_lines(), [])


if __name__ == "__main__":
    harness.main()
