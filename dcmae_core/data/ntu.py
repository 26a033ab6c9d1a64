"""NTU RGB+D `.skeleton` files (Kinect v2): read, write, build from arrays; sample and action names.

Layout (SPEC §2): line 1 frame count; per frame a body count; per body one info line of 10 values (bodyID
as a 17-digit integer, clippedEdges, handLeftConfidence, handLeftState, handRightConfidence, handRightState,
isRestricted, leanX, leanY, trackingState), a joint-count line, then one line of 12 values per joint:
x y z (metres), depthX depthY, colorX colorY, orientation W X Y Z, trackingState.

Reading is vectorised (see `textnum`): the only Python loop walks the frame/body header lines by index
arithmetic; every number is converted in one numpy pass.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from dcmae_core.data.actions import (
    ACTION_NAMES,
    SampleName,
    action_name,
    is_two_person,
    parse_sample_name,
)
from dcmae_core.data.ntu_types import (
    INFO_FIELDS,
    INFO_INT_COLS,
    INFO_TOKENS,
    JOINT_TOKENS,
    MAX_BODIES,
    MAX_BODY_ID,
    MAX_FRAMES,
    MAX_JOINTS,
    Body,
    Skeleton,
    SkeletonFormatError,
)
from dcmae_core.data.ntu_write import skeleton_from_arrays, write_skeleton
from dcmae_core.data.textnum import TokenError, TokenTable, tokenize

__all__ = [
    "ACTION_NAMES",
    "Body",
    "SampleName",
    "Skeleton",
    "SkeletonFormatError",
    "action_name",
    "is_two_person",
    "parse_sample_name",
    "parse_skeleton",
    "read_skeleton",
    "skeleton_from_arrays",
    "write_skeleton",
]

log = logging.getLogger(__name__)


def read_skeleton(path: str | os.PathLike[str]) -> Skeleton:
    """Read a whole `.skeleton` file (LF or CRLF). Any problem raises SkeletonFormatError."""
    p = os.fspath(path)
    try:
        data = Path(p).read_bytes()
    except FileNotFoundError:
        raise SkeletonFormatError(p, None, "no such file") from None
    except IsADirectoryError:
        raise SkeletonFormatError(p, None, "is a directory, not a .skeleton file") from None
    except OSError as exc:
        raise SkeletonFormatError(p, None, f"cannot be read: {exc.strerror or exc}") from None
    return parse_skeleton(data, path=p)


def parse_skeleton(data: bytes, path: str | os.PathLike[str] | None = None) -> Skeleton:
    """Parse the bytes of a `.skeleton` file; `path` only labels errors and the result."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"parse_skeleton needs bytes, got {type(data).__name__}")
    data = bytes(data)
    if not data.strip():
        raise SkeletonFormatError(path, None, "file is empty")
    try:
        table = tokenize(data)
    except TokenError as exc:
        raise SkeletonFormatError(path, exc.line, exc.reason) from None
    return _Parser(data, table, path).parse()


