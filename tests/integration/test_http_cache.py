"""HTTP caching through the real daemon (RFC 9111, RFC 9211, RFC 9213,
RFC 5861): storing, freshness, age, request directives, Cache-Status and
persistence. Validation, response directives, Vary, invalidation and the
targeted fields are in test_http_cache_validation.py.

Every test uses its own path and asserts both what the client receives and
how many requests reached the origin (origin /__stats by_path). Freshness is
controlled with Date / Expires / Age / Last-Modified / max-age sent by the
origin (hdr=...), not with long sleeps.
"""

import email.utils
import os
import re
import signal
import time
import urllib.parse

import harness
from harness import ConnectionClosed, body, build_request


def httpdate(offset=0):
    """An IMF-fixdate `offset` seconds from now."""
    return email.utils.formatdate(time.time() + offset, usegmt=True)


def target(path, size=None, hdr=(), **params):
    """path?size=..&hdr=Name:Value..&k=v (percent-encoded for the origin)."""
    query = []
    if size is not None:
        query.append(("size", str(size)))
    query += [("hdr", h) for h in hdr]
    query += [(k, str(v)) for k, v in params.items()]
    if not query:
        return path
    return path + "?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)


def parse_cache_status(value):
    """The last member of a Cache-Status list: (cache name, {param: value})."""
    member = value.split(",")[-1].strip()
    parts = [p.strip() for p in member.split(";")]
    params = {}
    for p in parts[1:]:
        name, sep, v = p.partition("=")
        params[name] = v.strip('"') if sep else True
    return parts[0], params


