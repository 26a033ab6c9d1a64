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

import re
from dataclasses import dataclass

import numpy as np

_W = 16  # bytes per token window (two 64-bit words)
_CHUNK = 8192  # tokens converted per numpy pass
_MAX_FAST_DIGITS = 15  # 10**15 < 2**53: the mantissa is an exact double
_U64 = np.dtype("<u8")
_ZEROS = np.uint64(0x3030303030303030)  # eight ASCII '0'
_SIX = np.uint64(0x0606060606060606)
_HIGH = np.uint64(0xF0F0F0F0F0F0F0F0)
_THREES = np.uint64(0x3333333333333333)


_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_DOTS = np.uint64(0x2E2E2E2E2E2E2E2E)  # eight '.'
# _KEEP_HIGH[k] keeps the last k bytes of a little-endian word (its high bytes); _FILL_LOW puts '0' elsewhere
_KEEP_HIGH = np.array([((1 << (8 * k)) - 1) << (8 * (8 - k)) for k in range(9)], dtype=_U64)
_FILL_LOW = _ZEROS & ~_KEEP_HIGH
_POW10 = 10.0 ** np.arange(_MAX_FAST_DIGITS + 1)  # exact doubles
_NUMBER_RE = re.compile(rb"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")  # what `float` accepts here


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
    newlines = np.flatnonzero(x == 10)  # (L-1,) byte offsets of '\n'
    control = (x < 32) & (x != 9) & (x != 10) & (x != 13)
    bad = control | (x > 126)
    if bad.any():
        pos = int(np.argmax(bad))
        raise TokenError(int(np.searchsorted(newlines, pos)) + 1, _describe_bad(buf, pos))

    solid = np.zeros(x.size + 2, dtype=bool)
    solid[1:-1] = x > 32  # token bytes; every allowed byte <= 32 is whitespace
    edges = np.flatnonzero(solid[1:] != solid[:-1])  # alternating token starts and ends
    starts, ends = edges[0::2], edges[1::2]  # (K,), (K,)
    first = np.zeros(newlines.size + 1, dtype=np.int64)  # (L,)
    first[1:] = np.searchsorted(starts, newlines)  # tokens that start before each '\n'
    counts = np.diff(first, append=starts.size)  # (L,)
    table = TokenTable(values=np.zeros(0), starts=starts, ends=ends, counts=counts, first=first)

    # chunks of tokens keep every temporary array in cache (about 2x faster than one pass on real files)
    values = np.concatenate([np.zeros(0)] + [
        _parse_fast(xp, starts[i : i + _CHUNK], ends[i : i + _CHUNK]) for i in range(0, starts.size, _CHUNK)
    ])
    for k in np.flatnonzero(np.isnan(values)).tolist():  # the tokens off the fast path
        tok = buf[starts[k] : ends[k]]
        if _NUMBER_RE.fullmatch(tok) is None:
            raise TokenError(table.line_of(k) + 1, _describe_bad(buf, int(starts[k])))
        values[k] = float(tok)
    nonfinite = ~np.isfinite(values)
    if nonfinite.any():
        k = int(np.argmax(nonfinite))
        tok = buf[starts[k] : ends[k]].decode("ascii")
        raise TokenError(table.line_of(k) + 1, f"{tok!r} is not a finite number")
    table.values = values
    return table


