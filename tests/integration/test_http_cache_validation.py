"""HTTP caching through the real daemon, continued: response directives
(RFC 9111 §5.2.2, RFC 5861 stale-if-error), validation (§4.3, RFC 9110
§13), Vary (§4.1), invalidation (§4.4) and targeted Cache-Control (RFC 9213).

The origin's etag= / lm= parameters answer conditional requests with 304, and
its /__mode control changes what a path answers from one request to the next
(a new header in a 304, a 500, ...). See tests/origin/origin.py.
"""

import json
import time

import harness
from harness import body
from test_http_cache import CacheTest, httpdate, target


class ResponseDirectivesTest(CacheTest):
    """RFC 9111 §5.2.2 and RFC 5861."""

    def test_rfc9111_5_2_2_4_no_cache_response_is_stored_but_every_reuse_validates(self):
        self.start()
        p = self.path()
        t = target(p, size=200, etag='"nc1"', hdr=["Cache-Control: no-cache, max-age=600"])
        r1 = self.get(t)
        self.assertEqual(r1.status, 200)
        self.assertBody(r1, p, 200)
        self.assertForwarded(r1, fwd="uri-miss", stored=True)
        for i in range(2):
            r = self.get(t)
            self.assertEqual(r.status, 200)
            self.assertBody(r, p, 200)
            self.assertForwarded(r, fwd_status=304)
            self.assertEqual(self.last_request_headers(p).get("if-none-match"), '"nc1"')
            self.assertEqual(self.count(p), 2 + i)
        self.assertResults(["TCP_MISS", "TCP_REFRESH_HIT", "TCP_REFRESH_HIT"])

    def test_rfc9111_5_2_2_2_must_revalidate_stale_not_served_when_origin_answers_500(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=["Cache-Control: max-age=0, must-revalidate"])
        self.assertEqual(self.get(t).status, 200)
        self.mode(p, status=500)
        r = self.get(t)
        self.assertEqual(r.status, 500)  # the origin's error, not the stale 200
        self.assertForwarded(r, fwd="stale", fwd_status=500)
        self.assertEqual(self.count(p), 2)

    def test_rfc9111_5_2_2_2_must_revalidate_stale_not_served_when_origin_is_down(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=["Cache-Control: max-age=0, must-revalidate"])
        self.assertEqual(self.get(t).status, 200)
        self.assertEqual(self.count(p), 1)
        self.o.stop()
        r = self.get(t)
        self.assertIn(r.status, (502, 504))
        self.assertNotEqual(r.body, body.expected_body(p, 100))

    def test_rfc5861_4_stale_if_error_serves_stale_when_origin_answers_500(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=["Cache-Control: max-age=0, stale-if-error=60"])
        self.assertEqual(self.get(t).status, 200)
        self.mode(p, status=500)
        r = self.get(t)
        self.assertEqual(r.status, 200)
        self.assertBody(r, p, 100)
        self.assertForwarded(r, fwd="stale", fwd_status=500)
        self.assertEqual(self.count(p), 2)
        self.assertResults(["TCP_MISS", "TCP_REFRESH_FAIL_HIT"])

    def test_rfc5861_4_stale_if_error_serves_stale_when_origin_is_down(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=["Cache-Control: max-age=0, stale-if-error=60"])
        self.assertEqual(self.get(t).status, 200)
        self.assertEqual(self.count(p), 1)
        self.o.stop()
        r = self.get(t)
        self.assertEqual(r.status, 200)
        self.assertBody(r, p, 100)
        self.assertForwarded(r, fwd="stale")

    def test_rfc5861_4_stale_if_error_does_not_cover_a_404(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=["Cache-Control: max-age=0, stale-if-error=60"])
        self.get(t)
        self.mode(p, status=404)
        r = self.get(t)
        self.assertEqual(r.status, 404)
        self.assertForwarded(r, fwd="stale", fwd_status=404)
        self.assertEqual(self.count(p), 2)


    def test_rfc9111_5_2_2_4_and_5_2_2_7_qualified_no_cache_and_private_fields_are_not_stored(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=['Cache-Control: max-age=60, no-cache="X-Secret", private="X-Mine"',
                                     "X-Secret: s", "X-Mine: m", "X-Public: p"])
        r1 = self.get(t)
        self.assertEqual(r1.header("X-Secret"), "s")  # the origin's response itself is forwarded whole
        r2 = self.get(t)
        self.assertEqual(r2.status, 200)
        self.assertBody(r2, p, 100)
        self.assertHit(r2)
        self.assertEqual(r2.header("X-Public"), "p")
        self.assertFalse(r2.has_header("X-Secret"), r2.headers)
        self.assertFalse(r2.has_header("X-Mine"), r2.headers)
        self.assertEqual(self.count(p), 1)

    def test_rfc9111_4_2_4_s_maxage_and_must_revalidate_forbid_stale_even_with_max_stale(self):
        self.start()
        paths = [self.path("-smaxage"), self.path("-mustrev"), self.path("-plain")]
        ccs = ["s-maxage=1", "max-age=1, must-revalidate", "max-age=1"]
        targets = [target(p, size=100, hdr=["Cache-Control: " + cc]) for p, cc in zip(paths, ccs)]
        for t in targets:
            self.get(t)
        time.sleep(2.2)  # whole-second ages: current_age >= 2 > 1
        for p, t in zip(paths[:2], targets[:2]):
            r = self.get(t, headers=[("Cache-Control", "max-stale=100")])
            self.assertEqual(r.status, 200)
            self.assertBody(r, p, 100)
            self.assertForwarded(r, fwd="stale")
            self.assertEqual(self.count(p), 2)
        r = self.get(targets[2], headers=[("Cache-Control", "max-stale=100")])  # the control
        self.assertHit(r)
        self.assertEqual(self.count(paths[2]), 1)

    def test_rfc5861_4_stale_if_error_window_past_is_not_served(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=["Cache-Control: max-age=0, stale-if-error=1"])
        self.get(t)
        time.sleep(2.2)
        self.mode(p, status=500)
        r = self.get(t)
        self.assertEqual(r.status, 500)
        self.assertForwarded(r, fwd_status=500)
        self.assertEqual(self.count(p), 2)