class CacheTest(harness.TestCase):
    """A started origin and a caching strata for each test (start())."""

    timeout = 15.0

    def start(self, *extra):
        self.o = self.origin()
        self.span = os.path.join(self.tmp, "span.db")
        self.s = self.strata(origin=self.o, args=self.cache_args() + list(extra))
        return self.s

    def cache_args(self):
        return ["--cache", self.span + ",32M"]

    def path(self, suffix=""):
        return "/%s%s" % (self._testMethodName, suffix)

    def get(self, tgt, headers=(), method="GET", data=None):
        return harness.request(self.s.port, build_request(method, tgt, headers=headers, body=data),
                               method=method)

    def get_truncated(self, tgt, headers=()):
        """A GET whose response is expected to end early: the exception."""
        with self.assertRaises(ConnectionClosed) as cm:
            self.get(tgt, headers)
        return cm.exception

    def count(self, path):
        return self.o.stats()["by_path"].get(path, 0)

    def last_request_headers(self, path):
        doc = self.o._control("/__last?path=" + urllib.parse.quote(path))
        return {n.lower(): v for n, v in (doc or {}).get("headers", [])}

    def mode(self, path, **params):
        """Origin /__mode for path: params (hdr= a list) apply to later requests."""
        query = [("path", path)]
        for k, v in params.items():
            for item in (v if isinstance(v, (list, tuple)) else [v]):
                query.append((k, str(item)))
        self.o._control("/__mode?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote))

    def assertResults(self, expected):
        """The access log's cache result codes (TCP_HIT, ...), in any order:
        lines are written when transactions end, by several workers."""
        n = len(expected)
        lines = harness.wait_for(lambda: len(self.s.access_log_lines()) >= n and self.s.access_log_lines(),
                                 timeout=5)
        self.assertTrue(lines, "access.log has %d lines, wanted %d" % (len(self.s.access_log_lines()), n))
        self.assertCountEqual([line.split()[3].split("/")[0] for line in lines], expected, lines)

    def cache_status(self, r):
        self.assertTrue(r.has_header("Cache-Status"), "no Cache-Status in %r" % (r.headers,))
        name, params = parse_cache_status(r.joined("Cache-Status"))
        self.assertEqual(name, "Strata", r.joined("Cache-Status"))
        return params

    def assertHit(self, r):
        cs = self.cache_status(r)
        self.assertIn("hit", cs, "expected a hit, Cache-Status: %s" % r.joined("Cache-Status"))
        self.assertNotIn("fwd", cs, r.joined("Cache-Status"))

    def assertForwarded(self, r, fwd=None, fwd_status=None, stored=None, detail=None):
        cs = self.cache_status(r)
        text = r.joined("Cache-Status")
        self.assertNotIn("hit", cs, "expected a forward, Cache-Status: %s" % text)
        self.assertIn("fwd", cs, text)
        if fwd is not None:
            self.assertEqual(cs["fwd"], fwd, text)
        if fwd_status is not None:
            self.assertEqual(cs.get("fwd-status"), str(fwd_status), text)
        if stored is not None:
            self.assertEqual("stored" in cs, stored, text)
        if detail is not None:
            self.assertEqual(cs.get("detail"), detail, text)

    def assertBody(self, r, path, size):
        self.assertEqual(r.body_length, size)
        self.assertEqual(r.body, body.expected_body(path, size))

    def assertAge(self, r, at_least=0):
        ages = r.header_values("Age")
        self.assertEqual(len(ages), 1, "Age fields: %r" % ages)
        self.assertRegex(ages[0], r"^[0-9]+$")
        self.assertGreaterEqual(int(ages[0]), at_least)
        return int(ages[0])


class StoringTest(CacheTest):
    """RFC 9111 §3: what a shared cache stores."""

    def test_rfc9111_3_max_age_response_is_stored_and_reused(self):
        self.start()
        p = self.path()
        t = target(p, size=1000, hdr=["Cache-Control: max-age=60"])
        r1 = self.get(t)
        self.assertEqual(r1.status, 200)
        self.assertBody(r1, p, 1000)
        self.assertForwarded(r1, fwd="uri-miss", fwd_status=200, stored=True)
        r2 = self.get(t)
        self.assertEqual(r2.status, 200)
        self.assertBody(r2, p, 1000)
        self.assertHit(r2)
        self.assertAge(r2)
        self.assertEqual(r2.header("Cache-Control"), "max-age=60")
        self.assertEqual(self.count(p), 1)
        self.assertResults(["TCP_MISS", "TCP_HIT"])

    def test_rfc9111_5_2_2_5_response_no_store_is_not_stored(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=["Cache-Control: no-store, max-age=60"])
        for _ in range(2):
            r = self.get(t)
            self.assertEqual(r.status, 200)
            self.assertBody(r, p, 100)
            self.assertForwarded(r, fwd="uri-miss", fwd_status=200, stored=False, detail="no-store")
        self.assertEqual(self.count(p), 2)
        self.assertResults(["TCP_MISS", "TCP_MISS"])

    def test_rfc9111_5_2_1_5_request_no_store_is_not_stored(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=["Cache-Control: max-age=60"])
        r1 = self.get(t, headers=[("Cache-Control", "no-store")])
        self.assertEqual(r1.status, 200)
        self.assertBody(r1, p, 100)
        self.assertForwarded(r1, stored=False)
        r2 = self.get(t)  # nothing was stored: this one goes to the origin (and is stored)
        self.assertEqual(r2.status, 200)
        self.assertBody(r2, p, 100)
        self.assertForwarded(r2, fwd="uri-miss", stored=True)
        self.assertEqual(self.count(p), 2)
        r3 = self.get(t)
        self.assertHit(r3)
        self.assertEqual(self.count(p), 2)

    def test_rfc9111_5_2_2_7_private_response_is_not_stored_by_a_shared_cache(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=["Cache-Control: private, max-age=60"])
        for _ in range(2):
            r = self.get(t)
            self.assertEqual(r.status, 200)
            self.assertBody(r, p, 100)
            self.assertForwarded(r, stored=False, detail="private")
        self.assertEqual(self.count(p), 2)

    def test_rfc9111_3_5_response_to_authorization_request_is_not_stored(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=["Cache-Control: max-age=60"])
        auth = [("Authorization", "Basic dXNlcjpwYXNz")]
        for _ in range(2):
            r = self.get(t, headers=auth)
            self.assertEqual(r.status, 200)
            self.assertBody(r, p, 100)
            self.assertForwarded(r, stored=False, detail="authorization")
        r = self.get(t)  # nor is it reused for a request without credentials
        self.assertForwarded(r)
        self.assertEqual(self.count(p), 3)

    def test_rfc9111_3_5_authorization_request_stored_with_public_s_maxage_or_must_revalidate(self):
        self.start()
        auth = [("Authorization", "Basic dXNlcjpwYXNz")]
        for i, cc in enumerate(["public, max-age=60", "s-maxage=60", "must-revalidate, max-age=60"]):
            with self.subTest(cache_control=cc):
                p = self.path("-%d" % i)
                t = target(p, size=100, hdr=["Cache-Control: " + cc])
                r1 = self.get(t, headers=auth)
                self.assertEqual(r1.status, 200)
                self.assertForwarded(r1, stored=True)
                r2 = self.get(t, headers=auth)
                self.assertEqual(r2.status, 200)
                self.assertBody(r2, p, 100)
                self.assertHit(r2)
                self.assertEqual(self.count(p), 1)

    def test_rfc9111_4_2_2_heuristically_cacheable_404_with_last_modified_is_stored(self):
        self.start()
        p = self.path()
        t = target(p, size=50, status=404, hdr=["Date: " + httpdate(), "Last-Modified: " + httpdate(-3600)])
        r1 = self.get(t)
        self.assertEqual(r1.status, 404)
        self.assertBody(r1, p, 50)
        self.assertForwarded(r1, fwd_status=404, stored=True)
        r2 = self.get(t)  # 10% of an hour: fresh for 360 s
        self.assertEqual(r2.status, 404)
        self.assertBody(r2, p, 50)
        self.assertHit(r2)
        self.assertEqual(self.count(p), 1)

    def test_rfc9111_4_2_2_404_without_freshness_or_last_modified_is_not_reused(self):
        self.start()
        p = self.path()
        t = target(p, size=50, status=404)
        for _ in range(2):
            r = self.get(t)
            self.assertEqual(r.status, 404)
            self.assertBody(r, p, 50)
            self.assertForwarded(r, fwd_status=404)
        self.assertEqual(self.count(p), 2)

    def test_rfc9111_3_500_without_explicit_freshness_is_not_stored(self):
        self.start()
        p = self.path()
        # 500 is not heuristically cacheable: even Last-Modified does not help.
        t = target(p, size=50, status=500, hdr=["Last-Modified: " + httpdate(-86400)])
        for _ in range(2):
            r = self.get(t)
            self.assertEqual(r.status, 500)
            self.assertBody(r, p, 50)
            self.assertForwarded(r, fwd_status=500, stored=False)
        self.assertEqual(self.count(p), 2)

    def test_rfc9111_3_post_response_is_not_stored_and_always_forwarded(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=["Cache-Control: max-age=60"])
        for _ in range(2):
            r = self.get(t, method="POST", data=b"form=1")
            self.assertEqual(r.status, 200)
            self.assertBody(r, p, 100)
            self.assertForwarded(r, fwd="method", stored=False)
        r = self.get(t)  # a GET does not find the POST's response either
        self.assertForwarded(r, fwd="uri-miss")
        self.assertEqual(self.o.stats()["by_method"].get("POST"), 2)
        self.assertEqual(self.count(p), 3)

    def test_rfc9111_3_head_miss_does_not_create_an_entry(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=["Cache-Control: max-age=60"])
        r = self.get(t, method="HEAD")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.header("Content-Length"), "100")
        self.assertEqual(self.count(p), 1)
        r = self.get(t)  # not answered from a HEAD response
        self.assertEqual(r.status, 200)
        self.assertBody(r, p, 100)
        self.assertForwarded(r, fwd="uri-miss", stored=True)
        self.assertEqual(self.count(p), 2)

    def test_rfc9111_4_head_on_a_stored_get_is_answered_from_cache_without_body(self):
        self.start()
        p = self.path()
        t = target(p, size=3000, hdr=["Cache-Control: max-age=60"])
        self.assertEqual(self.get(t).status, 200)
        r = self.get(t, method="HEAD")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.header("Content-Length"), "3000")
        self.assertHit(r)
        self.assertEqual(self.count(p), 1)
        self.assertEqual(self.o.stats()["by_method"], {"GET": 1})

    def test_rfc9111_3_response_larger_than_max_object_size_is_streamed_but_not_stored(self):
        self.start("--set", "cache.max_object_size=100K")
        size = 300 * 1024
        for framing in ("length", "chunked"):
            with self.subTest(framing=framing):
                p = self.path("-" + framing)
                extra = {"chunked": 1} if framing == "chunked" else {}
                t = target(p, size=size, hdr=["Cache-Control: max-age=60"], **extra)
                for _ in range(2):
                    r = self.get(t)
                    self.assertEqual(r.status, 200)
                    self.assertBody(r, p, size)
                    self.assertForwarded(r, fwd="uri-miss")
                    if framing == "length":
                        self.assertForwarded(r, stored=False, detail="too-large")
                self.assertEqual(self.count(p), 2)
        # A small object is still stored under the same limit.
        p = self.path("-small")
        t = target(p, size=1000, hdr=["Cache-Control: max-age=60"])
        self.get(t)
        self.assertHit(self.get(t))
        self.assertEqual(self.count(p), 1)

    def test_rfc9111_3_3_incomplete_response_is_not_stored(self):
        self.start()
        p = self.path()
        t = target(p, size=50000, abort_after=20000, hdr=["Cache-Control: max-age=60"])
        self.get_truncated(t)
        self.assertEqual(self.count(p), 1)
        self.get_truncated(t)  # not served from a stored partial body: the origin again
        self.assertEqual(self.count(p), 2)


