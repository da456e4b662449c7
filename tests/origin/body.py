"""Deterministic response bodies shared by the test origin and the tests.

The body for (path, size) is a pattern of PERIOD bytes derived from the
path (query string excluded) and repeated, cut to `size` bytes. PERIOD is a
prime so that segment boundaries in the proxy (powers of two) never line up
with the pattern: a dropped, repeated or reordered buffer changes the bytes.

The origin sends slices of it with body_slice(); tests compare a response
with expected_body() for small sizes and with expected_sha256() (computed
incrementally, in constant memory) for large ones.

Pure functions, safe to call from any thread.
"""

import functools
import hashlib

PERIOD = 65521  # largest prime below 64 KiB


def _strip_query(path):
    return path.split("?", 1)[0]


@functools.lru_cache(maxsize=64)
def pattern(path):
    """The PERIOD-byte pattern for `path` (query ignored)."""
    seed = hashlib.sha256(_strip_query(path).encode("utf-8", "surrogateescape")).digest()
    out = bytearray()
    counter = 0
    while len(out) < PERIOD:
        out += hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
        counter += 1
    return bytes(out[:PERIOD])


@functools.lru_cache(maxsize=16)
def _tiled(path, length):
    """The pattern repeated to at least `length` + PERIOD bytes."""
    pat = pattern(path)
    reps = (length + PERIOD) // PERIOD + 1
    return pat * reps


def body_slice(path, offset, length):
    """Bytes [offset, offset + length) of the body for `path`."""
    if length <= 0:
        return b""
    # Slice through a tile sized to the next power of two so that callers
    # asking for varying lengths share a few cached tiles.
    tile_len = 1 << max(16, (length - 1).bit_length())
    start = offset % PERIOD
    return _tiled(path, tile_len)[start:start + length]


def iter_body(path, size, piece=256 * 1024):
    """Yields the body for (path, size) in pieces of at most `piece` bytes."""
    offset = 0
    while offset < size:
        n = min(piece, size - offset)
        yield body_slice(path, offset, n)
        offset += n


def expected_body(path, size):
    """The whole body for (path, size). Use expected_sha256 for large sizes."""
    return b"".join(iter_body(path, size))


@functools.lru_cache(maxsize=32)
def expected_sha256(path, size):
    """Hex sha256 of the body for (path, size), computed in constant memory."""
    h = hashlib.sha256()
    for part in iter_body(path, size, piece=1 << 20):
        h.update(part)
    return h.hexdigest()