class ValidationTest(CacheTest):
    """RFC 9111 §4.3 and RFC 9110 §13."""

    def test_rfc9111_4_3_4_stale_with_etag_revalidated_by_304_serves_stored_body_and_updates_headers(self):
        self.start()
        p = self.path()
        t = target(p, size=5000, etag='"v1"', hdr=["Cache-Control: max-age=0", "X-Version: 1"])
        r1 = self.get(t)
        self.assertEqual(r1.header("X-Version"), "1")
        # From now on the origin's 304 carries new metadata.
        self.mode(p, hdr=["Cache-Control: max-age=600", "X-Version: 2"])
        r2 = self.get(t)
        self.assertEqual(r2.status, 200)
        self.assertBody(r2, p, 5000)
        self.assertForwarded(r2, fwd="stale", fwd_status=304)
        self.assertEqual(self.last_request_headers(p).get("if-none-match"), '"v1"')
        self.assertEqual(r2.header_values("X-Version"), ["2"])  # §4.3.4: served from the updated response
        self.assertEqual(r2.header("ETag"), '"v1"')
        self.assertEqual(self.count(p), 2)
        r3 = self.get(t)  # now fresh for 600 s with the updated fields
        self.assertEqual(r3.status, 200)
        self.assertBody(r3, p, 5000)
        self.assertHit(r3)
        self.assertEqual(r3.header_values("X-Version"), ["2"])
        self.assertEqual(r3.header_values("Cache-Control"), ["max-age=600"])
        self.assertEqual(self.count(p), 2)
        self.assertResults(["TCP_MISS", "TCP_REFRESH_HIT", "TCP_HIT"])

    def test_rfc9111_4_3_1_stale_with_last_modified_sends_if_modified_since(self):
        self.start()
        p = self.path()
        lm = httpdate(-7200)
        t = target(p, size=300, lm=lm, hdr=["Cache-Control: max-age=0"])
        self.get(t)
        r = self.get(t)
        self.assertEqual(r.status, 200)
        self.assertBody(r, p, 300)
        self.assertForwarded(r, fwd="stale", fwd_status=304)
        self.assertEqual(self.last_request_headers(p).get("if-modified-since"), lm)
        self.assertEqual(self.count(p), 2)

    def test_rfc9111_4_3_3_stale_revalidation_answered_200_replaces_the_stored_response(self):
        self.start()
        p = self.path()
        t = target(p, size=100, etag='"old"', hdr=["Cache-Control: max-age=0"])
        self.get(t)
        self.mode(p, etag='"new"', size=150, hdr=["Cache-Control: max-age=600"])
        r = self.get(t)
        self.assertEqual(r.status, 200)
        self.assertBody(r, p, 150)
        self.assertEqual(r.header("ETag"), '"new"')
        self.assertForwarded(r, fwd="stale", fwd_status=200, stored=True)
        r = self.get(t)
        self.assertHit(r)
        self.assertBody(r, p, 150)
        self.assertEqual(r.header("ETag"), '"new"')
        self.assertEqual(self.count(p), 2)

    def test_rfc9111_4_3_2_if_none_match_matching_a_fresh_stored_etag_gets_304_from_cache(self):
        self.start()
        p = self.path()
        t = target(p, size=100, etag='"abc"', hdr=["Cache-Control: max-age=600"])
        self.get(t)
        r = self.get(t, headers=[("If-None-Match", '"abc"')])
        self.assertEqual(r.status, 304)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.header("ETag"), '"abc"')
        self.assertHit(r)
        r = self.get(t, headers=[("If-None-Match", '"zzz", "abc"')])
        self.assertEqual(r.status, 304)
        r = self.get(t, headers=[("If-None-Match", '"other"')])
        self.assertEqual(r.status, 200)
        self.assertBody(r, p, 100)
        self.assertHit(r)
        self.assertEqual(self.count(p), 1)

    def test_rfc9111_4_3_2_if_modified_since_not_before_last_modified_gets_304_from_cache(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=["Cache-Control: max-age=600", "Last-Modified: " + httpdate(-3600)])
        self.get(t)
        r = self.get(t, headers=[("If-Modified-Since", httpdate(-60))])
        self.assertEqual(r.status, 304)
        self.assertEqual(r.body, b"")
        self.assertHit(r)
        r = self.get(t, headers=[("If-Modified-Since", httpdate(-7200))])  # modified since then
        self.assertEqual(r.status, 200)
        self.assertBody(r, p, 100)
        self.assertHit(r)
        self.assertEqual(self.count(p), 1)

    def test_rfc9110_13_1_2_if_none_match_uses_weak_comparison(self):
        self.start()
        cases = [('W/"w1"', '"w1"'), ('"s1"', 'W/"s1"'), ('W/"w2"', 'W/"w2"')]
        for i, (stored, sent) in enumerate(cases):
            with self.subTest(stored=stored, sent=sent):
                p = self.path("-%d" % i)
                t = target(p, size=100, etag=stored, hdr=["Cache-Control: max-age=600"])
                self.get(t)
                r = self.get(t, headers=[("If-None-Match", sent)])
                self.assertEqual(r.status, 304)
                self.assertEqual(r.body, b"")
                self.assertHit(r)
                self.assertEqual(self.count(p), 1)

    def test_rfc9110_13_1_1_if_none_match_star_gets_304_from_cache(self):
        self.start()
        p = self.path()
        t = target(p, size=100, etag='"x"', hdr=["Cache-Control: max-age=600"])
        self.get(t)
        r = self.get(t, headers=[("If-None-Match", "*")])
        self.assertEqual(r.status, 304)
        self.assertEqual(self.count(p), 1)


    def test_rfc9111_4_3_4_304_with_a_different_strong_etag_does_not_update_the_stored_response(self):
        # "If none of the stored responses contain the same strong validator,
        # then the cache MUST NOT use the new response to update any stored
        # responses." Here the origin's 304 names "v9"; the stored body is "v1".
        self.start()
        p = self.path()
        t = target(p, size=100, etag='"v1"', hdr=["Cache-Control: max-age=0"])
        self.get(t)
        self.mode(p, status=304, etag='"v9"', hdr=["Cache-Control: max-age=600"])
        stored_body = body.expected_body(p, 100)
        for _ in range(2):
            r = self.get(t)
            mislabeled = r.status == 200 and r.header("ETag") == '"v9"' and r.body == stored_body
            self.assertFalse(mislabeled, "the v1 body was served as ETag \"v9\": %r" % (r.headers,))
        # Nothing fresh was made from the 304: each request revalidated, got a
        # 304 that selects nothing stored, and asked once more without
        # validators (Strata's choice; this origin answers 304 regardless).
        self.assertEqual(self.count(p), 5)

    def test_rfc9111_4_3_2_stale_entry_validated_for_a_matching_conditional_client_gets_304(self):
        self.start()
        p = self.path()
        t = target(p, size=100, etag='"v1"', hdr=["Cache-Control: max-age=0"])
        self.get(t)
        r = self.get(t, headers=[("If-None-Match", '"v1"')])
        self.assertEqual(r.status, 304)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.header("ETag"), '"v1"')
        self.assertForwarded(r, fwd="stale", fwd_status=304)
        self.assertEqual(self.last_request_headers(p).get("if-none-match"), '"v1"')
        self.assertEqual(self.count(p), 2)

    def test_rfc9110_13_2_2_if_none_match_takes_precedence_over_if_modified_since(self):
        self.start()
        p = self.path()
        t = target(p, size=100, etag='"cur"', hdr=["Cache-Control: max-age=600", "Last-Modified: " + httpdate(-3600)])
        self.get(t)
        # IMS alone would give 304; a non-matching If-None-Match means 200.
        r = self.get(t, headers=[("If-None-Match", '"old"'), ("If-Modified-Since", httpdate())])
        self.assertEqual(r.status, 200)
        self.assertBody(r, p, 100)
        self.assertHit(r)
        self.assertEqual(self.count(p), 1)