class FreshnessTest(CacheTest):
    """RFC 9111 §4.2: freshness lifetime and age."""

    def test_rfc9111_5_2_2_10_s_maxage_overrides_max_age(self):
        self.start()
        p1 = self.path("-longer")
        t1 = target(p1, size=10, hdr=["Cache-Control: max-age=0, s-maxage=60"])
        self.assertEqual(self.get(t1).status, 200)
        r = self.get(t1)
        self.assertEqual(r.status, 200)
        self.assertBody(r, p1, 10)
        self.assertHit(r)
        self.assertEqual(self.count(p1), 1)
        p2 = self.path("-shorter")
        t2 = target(p2, size=10, hdr=["Cache-Control: max-age=60, s-maxage=0"])
        self.assertEqual(self.get(t2).status, 200)
        r = self.get(t2)
        self.assertEqual(r.status, 200)
        self.assertBody(r, p2, 10)
        self.assertForwarded(r, fwd="stale")
        self.assertEqual(self.count(p2), 2)

    def test_rfc9111_5_3_expires_after_date_is_fresh(self):
        self.start()
        p = self.path()
        t = target(p, size=10, hdr=["Date: " + httpdate(), "Expires: " + httpdate(120)])
        self.get(t)
        r = self.get(t)
        self.assertEqual(r.status, 200)
        self.assertBody(r, p, 10)
        self.assertHit(r)
        self.assertEqual(self.count(p), 1)

    def test_rfc9111_5_3_expires_in_the_past_is_stale(self):
        self.start()
        p = self.path()
        # Last-Modified would give a day of heuristic freshness; Expires wins.
        t = target(p, size=10, hdr=["Date: " + httpdate(), "Expires: " + httpdate(-3600),
                                    "Last-Modified: " + httpdate(-10 * 86400)])
        self.get(t)
        r = self.get(t)
        self.assertEqual(r.status, 200)
        self.assertBody(r, p, 10)
        self.assertForwarded(r, fwd="stale", fwd_status=200)
        self.assertEqual(self.count(p), 2)

    def test_rfc9111_5_3_expires_zero_means_already_expired(self):
        self.start()
        p = self.path()
        t = target(p, size=10, hdr=["Date: " + httpdate(), "Expires: 0",
                                    "Last-Modified: " + httpdate(-10 * 86400)])
        self.get(t)
        r = self.get(t)
        self.assertEqual(r.status, 200)
        self.assertBody(r, p, 10)
        self.assertForwarded(r)
        self.assertEqual(self.count(p), 2)

    def test_rfc9111_5_3_invalid_expires_means_already_expired(self):
        self.start()
        p = self.path()
        t = target(p, size=10, hdr=["Date: " + httpdate(), "Expires: next tuesday",
                                    "Last-Modified: " + httpdate(-10 * 86400)])
        self.get(t)
        r = self.get(t)
        self.assertEqual(r.status, 200)
        self.assertBody(r, p, 10)
        self.assertForwarded(r)
        self.assertEqual(self.count(p), 2)

    def test_rfc9111_5_3_max_age_overrides_expires(self):
        self.start()
        p = self.path()
        t = target(p, size=10, hdr=["Date: " + httpdate(), "Expires: " + httpdate(-3600),
                                    "Cache-Control: max-age=60"])
        self.get(t)
        r = self.get(t)
        self.assertEqual(r.status, 200)
        self.assertBody(r, p, 10)
        self.assertHit(r)
        self.assertEqual(self.count(p), 1)

    def test_rfc9111_4_2_1_expires_lifetime_is_relative_to_date_not_the_local_clock(self):
        self.start()
        p = self.path()
        # The origin's clock is 1000 s ahead: Expires - Date = 60 s of freshness.
        t = target(p, size=10, hdr=["Date: " + httpdate(1000), "Expires: " + httpdate(1060)])
        self.get(t)
        r = self.get(t)
        self.assertEqual(r.status, 200)
        self.assertBody(r, p, 10)
        self.assertHit(r)
        self.assertLessEqual(int(self.cache_status(r)["ttl"]), 60)
        self.assertEqual(self.count(p), 1)

    def test_rfc9111_4_2_3_date_in_the_past_counts_as_apparent_age(self):
        self.start()
        p = self.path()
        # Generated 1000 s ago by the origin's clock: older than max-age=600.
        t = target(p, size=10, hdr=["Date: " + httpdate(-1000), "Cache-Control: max-age=600"])
        self.get(t)
        r = self.get(t)
        self.assertEqual(r.status, 200)
        self.assertBody(r, p, 10)
        self.assertForwarded(r, fwd="stale")
        self.assertEqual(self.count(p), 2)

    def test_rfc9110_5_3_cache_control_field_lines_are_combined(self):
        self.start()
        p = self.path()
        t = target(p, size=10, hdr=["Cache-Control: max-age=60", "Cache-Control: no-store"])
        for _ in range(2):
            r = self.get(t)
            self.assertEqual(r.status, 200)
            self.assertBody(r, p, 10)
            self.assertForwarded(r, stored=False, detail="no-store")
        self.assertEqual(self.count(p), 2)

    def test_rfc9111_4_2_2_heuristic_freshness_from_last_modified(self):
        self.start()
        p = self.path()
        # 10% of 10 days: one day of freshness.
        t = target(p, size=10, hdr=["Date: " + httpdate(), "Last-Modified: " + httpdate(-10 * 86400)])
        r1 = self.get(t)
        self.assertForwarded(r1, stored=True)
        r2 = self.get(t)
        self.assertEqual(r2.status, 200)
        self.assertBody(r2, p, 10)
        self.assertHit(r2)
        ttl = int(self.cache_status(r2)["ttl"])
        self.assertGreater(ttl, 86400 - 60)
        self.assertLessEqual(ttl, 86400)
        self.assertEqual(self.count(p), 1)

    def test_rfc9111_4_2_3_age_from_origin_counts_toward_current_age(self):
        self.start()
        p_old = self.path("-old")
        t_old = target(p_old, size=10, hdr=["Cache-Control: max-age=60", "Age: 100"])
        self.get(t_old)
        r = self.get(t_old)  # already 100 s old: stale on arrival
        self.assertEqual(r.status, 200)
        self.assertBody(r, p_old, 10)
        self.assertForwarded(r, fwd="stale")
        self.assertEqual(self.count(p_old), 2)
        p_young = self.path("-young")
        t_young = target(p_young, size=10, hdr=["Cache-Control: max-age=60", "Age: 30"])
        self.get(t_young)
        r = self.get(t_young)
        self.assertHit(r)
        self.assertBody(r, p_young, 10)
        self.assertGreaterEqual(self.assertAge(r), 30)
        ttl = int(self.cache_status(r)["ttl"])
        self.assertLessEqual(ttl, 30)
        self.assertEqual(self.count(p_young), 1)

    def test_rfc9111_5_1_age_on_hits_is_one_non_negative_integer(self):
        self.start()
        p = self.path()
        t = target(p, size=10, hdr=["Cache-Control: max-age=600", "Age: 42"])
        r1 = self.get(t)
        self.assertEqual(r1.header_values("Age"), ["42"])  # forwarded as received
        for _ in range(3):
            r = self.get(t)
            self.assertEqual(r.status, 200)
            self.assertBody(r, p, 10)
            self.assertHit(r)
            self.assertGreaterEqual(self.assertAge(r), 42)
        p2 = self.path("-noage")
        t2 = target(p2, size=10, hdr=["Cache-Control: max-age=600"])
        self.get(t2)
        r = self.get(t2)
        self.assertHit(r)
        self.assertAge(r, at_least=0)
        self.assertEqual(self.count(p), 1)
        self.assertEqual(self.count(p2), 1)

    def test_rfc9110_6_6_1_date_present_on_responses_from_an_origin_without_date(self):
        # "A recipient with a clock that receives a response message without
        # a Date header field MUST record the time it was received and append
        # a corresponding Date header field ... if it is cached or forwarded."
        self.start()
        p = self.path()
        t = target(p, size=10, hdr=["Cache-Control: max-age=60"])  # origin.py sends no Date
        before = int(time.time())
        r1 = self.get(t)
        r2 = self.get(t)
        after = int(time.time())
        self.assertBody(r1, p, 10)
        self.assertBody(r2, p, 10)
        self.assertHit(r2)
        self.assertEqual(self.count(p), 1)
        for r in (r1, r2):
            dates = r.header_values("Date")
            self.assertEqual(len(dates), 1, "Date fields in %r" % (r.headers,))
            when = email.utils.parsedate_to_datetime(dates[0]).timestamp()
            self.assertTrue(before - 1 <= when <= after + 1, dates[0])

    def test_rfc9110_6_6_1_origin_date_is_kept_on_hits(self):
        self.start()
        p = self.path()
        date = httpdate()
        t = target(p, size=10, hdr=["Cache-Control: max-age=60", "Date: " + date])
        r1 = self.get(t)
        r2 = self.get(t)
        self.assertHit(r2)
        self.assertBody(r2, p, 10)
        self.assertEqual(r1.header_values("Date"), [date])
        self.assertEqual(r2.header_values("Date"), [date])
        self.assertEqual(self.count(p), 1)


