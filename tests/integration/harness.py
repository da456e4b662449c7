"""Shared code for Strata's integration tests.

Everything here drives real parts: the test origin (tests/origin/origin.py)
and the real `strata` daemon are started as processes on 127.0.0.1, and the
client speaks HTTP/1.1 over raw sockets so tests see the exact framing.

  Origin  context manager: starts origin.py, .port/.url/.host, .stats(), .reset()
  Strata  context manager: writes a config dir, starts STRATA_BIN, .port,
          .admin_port (its own admin listener), .pid, .rss_kb(),
          .access_log_lines(), .stop(sig, timeout), .admin(method, path)
  Client  (from rawhttp.py) one client connection: .send(), .read_response()
  request()/exchange()/keepalive_requests(): one-shot helpers
  TestCase  unittest base: a temp dir per test and a hard per-test timeout
  main()  runs a test module and prints "N passed, M failed[, K skipped]"

Environment: STRATA_BIN (default <repo>/proxy/strata), STRATA_SRCDIR
(default <repo>), TMPDIR, STRATA_KEEP_TMP=1 keeps the per-test temp dirs.
Processes are stopped by PID only, and die with the test process
(PR_SET_PDEATHSIG) if it is killed.
"""

import ctypes
import faulthandler
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
ORIGIN_DIR = os.path.join(REPO, "tests", "origin")
sys.path.insert(0, ORIGIN_DIR)
import body  # noqa: E402,F401  (re-exported for tests)
from rawhttp import (Client, ConnectionClosed, ProtocolError, Response,  # noqa: E402,F401
                     build_request, exchange, keepalive_requests, request)

SRCDIR = os.environ.get("STRATA_SRCDIR") or REPO
STRATA_BIN = os.environ.get("STRATA_BIN") or os.path.join(REPO, "proxy", "strata")
ORIGIN_PY = os.path.join(ORIGIN_DIR, "origin.py")
KEEP_TMP = os.environ.get("STRATA_KEEP_TMP") == "1"

_children = {}  # pid -> Popen, every process this module started and not reaped
_children_lock = threading.Lock()
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


# Under AddressSanitizer, freed blocks sit in a quarantine (256 MB by default),
# which the memory-bound tests would read as growth; a small one keeps them
# meaningful. The variable is ignored by builds without ASan.
_SANITIZER_ENV = {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "quarantine_size_mb=4")}


def _spawn(cmd, log_path, **kw):
    kw.setdefault("env", dict(os.environ, **_SANITIZER_ENV))
    log = open(log_path, "ab")
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                preexec_fn=_die_with_parent, **kw)
    finally:
        log.close()
    with _children_lock:
        _children[proc.pid] = proc
    return proc