class VaryTest(CacheTest):
    """RFC 9111 §4.1: selecting an alternate with Vary."""

    def test_rfc9111_4_1_vary_accept_language_alternates_are_cached_separately(self):
        self.start()
        p = self.path("/echo")  # the echo body names the request's Accept-Language
        t = target(p, hdr=["Cache-Control: max-age=600", "Vary: Accept-Language"])

        def lang_of(r):
            return {n.lower(): v for n, v in json.loads(r.body)["headers"]}.get("accept-language")

        first = {}
        for n, lang in enumerate(["en", "fr"]):
            r = self.get(t, headers=[("Accept-Language", lang)])
            self.assertEqual(r.status, 200)
            self.assertEqual(lang_of(r), lang)
            self.assertForwarded(r, stored=True)
            first[lang] = r.body
            self.assertEqual(self.count(p), n + 1)
        for lang in ["en", "fr", "en", "fr"]:
            r = self.get(t, headers=[("Accept-Language", lang)])
            self.assertEqual(r.status, 200)
            self.assertHit(r)
            self.assertEqual(lang_of(r), lang)
            self.assertEqual(r.body, first[lang])
        self.assertEqual(self.count(p), 2)
        r = self.get(t, headers=[("Accept-Language", "de")])  # no alternate for it
        self.assertForwarded(r)
        self.assertEqual(lang_of(r), "de")
        r = self.get(t)  # absent differs from every value
        self.assertForwarded(r)
        self.assertIsNone(lang_of(r))
        self.assertEqual(self.count(p), 4)

    def test_rfc9111_4_1_vary_star_is_never_served_from_cache(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=["Cache-Control: max-age=600", "Vary: *"])
        for n in range(3):
            r = self.get(t)
            self.assertEqual(r.status, 200)
            self.assertBody(r, p, 100)
            self.assertForwarded(r)
            self.assertEqual(self.count(p), n + 1)

    def test_rfc9111_4_1_accept_encoding_variants_that_normalize_alike_share_an_alternate(self):
        self.start()
        p = self.path("/echo")
        t = target(p, hdr=["Cache-Control: max-age=600", "Vary: Accept-Encoding"])
        r1 = self.get(t, headers=[("Accept-Encoding", "gzip, deflate")])
        self.assertEqual(r1.status, 200)
        self.assertForwarded(r1, stored=True)
        # The origin saw the normalized value the key was made from.
        seen = {n.lower(): v for n, v in json.loads(r1.body)["headers"]}
        self.assertEqual(seen.get("accept-encoding"), "gzip")
        for ae in ["gzip", "deflate, gzip", "gzip;q=1.0"]:
            r = self.get(t, headers=[("Accept-Encoding", ae)])
            self.assertEqual(r.status, 200)
            self.assertHit(r)
            self.assertEqual(r.body, r1.body)
        self.assertEqual(self.count(p), 1)
        r = self.get(t, headers=[("Accept-Encoding", "br")])  # another coding: another alternate
        self.assertForwarded(r)
        self.assertEqual(self.count(p), 2)


