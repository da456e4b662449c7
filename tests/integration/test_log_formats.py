#!/usr/bin/env python3
"""Access log formats (log.access.format): json lines parse with Python's
json module whatever bytes the request carried; combined lines match the
Apache combined regex; a custom %{field} list writes exactly those fields; an
unknown field is a `records.yaml:line: problem`."""

import json
import os
import re
import subprocess

import harness
from harness import build_request

# Quotes, a backslash, a tab, a Latin-1 byte that is not UTF-8 (0xE9) and a
# UTF-8 e-acute (0xC3 0xA9): build_request encodes the str as Latin-1.
AWKWARD_UA = 'say "hi" \\ tab\there \xe9 \xc3\xa9'
AWKWARD_UA_DECODED = 'say "hi" \\ tab\there \u00e9 \u00e9'

COMBINED = re.compile(
    r'^(?P<host>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] '
    r'"(?P<request>(?:[^"\\]|\\.)*)" (?P<status>\d{3}) (?P<bytes>\d+|-) '
    r'"(?P<referer>(?:[^"\\]|\\.)*)" "(?P<agent>(?:[^"\\]|\\.)*)"$')


class LogFormatTest(harness.TestCase):
    def run_requests(self, fmt, encoding="utf-8"):
        o = self.origin()
        s = self.strata(origin=o, records={"log.access.format": fmt, "server.threads": 1})
        r = harness.request(s.port, build_request("GET", "/fmt/a?size=100", headers=[
            ("User-Agent", AWKWARD_UA), ("Referer", "http://ref.example/x")]))
        self.assertEqual(r.status, 200)
        r = harness.request(s.port, build_request("POST", "/fmt/b?status=404&size=7", body=b"x"))
        self.assertEqual(r.status, 404)
        self.assertEqual(harness.request(s.port, b"GARBAGE\r\n\r\n").status, 400)
        self.assertEqual(s.stop(), 0)
        with open(s.access_log_path(), "rb") as f:
            raw = f.read()
        return raw.decode(encoding).splitlines(), o  # strict: a json or combined log is valid UTF-8

    def test_json_lines_parse_and_escape(self):
        lines, o = self.run_requests("json")
        self.assertEqual(len(lines), 3, lines)
        records = [json.loads(line) for line in lines]
        by_target = {r["target"]: r for r in records}
        a = by_target["/fmt/a?size=100"]
        self.assertEqual(a["user_agent"], AWKWARD_UA_DECODED)
        self.assertEqual(a["referer"], "http://ref.example/x")
        self.assertEqual(a["method"], "GET")
        self.assertEqual(a["status"], 200)
        self.assertEqual(a["origin_status"], 200)
        self.assertEqual(a["client_ip"], "127.0.0.1")
        self.assertEqual(a["protocol"], "HTTP/1.1")
        self.assertEqual(a["url"], "%s/fmt/a?size=100" % o.url)
        self.assertEqual(a["origin_host"], "127.0.0.1")
        self.assertGreater(a["bytes"], 100)
        self.assertIsInstance(a["time"], float)
        self.assertIsInstance(a["elapsed_ms"], int)
        b = by_target["/fmt/b?status=404&size=7"]
        self.assertEqual((b["method"], b["status"], b["user_agent"]), ("POST", 404, None))
        bad = by_target[None]  # the request that did not parse
        self.assertEqual((bad["status"], bad["method"], bad["origin_status"]), (400, None, None))

    def test_combined_matches_apache_regex(self):
        lines, _ = self.run_requests("combined")
        self.assertEqual(len(lines), 3, lines)
        parsed = []
        for line in lines:
            m = COMBINED.match(line)
            self.assertIsNotNone(m, "not Apache combined: %r" % line)
            parsed.append(m.groupdict())
        a = next(p for p in parsed if "/fmt/a" in p["request"])
        self.assertEqual(a["request"], "GET /fmt/a?size=100 HTTP/1.1")
        self.assertEqual((a["host"], a["ident"], a["user"], a["status"]), ("127.0.0.1", "-", "-", "200"))
        self.assertEqual(a["referer"], "http://ref.example/x")
        # Apache's escaping: \" and \\, \xhh for bytes that are not printable ASCII.
        self.assertEqual(a["agent"], 'say \\"hi\\" \\\\ tab\\x09here \\xe9 \\xc3\\xa9')
        b = next(p for p in parsed if "/fmt/b" in p["request"])
        self.assertEqual((b["status"], b["referer"], b["agent"]), ("404", "-", "-"))
        bad = next(p for p in parsed if p["status"] == "400")
        self.assertEqual(bad["request"], "-")

    def test_custom_field_list(self):
        fmt = "%{client_ip}|%{method}|%{status}|%{cache_result}|%{target}|%{user_agent}|100%%"
        lines, _ = self.run_requests(fmt, encoding="latin-1")  # custom fields pass bytes through
        self.assertEqual(len(lines), 3, lines)
        by_method = {f[1]: f for f in (line.split("|") for line in lines)}
        self.assertEqual(by_method["POST"], ["127.0.0.1", "POST", "404", "-", "/fmt/b?status=404&size=7", "-", "100%"])
        self.assertEqual(by_method["-"], ["127.0.0.1", "-", "400", "-", "-", "-", "100%"])
        # Blanks and control characters in a value become '_': one line, fixed fields.
        self.assertEqual(by_method["GET"], ["127.0.0.1", "GET", "200", "-", "/fmt/a?size=100",
                                            'say_"hi"_\\_tab_here_\xe9_\xc3\xa9', "100%"])

    def test_unknown_custom_field_is_a_config_error_with_line(self):
        etc = os.path.join(self.tmp, "etc")
        os.makedirs(etc)
        with open(os.path.join(etc, "records.yaml"), "w") as f:
            f.write('records:\n  log:\n    access:\n      format: "%{time} %{nope}"\n')
        p = subprocess.run([harness.STRATA_BIN, "--check-config", etc], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=15)
        out = p.stdout.decode("utf-8", "replace")
        self.assertEqual(p.returncode, 1, out)
        self.assertRegex(out, r"records\.yaml:4: log\.access\.format: unknown access log field %\{nope\}")


if __name__ == "__main__":
    harness.main()
