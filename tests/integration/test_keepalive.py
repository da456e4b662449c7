#!/usr/bin/env python3
"""Keep-alive: a client connection carries many requests, and strata reuses
its connections to the origin instead of opening one per request."""

import harness
from harness import build_request, body


class KeepAliveTest(harness.TestCase):
    def test_client_connection_carries_20_requests(self):
        o = self.origin()
        s = self.strata(origin=o)
        with harness.Client(s.port) as c:
            for i in range(20):
                path = "/ka/%d" % i
                r = c.request(build_request("GET", "%s?size=%d" % (path, 100 + i)))
                self.assertEqual(r.status, 200, "request %d" % i)
                self.assertEqual(r.body, body.expected_body(path, 100 + i))
                self.assertFalse(r.says_close(), "strata asked to close after request %d" % i)
        self.assertEqual(o.stats()["requests"], 20)

    def test_origin_connections_reused(self):
        o = self.origin()
        s = self.strata(origin=o, records={"server.threads": 1})
        for i in range(20):  # a new client connection each time: reuse is strata's doing
            r = harness.request(s.port, build_request("GET", "/reuse?size=1000"))
            self.assertEqual(r.status, 200, "request %d" % i)
            self.assertEqual(r.body, body.expected_body("/reuse", 1000))
        st = o.stats()
        self.assertEqual(st["requests"], 20)
        self.assertLessEqual(st["connections"], 2, st)

    def test_origin_close_is_not_reused(self):
        # The origin says "Connection: close" each time: strata must not send
        # the next request on that dead connection (every request succeeds).
        o = self.origin()
        s = self.strata(origin=o, records={"server.threads": 1})
        with harness.Client(s.port) as c:
            for i in range(5):
                r = c.request(build_request("GET", "/once?size=10&keepalive=0"))
                self.assertEqual(r.status, 200, "request %d" % i)
                self.assertEqual(r.body, body.expected_body("/once", 10))
        self.assertEqual(o.stats()["connections"], 5)


if __name__ == "__main__":
    harness.main()