class InvalidationTest(CacheTest):
    """RFC 9111 §4.4: unsafe methods invalidate."""

    def store(self, t, p):
        self.assertForwarded(self.get(t), stored=True)
        self.assertHit(self.get(t))
        self.assertEqual(self.count(p), 1)

    def test_rfc9111_4_4_successful_post_invalidates_the_stored_get(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=["Cache-Control: max-age=600"])
        self.store(t, p)
        r = self.get(t, method="POST", data=b"x=1")
        self.assertEqual(r.status, 200)
        self.assertEqual(self.count(p), 2)
        r = self.get(t)
        self.assertEqual(r.status, 200)
        self.assertBody(r, p, 100)
        self.assertForwarded(r)
        self.assertEqual(self.count(p), 3)

    def test_rfc9111_4_4_successful_delete_invalidates_the_stored_get(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=["Cache-Control: max-age=600"])
        self.store(t, p)
        self.mode(p, status=204)
        r = self.get(t, method="DELETE")
        self.assertEqual(r.status, 204)
        self.mode(p)
        r = self.get(t)
        self.assertEqual(r.status, 200)
        self.assertBody(r, p, 100)
        self.assertForwarded(r)
        self.assertEqual(self.count(p), 3)

    def test_rfc9111_4_4_error_response_to_post_does_not_invalidate(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=["Cache-Control: max-age=600"])
        self.store(t, p)
        self.mode(p, status=500)
        r = self.get(t, method="POST", data=b"x=1")
        self.assertEqual(r.status, 500)
        self.mode(p)
        r = self.get(t)
        self.assertEqual(r.status, 200)
        self.assertBody(r, p, 100)
        self.assertHit(r)
        self.assertEqual(self.count(p), 2)

    def test_rfc9111_4_4_same_origin_location_and_content_location_are_invalidated(self):
        self.start()
        other, listed, form = self.path("/other"), self.path("/listed"), self.path("/form")
        t_other = target(other, size=100, hdr=["Cache-Control: max-age=600"])
        t_listed = target(listed, size=100, hdr=["Cache-Control: max-age=600"])
        self.store(t_other, other)
        self.store(t_listed, listed)
        # Relative references resolve against the POST's target.
        r = self.get(target(form, size=0, status=201,
                            hdr=["Location: " + t_other.rsplit("/", 1)[1],
                                 "Content-Location: " + t_listed]),
                     method="POST", data=b"x=1")
        self.assertEqual(r.status, 201)
        self.assertEqual(self.count(form), 1)
        for t, p in ((t_other, other), (t_listed, listed)):
            r = self.get(t)
            self.assertEqual(r.status, 200)
            self.assertBody(r, p, 100)
            self.assertForwarded(r)
            self.assertEqual(self.count(p), 2)

    def test_rfc9111_4_4_location_of_another_origin_is_not_invalidated(self):
        self.start()
        other = self.path("/other")
        t_other = target(other, size=100, hdr=["Cache-Control: max-age=600"])
        self.store(t_other, other)
        r = self.get(target(self.path("/form"), size=0, status=201,
                            hdr=["Location: http://elsewhere.example" + t_other]),
                     method="POST", data=b"x=1")
        self.assertEqual(r.status, 201)
        r = self.get(t_other)
        self.assertHit(r)
        self.assertEqual(self.count(other), 1)


    def test_rfc9111_4_4_post_invalidates_every_vary_alternate(self):
        self.start()
        p = self.path("/echo")
        t = target(p, hdr=["Cache-Control: max-age=600", "Vary: Accept-Language"])
        for lang in ("en", "fr"):
            self.get(t, headers=[("Accept-Language", lang)])
            self.assertHit(self.get(t, headers=[("Accept-Language", lang)]))
        self.assertEqual(self.count(p), 2)
        self.assertEqual(self.get(t, method="POST", data=b"x=1").status, 200)
        for n, lang in enumerate(("en", "fr")):
            r = self.get(t, headers=[("Accept-Language", lang)])
            self.assertEqual(r.status, 200)
            self.assertForwarded(r)
            self.assertEqual(self.count(p), 4 + n)


