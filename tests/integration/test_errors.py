#!/usr/bin/env python3
"""Errors: origin failures map to 502/504, unmapped hosts to 404, and every
kind of malformed request to 400 and a closed connection."""

import harness
from harness import build_request, body

MALFORMED_KINDS = ("garbage", "close_no_response", "cl_te", "two_cl", "bad_cl", "bad_status",
                   "bad_version", "space_colon", "nul", "obs_fold", "bare_lf", "huge_head",
                   "truncated_head")

BAD_REQUESTS = {
    "cl_and_te": (b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
    "two_content_length": (b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                           b"Content-Length: 5\r\n\r\nhello"),
    "obs_fold": b"GET /x HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n",
    "bare_cr": b"GET /x HTTP/1.1\r\nHost: a\r\nX-A: one\rtwo\r\n\r\n",
    "nul_in_field": b"GET /x HTTP/1.1\r\nHost: a\r\nX-A: one\0two\r\n\r\n",
    "space_before_colon": b"GET /x HTTP/1.1\r\nHost: a\r\nX-A : one\r\n\r\n",
    "invalid_chunk_size": (b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                           b"zz\r\nhello\r\n0\r\n\r\n"),
    "head_over_64k": (b"GET /x HTTP/1.1\r\nHost: a\r\nX-Big: " + b"b" * (70 * 1024)
                      + b"\r\n\r\n"),
    "101_fields": (b"GET /x HTTP/1.1\r\nHost: a\r\n"
                   + b"".join(b"X-F%d: v\r\n" % i for i in range(100)) + b"\r\n"),
    "invalid_request_line": b"GET /x HTTP/1.1 extra\r\nHost: a\r\n\r\n",
    "invalid_version": b"GET /x HTTP/1.x\r\nHost: a\r\n\r\n",
    "space_in_method": b"G ET /x HTTP/1.1\r\nHost: a\r\n\r\n",
}


class OriginErrorTest(harness.TestCase):
    def test_origin_down_is_502(self):
        s = self.strata(origin="http://127.0.0.1:%d" % harness.free_port())
        r = harness.request(s.port, build_request("GET", "/down"))
        self.assertEqual(r.status, 502)

    def test_slow_first_byte_is_504(self):
        o = self.origin()
        s = self.strata(origin=o, records={"timeouts.origin_first_byte": "1s"})
        r = harness.request(s.port, build_request("GET", "/slow?delay_ms=8000&size=10"))
        self.assertEqual(r.status, 504)
        # Strata stays usable afterwards.
        r = harness.request(s.port, build_request("GET", "/fast?size=10"))
        self.assertEqual(r.body, body.expected_body("/fast", 10))

    def test_malformed_origin_response_is_502(self):
        o = self.origin()
        s = self.strata(origin=o)
        for kind in MALFORMED_KINDS:
            with self.subTest(kind=kind):
                r = harness.request(s.port, build_request("GET", "/malformed?kind=" + kind))
                self.assertEqual(r.status, 502)
        r = harness.request(s.port, build_request("GET", "/after?size=10"))
        self.assertEqual(r.body, body.expected_body("/after", 10))

    def test_malformed_origin_body_after_head_aborts_client(self):
        # The head was valid, so strata may already have sent it on; the
        # client must then not get a complete-looking response.
        o = self.origin()
        s = self.strata(origin=o)
        with harness.Client(s.port) as c:
            c.send(build_request("GET", "/malformed?kind=bad_chunk"))
            try:
                r = c.read_response()
            except (harness.ConnectionClosed, harness.ProtocolError):
                return
            self.assertEqual(r.status, 502)

    def test_truncated_origin_body_aborts_client(self):
        o = self.origin()
        s = self.strata(origin=o)
        for target in ("/short?size=100000&abort_after=30000",
                       "/shortc?size=100000&chunked=1&abort_after=30000"):
            with self.subTest(target=target), harness.Client(s.port) as c:
                c.send(build_request("GET", target))
                with self.assertRaises(harness.ConnectionClosed):
                    c.read_response()


class UnmappedHostTest(harness.TestCase):
    def test_unmapped_host_is_404(self):
        o = self.origin()
        s = self.strata(remap="map http://mapped.example/ %s/\n" % o.url)
        r = harness.request(s.port, build_request("GET", "/x?size=10", host="mapped.example"))
        self.assertEqual(r.status, 200)
        r = harness.request(s.port, build_request("GET", "/x?size=10", host="other.example"))
        self.assertEqual(r.status, 404)
        self.assertLess(len(r.body), 4096)
        self.assertEqual(o.stats()["requests"], 1)


class BadRequestTest(harness.TestCase):
    def test_bad_requests_are_400_and_close(self):
        o = self.origin()
        s = self.strata(origin=o)
        for name, raw in BAD_REQUESTS.items():
            with self.subTest(case=name):
                with harness.Client(s.port) as c:
                    c.send_tolerant(raw)
                    r = c.read_response()
                    self.assertEqual(r.status, 400)
                    self.assertTrue(c.wait_closed(5), "connection not closed after 400")
                # A new connection still works.
                r = harness.request(s.port, build_request("GET", "/ok?size=5"))
                self.assertEqual(r.body, body.expected_body("/ok", 5))
        self.assertEqual(o.stats()["bad_requests"], 0)


if __name__ == "__main__":
    harness.main()
