#!/usr/bin/env python3
"""Graceful shutdown: on SIGTERM strata stops accepting, lets in-flight
transfers finish within server.shutdown_grace, and exits 0; past the grace
period it exits anyway."""

import hashlib
import signal
import socket
import threading
import time

import harness
from harness import build_request, body


class Transfer(threading.Thread):
    """A client reading one response in the background."""

    def __init__(self, port, target):
        super().__init__(daemon=True)
        self.client = harness.Client(port, timeout=15)
        self.target = target
        self.started = threading.Event()  # the response head has arrived
        self.hash = hashlib.sha256()
        self.response = None
        self.error = None

    def run(self):
        try:
            self.client.send(build_request("GET", self.target))
            self.client.on_recv = lambda n: self.started.set()
            self.response = self.client.read_response(sink=self.hash.update)
        except Exception as e:  # reported by the test
            self.error = e
        finally:
            self.started.set()
            self.client.close()


def refuses_connections(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except (ConnectionRefusedError, ConnectionResetError):
        # Reset: the connection reached the backlog just as the listener
        # closed, which is the same answer.
        return True


class ShutdownTest(harness.TestCase):
    def test_sigterm_lets_inflight_transfers_finish(self):
        o = self.origin()
        s = self.strata(origin=o, records={"server.shutdown_grace": "15s"})
        size = 2 * 1024 * 1024
        transfers = [Transfer(s.port, "/slow%d?size=%d&rate=1048576" % (i, size)) for i in range(3)]
        for t in transfers:
            t.start()
        for t in transfers:
            self.assertTrue(t.started.wait(10), "transfer did not start")
        s.send_signal(signal.SIGTERM)
        self.assertTrue(harness.wait_for(lambda: refuses_connections(s.port), timeout=5),
                        "still accepting connections after SIGTERM")
        for t in transfers:
            t.join(20)
        for i, t in enumerate(transfers):
            self.assertIsNone(t.error, "transfer %d: %r" % (i, t.error))
            self.assertEqual(t.response.status, 200)
            self.assertEqual(t.response.body_length, size)
            self.assertEqual(t.hash.hexdigest(), body.expected_sha256("/slow%d" % i, size))
        rc = s.wait(15)
        self.assertIsNotNone(rc, "strata still running after in-flight transfers ended")
        self.assertEqual(rc, 0, s.log_text())

    def test_grace_period_bounds_shutdown(self):
        o = self.origin()
        s = self.strata(origin=o, records={"server.shutdown_grace": "1s"})
        size = 10 * 1024 * 1024  # 10 s at this rate
        t = Transfer(s.port, "/long?size=%d&rate=1048576" % size)
        t.start()
        self.assertTrue(t.started.wait(10), "transfer did not start")
        sent_at = time.monotonic()
        s.send_signal(signal.SIGTERM)
        # Liveness bound well below the 10 s the transfer would need.
        rc = s.wait(7)
        self.assertIsNotNone(rc, "strata ignored shutdown_grace (still running 7 s after SIGTERM)")
        self.assertGreaterEqual(rc, 0, "strata died from a signal")
        t.join(10)
        self.assertFalse(t.response is not None and t.response.body_length == size,
                         "transfer completed although strata exited after %.1f s"
                         % (time.monotonic() - sent_at))

    def test_idle_daemon_exits_promptly_with_0(self):
        o = self.origin()
        s = self.strata(origin=o)
        r = harness.request(s.port, build_request("GET", "/x?size=10"))
        self.assertEqual(r.status, 200)
        self.assertEqual(s.stop(signal.SIGTERM, timeout=10), 0)


if __name__ == "__main__":
    harness.main()
