"""Vectorised tokenising and decimal parsing of whitespace-separated numeric text (no per-line Python loop).

`tokenize` splits a byte buffer into tokens, counts tokens per line and converts every token to float64
with numpy on whole arrays. Plain decimals (`-0.7201789`, `25`, `.5`) of up to 15 digits take an exact
fast path: each token's last 16 bytes are read as two little-endian 64-bit words, and SWAR arithmetic
(8 digits per word at once) turns its digits into an integer mantissa M < 10**15 < 2**53; the value
M / 10**k (k <= 15) is then one correctly rounded IEEE division of two exact doubles, so it equals
Python's `float(token)` bit for bit. Anything else (exponents, longer tokens, garbage) goes through
`float`. Every numpy step writes into buffers kept per thread (`_Workspace`): fresh temporaries of this
size would cost more in malloc and page faults than the arithmetic itself.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

_W = 16  # bytes per token window (two 64-bit words)
_CHUNK = 32768  # tokens per numpy pass (a 250 kB NTU file has ~32k); sizes the per-thread workspace
_MAX_FAST_DIGITS = 15  # 10**15 < 2**53: the mantissa is an exact double
_U64 = np.dtype("<u8")
_ZEROS = np.uint64(0x3030303030303030)  # eight ASCII '0'
_BIT4 = np.uint64(0x1010101010101010)
_SEVENTY_SIX = np.uint64(0x7676767676767676)  # byte + 0x76 reaches 0x80 exactly when byte >= 10
_HIGH_BITS = np.uint64(0x8080808080808080)


# _KEEP_HIGH[k] keeps the last k bytes of a little-endian word (its high bytes); _FILL_LOW puts '0' elsewhere
_KEEP_HIGH = np.array([((1 << (8 * k)) - 1) << (8 * (8 - k)) for k in range(9)], dtype=_U64)
_FILL_LOW = _ZEROS & ~_KEEP_HIGH
_POW10 = 10.0 ** np.arange(_MAX_FAST_DIGITS + 1)  # exact doubles
_POW10_INT = 10 ** np.arange(_MAX_FAST_DIGITS + 1, dtype=_U64)


class TokenError(ValueError):
    """A token or byte that is not part of a finite decimal number."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line  # 1-based
        self.reason = reason


@dataclass
class TokenTable:
    """Every token of a text buffer. K tokens, L lines (L = number of newlines + 1)."""

    values: np.ndarray  # (K,) float64, finite
    starts: np.ndarray  # (K,) int64 byte offset of each token
    ends: np.ndarray  # (K,) int64 byte offset one past each token
    counts: np.ndarray  # (L,) int64 tokens on each line
    first: np.ndarray  # (L,) int64 index of the first token of each line (= tokens on earlier lines)

    @property
    def num_lines(self) -> int:
        return int(self.counts.size)

    def line_of(self, k: int) -> int:
        """0-based line of token k."""
        return int(np.searchsorted(self.first, k, side="right")) - 1