class _Parser:
    """Walks the header lines by index arithmetic; checks and converts the body blocks in bulk."""

    def __init__(self, data: bytes, table: TokenTable, path: str | os.PathLike[str] | None) -> None:
        self.data, self.t, self.path = data, table, (None if path is None else os.fspath(path))
        self.counts = table.counts.tolist()  # tokens per line
        last_token = table.values.size - 1  # >= 0: parse_skeleton turns away blank files
        self.lead = table.values[np.minimum(table.first, last_token)].tolist()  # value of each line's first token
        self.last = int(np.flatnonzero(table.counts)[-1])  # last non-blank line (0-based)
        self.count_lines: list[int] = []  # lines read by count(), their syntax is checked in bulk

    def error(self, i: int, reason: str) -> SkeletonFormatError:
        return SkeletonFormatError(self.path, i + 1, reason)

    def token(self, i: int) -> bytes:
        k = self.t.first[i]
        return self.data[int(self.t.starts[k]) : int(self.t.ends[k])]

    def count(self, i: int, lo: int, hi: int, what: str, *args: object) -> int:
        """The single non-negative integer on line i (0-based) in lo..hi; `what % args` names it in errors."""
        if i <= self.last and self.counts[i] == 1:
            v = self.lead[i]
            if lo <= v <= hi and v.is_integer():
                self.count_lines.append(i)
                return int(v)
        what = what % args
        if i > self.last:
            raise self.error(i, f"file is truncated: it ends at line {self.last + 1}, expected {what}")
        if self.counts[i] != 1:
            raise self.error(i, f"expected {what} (one integer), found {self.counts[i]} values")
        tok = self.token(i)
        if not tok.isdigit():
            raise self.error(i, f"expected {what} as a non-negative integer, found {tok.decode()!r}")
        raise self.error(i, f"{what} is {int(tok)}, expected {lo}..{hi}")

    def check_count_syntax(self) -> SkeletonFormatError | None:
        """Counts must be written as plain digits ('25', not '25.0' or '+25'): compare lengths in bulk."""
        lines = np.asarray(self.count_lines, dtype=np.int64)
        k = self.t.first[lines]
        digits = np.floor(np.log10(np.maximum(self.t.values[k], 1.0))) + 1  # digits of each value
        for i in lines[self.t.ends[k] - self.t.starts[k] != digits].tolist():  # '025' is fine, '2.5e1' not
            if not self.token(i).isdigit():
                return self.error(i, f"expected a non-negative integer, found {self.token(i).decode()!r}")
        return None

    def parse(self) -> Skeleton:
        num_frames = self.count(0, 0, MAX_FRAMES, "the frame count")
        if num_frames == 0:
            raise self.error(0, "the file has zero frames")
        blocks: list[int] = []  # 0-based line of each body's info line
        frames: list[int] = []  # frame of each block
        walk_error: SkeletonFormatError | None = None
        counts, last = self.counts, self.last
        num_joints = 0
        i = 1
        try:
            for f in range(num_frames):
                nb = self.count(i, 0, MAX_BODIES, "the body count of frame %d of %d", f + 1, num_frames)
                i += 1
                for b in range(nb):
                    if i > last or counts[i] != INFO_TOKENS:
                        raise self.error(
                            i,
                            f"expected body {b + 1} of frame {f + 1}: an info line of "
                            f"{INFO_TOKENS} values (bodyID + {', '.join(INFO_FIELDS)}), "
                            + (f"found {counts[i]}" if i <= last else f"but the file is truncated at line {last + 1}"),
                        )
                    v = self.count(i + 1, 1, MAX_JOINTS, "the joint count of body %d in frame %d", b + 1, f + 1)
                    if num_joints and v != num_joints:
                        raise self.error(i + 1, f"joint count {v} differs from the file's {num_joints}")
                    num_joints = v
                    if i + 1 + v > last:
                        raise self.error(
                            last + 1,
                            f"file is truncated: frame {f + 1} needs {v} joint lines "
                            f"from line {i + 3}, the file ends at line {last + 1}",
                        )
                    blocks.append(i)
                    frames.append(f)
                    i += 2 + v
            if i <= last:
                extra = i + int(np.argmax(self.t.counts[i:] > 0))
                raise self.error(extra, f"unexpected data after the last frame (frame count {num_frames})")
        except SkeletonFormatError as exc:
            walk_error = exc
        block_arr = np.asarray(blocks, dtype=np.int64)  # (B,)
        errors = [self.check_joint_lines(block_arr, num_joints), self.check_count_syntax(), walk_error]
        errors = [e for e in errors if e is not None]
        if errors:
            raise min(errors, key=lambda e: e.line or 0)
        return self.build(num_frames, block_arr, np.asarray(frames, dtype=np.int64), num_joints)

    def check_joint_lines(self, blocks: np.ndarray, v: int) -> SkeletonFormatError | None:
        if blocks.size == 0:
            return None
        lines = (blocks[:, None] + 2 + np.arange(v)).ravel()  # (B*V,) 0-based joint lines
        bad = self.t.counts[lines] != JOINT_TOKENS
        if not bad.any():
            return None
        i = int(lines[np.argmax(bad)])
        return self.error(
            i,
            f"expected a joint line of {JOINT_TOKENS} values (x y z depthX depthY colorX "
            f"colorY orientationW X Y Z trackingState), found {self.counts[i]}",
        )

    def build(self, num_frames: int, blocks: np.ndarray, frames: np.ndarray, v: int) -> Skeleton:
        if blocks.size == 0:
            return Skeleton(num_frames=num_frames, bodies=[], path=self.path)
        first = self.t.first
        info_tok = first[blocks]  # (B,) token index of each bodyID
        info = self.t.values[info_tok[:, None] + np.arange(1, INFO_TOKENS)]  # (B, 9)
        joints = self.t.values[first[blocks + 2][:, None] + np.arange(v * JOINT_TOKENS)]  # (B, V*12)
        joints = joints.reshape(blocks.size, v, JOINT_TOKENS)  # (B, V, 12)

        ints = info[:, INFO_INT_COLS]  # (B, 7)
        bad = (ints != np.round(ints)).any(axis=1)
        if bad.any():
            raise self.error(
                int(blocks[np.argmax(bad)]),
                "integer body info field (clippedEdges, hand states/confidences, isRestricted, "
                "trackingState) holds a fraction",
            )
        state = joints[:, :, 11]  # (B, V)
        bad = (state != 0) & (state != 1) & (state != 2)
        if bad.any():
            b, j = np.unravel_index(int(np.argmax(bad)), bad.shape)
            raise self.error(
                int(blocks[b]) + 2 + int(j), f"joint trackingState must be 0, 1 or 2, found {state[b, j]!r}"
            )

        data = self.data
        toks = [
            data[a:b] for a, b in zip(self.t.starts[info_tok].tolist(), self.t.ends[info_tok].tolist(), strict=True)
        ]  # (B,) bodyID texts
        ids: dict[int, list[int]] = {}  # body id -> its block indices, in order of first appearance
        by_text: dict[bytes, list[int]] = {}
        for n, tok in enumerate(toks):
            by_text.setdefault(tok, []).append(n)
        for tok, sel_list in by_text.items():
            body_id = int(tok) if tok.isdigit() else -1
            if not 0 <= body_id < MAX_BODY_ID:
                raise self.error(
                    int(blocks[sel_list[0]]), f"bodyID must be an unsigned 64-bit integer, found {tok.decode()!r}"
                )
            ids.setdefault(body_id, []).extend(sel_list)  # '007' and '7' are the same body
        for sel_list in ids.values():
            sel_list.sort()

        bodies = []
        for body_id, sel_list in ids.items():
            sel = np.asarray(sel_list, dtype=np.int64)  # (n,) blocks of this body
            f = frames[sel]
            dup = np.flatnonzero(np.diff(f) == 0)
            if dup.size:
                raise self.error(
                    int(blocks[sel[dup[0] + 1]]), f"bodyID {body_id} appears twice in frame {int(f[dup[0]]) + 1}"
                )
            jb = joints[sel]  # (n, V, 12)
            bodies.append(
                Body(
                    body_id=body_id,
                    frames=f,
                    info=info[sel],
                    xyz=np.ascontiguousarray(jb[:, :, 0:3]),
                    depth_xy=np.ascontiguousarray(jb[:, :, 3:5]),
                    color_xy=np.ascontiguousarray(jb[:, :, 5:7]),
                    orientation=np.ascontiguousarray(jb[:, :, 7:11]),
                    tracking=jb[:, :, 11].astype(np.int8),
                )
            )
        return Skeleton(num_frames=num_frames, bodies=bodies, path=self.path)
