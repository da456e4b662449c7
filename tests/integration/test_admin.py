"""The admin API (issue: operating Strata): /metrics parsed as strict
Prometheus text, /stats, /health, /reload, purge by URL and by prefix,
/inflight, access through ip_allow.yaml, and the admin listener's settings.
Every test runs the real daemon on real span files beside the real origin."""

import json
import math
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.parse

import harness
from harness import build_request

CACHEABLE = "&hdr=Cache-Control:max-age=600"

# ---------------------------------------------------------------- Prometheus text format 0.0.4, strictly

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|Inf|NaN)")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


class PromError(AssertionError):
    pass


def _unescape(text, allowed, lineno):
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            if i + 1 >= len(text) or text[i + 1] not in allowed:
                raise PromError("line %d: bad escape in %r" % (lineno, text))
            out.append({"\\": "\\", "n": "\n", '"': '"'}[text[i + 1]])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _parse_value(text, lineno):
    if not FLOAT.fullmatch(text):
        raise PromError("line %d: bad value %r" % (lineno, text))
    return float(text)


def _parse_labels(text, lineno):
    """Parses `a="x",b="y"` (a trailing comma is allowed); returns (dict, rest)."""
    labels = {}
    i = 0
    while True:
        if i < len(text) and text[i] == "}":
            return labels, text[i + 1:]
        m = LABEL_NAME.match(text, i)
        if not m:
            raise PromError("line %d: bad label name at %r" % (lineno, text[i:]))
        name = m.group(0)
        if name.startswith("__"):
            raise PromError("line %d: reserved label name %s" % (lineno, name))
        i = m.end()
        if text[i:i + 2] != '="':
            raise PromError("line %d: want =\" after label %s" % (lineno, name))
        i += 2
        start = i
        while i < len(text) and text[i] != '"':
            i += 2 if text[i] == "\\" else 1
        if i >= len(text):
            raise PromError("line %d: unterminated label value" % lineno)
        value = _unescape(text[start:i], '\\"n', lineno)
        if name in labels:
            raise PromError("line %d: label %s twice" % (lineno, name))
        labels[name] = value
        i += 1
        if i < len(text) and text[i] == ",":
            i += 1
        elif i >= len(text) or text[i] != "}":
            raise PromError("line %d: want , or } after a label value" % lineno)


def _family_of(sample_name, families):
    for suffix in ("_bucket", "_sum", "_count"):
        if sample_name.endswith(suffix):
            base = sample_name[:-len(suffix)]
            if families.get(base, {}).get("type") == "histogram":
                return base
    return sample_name


