#!/usr/bin/env python3
"""Strata's test origin: a threaded HTTP/1.1 server on raw sockets.

It parses requests itself (no http.server, which hides framing) so it can
check the framing the proxy sends and answer with any status, headers, body
size, speed and framing. One thread per connection; counters under one lock.

Usage: origin.py --port N (0 = pick) --port-file FILE --bind 127.0.0.1
The bound port is written (atomically) to --port-file once listening.
SIGTERM or SIGINT ends the process at once.

Behaviour is chosen by query parameters on any path:
  status=N       final status (default 200)
  size=N         body of N bytes: body.body_slice(path without query, ...)
  chunked=1      chunked response; chunk=N sets the chunk size (default 8192)
  close=1        no Content-Length, body delimited by closing the connection
  delay_ms=N     wait N ms before sending the final head
  rate=N         send the body at about N bytes/s
  read_rate=N    read the request body at about N bytes/s
  hdr=Name:Value extra response field (repeatable)
  abort_after=N  announce the full body, close after N body bytes
  reset_after=N  send N body bytes, then reset the connection (TCP RST:
                 SO_LINGER {1, 0} and close) instead of closing it cleanly
  interim=N      send that 1xx (with a Link field) before the final response
                 (repeatable)
  trailer=Name:Value  trailer field, with chunked=1 (repeatable)
  keepalive=0    answer with "Connection: close" and close
  etag=VALUE     send "ETag: VALUE" (VALUE with its quotes, e.g. "v1" or
                 W/"v1"); answer 304 (no body) when the request's
                 If-None-Match lists VALUE (weak comparison) or is "*"
  lm=HTTPDATE    send "Last-Modified: HTTPDATE"; answer 304 when the request
                 has no If-None-Match and an If-Modified-Since >= HTTPDATE
Special paths: /echo* (JSON description of the request as received; also
any path with a segment starting "echo", so remapped paths still echo),
/__stats (JSON counters), /__reset (zero the counters, modes and last
requests), /malformed?kind=X.
  /__mode?path=P&PARAMS  from now on, requests for path P behave as if
                 PARAMS were in their query: each PARAMS name replaces the
                 request's values of that name, except hdr=Name:Value, which
                 replaces only the request's hdr fields of the same Name (and
                 adds the others). /__mode?path=P alone clears P's mode.
                 E.g. /__mode?path=/x&status=500 makes /x fail.
  /__last?path=P  JSON {method, target, headers} of the last counted request
                 for path P as received (before any mode), or null.
/__stats, /__reset, /__mode and /__last are not counted.
"""

import argparse
import email.utils
import hashlib
import http.client
import json
import os
import re
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import body  # noqa: E402

