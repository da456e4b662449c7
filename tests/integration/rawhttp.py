"""A raw HTTP/1.1 client for tests: exact framing, strict checks.

Client is one connection with a read buffer; read_response() parses one
response (1xx collected, Content-Length / chunked with trailers / until
close) and rejects what RFC 9112 forbids a sender to send (bare LF or CR,
obs-fold, bad field names, NUL, CL together with TE). exchange(), request()
and keepalive_requests() are one-shot helpers. A Client is used by one
thread at a time.
"""

import json
import re
import select
import socket
import time


class ProtocolError(AssertionError):
    """The peer's bytes are not a valid HTTP/1.1 response."""


class ConnectionClosed(AssertionError):
    """The peer closed before a complete response."""


class Response:
    def __init__(self):
        self.version = None
        self.status = None
        self.reason = None
        self.headers = []       # [(name, value)] in order, names as received
        self.body = b""
        self.body_length = 0    # counts bytes given to a sink too
        self.trailers = []
        self.interim = []       # 1xx responses received before this one
        self.framing = None     # "none", "length", "chunked" or "close"
        self.raw_head = b""
        self.closed = None      # set by request()/exchange(): peer closed after it
        self.extra = b""        # bytes that arrived after it (exchange() only)

    def header_values(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def header(self, name, default=None):
        vals = self.header_values(name)
        return vals[0] if vals else default

    def has_header(self, name):
        return bool(self.header_values(name))

    def joined(self, name):
        """All values of a field joined with ", " (the RFC's list semantics)."""
        return ", ".join(self.header_values(name))

    def tokens(self, name):
        return [t.strip().lower() for t in self.joined(name).split(",") if t.strip()]

    def says_close(self):
        conn = self.tokens("connection")
        return ("close" in conn or self.framing == "close"
                or (self.version == "HTTP/1.0" and "keep-alive" not in conn))

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<Response %s %s %d bytes %s>" % (self.status, self.headers, self.body_length,
                                                 self.framing)


def build_request(method, target, host="strata.test", headers=(), body=None, chunked=False,
                  version="HTTP/1.1", chunk=65536, trailers=()):
    """Raw request bytes. body with chunked=True is sent in `chunk`-sized chunks."""
    lines = ["%s %s %s" % (method, target, version)]
    if host is not None:
        lines.append("Host: %s" % host)
    lines += ["%s: %s" % h for h in headers]
    payload = b""
    if body is not None:
        if chunked:
            lines.append("Transfer-Encoding: chunked")
            for i in range(0, len(body), chunk):
                part = body[i:i + chunk]
                payload += b"%x\r\n" % len(part) + part + b"\r\n"
            payload += b"0\r\n" + b"".join(b"%s: %s\r\n" % (n.encode(), v.encode())
                                            for n, v in trailers) + b"\r\n"
        else:
            lines.append("Content-Length: %d" % len(body))
            payload = body
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload


class Client:
    """One client connection to 127.0.0.1:port with a read buffer.

    rcvbuf sets SO_RCVBUF before connecting (a slow reader's small window).
    recv_size and on_recv (called with each received byte count) let a test
    read slowly: e.g. recv_size=1024 and on_recv sleeping.
    """

    def __init__(self, port, timeout=10.0, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.buf = bytearray()
        self.eof = False
        self.recv_size = 256 * 1024
        self.on_recv = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        self.sock.sendall(data)

    def send_tolerant(self, data):
        """Sends, ignoring a reset/broken pipe (a server may answer and close early)."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def _fill(self):
        if self.eof:
            return False
        try:
            data = self.sock.recv(self.recv_size)
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        if self.on_recv:
            self.on_recv(len(data))
        return True

    def _line(self, what):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                if i == 0 or self.buf[i - 1] != 0x0D:
                    raise ProtocolError("bare LF in %s: %r" % (what, bytes(self.buf[:i + 1])[:200]))
                line = bytes(self.buf[:i - 1])
                del self.buf[:i + 1]
                if b"\r" in line:
                    raise ProtocolError("bare CR in %s" % what)
                return line
            if not self._fill():
                raise ConnectionClosed("closed in the middle of %s (got %r)"
                                       % (what, bytes(self.buf[:200])))

    def _take(self, n, sink, resp):
        while n > 0:
            if not self.buf and not self._fill():
                raise ConnectionClosed("closed with %d body bytes missing" % n)
            part = bytes(self.buf[:n])
            del self.buf[:len(part)]
            n -= len(part)
            resp.body_length += len(part)
            if sink:
                sink(part)
            else:
                resp.body += part

    def read_response(self, method="GET", sink=None, stop_at_interim=False):
        """Reads one response (1xx interim ones are collected in .interim).

        sink(bytes) receives the body instead of .body (for large bodies).
        stop_at_interim returns the first 1xx itself (e.g. 100 Continue).
        """
        interim = []
        while True:
            if not self.buf and not self._fill():
                raise ConnectionClosed("closed before a response")
            resp = self._read_head()
            if 100 <= resp.status < 200 and resp.status != 101:
                if stop_at_interim:
                    return resp
                interim.append(resp)
                continue
            break
        resp.interim = interim
        self._read_body(resp, method, sink)
        return resp

    def _read_head(self):
        resp = Response()
        start = self._line("status line")
        resp.raw_head = start + b"\r\n"
        m = re.fullmatch(rb"(HTTP/\d\.\d) (\d{3}) ?(.*)", start)
        if not m:
            raise ProtocolError("bad status line %r" % start[:200])
        resp.version, resp.status = m.group(1).decode(), int(m.group(2))
        resp.reason = m.group(3).decode("latin-1")
        while True:
            line = self._line("response head")
            resp.raw_head += line + b"\r\n"
            if not line:
                return resp
            if line[:1] in (b" ", b"\t"):
                raise ProtocolError("obs-fold in response head: %r" % line[:200])
            name, sep, value = line.partition(b":")
            if not sep or not re.fullmatch(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", name):
                raise ProtocolError("bad field line %r" % line[:200])
            if b"\0" in value:
                raise ProtocolError("NUL in field value")
            resp.headers.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))

    def _read_body(self, resp, method, sink):
        te = resp.tokens("transfer-encoding")
        cls = resp.header_values("content-length")
        if method == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200:
            resp.framing = "none"
        elif te:
            if cls:
                raise ProtocolError("both Transfer-Encoding and Content-Length")
            if te[-1] == "chunked":
                resp.framing = "chunked"
                self._read_chunked(resp, sink)
            else:
                resp.framing = "close"
                self._read_to_close(resp, sink)
        elif cls:
            if len(cls) > 1 or not cls[0].isdigit():
                raise ProtocolError("bad Content-Length %r" % cls)
            resp.framing = "length"
            self._take(int(cls[0]), sink, resp)
        else:
            resp.framing = "close"
            self._read_to_close(resp, sink)

    def _read_chunked(self, resp, sink):
        while True:
            line = self._line("chunk size")
            size_txt = line.split(b";", 1)[0].strip(b" \t")
            if not re.fullmatch(rb"[0-9A-Fa-f]{1,16}", size_txt):
                raise ProtocolError("bad chunk size line %r" % line[:100])
            size = int(size_txt, 16)
            if size == 0:
                break
            self._take(size, sink, resp)
            if self._line("chunk end") != b"":
                raise ProtocolError("chunk data not followed by CRLF")
        while True:
            line = self._line("trailers")
            if not line:
                return
            name, _, value = line.partition(b":")
            resp.trailers.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))

    def _read_to_close(self, resp, sink):
        while True:
            if self.buf:
                part = bytes(self.buf)
                self.buf.clear()
                resp.body_length += len(part)
                if sink:
                    sink(part)
                else:
                    resp.body += part
            if not self._fill():
                return

    def request(self, raw, method=None, **kw):
        self.send(raw)
        return self.read_response(method or _method_of(raw), **kw)

    def wait_closed(self, timeout=5.0):
        """True once the peer has closed (EOF or reset) within timeout.
        Bytes that arrive meanwhile are kept in self.buf."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([self.sock], [], [], left)
            if r:
                self._fill()
        return True


def _method_of(raw):
    return raw.split(b" ", 1)[0].decode("latin-1")


def exchange(port, raw, count=1, methods=None, timeout=10.0):
    """Sends raw (one or more requests) on a new connection, reads `count`
    responses. The last one gets .closed (did the peer close? waited for up to
    timeout if it said it would, else only what already arrived) and .extra."""
    methods = methods or [_method_of(raw)] * count
    with Client(port, timeout) as c:
        c.send_tolerant(raw)
        out = [c.read_response(m) for m in methods]
        last = out[-1]
        last.closed = c.wait_closed(timeout if last.says_close() else 0.0)
        last.extra = bytes(c.buf)
        return out


def request(port, raw, timeout=10.0, method=None):
    """One request on a new connection; see exchange()."""
    return exchange(port, raw, 1, [method] if method else None, timeout)[0]


def keepalive_requests(port, raws, timeout=10.0):
    """Sends each request after the previous response, all on one connection."""
    with Client(port, timeout) as c:
        return [c.request(raw) for raw in raws]