def parse_prometheus(text):
    """Parses exposition text; returns {family: {type, help, samples: [(name, labels, value)]}}.

    Raises PromError on anything the format does not allow: bad names,
    escapes or values, HELP/TYPE twice or TYPE after samples, a family's
    lines not contiguous, duplicate series, negative counters, histograms
    whose buckets are not cumulative, lack +Inf, or disagree with _count.
    """
    if text and not text.endswith("\n"):
        raise PromError("the text must end with a line feed")
    families = {}
    order = []
    closed = set()
    seen_series = set()
    current = None
    for lineno, line in enumerate(text.split("\n")[:-1] if text else [], 1):
        if line.strip() == "":
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not METRIC_NAME.fullmatch(name):
                    raise PromError("line %d: bad metric name %r" % (lineno, name))
                fam = families.setdefault(name, {"type": None, "help": None, "samples": []})
                if name in closed or (current is not None and current != name and name in order):
                    raise PromError("line %d: lines of %s are not together" % (lineno, name))
                if name not in order:
                    order.append(name)
                if current is not None and current != name:
                    closed.add(current)
                current = name
                if parts[1] == "HELP":
                    if fam["help"] is not None:
                        raise PromError("line %d: second HELP for %s" % (lineno, name))
                    fam["help"] = _unescape(parts[3] if len(parts) > 3 else "", "\\n", lineno)
                else:
                    if fam["type"] is not None:
                        raise PromError("line %d: second TYPE for %s" % (lineno, name))
                    if fam["samples"]:
                        raise PromError("line %d: TYPE after samples of %s" % (lineno, name))
                    if len(parts) != 4 or parts[3] not in TYPES:
                        raise PromError("line %d: bad TYPE line %r" % (lineno, line))
                    fam["type"] = parts[3]
            continue  # any other comment
        m = METRIC_NAME.match(line)
        if not m:
            raise PromError("line %d: bad sample line %r" % (lineno, line))
        sample_name = m.group(0)
        rest = line[m.end():]
        labels = {}
        if rest.startswith("{"):
            labels, rest = _parse_labels(rest[1:], lineno)
        if not rest.startswith(" "):
            raise PromError("line %d: want a blank before the value" % lineno)
        fields = rest[1:].split(" ")
        if len(fields) not in (1, 2):
            raise PromError("line %d: want a value and an optional timestamp" % lineno)
        value = _parse_value(fields[0], lineno)
        if len(fields) == 2 and not re.fullmatch(r"-?\d+", fields[1]):
            raise PromError("line %d: bad timestamp" % lineno)
        family = _family_of(sample_name, families)
        fam = families.setdefault(family, {"type": None, "help": None, "samples": []})
        if family in closed or (current is not None and current != family and family in order):
            raise PromError("line %d: samples of %s are not together" % (lineno, family))
        if family not in order:
            order.append(family)
        if current is not None and current != family:
            closed.add(current)
        current = family
        series = (sample_name, tuple(sorted(labels.items())))
        if series in seen_series:
            raise PromError("line %d: series %s%s twice" % (lineno, sample_name, labels))
        seen_series.add(series)
        if fam["type"] == "counter" and (value < 0 or math.isnan(value)):
            raise PromError("line %d: counter %s is %r" % (lineno, sample_name, value))
        if fam["type"] == "histogram" and sample_name == family:
            raise PromError("line %d: histogram %s sample without _bucket/_sum/_count" % (lineno, family))
        if "le" in labels and not sample_name.endswith("_bucket"):
            raise PromError("line %d: le on a sample that is not a bucket" % lineno)
        fam["samples"].append((sample_name, labels, value))
    for name, fam in families.items():
        if fam["type"] == "histogram":
            _check_histogram(name, fam["samples"])
    return families


def _check_histogram(name, samples):
    groups = {}
    for sample_name, labels, value in samples:
        key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        g = groups.setdefault(key, {"buckets": [], "sum": None, "count": None})
        if sample_name == name + "_bucket":
            if "le" not in labels:
                raise PromError("%s_bucket without le" % name)
            g["buckets"].append((_parse_value(labels["le"], 0), value))
        elif sample_name == name + "_sum":
            g["sum"] = value
        elif sample_name == name + "_count":
            g["count"] = value
    for key, g in groups.items():
        bounds = [b for b, _ in g["buckets"]]
        if not bounds or bounds[-1] != math.inf:
            raise PromError("%s%s: no le=\"+Inf\" bucket last" % (name, dict(key)))
        if bounds != sorted(bounds) or len(set(bounds)) != len(bounds):
            raise PromError("%s%s: le bounds not increasing" % (name, dict(key)))
        counts = [c for _, c in g["buckets"]]
        if any(b > a for b, a in zip(counts, counts[1:])):
            raise PromError("%s%s: bucket counts not cumulative: %s" % (name, dict(key), counts))
        if g["count"] is None or g["sum"] is None:
            raise PromError("%s%s: missing _sum or _count" % (name, dict(key)))
        if g["count"] != counts[-1]:
            raise PromError("%s%s: _count %r != +Inf bucket %r" % (name, dict(key), g["count"], counts[-1]))


