#!/usr/bin/env python3
"""strata --check-config DIR: 0 on the shipped etc/, and `file:line: problem`
with a non-zero exit for a bad remap rule or a bad records.yaml value."""

import os
import re
import shutil
import subprocess

import harness


def check_config(config_dir):
    p = subprocess.run([harness.STRATA_BIN, "--check-config", config_dir], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=15)
    return p.returncode, p.stdout.decode("utf-8", "replace")


class CheckConfigTest(harness.TestCase):
    def setUp(self):
        super().setUp()
        if not os.access(harness.STRATA_BIN, os.X_OK):
            self.fail("strata binary not found at %s (set STRATA_BIN)" % harness.STRATA_BIN)
        self.shipped = os.path.join(harness.SRCDIR, "etc")
        self.etc = os.path.join(self.tmp, "etc")
        shutil.copytree(self.shipped, self.etc)

    def read(self, name):
        try:
            with open(os.path.join(self.etc, name)) as f:
                text = f.read()
        except FileNotFoundError:
            return ""
        return text if not text or text.endswith("\n") else text + "\n"

    def test_shipped_config_is_valid(self):
        rc, out = check_config(self.shipped)
        self.assertEqual(rc, 0, out)

    def test_bad_remap_line_is_reported_with_line(self):
        text = self.read("remap.config")
        line = text.count("\n") + 1
        with open(os.path.join(self.etc, "remap.config"), "w") as f:
            f.write(text + "map http://only-one-url.example/\n")
        rc, out = check_config(self.etc)
        self.assertNotEqual(rc, 0, out)
        self.assertRegex(out, r"remap\.config:%d: \S" % line)

    def test_bad_records_value_is_reported_with_line(self):
        with open(os.path.join(self.etc, "records.yaml"), "w") as f:
            f.write("records:\n  server:\n    threads: banana\n")
        rc, out = check_config(self.etc)
        self.assertNotEqual(rc, 0, out)
        self.assertRegex(out, r"records\.yaml:3: \S")

    def test_bad_duration_is_reported_with_line(self):
        with open(os.path.join(self.etc, "records.yaml"), "w") as f:
            f.write("records:\n  timeouts:\n    client_head: 10s\n    origin_connect: soon\n")
        rc, out = check_config(self.etc)
        self.assertNotEqual(rc, 0, out)
        self.assertRegex(out, r"records\.yaml:4: \S")

    def append(self, name, text):
        before = self.read(name)
        with open(os.path.join(self.etc, name), "w") as f:
            f.write(before + text)
        return before.count("\n") + 1  # the line number of the first appended line

    def test_shipped_config_has_every_file(self):
        for name in ("records.yaml", "remap.config", "storage.config", "volume.config", "cache.config",
                     "ip_allow.yaml", "parent.config"):
            self.assertTrue(os.path.exists(os.path.join(self.shipped, name)), name)
        rc, out = check_config(self.shipped)
        self.assertEqual(rc, 0, out)
        self.assertIn("volume.config", out)
        self.assertIn("parent.config", out)

    def test_bad_volume_line_is_reported_with_line(self):
        line = self.append("volume.config", "volume=1 scheme=http size=250%\n")
        rc, out = check_config(self.etc)
        self.assertNotEqual(rc, 0, out)
        self.assertRegex(out, r"volume\.config:%d: size percentage" % line)

    def test_span_naming_an_undefined_volume_is_reported(self):
        line = self.append("storage.config", "extra.db 64M volume=7\n")
        rc, out = check_config(self.etc)
        self.assertNotEqual(rc, 0, out)
        self.assertRegex(out, r"storage\.config:%d: volume=7 is not defined in \S*volume\.config" % line)

    def test_parent_rule_is_reported_as_not_implemented(self):
        line = self.append("parent.config", 'dest_domain=. parent="p1.example:8080"\n')
        rc, out = check_config(self.etc)
        self.assertNotEqual(rc, 0, out)
        self.assertRegex(out, r"parent\.config:%d: parent selection is not implemented yet" % line)

    def test_every_file_is_checked_in_one_run(self):
        bad = {"records.yaml": "records:\n  http:\n    max_fields: lots\n",
               "remap.config": "map http://only-one-url.example/\n",
               "storage.config": "x.db banana\n",
               "volume.config": "volume=1\n",
               "cache.config": "dest_domain=example.com action=explode\n",
               "ip_allow.yaml": "allow: everyone\n",
               "parent.config": "dest_domain=. go_direct=true\n"}
        for name, text in bad.items():
            with open(os.path.join(self.etc, name), "w") as f:
                f.write(text)
        rc, out = check_config(self.etc)
        self.assertNotEqual(rc, 0, out)
        for name in bad:
            self.assertRegex(out, r"%s:\d+: \S" % re.escape(name), out)

    def test_version(self):
        p = subprocess.run([harness.STRATA_BIN, "--version"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=15)
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout.decode("utf-8", "replace"), re.compile("strata", re.I))


if __name__ == "__main__":
    harness.main()