class TargetedCacheControlTest(CacheTest):
    """RFC 9213: CDN-Cache-Control and Strata-Cache-Control."""

    def test_rfc9213_2_2_cdn_cache_control_overrides_cache_control(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=["Cache-Control: no-store", "CDN-Cache-Control: max-age=60"])
        r1 = self.get(t)
        self.assertForwarded(r1, stored=True)
        r2 = self.get(t)
        self.assertEqual(r2.status, 200)
        self.assertBody(r2, p, 100)
        self.assertHit(r2)
        self.assertEqual(r2.header("Cache-Control"), "no-store")  # still for the caches downstream
        self.assertEqual(self.count(p), 1)

    def test_rfc9213_2_2_cdn_cache_control_no_store_overrides_cache_control_max_age(self):
        self.start()
        p = self.path()
        t = target(p, size=100, hdr=["Cache-Control: max-age=600", "CDN-Cache-Control: no-store"])
        for _ in range(2):
            r = self.get(t)
            self.assertEqual(r.status, 200)
            self.assertBody(r, p, 100)
            self.assertForwarded(r, stored=False, detail="no-store")
        self.assertEqual(self.count(p), 2)

    def test_rfc9213_2_1_strata_cache_control_takes_precedence_over_cdn_cache_control(self):
        self.start()
        p1 = self.path("-nostore")
        t1 = target(p1, size=100, hdr=["Strata-Cache-Control: no-store", "CDN-Cache-Control: max-age=60",
                                       "Cache-Control: max-age=60"])
        for _ in range(2):
            r = self.get(t1)
            self.assertEqual(r.status, 200)
            self.assertBody(r, p1, 100)
            self.assertForwarded(r, stored=False)
        self.assertEqual(self.count(p1), 2)
        p2 = self.path("-store")
        t2 = target(p2, size=100, hdr=["Strata-Cache-Control: max-age=60", "CDN-Cache-Control: no-store",
                                       "Cache-Control: no-store"])
        self.get(t2)
        r = self.get(t2)
        self.assertBody(r, p2, 100)
        self.assertHit(r)
        self.assertEqual(self.count(p2), 1)


if __name__ == "__main__":
    harness.main()
