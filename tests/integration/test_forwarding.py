#!/usr/bin/env python3
"""Forwarding: methods, bodies and framing pass through strata unchanged;
Via, X-Forwarded-For, Host and hop-by-hop fields are handled per RFC 9110."""

import hashlib
import os

import harness
from harness import build_request, body


class ForwardingTest(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.o = self.origin()
        self.s = self.strata(origin=self.o)

    def tearDown(self):
        # Whatever a test sent, strata must have sent the origin valid HTTP.
        if self.o.proc is not None:
            self.assertEqual(self.o.stats()["bad_requests"], 0, "origin got a malformed request")

    def get(self, target, **kw):
        return harness.request(self.s.port, build_request("GET", target, **kw))

    def echo(self, method, target="/echo/t?a=1&b=2", **kw):
        r = harness.request(self.s.port, build_request(method, target, **kw))
        self.assertEqual(r.status, 200, r)
        return r, r.json()

    def test_methods_without_body(self):
        for method in ("GET", "DELETE", "OPTIONS"):
            with self.subTest(method=method):
                _, e = self.echo(method)
                self.assertEqual(e["method"], method)
                self.assertEqual(e["target"], "/echo/t?a=1&b=2")
                self.assertEqual(e["version"], "HTTP/1.1")
                self.assertEqual(e["body_length"], 0)

    def test_head_reaches_origin_and_gets_no_body(self):
        with harness.Client(self.s.port) as c:
            r = c.request(build_request("HEAD", "/h?size=5000"))
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body, b"")
            self.assertIn(r.header("Content-Length"), (None, "5000"))
            # The connection is still in step: no body bytes were left behind.
            r = c.request(build_request("GET", "/h?size=5000"))
            self.assertEqual(r.body, body.expected_body("/h", 5000))
        self.assertEqual(self.o.stats()["by_method"].get("HEAD"), 1)

    def test_bodies_with_content_length(self):
        payload = os.urandom(100000)
        for method in ("POST", "PATCH"):
            with self.subTest(method=method):
                _, e = self.echo(method, body=payload,
                                 headers=[("Content-Type", "application/octet-stream")])
                self.assertEqual(e["method"], method)
                self.assertEqual(e["body_length"], len(payload))
                self.assertEqual(e["body_sha256"], hashlib.sha256(payload).hexdigest())

    def test_put_chunked_body(self):
        payload = os.urandom(300001)
        _, e = self.echo("PUT", body=payload, chunked=True, chunk=65536)
        self.assertEqual(e["method"], "PUT")
        self.assertEqual(e["body_length"], len(payload))
        self.assertEqual(e["body_sha256"], hashlib.sha256(payload).hexdigest())

    def test_response_bytes_identical(self):
        with harness.Client(self.s.port) as c:  # one connection: framing must stay in step
            for size in (0, 1, 1024, 1 << 20):
                with self.subTest(size=size):
                    r = c.request(build_request("GET", "/data/f?size=%d" % size))
                    self.assertEqual(r.status, 200)
                    self.assertEqual(r.body, body.expected_body("/data/f", size))
                    if r.framing == "length":
                        self.assertEqual(r.header("Content-Length"), str(size))
                    self.assertEqual(r.header("Content-Type"), "application/octet-stream")

    def test_chunked_response(self):
        with harness.Client(self.s.port) as c:
            for _ in range(2):
                r = c.request(build_request("GET", "/c?size=100000&chunked=1&chunk=1000"))
                self.assertEqual(r.status, 200)
                self.assertEqual(r.body, body.expected_body("/c", 100000))

    def test_close_delimited_response(self):
        r = self.get("/cl?size=50000&close=1")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, body.expected_body("/cl", 50000))

    def test_no_body_statuses(self):
        with harness.Client(self.s.port) as c:
            r = c.request(build_request("GET", "/n?status=204"))
            self.assertEqual((r.status, r.body), (204, b""))
            r = c.request(build_request("GET", "/n?status=304&hdr=ETag:%22v1%22"))
            self.assertEqual((r.status, r.body), (304, b""))
            self.assertEqual(r.header("ETag"), '"v1"')
            r = c.request(build_request("GET", "/n?size=10"))
            self.assertEqual(r.body, body.expected_body("/n", 10))

    def test_via_on_request_and_response(self):
        r, e = self.echo("GET")
        origin_via = ", ".join(v for n, v in e["headers"] if n.lower() == "via")
        self.assertIn("strata", origin_via)
        self.assertIn("strata", r.joined("Via"))
        # An existing Via is kept and strata's entry added after it.
        _, e = self.echo("GET", headers=[("Via", "1.0 downstream")])
        origin_via = ", ".join(v for n, v in e["headers"] if n.lower() == "via")
        self.assertRegex(origin_via, r"^1\.0 downstream, .*strata")

    def test_x_forwarded_for(self):
        _, e = self.echo("GET")
        xff = [v for n, v in e["headers"] if n.lower() == "x-forwarded-for"]
        self.assertEqual(", ".join(xff), "127.0.0.1")
        _, e = self.echo("GET", headers=[("X-Forwarded-For", "10.1.2.3")])
        xff = [v for n, v in e["headers"] if n.lower() == "x-forwarded-for"]
        self.assertEqual(", ".join(xff), "10.1.2.3, 127.0.0.1")

    def test_hop_by_hop_request_fields_not_forwarded(self):
        _, e = self.echo("GET", headers=[
            ("Connection", "keep-alive, X-Secret-Hop"),
            ("Keep-Alive", "timeout=77"),
            ("Proxy-Connection", "keep-alive"),
            ("TE", "trailers, deflate"),
            ("Upgrade", "websocket"),
            ("X-Secret-Hop", "1"),
            ("X-End-To-End", "kept"),
        ])
        names = {n.lower(): v for n, v in e["headers"]}
        for gone in ("keep-alive", "proxy-connection", "upgrade", "x-secret-hop"):
            self.assertNotIn(gone, names, "%s was forwarded" % gone)
        self.assertNotIn("deflate", names.get("te", ""))  # strata may ask for trailers itself
        self.assertNotIn("x-secret-hop", names.get("connection", "").lower())
        self.assertEqual(names.get("x-end-to-end"), "kept")

    def test_hop_by_hop_response_fields_not_forwarded(self):
        r = self.get("/r?size=10&hdr=Connection:X-Origin-Hop&hdr=X-Origin-Hop:1"
                     "&hdr=Keep-Alive:timeout%3D77&hdr=Proxy-Connection:keep-alive"
                     "&hdr=Upgrade:websocket&hdr=X-End-To-End:kept")
        self.assertEqual(r.status, 200)
        self.assertFalse(r.has_header("X-Origin-Hop"))
        self.assertFalse(r.has_header("Proxy-Connection"))
        self.assertFalse(r.has_header("Upgrade"))
        self.assertNotIn("timeout=77", r.joined("Keep-Alive"))
        self.assertNotIn("x-origin-hop", r.tokens("connection"))
        self.assertEqual(r.header("X-End-To-End"), "kept")
        self.assertEqual(r.body, body.expected_body("/r", 10))

    def test_host_rewritten_to_origin(self):
        _, e = self.echo("GET", host="public.example")
        hosts = [v for n, v in e["headers"] if n.lower() == "host"]
        self.assertEqual(hosts, [self.o.host])

    def test_response_trailers_forwarded(self):
        r = self.get("/t?size=20000&chunked=1&trailer=X-Checksum:abc123")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, body.expected_body("/t", 20000))
        self.assertEqual(r.framing, "chunked")
        self.assertIn(("X-Checksum", "abc123"), r.trailers)

    def test_request_trailers_forwarded(self):
        payload = os.urandom(5000)
        _, e = self.echo("PUT", body=payload, chunked=True, chunk=1000,
                         headers=[("Trailer", "X-Digest")], trailers=[("X-Digest", "d1")])
        self.assertEqual(e["body_sha256"], hashlib.sha256(payload).hexdigest())
        self.assertIn(["X-Digest", "d1"], e["trailers"])

    def test_expect_100_continue(self):
        payload = os.urandom(5000)
        head = build_request("POST", "/echo/expect", headers=[("Expect", "100-continue"),
                                                              ("Content-Length", "5000")])
        with harness.Client(self.s.port) as c:
            c.send(head)  # head only: the body waits for 100 Continue
            interim = c.read_response(stop_at_interim=True)
            self.assertEqual(interim.status, 100)
            c.send(payload)
            r = c.read_response("POST")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.json()["body_sha256"], hashlib.sha256(payload).hexdigest())

    def test_interim_103_forwarded(self):
        r = self.get("/early?interim=103&size=10")
        self.assertEqual(r.status, 200)
        self.assertEqual([i.status for i in r.interim], [103])
        self.assertIn("rel=preload", r.interim[0].header("Link", ""))
        self.assertEqual(r.body, body.expected_body("/early", 10))

    def test_http10_client(self):
        for target, path in (("/old?size=3000", "/old"), ("/oldc?size=3000&chunked=1", "/oldc")):
            with self.subTest(target=target):
                r = harness.request(self.s.port, build_request("GET", target, version="HTTP/1.0"))
                self.assertEqual(r.status, 200)
                self.assertNotEqual(r.framing, "chunked", "chunked sent to an HTTP/1.0 client")
                self.assertEqual(r.body, body.expected_body(path, 3000))
                self.assertTrue(r.closed, "connection left open for an HTTP/1.0 client")

    def test_pipelined_requests_answered_in_order(self):
        raw = (build_request("GET", "/p1?size=10") + build_request("GET", "/p2?size=2000&chunked=1")
               + build_request("GET", "/p3?size=5"))
        rs = harness.exchange(self.s.port, raw, count=3)
        self.assertEqual([r.status for r in rs], [200, 200, 200])
        self.assertEqual(rs[0].body, body.expected_body("/p1", 10))
        self.assertEqual(rs[1].body, body.expected_body("/p2", 2000))
        self.assertEqual(rs[2].body, body.expected_body("/p3", 5))
        self.assertEqual(rs[2].extra, b"")


if __name__ == "__main__":
    harness.main()