class RequestDirectivesTest(CacheTest):
    """RFC 9111 §5.2.1: request Cache-Control."""

    def test_rfc9111_5_2_1_1_request_max_age_0_forces_validation(self):
        self.start()
        p = self.path()
        t = target(p, size=100, etag='"v1"', hdr=["Cache-Control: max-age=60"])
        self.get(t)
        r = self.get(t, headers=[("Cache-Control", "max-age=0")])
        self.assertEqual(r.status, 200)
        self.assertBody(r, p, 100)
        self.assertForwarded(r, fwd="request", fwd_status=304)
        self.assertEqual(self.last_request_headers(p).get("if-none-match"), '"v1"')
        self.assertEqual(self.count(p), 2)
        r = self.get(t)  # still fresh for a request without directives
        self.assertHit(r)
        self.assertEqual(self.count(p), 2)
        self.assertResults(["TCP_MISS", "TCP_REFRESH_HIT", "TCP_HIT"])

    def test_rfc9111_5_2_1_1_request_max_age_above_current_age_is_a_hit(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=["Cache-Control: max-age=60", "Age: 20"])
        self.get(t)
        r = self.get(t, headers=[("Cache-Control", "max-age=10")])  # age >= 20: too old
        self.assertBody(r, p, 100)
        self.assertForwarded(r, fwd="request")
        self.assertEqual(self.count(p), 2)
        r = self.get(t, headers=[("Cache-Control", "max-age=50")])
        self.assertBody(r, p, 100)
        self.assertHit(r)
        self.assertEqual(self.count(p), 2)

    def test_rfc9111_5_2_1_4_request_no_cache_forces_validation(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=["Cache-Control: max-age=60"])
        self.get(t)
        r = self.get(t, headers=[("Cache-Control", "no-cache")])
        self.assertEqual(r.status, 200)
        self.assertBody(r, p, 100)
        self.assertForwarded(r, fwd="request", fwd_status=200)
        self.assertEqual(self.count(p), 2)
        # Pragma: no-cache without Cache-Control counts too (RFC 9111 §5.4).
        r = self.get(t, headers=[("Pragma", "no-cache")])
        self.assertForwarded(r, fwd="request")
        self.assertEqual(self.count(p), 3)

    def test_rfc9111_5_2_1_3_min_fresh_beyond_remaining_freshness_validates(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=["Cache-Control: max-age=60"])
        self.get(t)
        r = self.get(t, headers=[("Cache-Control", "min-fresh=10")])
        self.assertBody(r, p, 100)
        self.assertHit(r)
        self.assertEqual(self.count(p), 1)
        r = self.get(t, headers=[("Cache-Control", "min-fresh=120")])
        self.assertEqual(r.status, 200)
        self.assertBody(r, p, 100)
        self.assertForwarded(r, fwd="request")
        self.assertEqual(self.count(p), 2)

    def test_rfc9111_5_2_1_2_max_stale_allows_a_stale_response(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=["Cache-Control: max-age=1"])
        self.get(t)
        time.sleep(2.2)  # whole-second ages: current_age >= 2 > 1
        r = self.get(t, headers=[("Cache-Control", "max-stale=100")])
        self.assertEqual(r.status, 200)
        self.assertBody(r, p, 100)
        self.assertHit(r)
        self.assertLess(int(self.cache_status(r)["ttl"]), 0)
        self.assertEqual(self.count(p), 1)
        r = self.get(t, headers=[("Cache-Control", "max-stale=0")])  # no stale allowed
        self.assertForwarded(r, fwd="stale")
        self.assertEqual(self.count(p), 2)

    def test_rfc9111_5_2_1_7_only_if_cached_miss_is_504_without_contacting_origin(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=["Cache-Control: max-age=60"])
        r = self.get(t, headers=[("Cache-Control", "only-if-cached")])
        self.assertEqual(r.status, 504)
        self.assertEqual(self.count(p), 0)
        self.assertEqual(self.o.stats()["requests"], 0)

    def test_rfc9111_5_2_1_7_only_if_cached_on_a_stale_entry_is_504_without_contacting_origin(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=["Cache-Control: max-age=0"])
        self.get(t)
        r = self.get(t, headers=[("Cache-Control", "only-if-cached")])
        self.assertEqual(r.status, 504)
        self.assertEqual(self.count(p), 1)

    def test_rfc9111_5_2_1_7_only_if_cached_on_a_fresh_entry_is_served(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=["Cache-Control: max-age=60"])
        self.get(t)
        r = self.get(t, headers=[("Cache-Control", "only-if-cached")])
        self.assertEqual(r.status, 200)
        self.assertBody(r, p, 100)
        self.assertHit(r)
        self.assertEqual(self.count(p), 1)