def value_of(families, name, **labels):
    """The value of the one sample of `name` with exactly these labels."""
    family = _family_of(name, families)
    found = [v for n, lab, v in families[family]["samples"] if n == name and lab == labels]
    if len(found) != 1:
        raise AssertionError("want one %s%s, found %d" % (name, labels, len(found)))
    return found[0]


def sum_of(families, name, **labels):
    """Sum over the samples of `name` whose labels include `labels`."""
    family = _family_of(name, families)
    return sum(v for n, lab, v in families.get(family, {"samples": []})["samples"]
               if n == name and all(lab.get(k) == v2 for k, v2 in labels.items()))


class PrometheusParserTest(harness.TestCase):
    """The parser must be strict, or the tests below would prove nothing."""

    GOOD = ("# HELP h_seconds Help with \\\\ and \\n.\n# TYPE h_seconds histogram\n"
            "h_seconds_bucket{a=\"x\\\"y\",le=\"0.5\"} 1\nh_seconds_bucket{a=\"x\\\"y\",le=\"+Inf\"} 2\n"
            "h_seconds_sum{a=\"x\\\"y\"} 0.7\nh_seconds_count{a=\"x\\\"y\"} 2\n"
            "# TYPE c_total counter\nc_total 3 1700000000000\n")

    def test_accepts_valid_text(self):
        f = parse_prometheus(self.GOOD)
        self.assertEqual(f["h_seconds"]["help"], "Help with \\ and \n.")
        self.assertEqual(value_of(f, "h_seconds_count", a='x"y'), 2)
        self.assertEqual(value_of(f, "c_total"), 3)

    def test_rejects_what_the_format_forbids(self):
        bad = {
            "bad escape": self.GOOD.replace('x\\"y', "x\\ty"),
            "no +Inf": self.GOOD.replace('le="+Inf"', 'le="1"'),
            "not cumulative": self.GOOD.replace('le="+Inf"} 2', 'le="+Inf"} 0').replace("_count{a=\"x\\\"y\"} 2",
                                                                                      "_count{a=\"x\\\"y\"} 0"),
            "count mismatch": self.GOOD.replace("_count{a=\"x\\\"y\"} 2", "_count{a=\"x\\\"y\"} 5"),
            "bad name": self.GOOD.replace("c_total 3", "3c_total 3"),
            "TYPE twice": self.GOOD + "# TYPE c_total counter\n",
            "negative counter": self.GOOD.replace("c_total 3", "c_total -3"),
            "bad value": self.GOOD.replace("c_total 3", "c_total three"),
            "split family": self.GOOD + "h_seconds_sum{a=\"z\"} 1\n",
            "duplicate": self.GOOD + "c_total 4\n",
            "no final newline": self.GOOD[:-1],
            "reserved label": self.GOOD.replace('{a="x', '{__a="x'),
        }
        for what, text in bad.items():
            with self.assertRaises(PromError, msg=what):
                parse_prometheus(text)


# ---------------------------------------------------------------- the admin API


def admin_connect(port, source="127.0.0.1"):
    s = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    return s


def admin_status_from(port, source, path="/health"):
    with admin_connect(port, source) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n" % path).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1])


