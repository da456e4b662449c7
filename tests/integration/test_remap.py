#!/usr/bin/env python3
"""remap.config: map with path prefixes, several hosts, redirects, regex_map,
reverse_map of Location, and http.preserve_host."""

import urllib.parse

import harness
from harness import build_request


class RemapTest(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.o1 = self.origin()
        self.o2 = self.origin()

    def start(self, records=None):
        u1, u2 = self.o1.url, self.o2.url
        remap = "\n".join([
            "# test rules",
            "map http://a.example/ %s/" % u1,
            "map http://b.example/ %s/" % u2,
            "map http://p.example/old/ %s/new/" % u1,
            "redirect http://r.example/ http://target.example/",
            "redirect_temporary http://t.example/ http://target.example/",
            r"regex_map http://ip-(\d+)-(\d+)-(\d+)-(\d+)\.re\.example/ http://$1.$2.$3.$4:%d/"
            % self.o2.port,
            "reverse_map %s/ http://a.example/" % u1,
            "",
        ])
        self.s = self.strata(remap=remap, records=records)

    def get(self, host, target):
        return harness.request(self.s.port, build_request("GET", target, host=host))

    def echo(self, host, target):
        r = self.get(host, target)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def test_two_hosts_two_origins(self):
        self.start()
        self.assertEqual(self.echo("a.example", "/echo/one")["target"], "/echo/one")
        self.assertEqual(self.echo("b.example", "/echo/two")["target"], "/echo/two")
        self.assertEqual(self.o1.stats()["by_path"], {"/echo/one": 1})
        self.assertEqual(self.o2.stats()["by_path"], {"/echo/two": 1})

    def test_map_rewrites_path_prefix(self):
        self.start()
        e = self.echo("p.example", "/old/echo/thing?x=1")
        self.assertEqual(e["target"], "/new/echo/thing?x=1")
        # A path outside the rule's prefix is not mapped.
        r = self.get("p.example", "/elsewhere")
        self.assertEqual(r.status, 404)

    def test_host_is_origin_by_default(self):
        self.start()
        e = self.echo("a.example", "/echo/h")
        self.assertEqual([v for n, v in e["headers"] if n.lower() == "host"], [self.o1.host])

    def test_preserve_host(self):
        self.start(records={"http.preserve_host": True})
        e = self.echo("a.example", "/echo/h")
        self.assertEqual([v for n, v in e["headers"] if n.lower() == "host"], ["a.example"])

    def test_redirect_permanent(self):
        self.start()
        r = self.get("r.example", "/some/path")
        self.assertEqual(r.status, 301)
        self.assertEqual(r.header("Location"), "http://target.example/some/path")

    def test_redirect_temporary(self):
        self.start()
        r = self.get("t.example", "/some/path")
        self.assertEqual(r.status, 307)
        self.assertEqual(r.header("Location"), "http://target.example/some/path")

    def test_regex_map(self):
        # As in ATS, FROM's host is the regex and $N are used in TO's host.
        self.start()
        e = self.echo("ip-127-0-0-1.re.example", "/echo/x")
        self.assertEqual(e["target"], "/echo/x")
        self.assertEqual(self.o2.stats()["by_path"], {"/echo/x": 1})
        r = self.get("ip-127-0-0-1.other.example", "/echo/x")
        self.assertEqual(r.status, 404)

    def test_reverse_map_rewrites_location(self):
        self.start()
        loc = urllib.parse.quote("Location:%s/x/y" % self.o1.url, safe=":/")
        r = self.get("a.example", "/moved?status=302&hdr=" + loc)
        self.assertEqual(r.status, 302)
        self.assertEqual(r.header("Location"), "http://a.example/x/y")


if __name__ == "__main__":
    harness.main()