def _reap(proc, sig=signal.SIGTERM, timeout=5.0):
    """Stops `proc` (sig, then SIGKILL after timeout). Returns (rc, timed_out)."""
    timed_out = False
    if proc.poll() is None:
        try:
            os.kill(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
    with _children_lock:
        _children.pop(proc.pid, None)
    return proc.returncode, timed_out


def _kill_all_children():
    with _children_lock:
        procs = list(_children.values())
    for p in procs:
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def free_port():
    """A port that was free a moment ago on 127.0.0.1 (ephemeral range)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=10.0, interval=0.05):
    """Polls predicate() until it is truthy (returns it) or timeout (returns last)."""
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def _read(path, limit=20000):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return ""
    text = data.decode("utf-8", "replace")
    return text if len(text) <= limit else "...\n" + text[-limit:]


class Origin:
    """The test origin (origin.py) as a process on 127.0.0.1."""

    def __init__(self, tmpdir=None):
        self._own_tmp = tmpdir is None
        self.tmpdir = tmpdir or tempfile.mkdtemp(prefix="strata-origin-")
        self.proc = None
        self.port = None

    def start(self):
        fd, port_file = tempfile.mkstemp(prefix="origin-", suffix=".port", dir=self.tmpdir)
        os.close(fd)
        os.unlink(port_file)
        self.log_path = port_file[:-5] + ".log"
        self.proc = _spawn([sys.executable, ORIGIN_PY, "--port", "0", "--port-file", port_file,
                            "--bind", "127.0.0.1"], self.log_path)
        deadline = time.monotonic() + 10
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError("origin did not start; log:\n" + _read(self.log_path))
            time.sleep(0.02)
        with open(port_file) as f:
            self.port = int(f.read())
        return self

    @property
    def host(self):
        return "127.0.0.1:%d" % self.port

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def _control(self, path):
        r = request(self.port, build_request("GET", path, host=self.host), timeout=10)
        if r.status != 200:
            raise AssertionError("origin %s answered %d" % (path, r.status))
        return json.loads(r.body)

    def stats(self):
        """{requests, connections, accepted, bad_requests, open_connections, by_path, by_method}.

        `connections` counts connections that carried at least one counted
        request (/__stats and /__reset are not counted)."""
        return self._control("/__stats")

    def reset(self):
        self._control("/__reset")

    def stop(self):
        if self.proc is not None:
            _reap(self.proc)
            self.proc = None
        if self._own_tmp and not KEEP_TMP:
            shutil.rmtree(self.tmpdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _yaml_scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    v = str(v)
    if re.fullmatch(r"[A-Za-z0-9_./+-][A-Za-z0-9_./:+-]*", v) and v.lower() not in (
            "true", "false", "yes", "no", "on", "off", "null", "~"):
        return v
    return json.dumps(v)  # a JSON string is a valid double-quoted YAML scalar


def render_records(settings):
    """records.yaml text from {"dotted.name": value}, nested under `records:`."""
    tree = {}
    for dotted, value in settings.items():
        node = tree
        parts = dotted.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    lines = ["records:"]

    def emit(node, depth):
        for k, v in node.items():
            if isinstance(v, dict):
                lines.append("  " * depth + "%s:" % k)
                emit(v, depth + 1)
            else:
                lines.append("  " * depth + "%s: %s" % (k, _yaml_scalar(v)))

    emit(tree, 1)
    return "\n".join(lines) + "\n"


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "WARNING: ThreadSanitizer",
                   "runtime error:")


class Strata:
    """The real daemon, started as a user would, with its own config dir.

    records: None (defaults), a dict {"dotted.name": value} (log.dir is added
    unless given), or the full records.yaml text ("@LOG_DIR@" is replaced by
    the log dir). remap: remap.config text, or None for no file.
    """

    def __init__(self, tmpdir, records=None, remap=None, origin=None, args=(), files=None,
                 start_timeout=10.0):
        self.tmpdir = tmpdir
        self.config_dir = os.path.join(tmpdir, "etc")
        self.log_dir = os.path.join(tmpdir, "log")
        self.log_path = os.path.join(tmpdir, "strata.out")
        self.records = records
        self.remap = remap
        self.origin = origin.url if isinstance(origin, Origin) else origin
        self.args = list(args)
        self.files = files or {}
        self.start_timeout = start_timeout
        self.proc = None
        self.port = None
        self.admin_port = None

    def write_config(self):
        os.makedirs(self.config_dir, exist_ok=True)
        os.makedirs(self.log_dir, exist_ok=True)
        if isinstance(self.records, str):
            text = self.records.replace("@LOG_DIR@", self.log_dir)
        else:
            settings = dict(self.records or {})
            settings.setdefault("log.dir", self.log_dir)
            text = render_records(settings)
        with open(os.path.join(self.config_dir, "records.yaml"), "w") as f:
            f.write(text)
        if self.remap is not None:
            with open(os.path.join(self.config_dir, "remap.config"), "w") as f:
                f.write(self.remap)
        for name, text in self.files.items():
            with open(os.path.join(self.config_dir, name), "w") as f:
                f.write(text)

    def sets_own_admin(self):
        """Whether the test chose the admin address (--admin, --set admin.listen=...)."""
        return "--admin" in self.args or any(str(a).startswith("admin.listen=") for a in self.args)

    def command(self, port, admin_port=None):
        cmd = [STRATA_BIN, "--config-dir", self.config_dir, "--listen", "127.0.0.1:%d" % port]
        # Every daemon gets its own admin port (tests run side by side),
        # unless the test sets the admin address itself.
        if admin_port is not None and not self.sets_own_admin():
            cmd += ["--admin", "127.0.0.1:%d" % admin_port]
        if self.origin:
            cmd += ["--origin", self.origin]
        return cmd + self.args

    def start(self):
        if not os.access(STRATA_BIN, os.X_OK):
            raise AssertionError("strata binary not found at %s (set STRATA_BIN)" % STRATA_BIN)
        self.write_config()
        for attempt in range(3):
            port = free_port()
            admin_port = free_port()
            self.proc = _spawn(self.command(port, admin_port), self.log_path)
            why = self._wait_listening(port)
            if why is None:
                self.port = port
                self.admin_port = None if self.sets_own_admin() else admin_port
                return self
            log = _read(self.log_path)
            self.stop_quietly()
            in_use = re.search(r"in use|EADDRINUSE", log, re.I)
            if not in_use or attempt == 2:
                raise AssertionError("strata %s; command: %s\nlog:\n%s"
                                     % (why, " ".join(self.command(port, admin_port)), log))

    def _wait_listening(self, port):
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                return "exited with %d during startup" % rc
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return None
            except OSError:
                time.sleep(0.05)
        return "did not accept connections within %.0f s" % self.start_timeout

    @property
    def pid(self):
        return self.proc.pid

    def admin(self, method, path, timeout=10):
        """One request to the admin listener; a Response."""
        return request(self.admin_port, build_request(method, path, host="127.0.0.1:%d" % self.admin_port),
                       timeout=timeout)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def rss_kb(self):
        """Resident set size from /proc/PID/status, in KiB (0 if gone)."""
        try:
            with open("/proc/%d/status" % self.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def access_log_path(self):
        return os.path.join(self.log_dir, "access.log")

    def access_log_lines(self):
        try:
            with open(self.access_log_path(), encoding="utf-8", errors="replace") as f:
                return [line.rstrip("\n") for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def log_text(self):
        return _read(self.log_path)

    def send_signal(self, sig):
        os.kill(self.pid, sig)

    def wait(self, timeout):
        """Exit code, or None if still running after timeout."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        """Sends sig and returns the exit code; fails if not exited in timeout."""
        rc, timed_out = _reap(self.proc, sig, timeout)
        if timed_out:
            raise AssertionError("strata did not exit within %.0f s of signal %d; log:\n%s"
                                 % (timeout, sig, self.log_text()))
        return rc

    def stop_quietly(self):
        if self.proc is not None:
            _reap(self.proc, signal.SIGTERM, 10)

    def sanitizer_report(self):
        log = self.log_text()
        return log if any(m in log for m in SANITIZER_MARKS) else None

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, *_):
        self.stop_quietly()
        report = self.sanitizer_report()
        if report and exc_type is None:
            raise AssertionError("sanitizer report in strata's output:\n" + report)


class RssSampler:
    """Samples a daemon's RSS every `interval` s in a thread; .peak_kb."""

    def __init__(self, strata, interval=0.02):
        self.strata = strata
        self.interval = interval
        self.peak_kb = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, self.strata.rss_kb())
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)


