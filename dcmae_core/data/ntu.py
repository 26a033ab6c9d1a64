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
    "ACTION_NAMES", "Body", "SampleName", "Skeleton", "SkeletonFormatError", "action_name", "is_two_person",
    "parse_sample_name", "parse_skeleton", "read_skeleton", "skeleton_from_arrays", "write_skeleton",
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
        self.last = int(np.flatnonzero(table.counts)[-1])  # last non-blank line (0-based)

    def error(self, i: int, reason: str) -> SkeletonFormatError:
        return SkeletonFormatError(self.path, i + 1, reason)

    def token(self, i: int, j: int = 0) -> bytes:
        k = int(self.t.first[i]) + j
        return self.data[int(self.t.starts[k]) : int(self.t.ends[k])]

    def count(self, i: int, what: str, lo: int, hi: int) -> int:
        """The single non-negative integer on line i (0-based), checked against lo..hi."""
        if i > self.last:
            raise self.error(i, f"file is truncated: it ends at line {self.last + 1}, expected {what}")
        if self.counts[i] != 1:
            raise self.error(i, f"expected {what} (one integer), found {self.counts[i]} values")
        tok = self.token(i)
        if not tok.isdigit():
            raise self.error(i, f"expected {what} as a non-negative integer, found {tok.decode()!r}")
        value = int(tok)
        if not lo <= value <= hi:
            raise self.error(i, f"{what} is {value}, expected {lo}..{hi}")
        return value

    def parse(self) -> Skeleton:
        num_frames = self.count(0, "the frame count", 0, MAX_FRAMES)
        if num_frames == 0:
            raise self.error(0, "the file has zero frames")
        blocks: list[int] = []  # 0-based line of each body's info line
        frames: list[int] = []  # frame of each block
        walk_error: SkeletonFormatError | None = None
        num_joints = 0
        i = 1
        try:
            for f in range(num_frames):
                where = f"frame {f + 1} of {num_frames}"
                nb = self.count(i, f"the body count of {where}", 0, MAX_BODIES)
                i += 1
                for b in range(nb):
                    if i > self.last:
                        raise self.error(i, f"file is truncated: it ends at line {self.last + 1}, "
                                         f"expected body {b + 1} of {where}")
                    if self.counts[i] != INFO_TOKENS:
                        raise self.error(i, f"expected a body info line of {INFO_TOKENS} values "
                                         f"(bodyID + {', '.join(INFO_FIELDS)}), found {self.counts[i]}")
                    v = self.count(i + 1, f"the joint count of body {b + 1} in {where}", 1, MAX_JOINTS)
                    if num_joints and v != num_joints:
                        raise self.error(i + 1, f"joint count {v} differs from the file's {num_joints}")
                    num_joints = v
                    if i + 1 + v > self.last:
                        raise self.error(self.last + 1, f"file is truncated: {where} needs {v} joint lines "
                                         f"from line {i + 3}, the file ends at line {self.last + 1}")
                    blocks.append(i)
                    frames.append(f)
                    i += 2 + v
            if i <= self.last:
                extra = i + int(np.argmax(self.t.counts[i:] > 0))
                raise self.error(extra, f"unexpected data after the last frame (frame count {num_frames})")
        except SkeletonFormatError as exc:
            walk_error = exc
        block_arr = np.asarray(blocks, dtype=np.int64)  # (B,)
        joint_error = self.check_joint_lines(block_arr, num_joints)
        errors = [e for e in (joint_error, walk_error) if e is not None]
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
        return self.error(i, f"expected a joint line of {JOINT_TOKENS} values (x y z depthX depthY colorX "
                          f"colorY orientationW X Y Z trackingState), found {self.counts[i]}")

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
            raise self.error(int(blocks[np.argmax(bad)]),
                             "integer body info field (clippedEdges, hand states/confidences, isRestricted, "
                             "trackingState) holds a fraction")
        state = joints[:, :, 11]  # (B, V)
        bad = (state != 0) & (state != 1) & (state != 2)
        if bad.any():
            b, j = np.unravel_index(int(np.argmax(bad)), bad.shape)
            raise self.error(int(blocks[b]) + 2 + int(j),
                             f"joint trackingState must be 0, 1 or 2, found {state[b, j]!r}")

        ids: dict[int, list[int]] = {}  # body id -> its block indices, in order of first appearance
        for n, k in enumerate(info_tok.tolist()):
            tok = self.data[int(self.t.starts[k]) : int(self.t.ends[k])]
            body_id = int(tok) if tok.isdigit() else -1
            if not 0 <= body_id < MAX_BODY_ID:
                raise self.error(int(blocks[n]),
                                 f"bodyID must be an unsigned 64-bit integer, found {tok.decode()!r}")
            ids.setdefault(body_id, []).append(n)

        bodies = []
        for body_id, sel_list in ids.items():
            sel = np.asarray(sel_list, dtype=np.int64)  # (n,) blocks of this body
            f = frames[sel]
            dup = np.flatnonzero(np.diff(f) == 0)
            if dup.size:
                raise self.error(int(blocks[sel[dup[0] + 1]]),
                                 f"bodyID {body_id} appears twice in frame {int(f[dup[0]]) + 1}")
            jb = joints[sel]  # (n, V, 12)
            bodies.append(Body(
                body_id=body_id,
                frames=f,
                info=info[sel],
                xyz=np.ascontiguousarray(jb[:, :, 0:3]),
                depth_xy=np.ascontiguousarray(jb[:, :, 3:5]),
                color_xy=np.ascontiguousarray(jb[:, :, 5:7]),
                orientation=np.ascontiguousarray(jb[:, :, 7:11]),
                tracking=jb[:, :, 11].astype(np.int8),
            ))
        return Skeleton(num_frames=num_frames, bodies=bodies, path=self.path)
