"""Vectorised tokenising and decimal parsing of whitespace-separated numeric text (no per-line Python loop).

`tokenize` splits a byte buffer into tokens, counts tokens per line and converts every token to float64
with numpy on whole arrays. Plain decimals (`-0.7201789`, `25`, `.5`) of up to 15 digits take an exact
fast path: each token's last 16 bytes are read as two little-endian 64-bit words, and SWAR arithmetic
(8 digits per word at once) turns its digits into an integer mantissa M < 10**15 < 2**53; the value
M / 10**k (k <= 15) is then one correctly rounded IEEE division of two exact doubles, so it equals
Python's `float(token)` bit for bit. Anything else (exponents, longer tokens, garbage) goes through
`float` one token at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_W = 16  # bytes per token window (two 64-bit words)
_CHUNK = 8000  # tokens per numpy pass: (2, K) uint64 temporaries stay under malloc's 128 KiB mmap threshold
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
    tail = 8 + (-len(buf)) % 8
    xp = np.frombuffer(b" " * _W + buf + b" " * tail, dtype=np.uint8)  # (W+n+tail,) whole 8-byte words
    x = xp[_W : _W + len(buf)]  # (n,) the buffer's bytes
    scratch = np.empty(xp.size, dtype=bool)  # one mask reused by every byte test (fewer page faults)
    test = scratch[: x.size]
    newlines = np.flatnonzero(np.equal(x, 10, out=test))  # (L-1,) byte offsets of '\n'
    odd = sum(np.count_nonzero(op(x, c, out=test)) for op, c in ((np.less, 32), (np.greater, 126), (np.equal, 47)))
    space = newlines.size + np.count_nonzero(np.equal(x, 13, out=test)) + np.count_nonzero(np.equal(x, 9, out=test))
    if odd != space:  # bytes < 32 other than \n \r \t, > 126, or '/'
        bad = ((x < 32) & (x != 9) & (x != 10) & (x != 13)) | (x > 126) | (x == 47)
        pos = int(np.argmax(bad))
        raise TokenError(int(np.searchsorted(newlines, pos)) + 1, _describe_bad(buf, pos))

    solid = xp > 32  # (W+n+tail,) token bytes; every allowed byte <= 32 is whitespace; padding is not
    edge = scratch[:-1]
    starts = np.flatnonzero(np.greater(solid[1:], solid[:-1], out=edge))  # (K,) token starts - 1, in xp
    starts += 1 - _W  # offsets in x
    ends = np.flatnonzero(np.greater(solid[:-1], solid[1:], out=edge))  # (K,) one past each token
    ends += 1 - _W
    first = np.zeros(newlines.size + 1, dtype=np.int64)  # (L,)
    first[1:] = np.searchsorted(starts, newlines)  # tokens that start before each '\n'
    counts = np.diff(first, append=starts.size)  # (L,)
    table = TokenTable(values=np.zeros(0), starts=starts, ends=ends, counts=counts, first=first)

    values = np.empty(starts.size, dtype=np.float64)  # (K,)
    for i in range(0, starts.size, _CHUNK):  # chunks keep temporaries small (large ones cost page faults)
        values[i : i + _CHUNK] = _parse_fast(xp, starts[i : i + _CHUNK], ends[i : i + _CHUNK])
    for k in np.flatnonzero(np.isnan(values)).tolist():  # the tokens off the fast path
        tok = buf[starts[k] : ends[k]]
        try:
            if b"_" in tok:  # float() accepts digit separators, the format does not
                raise ValueError
            values[k] = float(tok)
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
    """SWAR: words of 8 digit values 0..9 (first byte most significant) -> their value 0..99999999."""
    v = (v * np.uint64(10) + (v >> np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)  # 4 pairs
    v = (v * np.uint64(100) + (v >> np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)  # 2 quads
    return (v * np.uint64(10000) + (v >> np.uint64(32))) & np.uint64(0xFFFFFFFF)  # 1 octet


def _token_words(aligned: np.ndarray, end: np.ndarray) -> np.ndarray:
    """(2, K) little-endian words (lo, hi) of the 16 bytes before each byte offset `end`."""
    p = end - _W
    q = p >> 3  # aligned word holding the first byte
    r = ((p & 7) << 3).astype(_U64)  # bit offset of that byte in its word, 0..56
    left = np.uint64(63) - r  # shift by 63 - r, then by 1: never by 64
    one = np.uint64(1)
    a, b, c = np.take(aligned, q), np.take(aligned, q + 1), np.take(aligned, q + 2)
    out = np.empty((2, end.size), dtype=_U64)
    np.bitwise_or(a >> r, (b << left) << one, out=out[0])
    np.bitwise_or(b >> r, (c << left) << one, out=out[1])
    return out


def _parse_fast(xp: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(K,) float64 of each plain decimal token with <= 15 digits; NaN where the fast path does not apply.

    xp is the buffer with _W leading spaces and trailing padding to whole 8-byte words; a token's last 16
    bytes are the words lo (columns 0-7, the more significant digits) and hi (columns 8-15). Bytes are
    ASCII 32..126 without '/' (tokenize checks), which the dot test below relies on.
    """
    lead = np.take(xp, starts + _W)  # (K,) first byte of each token
    negative = lead == 45
    raw = ends - starts - (negative | (lead == 43))  # (K,) bytes after the sign
    keep = np.empty((2, starts.size), dtype=np.intp)  # bytes of the token in lo, hi (longer: clipped)
    np.minimum(raw, 8, out=keep[1])
    np.clip(raw - 8, 0, 8, out=keep[0])
    words = _token_words(xp.view(_U64), ends + _W)  # (2, K)
    words &= np.take(_KEEP_HIGH, keep)
    words |= np.take(_FILL_LOW, keep)  # sign and bytes before the token -> '0'

    # Digits 0x30-0x39 have bit 4 set, '.' (0x2E) has not: flag such bytes, and '.' + 2 = '0' turns the dot
    # into a 0 digit (any other flagged byte stays a non-digit and fails the digit test).
    flags = ~words & _BIT4  # (2, K) 0x10 in each non-digit byte
    words += flags >> np.uint64(3)
    v = words - _ZEROS  # (2, K) digit values, one per byte
    digits = ((v + _SEVENTY_SIX) | v) & _HIGH_BITS == 0  # (2, K) every byte 0..9 (no wrap: bytes <= 126)
    nflags = np.bitwise_count(flags)  # (2, K) uint8 non-digit bytes per word
    ndots = nflags[0] + nflags[1]
    has_dot = ndots == 1
    below = np.bitwise_count(flags - np.uint64(1))  # bits under the flag bit 8j+4 of column j (64: none)
    ndec = np.where(nflags[1] > 0, (60 - below[1]) >> 3, (124 - below[0]) >> 3)  # 7 - j or 15 - j
    ndec = np.where(has_dot, ndec, 0).astype(np.intp)  # (K,) digits after the '.'

    eight = _eight_digits(v)  # (2, K)
    whole = eight[0] * np.uint64(10**8) + eight[1]  # dot read as 0: I * 10**(ndec+1) + F
    frac = whole % np.take(_POW10_INT, ndec)  # F
    mantissa = np.where(has_dot, (whole - frac) // np.uint64(10) + frac, whole)  # I * 10**ndec + F

    ndig = raw - has_dot
    fast = digits[0] & digits[1] & (ndots <= 1) & (ndig >= 1) & (ndig <= _MAX_FAST_DIGITS)
    values = mantissa.astype(np.float64) / np.take(_POW10, ndec)
    np.negative(values, out=values, where=negative)
    values[~fast] = np.nan
    return values