# ---------------------------------------------------------------- unittest


_RESULT = None


class TestCase(unittest.TestCase):
    """A temp dir per test (self.tmp) and a hard timeout (self.timeout, s).

    On timeout the test process prints the stacks, kills every process the
    harness started and exits non-zero: no test can hang the suite.
    """

    timeout = 30.0

    def setUp(self):
        timer = threading.Timer(self.timeout, self._timed_out)
        timer.daemon = True
        timer.start()
        self.addCleanup(timer.cancel)  # registered first, so it runs last
        self.tmp = tempfile.mkdtemp(prefix="strata-%s-" % self._testMethodName)
        if not KEEP_TMP:
            self.addCleanup(shutil.rmtree, self.tmp, True)

    def _timed_out(self):
        sys.stdout.write("\nTIMEOUT: %s exceeded %.0f s; stacks:\n" % (self.id(), self.timeout))
        sys.stdout.flush()
        faulthandler.dump_traceback(file=sys.stdout, all_threads=True)
        _kill_all_children()
        r = _RESULT
        if r is not None:
            failed = len(r.failures) + len(r.errors) + 1
            skipped = len(r.skipped)
            passed = max(0, r.testsRun - failed - skipped)
            sys.stdout.write(_summary(passed, failed, skipped) + "\n")
        sys.stdout.flush()
        os._exit(1)

    def origin(self):
        """A started Origin, stopped at cleanup."""
        o = Origin(self.tmp).start()
        self.addCleanup(o.stop)
        return o

    def strata(self, **kw):
        """A started Strata in this test's temp dir, stopped at cleanup."""
        s = Strata(self.tmp, **kw)
        self.addCleanup(s.__exit__, None, None, None)
        return s.start()


def _summary(passed, failed, skipped):
    line = "%d passed, %d failed" % (passed, failed)
    return line + (", %d skipped" % skipped if skipped else "")


def main():
    """Runs the calling test module (or the names given on the command line)."""
    global _RESULT
    module = sys.modules["__main__"]
    names = sys.argv[1:]
    loader = unittest.defaultTestLoader
    suite = loader.loadTestsFromNames(names, module) if names else loader.loadTestsFromModule(module)
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2)
    result = runner._makeResult()
    _RESULT = result
    unittest.registerResult(result)
    result.startTestRun()
    try:
        suite(result)
    finally:
        result.stopTestRun()
    result.printErrors()
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = max(0, result.testsRun - failed - skipped)
    print(_summary(passed, failed, skipped), flush=True)
    _kill_all_children()
    if failed:
        sys.exit(1)
    sys.exit(77 if result.testsRun and skipped == result.testsRun else 0)