class CacheStatusTest(CacheTest):
    """RFC 9211: Cache-Status on hits and forwards."""

    ITEM = re.compile(r'^[A-Za-z*][A-Za-z0-9_.:/%*!#$&\'+^`|~-]*'
                      r'(;\s*[a-z*][a-z0-9_.*-]*(=([A-Za-z0-9_.:/%*!#$&\'+^`|~-]+|"[^"]*"|-?[0-9]+))?)*$')

    def test_rfc9211_cache_status_shapes_on_miss_hit_and_uncacheable(self):
        self.start()
        p = self.path()
        t = target(p, size=10, hdr=["Cache-Control: max-age=60"])
        miss, hit = self.get(t), self.get(t)
        nostore = self.get(target(self.path("-ns"), size=10, hdr=["Cache-Control: no-store"]))
        for r in (miss, hit, nostore):
            self.assertEqual(len(r.header_values("Cache-Status")), 1)
            self.assertRegex(r.header("Cache-Status"), self.ITEM)
        self.assertEqual(miss.header("Cache-Status"), "Strata; fwd=uri-miss; fwd-status=200; stored")
        self.assertRegex(hit.header("Cache-Status"), r"^Strata; hit; ttl=(60|59|58)$")
        self.assertEqual(nostore.header("Cache-Status"), "Strata; fwd=uri-miss; fwd-status=200; detail=no-store")
        self.assertBody(hit, p, 10)
        self.assertEqual(self.count(p), 1)
        self.assertEqual(self.count(self.path("-ns")), 1)
        self.assertResults(["TCP_MISS", "TCP_HIT", "TCP_MISS"])


class PersistenceTest(CacheTest):
    """Stored objects survive a clean stop and restart on the same span."""

    def test_cached_objects_survive_sigterm_and_restart(self):
        self.start()
        small, large = self.path("-small"), self.path("-large")
        ts = target(small, size=500, hdr=["Cache-Control: max-age=600"])
        tl = target(large, size=3 * 1024 * 1024, hdr=["Cache-Control: max-age=600"])
        for t in (ts, tl):
            self.assertForwarded(self.get(t), stored=True)
        self.assertHit(self.get(ts))
        self.assertEqual(self.s.stop(signal.SIGTERM), 0)
        self.s = self.strata(origin=self.o, args=self.cache_args())
        rs, rl = self.get(ts), self.get(tl)
        self.assertEqual(rs.status, 200)
        self.assertBody(rs, small, 500)
        self.assertHit(rs)
        self.assertEqual(rl.status, 200)
        self.assertBody(rl, large, 3 * 1024 * 1024)
        self.assertHit(rl)
        self.assertEqual(self.count(small), 1)
        self.assertEqual(self.count(large), 1)


if __name__ == "__main__":
    harness.main()