class AdminTest(harness.TestCase):
    timeout = 60.0

    def span(self):
        return os.path.join(self.tmp, "span.db")

    def start(self, origin, records=None, args=(), **kw):
        settings = {"cache.dir": os.path.join(self.tmp, "state")}
        settings.update(records or {})
        return self.strata(origin=origin, records=settings, args=["--cache", self.span() + ",32M"] + list(args),
                           **kw)

    def metrics(self, s):
        r = s.admin("GET", "/metrics")
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(r.header("Content-Type").startswith("text/plain; version=0.0.4"), r.header("Content-Type"))
        return parse_prometheus(r.body.decode("utf-8"))

    def stats(self, s):
        r = s.admin("GET", "/stats")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.header("Content-Type"), "application/json")
        return json.loads(r.body)

    def get(self, s, target, timeout=10.0):
        return harness.request(s.port, build_request("GET", target), timeout=timeout)

    def test_metrics_are_valid_prometheus_text_and_count_the_traffic(self):
        origin = self.origin()
        s = self.start(origin, records={"server.threads": 1})
        before = self.metrics(s)
        # Every declared metric is there with its HELP and TYPE, even before traffic.
        for name in ("strata_requests_total", "strata_request_duration_seconds", "strata_cache_crc_failures_total",
                     "strata_cache_spans_offline", "strata_cache_recovery_seconds", "strata_config_reloads_total"):
            self.assertIn(name, before)
            self.assertTrue(before[name]["help"], name)
        self.assertEqual(before["strata_request_duration_seconds"]["type"], "histogram")

        a = "/m/a?size=1000" + CACHEABLE
        miss = self.get(s, a)
        self.assertIn("fwd=uri-miss", miss.header("Cache-Status"))
        hit = self.get(s, a)
        self.assertIn("hit", hit.header("Cache-Status"))
        self.get(s, "/m/b?size=10")  # the second origin request reuses the pooled connection
        post = harness.request(s.port, build_request("POST", "/echo", body=b"x" * 100))
        self.assertEqual(post.status, 200)
        self.assertEqual(harness.request(s.port, build_request("PURGE", a)).status, 200)

        f = self.metrics(s)
        self.assertEqual(value_of(f, "strata_requests_total", method="GET", cache_result="TCP_HIT"), 1)
        self.assertEqual(value_of(f, "strata_requests_total", method="GET", cache_result="TCP_MISS"), 2)
        self.assertEqual(sum_of(f, "strata_requests_total", method="POST"), 1)
        self.assertEqual(sum_of(f, "strata_requests_total", method="PURGE"), 1)
        self.assertEqual(value_of(f, "strata_request_duration_seconds_count", cache="hit"), 1)
        self.assertEqual(value_of(f, "strata_request_duration_seconds_count", cache="miss"), 4)
        self.assertGreater(value_of(f, "strata_request_duration_seconds_sum", cache="miss"), 0)
        self.assertEqual(value_of(f, "strata_purges_total", kind="method"), 1)
        self.assertEqual(value_of(f, "strata_origin_connections_opened_total"), 1)
        self.assertGreaterEqual(value_of(f, "strata_origin_connections_reused_total"), 2)
        self.assertEqual(value_of(f, "strata_collapsed_requests_total"), 0)
        # Bytes: the client side comes to the access log's byte counts (the
        # counter moves once the worker sees its write done, which may be a
        # moment after the client read the bytes); the origin side carried
        # at least the three bodies.
        lines = harness.wait_for(lambda: len(s.access_log_lines()) >= 5 and s.access_log_lines())
        logged = sum(int(line.split()[4]) for line in lines)
        self.assertEqual(harness.wait_for(
            lambda: (lambda v: v if v == logged else None)(value_of(self.metrics(s), "strata_client_bytes_total"))),
            logged)
        self.assertGreater(value_of(f, "strata_origin_bytes_total"), 1000 + 10 + 100)
        # The engine's figures.
        self.assertGreaterEqual(value_of(f, "strata_cache_objects_written_total"), 1)
        self.assertGreaterEqual(value_of(f, "strata_cache_lookups_total"), 2)
        self.assertGreaterEqual(value_of(f, "strata_cache_lookup_hits_total"), 1)
        self.assertEqual(value_of(f, "strata_cache_crc_failures_total"), 0)
        self.assertEqual(value_of(f, "strata_cache_spans_offline"), 0)
        stripes = [lab["stripe"] for n, lab, _ in f["strata_cache_stripe_entries"]["samples"]]
        self.assertGreaterEqual(len(stripes), 1)
        for stripe in stripes:
            capacity = value_of(f, "strata_cache_stripe_entry_capacity", stripe=stripe)
            entries = value_of(f, "strata_cache_stripe_entries", stripe=stripe)
            self.assertGreater(capacity, 0)
            self.assertAlmostEqual(value_of(f, "strata_cache_stripe_fill_ratio", stripe=stripe), entries / capacity)
            self.assertGreater(value_of(f, "strata_cache_stripe_data_bytes", stripe=stripe), 0)
        # The aggregation buffer reaches the disk within cache.flush_delay.
        f = harness.wait_for(lambda: (lambda m: m if value_of(m, "strata_cache_agg_writes_total") >= 1 else None)(
            self.metrics(s)))
        self.assertIsNotNone(f, "no aggregation write")
        self.assertGreaterEqual(value_of(f, "strata_cache_agg_bytes_total"), 1000)
        # Counters only grow.
        again = self.metrics(s)
        for name, fam in again.items():
            if fam["type"] != "counter":
                continue
            for sample_name, labels, value in fam["samples"]:
                old = [v for n, lab, v in f[name]["samples"] if n == sample_name and lab == labels]
                if old:
                    self.assertGreaterEqual(value, old[0], (sample_name, labels))
        self.assertEqual(s.admin("HEAD", "/metrics").status, 200)

    def test_a_damaged_object_on_disk_counts_as_a_crc_failure(self):
        origin = self.origin()
        target = "/crc/a?size=3000" + CACHEABLE
        s = self.start(origin)
        self.get(s, target)
        self.assertIn("hit", self.get(s, target).header("Cache-Status"))
        self.assertEqual(s.stop(), 0)  # a clean stop: the object is on disk
        with open(self.span(), "r+b") as f:
            data = f.read()
            at = data.find(harness.body.body_slice("/crc/a", 1000, 64))
            self.assertGreater(at, 0, "the object's bytes are not in the span file")
            f.seek(at)
            f.write(bytes(b ^ 0xFF for b in data[at:at + 16]))
        s2 = self.start(origin)
        before = value_of(self.metrics(s2), "strata_cache_crc_failures_total")
        self.assertEqual(before, 0)
        self.assertGreaterEqual(value_of(self.metrics(s2), "strata_cache_recovery_seconds"), 0)
        r = self.get(s2, target)
        self.assertEqual(r.status, 200)
        self.assertIn("fwd=uri-miss", r.header("Cache-Status"))
        self.assertEqual(r.body, harness.body.expected_body("/crc/a", 3000))
        self.assertEqual(value_of(self.metrics(s2), "strata_cache_crc_failures_total"), 1)

    def test_stats_is_json_of_the_same_metrics_with_stripe_fill(self):
        origin = self.origin()
        s = self.start(origin)
        for i in range(3):
            self.get(s, "/st/%d?size=500%s" % (i, CACHEABLE))
        prom = self.metrics(s)
        stats = self.stats(s)
        self.assertEqual(set(stats["metrics"]), set(prom))
        for name, fam in prom.items():
            self.assertEqual(stats["metrics"][name]["type"], fam["type"], name)
            self.assertEqual(stats["metrics"][name]["help"], fam["help"], name)
        for sample in stats["metrics"]["strata_requests_total"]["samples"]:
            self.assertEqual(sample["value"], value_of(prom, "strata_requests_total", **sample["labels"]))
        hist = stats["metrics"]["strata_request_duration_seconds"]["samples"]
        miss = [h for h in hist if h["labels"] == {"cache": "miss"}][0]
        self.assertEqual(miss["count"], 3)
        self.assertEqual(miss["buckets"][-1], {"le": "+Inf", "count": 3})
        self.assertGreaterEqual(len(stats["stripes"]), 1)
        total_entries = 0
        for stripe in stats["stripes"]:
            self.assertAlmostEqual(stripe["fill_ratio"], stripe["entries"] / stripe["entry_capacity"])
            self.assertLessEqual(stripe["write_position_bytes"], stripe["data_bytes"])
            total_entries += stripe["entries"]
        self.assertGreaterEqual(total_entries, 3)

    def test_health_is_ok_while_serving_and_503_while_draining(self):
        origin = self.origin()
        s = self.start(origin)
        r = s.admin("GET", "/health")
        self.assertEqual((r.status, r.body), (200, b"ok\n"))
        self.assertEqual(s.admin("POST", "/health").status, 405)
        result = {}

        def slow():
            result["r"] = self.get(s, "/h/slow?size=300000&rate=100000", timeout=30)

        t = threading.Thread(target=slow)
        t.start()
        self.assertTrue(harness.wait_for(lambda: origin.stats()["by_path"].get("/h/slow") == 1))
        s.send_signal(signal.SIGTERM)
        r = harness.wait_for(lambda: (lambda r: r if r.status == 503 else None)(s.admin("GET", "/health")), timeout=5)
        self.assertIsNotNone(r, "/health did not turn 503 on SIGTERM")
        self.assertEqual(r.body, b"draining\n")
        t.join(30)
        self.assertEqual(result["r"].status, 200)
        self.assertEqual(len(result["r"].body), 300000)
        self.assertEqual(s.wait(15), 0)

    def test_reload_applies_a_valid_config_and_refuses_a_bad_one(self):
        first, second = self.origin(), self.origin()
        s = self.start(None, records={"server.threads": 1}, remap="map http://strata.test/ %s/\n" % first.url)
        self.assertEqual(self.get(s, "/rl/x?size=5").status, 200)
        self.assertEqual(first.stats()["by_path"].get("/rl/x"), 1)
        with open(os.path.join(s.config_dir, "remap.config"), "w") as f:
            f.write("map http://strata.test/ %s/\n" % second.url)
        r = s.admin("POST", "/reload")
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(r.body.startswith(b"reloaded\n"), r.body)
        self.assertEqual(self.get(s, "/rl/y?size=5").status, 200)
        self.assertEqual(second.stats()["by_path"].get("/rl/y"), 1)
        self.assertIsNone(first.stats()["by_path"].get("/rl/y"))
        # A setting that needs a restart is named in the answer.
        with open(os.path.join(s.config_dir, "records.yaml"), "w") as f:
            f.write(harness.render_records({"log.dir": s.log_dir, "cache.dir": os.path.join(self.tmp, "state"),
                                            "server.threads": 2}))
        r = s.admin("POST", "/reload")
        self.assertEqual(r.status, 200, r.body)
        self.assertRegex(r.body.decode(), r"\nserver\.threads: needs a restart")

        with open(os.path.join(s.config_dir, "remap.config"), "w") as f:
            f.write("map http://strata.test/ %s/\nfrobnicate everything\n" % first.url)
        r = s.admin("POST", "/reload")
        self.assertEqual(r.status, 400, r.body)
        self.assertRegex(r.body.decode(), r"remap\.config:2: ")
        # The old configuration goes on serving.
        self.assertEqual(self.get(s, "/rl/z?size=5").status, 200)
        self.assertEqual(second.stats()["by_path"].get("/rl/z"), 1)
        f = self.metrics(s)
        self.assertEqual(value_of(f, "strata_config_reloads_total"), 2)
        self.assertEqual(value_of(f, "strata_config_reload_failures_total"), 1)
        self.assertEqual(s.admin("GET", "/reload").status, 405)

    def test_purge_by_url_as_the_client_or_the_origin_names_it(self):
        origin = self.origin()
        s = self.start(origin)
        a, b = "/pu/a?size=300" + CACHEABLE, "/pu/b?size=300" + CACHEABLE
        for target in (a, b):
            self.get(s, target)
            self.assertIn("hit", self.get(s, target).header("Cache-Status"))
        client_url = "http://strata.test" + a
        r = s.admin("POST", "/purge?url=" + urllib.parse.quote(client_url, safe=""))
        self.assertEqual(r.status, 200, r.body)
        answer = json.loads(r.body)
        self.assertEqual(answer["url"], origin.url + a)  # remapped as a request would be
        self.assertTrue(answer["purged"])
        self.assertRegex(answer["key"], r"^[0-9a-f]{32}$")
        self.assertIn("fwd=uri-miss", self.get(s, a).header("Cache-Status"))
        self.assertIn("hit", self.get(s, b).header("Cache-Status"))
        # The origin URL, as the access log shows it, works too.
        r = s.admin("POST", "/purge?url=" + urllib.parse.quote(origin.url + b, safe=""))
        self.assertEqual(r.status, 200, r.body)
        self.assertIn("fwd=uri-miss", self.get(s, b).header("Cache-Status"))
        # Nothing stored: 404.
        r = s.admin("POST", "/purge?url=" + urllib.parse.quote(origin.url + "/pu/none", safe=""))
        self.assertEqual(r.status, 404)
        self.assertFalse(json.loads(r.body)["purged"])
        self.assertEqual(s.admin("POST", "/purge").status, 400)
        self.assertEqual(s.admin("POST", "/purge?url=relative/path").status, 400)
        self.assertEqual(value_of(self.metrics(s), "strata_purges_total", kind="url"), 3)

    def test_purge_by_prefix_is_lazy_and_survives_a_restart(self):
        origin = self.origin()
        state = os.path.join(self.tmp, "state")
        targets = ["/pp/a/1?size=100", "/pp/a/2?size=100", "/pp/b/1?size=100"]
        s = self.start(origin)
        for t in targets:
            self.get(s, t + CACHEABLE)
            self.assertIn("hit", self.get(s, t + CACHEABLE).header("Cache-Status"))
        r = s.admin("POST", "/purge?prefix=" + urllib.parse.quote("http://strata.test/pp/a/", safe=""))
        self.assertEqual(r.status, 200, r.body)
        answer = json.loads(r.body)
        self.assertEqual(answer["prefix"], origin.url + "/pp/a/")
        self.assertTrue(answer["saved"])
        self.assertIn("fwd=uri-miss", self.get(s, targets[0] + CACHEABLE).header("Cache-Status"))
        self.assertIn("hit", self.get(s, targets[2] + CACHEABLE).header("Cache-Status"))
        listed = json.loads(s.admin("GET", "/purges").body)["prefixes"]
        self.assertEqual([p["prefix"] for p in listed], [origin.url + "/pp/a/"])
        self.assertEqual(value_of(self.metrics(s), "strata_purges_total", kind="prefix"), 1)
        self.assertTrue(os.path.exists(os.path.join(state, "purges")))
        self.assertEqual(s.stop(), 0)

        # A restart on the same spans: the purge still holds for what was
        # stored before it, and the rest still hits.
        s2 = self.start(origin)
        self.assertIn("fwd=uri-miss", self.get(s2, targets[1] + CACHEABLE).header("Cache-Status"))
        self.assertIn("hit", self.get(s2, targets[2] + CACHEABLE).header("Cache-Status"))
        self.assertEqual(origin.stats()["by_path"]["/pp/a/2"], 2)
        self.assertEqual(origin.stats()["by_path"]["/pp/b/1"], 1)
        # Refetched after the purge, in a later second, it hits again.
        time.sleep(1.1)
        self.get(s2, targets[0] + CACHEABLE)
        self.assertIn("hit", self.get(s2, targets[0] + CACHEABLE).header("Cache-Status"))

    def test_inflight_lists_the_fill_and_its_followers(self):
        origin = self.origin()
        s = self.start(origin, records={"server.threads": 2})
        target = "/if/slow?size=400000&rate=100000" + CACHEABLE
        results = []

        def fetch():
            results.append(self.get(s, target, timeout=30))

        self.assertEqual(json.loads(s.admin("GET", "/inflight").body), {"objects": []})
        first = threading.Thread(target=fetch)
        first.start()

        def writing():
            objects = json.loads(s.admin("GET", "/inflight").body)["objects"]
            return objects if objects and objects[0]["bytes_written"] > 0 else None

        objects = harness.wait_for(writing)
        self.assertTrue(objects, "no object in flight")
        self.assertEqual(len(objects), 1)
        self.assertEqual(objects[0]["state"], "writing")
        self.assertEqual(objects[0]["followers"], 0)
        key = objects[0]["key"]
        second = threading.Thread(target=fetch)
        second.start()

        def followed():
            objects = json.loads(s.admin("GET", "/inflight").body)["objects"]
            return objects if objects and objects[0]["followers"] == 1 else None

        objects = harness.wait_for(followed)
        self.assertTrue(objects, "the second request did not follow the fill")
        self.assertEqual(objects[0]["key"], key)
        f = self.metrics(s)
        self.assertEqual(value_of(f, "strata_cache_objects_in_flight"), 1)
        self.assertEqual(value_of(f, "strata_collapsed_requests_total"), 1)
        first.join(30)
        second.join(30)
        self.assertEqual([r.status for r in results], [200, 200])
        self.assertEqual(origin.stats()["by_path"]["/if/slow"], 1)
        self.assertTrue(harness.wait_for(lambda: json.loads(s.admin("GET", "/inflight").body)["objects"] == []))
        # The key listed is the URL's cache key.
        r = s.admin("POST", "/purge?url=" + urllib.parse.quote(origin.url + target, safe=""))
        self.assertEqual(json.loads(r.body)["key"], key)

    def test_ip_allow_decides_who_may_use_the_admin_api(self):
        origin = self.origin()
        # Only 127.0.0.2 may use ADMIN; everybody may proxy.
        rules = ("ip_allow:\n"
                 "  - apply: in\n    ip_addrs: 127.0.0.2\n    action: allow\n    methods: ALL\n"
                 "  - apply: in\n    ip_addrs: 0/0\n    action: deny\n    methods: [ADMIN]\n")
        s = self.start(origin, files={"ip_allow.yaml": rules})
        r = s.admin("GET", "/metrics")
        self.assertEqual(r.status, 403)
        self.assertIn(b"ADMIN", r.body)
        self.assertEqual(s.admin("POST", "/reload").status, 403)
        self.assertEqual(admin_status_from(s.admin_port, "127.0.0.2"), 200)
        self.assertEqual(self.get(s, "/ip/x?size=3").status, 200)

    def test_default_access_is_loopback_only(self):
        origin = self.origin()
        s = self.start(origin)  # no ip_allow.yaml: the built-in rules
        self.assertEqual(admin_status_from(s.admin_port, "127.0.0.1"), 200)
        self.assertEqual(admin_status_from(s.admin_port, "127.0.0.2"), 403)  # loopback is 127.0.0.1 and ::1
        self.assertEqual(s.admin("GET", "/nowhere").status, 404)

    def test_admin_listener_setting_and_flag(self):
        origin = self.origin()
        port = harness.free_port()
        # --admin "" wins over records.yaml and turns the listener off.
        s = self.start(origin, records={"admin.listen": "127.0.0.1:%d" % port}, args=["--admin", ""])
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        self.assertNotIn("admin API on", s.log_text())
        self.assertEqual(self.get(s, "/al/x?size=3").status, 200)

    def test_admin_address_in_use_or_invalid_stops_the_start(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            for admin, message in (("127.0.0.1:%d" % port, "cannot listen on admin address 127.0.0.1:%d" % port),
                                   ("nonsense", "--admin admin.listen")):
                p = subprocess.run([harness.STRATA_BIN, "--config-dir", os.path.join(self.tmp, "none"),
                                    "--listen", "127.0.0.1:%d" % harness.free_port(), "--admin", admin,
                                    "--set", "log.access.enabled=false"],
                                   stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=15)
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertIn(message, p.stderr)


if __name__ == "__main__":
    harness.main()