MAX_HEAD = 1 << 20
IDLE_TIMEOUT = 60.0
TOKEN_CHARS = frozenset(b"!#$%&'*+-.^_`|~0123456789"
                        b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
# A path with a segment starting "echo" (/echo, /echo/x, /new/echo/y, /echo2)
# is answered by echo(), so remapped paths still echo.
ECHO_PATH = re.compile(r"(^|/)echo")


class BadRequest(Exception):
    """The peer sent a request that is not valid HTTP/1.1."""


MODES = {}  # path -> {name: [values]} from /__mode; guarded by STATS.lock
LAST = {}   # path -> last request description; guarded by STATS.lock


class Stats:
    """Counters shared by all connection threads; every access holds lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.requests = 0
            self.connections = 0   # connections that carried a counted request
            self.accepted = 0      # every accepted connection
            self.bad_requests = 0  # requests the origin could not parse
            self.by_path = {}
            self.by_method = {}
            MODES.clear()
            LAST.clear()

    def snapshot(self, open_connections):
        with self.lock:
            return {
                "requests": self.requests,
                "connections": self.connections,
                "accepted": self.accepted,
                "bad_requests": self.bad_requests,
                "open_connections": open_connections,
                "by_path": dict(self.by_path),
                "by_method": dict(self.by_method),
            }


STATS = Stats()
OPEN = {"n": 0}  # open connections; guarded by STATS.lock


class Reader:
    """Buffered reads from a socket. EOFError when the peer closes."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def fill(self, want=262144):
        data = self.sock.recv(want)
        if not data:
            raise EOFError
        self.buf += data

    def read_until(self, delim, limit):
        start = 0
        while True:
            i = self.buf.find(delim, start)
            if i >= 0:
                out = bytes(self.buf[:i + len(delim)])
                del self.buf[:i + len(delim)]
                return out
            if len(self.buf) > limit:
                raise BadRequest("line or head too long")
            start = max(0, len(self.buf) - len(delim) + 1)
            self.fill()

    def read_some(self, n):
        if not self.buf:
            self.fill(min(n, 262144))
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_exact(self, n):
        while len(self.buf) < n:
            self.fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out


class Request:
    def __init__(self, method, target, version, headers):
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers  # ordered [name, value] as received
        split = urllib.parse.urlsplit(target)
        self.path = split.path if target.startswith("/") else target
        self.query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        self.body_length = 0
        self.body_sha256 = hashlib.sha256(b"").hexdigest()
        self.body_chunked = False
        self.trailers = []

    def get(self, name):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None

    def tokens(self, name):
        out = []
        for n, v in self.headers:
            if n.lower() == name.lower():
                out += [t.strip().lower() for t in v.split(",") if t.strip()]
        return out

    def param(self, name, default=None):
        vals = self.query.get(name)
        return vals[-1] if vals else default

    def int_param(self, name, default=0):
        v = self.param(name)
        return int(v) if v not in (None, "") else default

    def params(self, name):
        return self.query.get(name, [])

    def apply_mode(self, mode):
        """Overrides query parameters with a /__mode entry (see the top)."""
        for name, values in mode.items():
            if name != "hdr":
                self.query[name] = list(values)
                continue
            names = {split_field(v)[0].lower() for v in values}
            kept = [v for v in self.query.get("hdr", []) if split_field(v)[0].lower() not in names]
            self.query["hdr"] = kept + list(values)

    def wants_close(self):
        conn = self.tokens("connection")
        if "close" in conn:
            return True
        return self.version == "HTTP/1.0" and "keep-alive" not in conn


def parse_fields(lines):
    """[name, value] pairs from header lines; strict (no obs-fold etc.)."""
    fields = []
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            raise BadRequest("obs-fold")
        if b"\r" in line or b"\n" in line or b"\0" in line:
            raise BadRequest("bare CR/LF or NUL in field")
        name, sep, value = line.partition(b":")
        if not sep or not name or any(c not in TOKEN_CHARS for c in name):
            raise BadRequest("bad field name %r" % name[:40])
        fields.append([name.decode("latin-1"), value.strip(b" \t").decode("latin-1")])
    return fields


def read_request_head(reader):
    """Reads one request head; None if the peer closed between requests."""
    try:
        while True:  # RFC 9112 2.2: ignore empty lines before a request line
            while reader.buf[:2] == b"\r\n":
                del reader.buf[:2]
            if reader.buf:
                break
            reader.fill()
    except EOFError:
        return None
    head = reader.read_until(b"\r\n\r\n", MAX_HEAD)
    lines = head[:-4].split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or parts[2] not in (b"HTTP/1.1", b"HTTP/1.0") or not parts[1]:
        raise BadRequest("bad request line %r" % lines[0][:80])
    if any(c not in TOKEN_CHARS for c in parts[0]):
        raise BadRequest("bad method")
    return Request(parts[0].decode("latin-1"), parts[1].decode("latin-1"),
                   parts[2].decode("latin-1"), parse_fields(lines[1:]))


class Pacer:
    """Sleeps so that the bytes passed to account() go at about `rate`/s."""

    def __init__(self, rate):
        self.rate = rate
        self.start = time.monotonic()
        self.done = 0

    def piece(self, default):
        return max(1, min(default, self.rate // 50)) if self.rate > 0 else default

    def account(self, n):
        self.done += n
        if self.rate > 0:
            ahead = self.done / self.rate - (time.monotonic() - self.start)
            if ahead > 0:
                time.sleep(ahead)


def read_request_body(sock, reader, req):
    """Reads (and hashes) the request body; sends 100 Continue if asked."""
    te = req.tokens("transfer-encoding")
    cls = [v for n, v in req.headers if n.lower() == "content-length"]
    if te and cls:
        raise BadRequest("both Content-Length and Transfer-Encoding")
    if len(cls) > 1:
        raise BadRequest("repeated Content-Length")
    if te and te[-1] != "chunked":
        raise BadRequest("Transfer-Encoding does not end in chunked")
    length = 0
    if cls:
        if not cls[0].isdigit():
            raise BadRequest("bad Content-Length")
        length = int(cls[0])
    if not te and length == 0:
        return
    if "100-continue" in req.tokens("expect") and req.version == "HTTP/1.1":
        sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    h = hashlib.sha256()
    pacer = Pacer(req.int_param("read_rate"))
    total = 0

    def consume(n):
        nonlocal total
        while n > 0:
            data = reader.read_some(min(n, pacer.piece(262144)))
            h.update(data)
            n -= len(data)
            total += len(data)
            pacer.account(len(data))

    if te:
        req.body_chunked = True
        while True:
            line = reader.read_until(b"\r\n", 4096)[:-2]
            size_txt = line.split(b";", 1)[0].strip(b" \t")
            try:
                size = int(size_txt, 16)
                if not size_txt or any(c not in b"0123456789abcdefABCDEF" for c in size_txt):
                    raise ValueError
            except ValueError:
                raise BadRequest("bad chunk size %r" % line[:40]) from None
            if size == 0:
                break
            consume(size)
            if reader.read_exact(2) != b"\r\n":
                raise BadRequest("chunk data not followed by CRLF")
        trailer_lines = []
        while True:
            line = reader.read_until(b"\r\n", MAX_HEAD)[:-2]
            if not line:
                break
            trailer_lines.append(line)
        req.trailers = parse_fields(trailer_lines)
    else:
        consume(length)
    req.body_length = total
    req.body_sha256 = h.hexdigest()


def reason(status):
    return http.client.responses.get(status, "Status")


def split_field(text):
    name, _, value = text.partition(":")
    return name.strip(), value.strip()


class Response:
    """What to send for one request, decided from the query parameters."""

    def __init__(self, req, content, content_type="application/octet-stream"):
        self.req = req
        self.status = req.int_param("status", 200)
        self.content = content  # callable(offset, n) -> bytes, or None
        self.size = 0
        self.content_type = content_type
        self.chunked = req.param("chunked") == "1"
        self.chunk = req.int_param("chunk", 8192) or 8192
        self.until_close = req.param("close") == "1"
        self.rate = req.int_param("rate")
        self.abort_after = req.int_param("abort_after", -1)
        self.reset_after = req.int_param("reset_after", -1)
        self.extra = [split_field(v) for v in req.params("hdr")]
        self.trailers = [split_field(v) for v in req.params("trailer")]
        self.close = (req.wants_close() or req.param("keepalive") == "0"
                      or self.until_close or self.abort_after >= 0 or self.reset_after >= 0)

    def has_body(self):
        return not (100 <= self.status < 200 or self.status in (204, 304))

    def head(self):
        fields = [("Server", "strata-test-origin")]
        if not any(n.lower() == "content-type" for n, _ in self.extra) and self.has_body():
            fields.append(("Content-Type", self.content_type))
        if self.has_body():
            if self.chunked:
                fields.append(("Transfer-Encoding", "chunked"))
                if self.trailers:
                    fields.append(("Trailer", ", ".join(n for n, _ in self.trailers)))
            elif not self.until_close:
                fields.append(("Content-Length", str(self.size)))
        if self.close:
            fields.append(("Connection", "close"))
        fields += self.extra
        lines = ["HTTP/1.1 %d %s" % (self.status, reason(self.status))]
        lines += ["%s: %s" % f for f in fields]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def send(self, sock):
        for code in self.req.params("interim"):
            code = int(code)
            sock.sendall(b"HTTP/1.1 %d %s\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n"
                         % (code, reason(code).encode()))
        delay = self.req.int_param("delay_ms")
        if delay > 0:
            time.sleep(delay / 1000.0)
        sock.sendall(self.head())
        if self.req.method == "HEAD" or not self.has_body():
            return
        limit = self.size if self.abort_after < 0 else min(self.size, self.abort_after)
        if self.reset_after >= 0:
            limit = min(limit, self.reset_after)
        pacer = Pacer(self.rate)
        piece = pacer.piece(self.chunk if self.chunked else 262144)
        offset = 0
        while offset < limit:
            data = self.content(offset, min(piece, limit - offset))
            if self.chunked:
                sock.sendall(b"%x\r\n" % len(data) + data + b"\r\n")
            else:
                sock.sendall(data)
            offset += len(data)
            pacer.account(len(data))
        if self.reset_after >= 0:
            # Closing with linger {on, 0 s} sends a RST instead of a FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        if self.abort_after >= 0:
            return
        if self.chunked:
            tail = b"0\r\n"
            for n, v in self.trailers:
                tail += ("%s: %s\r\n" % (n, v)).encode("latin-1")
            sock.sendall(tail + b"\r\n")


def _etag_opaque(tag):
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def not_modified(req):
    """True when etag= / lm= and the request's conditionals call for a 304."""
    etag = req.param("etag")
    inm = req.get("If-None-Match")
    if inm is not None:
        if etag is None:
            return False
        tags = [t.strip() for t in inm.split(",")]
        return "*" in tags or _etag_opaque(etag) in [_etag_opaque(t) for t in tags]
    lm, ims = req.param("lm"), req.get("If-Modified-Since")
    if lm is None or ims is None:
        return False
    try:
        return email.utils.parsedate_to_datetime(ims) >= email.utils.parsedate_to_datetime(lm)
    except (TypeError, ValueError):
        return False


def generated(req):
    resp = Response(req, lambda off, n: body.body_slice(req.path, off, n))
    resp.size = req.int_param("size")
    validators = []
    if req.param("etag") is not None:
        validators.append(("ETag", req.param("etag")))
    if req.param("lm") is not None:
        validators.append(("Last-Modified", req.param("lm")))
    resp.extra = validators + resp.extra
    if not_modified(req):
        resp.status = 304
    return resp


def echo(req, conn_id, index):
    doc = {
        "method": req.method,
        "target": req.target,
        "version": req.version,
        "headers": req.headers,
        "body_length": req.body_length,
        "body_sha256": req.body_sha256,
        "body_chunked": req.body_chunked,
        "trailers": req.trailers,
        "connection_id": conn_id,
        "request_index": index,
    }
    data = json.dumps(doc).encode()
    resp = Response(req, lambda off, n: data[off:off + n], "application/json")
    resp.size = len(data)
    return resp


def fixed_json(req, doc):
    data = json.dumps(doc).encode()
    head = ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\nConnection: close\r\n\r\n" % len(data))
    return head.encode() + data


MALFORMED = {
    "garbage": b"THIS IS NOT HTTP AT ALL\r\n\r\n",
    "close_no_response": b"",
    "cl_te": (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"5\r\nhello\r\n0\r\n\r\n"),
    "two_cl": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    "bad_cl": b"HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello",
    "bad_status": b"HTTP/1.1 2x0 OK\r\nContent-Length: 5\r\n\r\nhello",
    "bad_version": b"HTTPX/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    "space_colon": b"HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello",
    "nul": b"HTTP/1.1 200 OK\r\nX-Bad: a\0b\r\nContent-Length: 5\r\n\r\nhello",
    "obs_fold": b"HTTP/1.1 200 OK\r\nX-Folded: a\r\n  b\r\nContent-Length: 5\r\n\r\nhello",
    "bare_lf": b"HTTP/1.1 200 OK\nContent-Length: 5\n\nhello",
    "huge_head": (b"HTTP/1.1 200 OK\r\nX-Huge: " + b"h" * (200 * 1024)
                  + b"\r\nContent-Length: 5\r\n\r\nhello"),
    "truncated_head": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n",
    # The head is valid; the body is not (the proxy may have sent the head on).
    "bad_chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
}


def count(req, first_on_conn):
    with STATS.lock:
        STATS.requests += 1
        if first_on_conn:
            STATS.connections += 1
        STATS.by_path[req.path] = STATS.by_path.get(req.path, 0) + 1
        STATS.by_method[req.method] = STATS.by_method.get(req.method, 0) + 1


def close_gracefully(sock):
    """Half-closes and drains briefly so unread input does not cause a RST."""
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(1.0)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and sock.recv(65536):
            pass
    except OSError:
        pass


def serve_connection(sock, conn_id):
    reader = Reader(sock)
    counted = False
    index = 0
    try:
        while True:
            try:
                req = read_request_head(reader)
                if req is None:
                    return
                read_request_body(sock, reader, req)
            except BadRequest as e:
                with STATS.lock:
                    STATS.bad_requests += 1
                msg = ("bad request: %s\n" % e).encode()
                sock.sendall(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"
                             b"Content-Length: %d\r\n\r\n" % len(msg) + msg)
                close_gracefully(sock)
                return
            if req.path == "/__stats":
                with STATS.lock:
                    n_open = OPEN["n"]
                sock.sendall(fixed_json(req, STATS.snapshot(n_open)))
                close_gracefully(sock)
                return
            if req.path in ("/__mode", "/__last"):
                path = req.param("path", "")
                with STATS.lock:
                    if req.path == "/__mode":
                        mode = {k: v for k, v in req.query.items() if k != "path"}
                        if mode:
                            MODES[path] = mode
                        else:
                            MODES.pop(path, None)
                        doc = {"path": path, "mode": mode}
                    else:
                        doc = LAST.get(path)
                sock.sendall(fixed_json(req, doc))
                close_gracefully(sock)
                return
            if req.path == "/__reset":
                STATS.reset()
                sock.sendall(fixed_json(req, {"reset": True}))
                close_gracefully(sock)
                return
            index += 1
            count(req, not counted)
            counted = True
            with STATS.lock:
                LAST[req.path] = {"method": req.method, "target": req.target,
                                  "headers": [list(h) for h in req.headers]}
                mode = MODES.get(req.path)
            if mode:
                req.apply_mode(mode)
            if req.path == "/malformed":
                sock.sendall(MALFORMED.get(req.param("kind", "garbage"), MALFORMED["garbage"]))
                close_gracefully(sock)
                return
            is_echo = ECHO_PATH.search(req.path)
            resp = echo(req, conn_id, index) if is_echo else generated(req)
            resp.send(sock)
            if resp.reset_after >= 0:
                return  # the close in `finally` resets the connection
            if resp.close:
                close_gracefully(sock)
                return
    except (EOFError, OSError):
        return
    finally:
        with STATS.lock:
            OPEN["n"] -= 1
        try:
            sock.close()
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--bind", default="127.0.0.1")
    args = ap.parse_args()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: os._exit(0))

    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((args.bind, args.port))
    lsock.listen(1024)
    port = lsock.getsockname()[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)
    else:
        print(port, flush=True)

    conn_id = 0
    while True:
        sock, _ = lsock.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(IDLE_TIMEOUT)
        conn_id += 1
        with STATS.lock:
            STATS.accepted += 1
            OPEN["n"] += 1
        threading.Thread(target=serve_connection, args=(sock, conn_id), daemon=True).start()


if __name__ == "__main__":
    main()
