"""Vectorised tokenising and decimal parsing of whitespace-separated numeric text (no per-line Python loop).

`tokenize` splits a byte buffer into tokens, counts tokens per line and converts every token to float64 with
numpy on whole arrays. Plain decimals (`-0.7201789`, `25`, `.5`) take an exact fast path: the digits form an
integer mantissa M < 2**53 and the value is M / 10**k with k <= 22, which IEEE division rounds correctly,
so the result equals Python's `float(token)` bit for bit. Anything else (exponents, > 18 digits) goes
through `float`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_ALLOWED = np.zeros(256, dtype=bool)  # bytes a numeric text may contain
_ALLOWED[np.frombuffer(b"0123456789+-.eE \t\r\n", dtype=np.uint8)] = True
_POW10_INT = 10 ** np.arange(19, dtype=np.int64)  # 10**0 .. 10**18, exact in int64
_POW10_FLOAT = 10.0 ** np.arange(23)  # 10**0 .. 10**22, exact in float64
_MAX_FAST_DIGITS = 18
_MAX_EXACT_MANTISSA = 2**53


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
    x = np.frombuffer(buf, dtype=np.uint8)  # (n,) bytes
    newlines = np.flatnonzero(x == 10)  # (L-1,) byte offsets of '\n'
    ok = _ALLOWED[x]
    if not ok.all():
        pos = int(np.argmin(ok))
        line = int(np.searchsorted(newlines, pos)) + 1
        raise TokenError(line, _describe_bad(buf, pos))

    solid = np.zeros(x.size + 2, dtype=bool)
    solid[1:-1] = x > 32  # every allowed byte above 32 belongs to a token
    edges = np.flatnonzero(solid[1:] != solid[:-1])  # alternating token starts and ends
    starts, ends = edges[0::2], edges[1::2]  # (K,), (K,)
    num_lines = newlines.size + 1
    line_of = np.searchsorted(newlines, starts)  # (K,) 0-based line of each token
    counts = np.bincount(line_of, minlength=num_lines).astype(np.int64)  # (L,)
    first = np.zeros(num_lines, dtype=np.int64)
    np.cumsum(counts[:-1], out=first[1:])

    values = _parse_decimal(x, starts, ends)
    slow = np.flatnonzero(np.isnan(values))
    for k in slow.tolist():
        tok = buf[starts[k] : ends[k]]
        try:
            values[k] = float(tok)
        except ValueError:
            raise TokenError(int(line_of[k]) + 1, f"{tok.decode('ascii')!r} is not a number") from None
    bad = ~np.isfinite(values)
    if bad.any():
        k = int(np.argmax(bad))
        tok = buf[starts[k] : ends[k]].decode("ascii")
        raise TokenError(int(line_of[k]) + 1, f"{tok!r} is not a finite number")
    return TokenTable(values=values, starts=starts, ends=ends, counts=counts, first=first)


def _parse_decimal(x: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(K,) float64 value of each plain-decimal token; NaN where the exact fast path does not apply."""
    ntok = starts.size
    if ntok == 0:
        return np.zeros(0, dtype=np.float64)
    digit = x - np.uint8(48)  # (n,) uint8, wraps for non-digits
    is_digit = digit < 10
    digits_before = np.zeros(x.size + 1, dtype=np.int64)  # digits in x[:p]
    np.cumsum(is_digit, out=digits_before[1:])
    d0, d1 = digits_before[starts], digits_before[ends]  # (K,) digit-stream span of each token
    ndig = d1 - d0

    # Mantissa: digits of each token as one integer, digit j of a token weighted 10**(digits after it).
    stream = digit[is_digit].astype(np.int64)  # (S,) every digit, in order
    rank = np.repeat(d1 - 1, ndig) - np.arange(stream.size)  # (S,) digits after this one in its token
    contrib = stream * _POW10_INT[np.minimum(rank, _MAX_FAST_DIGITS)]
    mantissa = np.add.reduceat(np.append(contrib, 0), np.minimum(d0, stream.size))  # (K,)

    # One optional '.', one optional leading sign; exponents and everything else leave the fast path.
    dots = np.flatnonzero(x == 46)
    dot_tok = np.searchsorted(starts, dots, side="right") - 1  # (#dots,) token of each '.'
    ndots = np.bincount(dot_tok, minlength=ntok)
    ndec = np.zeros(ntok, dtype=np.int64)
    ndec[dot_tok] = d1[dot_tok] - digits_before[dots]  # digits after the '.'
    signs = np.flatnonzero((x == 45) | (x == 43))
    sign_tok = np.searchsorted(starts, signs, side="right") - 1
    misplaced_sign = np.bincount(sign_tok[signs != starts[sign_tok]], minlength=ntok) > 0
    has_exp = np.bincount(np.searchsorted(starts, np.flatnonzero((x | 32) == 101), side="right") - 1,
                          minlength=ntok) > 0
    fast = (
        (ndig >= 1) & (ndig <= _MAX_FAST_DIGITS) & (ndots <= 1) & ~misplaced_sign & ~has_exp
        & (mantissa < _MAX_EXACT_MANTISSA) & (ndec < _POW10_FLOAT.size)
    )
    values = mantissa / _POW10_FLOAT[np.minimum(ndec, _POW10_FLOAT.size - 1)]
    values[x[starts] == 45] *= -1.0
    values[~fast] = np.nan
    return values