class _Workspace(threading.local):
    """Per-thread buffers for `tokenize` and `_parse_fast`, made once (~4 MB, plus 3 bytes per byte of the
    largest text read): no temporaries are allocated per call, so repeated reads pay neither malloc nor the
    page faults of fresh memory. `_CHUNK` tokens per `_parse_fast` call at most."""

    def __init__(self) -> None:
        c = _CHUNK
        self.words, self.flags, self.tmp = (np.empty(2 * c, _U64) for _ in range(3))  # (2, K) when used
        self.keep = np.empty(2 * c, np.intp)
        self.i1, self.i2, self.i3 = (np.empty(c, np.intp) for _ in range(3))
        self.u1, self.u2, self.u3 = (np.empty(c, _U64) for _ in range(3))
        self.f1 = np.empty(c, np.float64)
        self.c8 = np.empty(2 * c, np.uint8)
        self.n8, self.n8b = np.empty(c, np.uint8), np.empty(c, np.uint8)
        self.b1, self.b2, self.b3, self.b4 = (np.empty(c, bool) for _ in range(4))
        self.bytes, self.mask, self.edge = np.empty(0, np.uint8), np.empty(0, bool), np.empty(0, bool)

    def text(self, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(size,) uint8 and two (size,) bool buffers for one text; they grow to the largest text seen."""
        if self.bytes.size < size:
            cap = max(size, 2 * self.bytes.size)
            self.bytes, self.mask, self.edge = np.empty(cap, np.uint8), np.empty(cap, bool), np.empty(cap, bool)
        return self.bytes[:size], self.mask[:size], self.edge[:size]


_WORK = _Workspace()
_ONE, _THREE, _TEN, _SIXTY_THREE = np.uint64(1), np.uint64(3), np.uint64(10), np.uint64(63)
_SIGN_BIT = np.uint64(1 << 63)


def _describe_bad(buf: bytes, pos: int) -> str:
    """Name the token around the disallowed byte at `pos` (or the byte itself if it is not text)."""
    b = buf[pos]
    if not 32 < b < 127:
        return f"unexpected byte 0x{b:02x} (not a number; binary data?)"
    lo, hi = pos, pos + 1
    while lo > 0 and 32 < buf[lo - 1] < 127:
        lo -= 1
    while hi < len(buf) and 32 < buf[hi] < 127 and hi - lo < 40:
        hi += 1
    return f"{buf[lo:hi].decode('ascii')!r} is not a number"


def tokenize(buf: bytes) -> TokenTable:
    """Split `buf` at ASCII whitespace and parse each token as a finite float (raises TokenError)."""
    n = len(buf)
    xp, scratch, edge = _WORK.text(_W + n + 8 + (-n) % 8)  # (W+n+tail,) whole 8-byte words; 2 x (same,) bool
    xp[:_W] = 32
    xp[_W : _W + n] = np.frombuffer(buf, dtype=np.uint8)
    xp[_W + n :] = 32
    x = xp[_W : _W + n]  # (n,) the buffer's bytes
    test = scratch[:n]  # one mask reused by every byte test
    newlines = np.flatnonzero(np.equal(x, 10, out=test))  # (L-1,) byte offsets of '\n'
    odd = sum(
        np.count_nonzero(op(x, c, out=test))
        for op, c in ((np.less, 32), (np.greater, 126), (np.equal, 47), (np.equal, 95))
    )
    space = newlines.size + np.count_nonzero(np.equal(x, 13, out=test)) + np.count_nonzero(np.equal(x, 9, out=test))
    if odd != space:  # bytes < 32 other than \n \r \t, > 126, '/' or '_' (float() accepts '1_0', the format not)
        bad = ((x < 32) & (x != 9) & (x != 10) & (x != 13)) | (x > 126) | (x == 47) | (x == 95)
        pos = int(np.argmax(bad))
        raise TokenError(int(np.searchsorted(newlines, pos)) + 1, _describe_bad(buf, pos))

    solid = np.greater(xp, 32, out=scratch)  # token bytes; every allowed byte <= 32 is whitespace; padding is not
    edge = edge[:-1]
    np.not_equal(solid[1:], solid[:-1], out=edge)  # before each token start and at each token end
    pos = np.flatnonzero(edge)  # (2K,) start - 1, end - 1 of every token in turn, in xp (padding is space)
    bounds = np.add(pos.reshape(-1, 2).T, 1 - _W, out=np.empty((2, pos.size // 2), dtype=np.int64))
    starts, ends = bounds  # (K,) byte offset of each token in buf, (K,) one past its end
    first = np.zeros(newlines.size + 1, dtype=np.int64)  # (L,)
    first[1:] = np.searchsorted(starts, newlines)  # tokens that start before each '\n'
    counts = np.diff(first, append=starts.size)  # (L,)
    table = TokenTable(values=np.zeros(0), starts=starts, ends=ends, counts=counts, first=first)

    values = np.empty(starts.size, dtype=np.float64)  # (K,)
    for i in range(0, starts.size, _CHUNK):
        _parse_fast(xp, starts[i : i + _CHUNK], ends[i : i + _CHUNK], values[i : i + _CHUNK])
    slow = np.flatnonzero(np.isnan(values))  # the tokens off the fast path: exponents, long ones, garbage
    if slow.size:
        toks = [buf[a:b] for a, b in zip(starts[slow].tolist(), ends[slow].tolist(), strict=True)]
        try:
            values[slow] = list(map(float, toks))
        except ValueError:
            for k, tok in zip(slow.tolist(), toks, strict=True):
                try:
                    float(tok)
                except ValueError:
                    raise TokenError(table.line_of(k) + 1, _describe_bad(buf, int(starts[k]))) from None
    nonfinite = ~np.isfinite(values)
    if nonfinite.any():
        k = int(np.argmax(nonfinite))
        tok = buf[starts[k] : ends[k]].decode("ascii")
        raise TokenError(table.line_of(k) + 1, f"{tok!r} is not a finite number")
    table.values = values
    return table


def _eight_digits(v: np.ndarray) -> np.ndarray:
    """SWAR, in place: words of 8 digit values 0..9 (first byte most significant) -> their value 0..99999999.

    Each step multiplies by 1 + m * 2**s, which adds m times each lane to the lane above it; no sum carries
    out of its lane (99 < 2**8, 9999 < 2**16, 99999999 < 2**32)."""
    for mul, shift, mask in _SWAR_STEPS:  # 4 pairs, 2 quads, 1 octet
        np.multiply(v, mul, out=v)
        np.right_shift(v, shift, out=v)
        if mask is not None:
            np.bitwise_and(v, mask, out=v)
    return v


_SWAR_STEPS = [
    (np.uint64(1 + (10 << 8)), np.uint64(8), np.uint64(0x00FF00FF00FF00FF)),
    (np.uint64(1 + (100 << 16)), np.uint64(16), np.uint64(0x0000FFFF0000FFFF)),
    (np.uint64(1 + (10000 << 32)), np.uint64(32), None),
]


def _parse_fast(xp: np.ndarray, starts: np.ndarray, ends: np.ndarray, out: np.ndarray) -> None:
    """Write to `out` (K,) the float64 of each plain decimal token with <= 15 digits; NaN where the fast path
    does not apply. K <= _CHUNK.

    xp is the buffer with _W leading spaces and trailing padding to whole 8-byte words; a token's last 16
    bytes are the words lo (columns 0-7, the more significant digits) and hi (columns 8-15). Bytes are
    ASCII 32..126 without '/' (tokenize checks), which the dot test below relies on. Every step writes into
    the thread's `_Workspace`.
    """
    k = starts.size
    ws = _WORK
    words, flags, tmp, keep, c8 = (a[: 2 * k].reshape(2, k) for a in (ws.words, ws.flags, ws.tmp, ws.keep, ws.c8))
    i1, raw, u1, u2, u3 = ws.i1[:k], ws.i2[:k], ws.u1[:k], ws.u2[:k], ws.u3[:k]
    n8, n8b, negative, b2, fast, b4 = ws.n8[:k], ws.n8b[:k], ws.b1[:k], ws.b2[:k], ws.b3[:k], ws.b4[:k]

    np.add(starts, _W, out=i1)
    lead = np.take(xp, i1, out=n8, mode="clip")  # (K,) first byte of each token
    np.equal(lead, 45, out=negative)
    np.equal(lead, 43, out=b2)
    np.logical_or(b2, negative, out=b2)  # signed
    np.subtract(ends, starts, out=raw)
    np.subtract(raw, b2, out=raw)  # (K,) bytes after the sign
    np.minimum(raw, 8, out=keep[1])  # bytes of the token in lo, hi (longer: clipped)
    np.subtract(raw, 8, out=keep[0])
    np.clip(keep[0], 0, 8, out=keep[0])

    # words: the 16 bytes before each end (offset ends + _W in xp, so the window starts at `ends`)
    aligned = xp.view(_U64)
    np.right_shift(ends, 3, out=i1)  # aligned word holding the window's first byte
    r = u1.view(np.int64)
    np.bitwise_and(ends, 7, out=r)
    np.left_shift(r, 3, out=r)  # bit offset of that byte in its word, 0..56
    r = u1
    left = np.subtract(_SIXTY_THREE, r, out=u2)  # shift by 63 - r, then by 1: never by 64
    np.take(aligned, i1, out=u3, mode="clip")
    np.right_shift(u3, r, out=words[0])
    np.take(aligned[1:], i1, out=u3, mode="clip")
    np.right_shift(u3, r, out=words[1])
    np.left_shift(u3, left, out=tmp[0])
    np.take(aligned[2:], i1, out=u3, mode="clip")
    np.left_shift(u3, left, out=tmp[1])
    np.left_shift(tmp, _ONE, out=tmp)
    np.bitwise_or(words, tmp, out=words)
    np.bitwise_and(words, np.take(_KEEP_HIGH, keep, out=tmp, mode="clip"), out=words)
    np.bitwise_or(words, np.take(_FILL_LOW, keep, out=tmp, mode="clip"), out=words)  # sign, bytes before -> '0'

    # Digits 0x30-0x39 have bit 4 set, '.' (0x2E) has not: flag such bytes, and '.' + 2 = '0' turns the dot
    # into a 0 digit (any other flagged byte stays a non-digit and fails the digit test).
    np.invert(words, out=flags)
    np.bitwise_and(flags, _BIT4, out=flags)  # (2, K) 0x10 in each non-digit byte
    np.add(words, np.right_shift(flags, _THREE, out=tmp), out=words)
    v = np.subtract(words, _ZEROS, out=words)  # (2, K) digit values, one per byte
    np.add(v, _SEVENTY_SIX, out=tmp)
    np.bitwise_or(tmp, v, out=tmp)
    np.bitwise_and(tmp, _HIGH_BITS, out=tmp)  # nonzero: a byte that is not 0..9 (no wrap: bytes <= 126)
    np.logical_or(tmp[0], tmp[1], out=fast)
    np.logical_not(fast, out=fast)  # every byte a digit (or the dot)

    nflags = np.bitwise_count(flags, out=c8)  # (2, K) non-digit bytes per word
    hi_dot = np.greater(nflags[1], 0, out=b2)
    ndots = np.add(nflags[0], nflags[1], out=n8)
    below = np.bitwise_count(np.subtract(flags, _ONE, out=tmp), out=c8)  # bits under the flag bit 8j+4, or 64
    # ndec, the digits after the '.', is 15 - j for the dot in column j: j = 8 * hi_dot + (below - 4) / 8
    ndec = np.add(below[0], below[1], out=n8b)  # each word counts at most 64 (no flag)
    ndec = np.subtract(188, ndec, out=i1, dtype=np.intp)
    np.subtract(ndec, np.multiply(hi_dot, 64, out=ws.i3[:k], dtype=np.intp), out=ndec)
    np.right_shift(ndec, 3, out=ndec)  # (K,) in -1..15 (out of 0..15 only off the fast path)
    has_dot = np.equal(ndots, 1, out=b2)
    np.multiply(ndec, has_dot, out=ndec)
    np.logical_and(fast, np.less_equal(ndots, 1, out=b4), out=fast)
    np.subtract(raw, has_dot, out=raw)  # digits
    np.logical_and(fast, np.greater_equal(raw, 1, out=b4), out=fast)
    np.logical_and(fast, np.less_equal(raw, _MAX_FAST_DIGITS, out=b4), out=fast)

    eight = _eight_digits(v)  # (2, K)
    whole = np.multiply(eight[0], np.uint64(10**8), out=u1)
    np.add(whole, eight[1], out=whole)  # dot read as 0: I * 10**(ndec+1) + F
    frac = np.remainder(whole, np.take(_POW10_INT, ndec, out=u2, mode="clip"), out=u2)  # F
    np.subtract(whole, frac, out=u3)
    np.floor_divide(u3, _TEN, out=u3)
    np.add(u3, frac, out=u3)  # I * 10**ndec + F
    np.copyto(whole, u3, where=has_dot)  # mantissa

    np.divide(whole, np.take(_POW10, ndec, out=ws.f1[:k], mode="clip"), out=out)
    np.bitwise_or(out.view(_U64), np.multiply(negative, _SIGN_BIT, out=u3), out=out.view(_U64))
    np.copyto(out, np.nan, where=np.logical_not(fast, out=fast))
