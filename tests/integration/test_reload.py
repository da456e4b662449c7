#!/usr/bin/env python3
"""Reload on SIGHUP: a valid new configuration takes over without dropping an
open keep-alive connection; an invalid one is rejected with `file:line:
problem` in the error log and the old rules keep serving; a setting that needs
a restart keeps its running value and the log says so."""

import os
import re
import signal

import harness
from harness import build_request


def remap_to(origin):
    return "map / %s/\n" % origin.url


class ReloadTest(harness.TestCase):
    def start(self, origin, records=None):
        records = dict(records or {})
        records.setdefault("server.threads", 1)
        return self.strata(remap=remap_to(origin), records=records)

    def write(self, s, name, text):
        with open(os.path.join(s.config_dir, name), "w") as f:
            f.write(text)

    def reload(self, s, expect):
        """Sends SIGHUP and waits for `expect` (a regex) to appear in the log,
        counting only what is logged after the signal."""
        before = len(s.log_text())
        s.send_signal(signal.SIGHUP)
        found = harness.wait_for(lambda: re.search(expect, s.log_text()[before:]), timeout=10)
        self.assertTrue(found, "no %r after SIGHUP; log:\n%s" % (expect, s.log_text()))
        return s.log_text()[before:]

    def served_by(self, port, o1, o2, client=None):
        """Which of the two origins answered a request (1 or 2)."""
        before = (o1.stats()["requests"], o2.stats()["requests"])
        req = build_request("GET", "/which?size=10")
        r = client.request(req) if client else harness.request(port, req)
        self.assertEqual(r.status, 200)
        after = (o1.stats()["requests"], o2.stats()["requests"])
        if after[0] > before[0]:
            return 1
        self.assertGreater(after[1], before[1], "neither origin saw the request")
        return 2

    def test_good_reload_changes_rules_and_keeps_keepalive_connection(self):
        o1, o2 = self.origin(), self.origin()
        s = self.start(o1)
        with harness.Client(s.port) as c:
            self.assertEqual(self.served_by(s.port, o1, o2, client=c), 1)
            self.write(s, "remap.config", remap_to(o2))
            self.reload(s, r"configuration reloaded from .*: 1 remap rule")
            # The worker swaps the snapshot on its loop; a new connection sees it first.
            self.assertTrue(harness.wait_for(lambda: self.served_by(s.port, o1, o2) == 2, timeout=5))
            # The connection opened before the reload is still open and uses the new rules.
            self.assertEqual(self.served_by(s.port, o1, o2, client=c), 2)
            self.assertEqual(self.served_by(s.port, o1, o2, client=c), 2)
        self.assertTrue(s.running())

    def test_broken_remap_is_rejected_and_old_rules_keep_serving(self):
        o1, o2 = self.origin(), self.origin()
        s = self.start(o1)
        self.assertEqual(self.served_by(s.port, o1, o2), 1)
        broken = remap_to(o2) + "# a comment\nmap http://only-one-url.example/\n"
        self.write(s, "remap.config", broken)
        log = self.reload(s, r"reload rejected")
        self.assertRegex(log, r"remap\.config:3: \S", log)
        self.assertTrue(s.running())
        for _ in range(5):  # the whole new config was rejected, not just the bad line
            self.assertEqual(self.served_by(s.port, o1, o2), 1)
        # Fixing the file and reloading again takes effect.
        self.write(s, "remap.config", remap_to(o2))
        self.reload(s, r"configuration reloaded")
        self.assertTrue(harness.wait_for(lambda: self.served_by(s.port, o1, o2) == 2, timeout=5))

    def test_bad_records_value_is_rejected_with_line(self):
        o1, o2 = self.origin(), self.origin()
        s = self.start(o1)
        self.write(s, "records.yaml", "records:\n  log:\n    dir: %s\n  http:\n    max_fields: lots\n" % s.log_dir)
        self.write(s, "remap.config", remap_to(o2))
        log = self.reload(s, r"reload rejected")
        self.assertRegex(log, r"records\.yaml:5: \S")
        self.assertEqual(self.served_by(s.port, o1, o2), 1)

    def test_restart_only_setting_keeps_running_value(self):
        o1, o2 = self.origin(), self.origin()
        s = self.start(o1)
        self.write(s, "records.yaml", "records:\n  log:\n    dir: %s\n  server:\n    threads: 3\n" % s.log_dir)
        self.write(s, "remap.config", remap_to(o2))
        log = self.reload(s, r"configuration reloaded")
        self.assertRegex(log, r"server\.threads: needs a restart to change from 1 to 3; keeping 1")
        # The rest of the new configuration applies.
        self.assertTrue(harness.wait_for(lambda: self.served_by(s.port, o1, o2) == 2, timeout=5))

    def test_error_log_level_is_reloadable(self):
        o = self.origin()
        s = self.strata(remap=remap_to(o), records={"server.threads": 1, "log.error.level": "error"})
        bad = b"GARBAGE\r\n\r\n"  # logged at INFO as "bad request"
        self.assertEqual(harness.request(s.port, bad).status, 400)
        self.assertTrue(harness.wait_for(lambda: any("/400 " in line for line in s.access_log_lines()), timeout=5))
        self.assertNotIn("bad request", s.log_text())
        self.write(s, "records.yaml", "records:\n  log:\n    dir: %s\n    error:\n      level: info\n" % s.log_dir)
        self.reload(s, r"configuration reloaded")
        self.assertEqual(harness.request(s.port, bad).status, 400)
        self.assertTrue(harness.wait_for(lambda: "bad request" in s.log_text(), timeout=5), s.log_text())


if __name__ == "__main__":
    harness.main()
