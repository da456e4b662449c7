"""PURGE behind ip_allow.yaml, and Range requests answered from a complete
cached object (RFC 9110 §14)."""

import os

import harness
from harness import body, build_request

CACHEABLE = "&hdr=Cache-Control:max-age=600"


class PurgeTest(harness.TestCase):
    def start(self, origin, **kw):
        return self.strata(origin=origin, args=["--cache", os.path.join(self.tmp, "span.db") + ",32M"], **kw)

    def test_purge_removes_the_object_and_the_next_request_goes_to_the_origin(self):
        origin = self.origin()
        s = self.start(origin)
        target = "/purge/a?size=2000" + CACHEABLE
        harness.request(s.port, build_request("GET", target))
        self.assertIn("hit", harness.request(s.port, build_request("GET", target)).header("Cache-Status"))
        r = harness.request(s.port, build_request("PURGE", target))
        self.assertEqual(r.status, 200)
        r = harness.request(s.port, build_request("GET", target))
        self.assertIn("fwd=uri-miss", r.header("Cache-Status"))
        self.assertEqual(origin.stats()["by_path"]["/purge/a"], 2)
        # Purging what is not there is a 404.
        self.assertEqual(harness.request(s.port, build_request("PURGE", "/purge/none")).status, 404)

    def test_purge_removes_every_alternate(self):
        origin = self.origin()
        s = self.start(origin)
        target = "/purge/vary?size=100&hdr=Vary:Accept-Language" + CACHEABLE
        for lang in ("en", "fr"):
            for _ in range(2):
                harness.request(s.port, build_request("GET", target, headers=[("Accept-Language", lang)]))
        self.assertEqual(origin.stats()["by_path"]["/purge/vary"], 2)
        self.assertEqual(harness.request(s.port, build_request("PURGE", target)).status, 200)
        for lang in ("en", "fr"):
            r = harness.request(s.port, build_request("GET", target, headers=[("Accept-Language", lang)]))
            self.assertNotIn("hit", r.header("Cache-Status"))
        self.assertEqual(origin.stats()["by_path"]["/purge/vary"], 4)

    def test_purge_is_refused_by_ip_allow(self):
        origin = self.origin()
        ip_allow = ("ip_allow:\n"
                    "  - apply: in\n    ip_addrs: 127.0.0.1\n    action: deny\n    methods: [PURGE]\n")
        s = self.start(origin, files={"ip_allow.yaml": ip_allow})
        target = "/purge/denied?size=10" + CACHEABLE
        harness.request(s.port, build_request("GET", target))
        r = harness.request(s.port, build_request("PURGE", target))
        self.assertEqual(r.status, 403)
        self.assertIn("hit", harness.request(s.port, build_request("GET", target)).header("Cache-Status"))
        self.assertEqual(origin.stats()["by_path"]["/purge/denied"], 1)


class RangeTest(harness.TestCase):
    SIZE = 3000000  # fragmented: ranges cross fragment boundaries

    def setUp(self):
        super().setUp()
        self.o = self.origin()
        self.s = self.strata(origin=self.o, args=["--cache", os.path.join(self.tmp, "span.db") + ",64M"])
        self.target = "/range/obj?size=%d" % self.SIZE + CACHEABLE
        harness.request(self.s.port, build_request("GET", self.target))  # fill
        self.full = body.expected_body("/range/obj", self.SIZE)

    def get(self, *headers):
        return harness.request(self.s.port, build_request("GET", self.target, headers=list(headers)))

    def test_rfc9110_14_2_single_range_is_206_from_cache(self):
        r = self.get(("Range", "bytes=1048500-1048700"))
        self.assertEqual(r.status, 206)
        self.assertEqual(r.header("Content-Range"), "bytes 1048500-1048700/%d" % self.SIZE)
        self.assertEqual(r.body, self.full[1048500:1048701])
        r = self.get(("Range", "bytes=-10"))
        self.assertEqual(r.body, self.full[-10:])
        self.assertEqual(self.o.stats()["by_path"]["/range/obj"], 1)

    def test_rfc9110_14_6_multiple_ranges_are_multipart_byteranges(self):
        r = self.get(("Range", "bytes=0-9,2000000-2000009"))
        self.assertEqual(r.status, 206)
        ctype = r.header("Content-Type")
        self.assertTrue(ctype.startswith("multipart/byteranges; boundary="), ctype)
        boundary = ctype.split("boundary=", 1)[1].encode()
        self.assertEqual(r.body.count(b"--" + boundary), 3)
        self.assertIn(self.full[0:10], r.body)
        self.assertIn(self.full[2000000:2000010], r.body)
        self.assertIn(b"Content-Range: bytes 2000000-2000009/%d" % self.SIZE, r.body)

    def test_rfc9110_15_5_17_unsatisfiable_range_is_416(self):
        r = self.get(("Range", "bytes=%d-" % (self.SIZE + 5)))
        self.assertEqual(r.status, 416)
        self.assertEqual(r.header("Content-Range"), "bytes */%d" % self.SIZE)

    def test_rfc9110_13_1_5_if_range_mismatch_gives_the_whole_object(self):
        r = self.get(("Range", "bytes=0-9"), ("If-Range", '"some-other-etag"'))
        self.assertEqual(r.status, 200)
        self.assertEqual(len(r.body), self.SIZE)

    def test_rfc9110_14_2_invalid_range_is_ignored(self):
        r = self.get(("Range", "bytes=abc"))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, self.full)
        self.assertEqual(r.header("Accept-Ranges"), "bytes")


if __name__ == "__main__":
    harness.main()
