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

    def test_version(self):
        p = subprocess.run([harness.STRATA_BIN, "--version"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=15)
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout.decode("utf-8", "replace"), re.compile("strata", re.I))


if __name__ == "__main__":
    harness.main()