def _eight_digits(words: np.ndarray) -> np.ndarray:
    """SWAR: each word of 8 ASCII digits (first byte most significant) -> its value 0..99999999."""
    v = words - _ZEROS
    v = (v * np.uint64(10) + (v >> np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)  # 4 pairs
    v = (v * np.uint64(100) + (v >> np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)  # 2 quads
    return (v * np.uint64(10000) + (v >> np.uint64(32))) & np.uint64(0xFFFFFFFF)  # 1 octet


def _words_before(aligned: np.ndarray, end: np.ndarray) -> np.ndarray:
    """(K,) little-endian word of the 8 bytes before each byte offset `end`, from 8-byte-aligned words."""
    p = end - 8
    r = ((p & 7) << 3).astype(_U64)  # bit offset inside the aligned word, 0..56
    q = p >> 3
    a, b = np.take(aligned, q), np.take(aligned, q + 1)
    return (a >> r) | ((b << (np.uint64(63) - r)) << np.uint64(1))  # two shifts: never shift by 64


def _dot_bits(w: np.ndarray) -> np.ndarray:
    """0x80 in every byte of w that is '.', 0 elsewhere (exact zero-byte test on w ^ '........')."""
    t = w ^ _DOTS
    return ~(((t & _LOW7) + _LOW7) | t | _LOW7)


def _keep_last(w: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Keep the last k (0..8) bytes of each word, the others become '0'."""
    return (w & np.take(_KEEP_HIGH, k)) | np.take(_FILL_LOW, k)


def _parse_fast(xp: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(K,) float64 of each plain decimal token with <= 15 digits; NaN where the fast path does not apply.

    xp is the buffer with _W leading spaces and trailing padding to a multiple of 8 bytes; token k's last
    16 bytes are the words `lo` (columns 0-7, more significant) and `hi` (columns 8-15).
    """
    if starts.size == 0:
        return np.zeros(0, dtype=np.float64)
    aligned = xp.view(_U64)
    length = ends - starts  # (K,)
    lead = np.take(xp, starts + _W)  # (K,) first byte of each token
    negative = lead == 45
    signed = negative | (lead == 43)
    body = np.minimum(length - signed, _W)  # (K,) bytes after the sign (clipped: longer tokens go slow)
    k_hi = np.minimum(body, 8)
    hi = _keep_last(_words_before(aligned, ends + _W), k_hi)  # sign and bytes before the token -> '0'
    lo = _keep_last(_words_before(aligned, ends + (_W - 8)), body - k_hi)

    dot_hi, dot_lo = _dot_bits(hi), _dot_bits(lo)
    has_hi, has_lo = dot_hi != 0, dot_lo != 0
    has_dot = has_hi | has_lo
    one_dot = ((dot_hi & (dot_hi - np.uint64(1))) == 0) & ((dot_lo & (dot_lo - np.uint64(1))) == 0)
    one_dot &= ~(has_hi & has_lo)
    hi ^= (dot_hi >> np.uint64(7)) * np.uint64(0x1E)  # '.' ^ 0x1E = '0': the dot becomes a 0 digit
    lo ^= (dot_lo >> np.uint64(7)) * np.uint64(0x1E)
    all_digits = _all_digits(hi) & _all_digits(lo)

    # bit 8j+7 set <=> the dot is byte j of its word; frexp gives the bit index exactly (powers of two)
    j_hi = (np.frexp(dot_hi.astype(np.float64))[1] - 8) >> 3
    j_lo = (np.frexp(dot_lo.astype(np.float64))[1] - 8) >> 3
    ndec = np.where(has_hi, 7 - j_hi, np.where(has_lo, 15 - j_lo, 0))  # (K,) digits after the '.'
    f_hi = np.minimum(ndec, 8)
    frac_hi, frac_lo = _keep_last(hi, f_hi), _keep_last(lo, ndec - f_hi)

    tens8 = np.uint64(10**8)
    whole = _eight_digits(lo) * tens8 + _eight_digits(hi)  # int part * 10**(ndec+1) + fraction
    frac = _eight_digits(frac_lo) * tens8 + _eight_digits(frac_hi)
    mantissa = np.where(has_dot, (whole + np.uint64(9) * frac) // np.uint64(10), whole)  # digits, no '.'

    ndig = body - has_dot
    fast = all_digits & one_dot & (length - signed <= _W) & (ndig >= 1) & (ndig <= _MAX_FAST_DIGITS)
    values = mantissa.astype(np.float64) / np.take(_POW10, ndec)
    values[negative] *= -1.0
    values[~fast] = np.nan
    return values


def _all_digits(w: np.ndarray) -> np.ndarray:
    """True where all 8 bytes of the word are ASCII digits."""
    return ((w & _HIGH) | (((w + _SIX) & _HIGH) >> np.uint64(4))) == _THREES
