#!/usr/bin/env python3
"""The command line: `strata --help` lists every option the daemon accepts,
the manual page strata(8) documents every one of them and every signal, an
unknown option exits 2, and both manual pages format without warnings."""

import os
import re
import shutil
import subprocess

import harness

MAN_DIR = os.path.join(harness.SRCDIR, "docs", "man")


def run(*args):
    p = subprocess.run([harness.STRATA_BIN] + list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=15)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def options_in(text):
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]*[a-z]", text))


def man_text(name):
    with open(os.path.join(MAN_DIR, name)) as f:
        text = f.read().replace("\\-", "-")  # roff's escaped hyphens
    return re.sub(r"\\f[BIRP]", "", text)  # and font changes


class CliTest(harness.TestCase):
    def test_help_lists_every_accepted_option(self):
        rc, out, _ = run("--help")
        self.assertEqual(rc, 0)
        listed = options_in(out)
        for option in ("--config-dir", "--listen", "--origin", "--set", "--cache", "--check-config",
                       "--settings-doc", "--settings-yaml", "--version", "--help"):
            self.assertIn(option, listed)
        self.assertIn("-h,", out)
        for signal_name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGUSR1"):
            self.assertIn(signal_name, out)
        # Every option the help lists is accepted: none is "unknown option".
        for option in sorted(listed):
            _, _, err = run(option, "--help") if option in ("--check-config",) else run(option, "x", "--help")
            self.assertNotIn("unknown option '%s'" % option, err)

    def test_unknown_option_exits_2(self):
        rc, _, err = run("--no-such-option")
        self.assertEqual(rc, 2)
        self.assertIn("unknown option '--no-such-option'", err)

    def test_man_page_documents_every_option_and_signal(self):
        _, out, _ = run("--help")
        man = man_text("strata.8")
        missing = options_in(out) - options_in(man)
        self.assertEqual(missing, set(), "in --help but not in docs/man/strata.8")
        for signal_name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGUSR1"):
            self.assertIn(signal_name, man)
        for name in ("records.yaml", "remap.config", "storage.config", "volume.config", "cache.config",
                     "ip_allow.yaml", "parent.config"):
            self.assertIn(name, man)

    def test_strata_cache_man_page_lists_the_commands(self):
        man = man_text("strata-cache.8")
        for command in ("spans", "stripes", "dir-stats", "lookup", "dump", "verify", "purge", "list"):
            self.assertRegex(man, r"\n\.B[IR]? %s\b" % re.escape(command), command)
        for option in ("--config-dir", "--cache", "--admin", "--json", "--body", "--repair", "--prefix",
                       "--limit"):
            self.assertIn(option, man)

    def test_strata_cache_man_page_matches_its_help(self):
        builddir = os.environ.get("STRATA_BUILDDIR") or os.path.dirname(os.path.dirname(harness.STRATA_BIN))
        tool = os.path.join(builddir, "tools", "strata-cache")
        if not os.access(tool, os.X_OK):
            self.skipTest("strata-cache not built at %s" % tool)
        p = subprocess.run([tool, "--help"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=15)
        self.assertEqual(p.returncode, 0)
        out = p.stdout.decode("utf-8", "replace")
        commands = re.findall(r"^  ([a-z][a-z-]+)\b", out.split("Commands:", 1)[1], re.M)
        self.assertGreaterEqual(len(commands), 8, out)
        man = man_text("strata-cache.8")
        for command in commands:
            self.assertRegex(man, r"\n\.B[IR]? %s\b" % re.escape(command), "command %s" % command)
        missing = options_in(out) - options_in(man)
        self.assertEqual(missing, set(), "in strata-cache --help but not in docs/man/strata-cache.8")

    def test_man_pages_format_without_warnings(self):
        groff = shutil.which("groff")
        if groff is None:
            self.skipTest("groff is not installed")
        for name in ("strata.8", "strata-cache.8"):
            p = subprocess.run([groff, "-man", "-Tutf8", "-ww", "-z", os.path.join(MAN_DIR, name)],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=30)
            self.assertEqual((p.returncode, p.stdout.decode()), (0, ""), name)


if __name__ == "__main__":
    harness.main()
