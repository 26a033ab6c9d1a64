"""Data types of NTU `.skeleton` files: Body, Skeleton, SkeletonFormatError and the format's limits."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

MAX_FRAMES = 100_000  # more is not a Kinect recording (NTU's longest is ~300 frames)
MAX_BODIES = 10  # per frame; Kinect v2 tracks at most 6
MAX_JOINTS = 200  # per body
INFO_FIELDS = (
    "clippedEdges",
    "handLeftConfidence",
    "handLeftState",
    "handRightConfidence",
    "handRightState",
    "isRestricted",
    "leanX",
    "leanY",
    "trackingState",
)
INFO_INT_COLS = np.array([0, 1, 2, 3, 4, 5, 8])  # info columns that hold integers
INFO_TOKENS = 1 + len(INFO_FIELDS)  # bodyID + 9
JOINT_TOKENS = 12
MAX_BODY_ID = 2**64  # Kinect tracking ids are unsigned 64-bit
DEFAULT_BODY_ID = 72057594037927936  # 2**56, the range real Kinect v2 ids lie in
# Pinhole projections of camera-space metres to pixels, least-squares fitted on the 10 real NTU samples
# (mean error ~1.5 px depth, ~2-7 px colour): u = cx + fx * x / z, v = cy - fy * y / z.
DEPTH_CAMERA = (364.3, 257.3, 366.9, 208.7)  # fx, cx, fy, cy (512 x 424 depth image)
COLOR_CAMERA = (1053.3, 975.9, 1048.9, 562.8)  # fx, cx, fy, cy (1920 x 1080 colour image)


class SkeletonFormatError(ValueError):
    """A `.skeleton` file (or buffer) that does not follow the format; names file, line and problem."""

    def __init__(self, path: str | os.PathLike[str] | None, line: int | None, reason: str) -> None:
        self.path = None if path is None else os.fspath(path)
        self.line = line  # 1-based, None when the problem is not on one line
        self.reason = reason
        where = self.path if self.path is not None else "<skeleton data>"
        super().__init__(f"{where}: line {line}: {reason}" if line is not None else f"{where}: {reason}")

    def __reduce__(self):  # keeps the attributes across processes (pickling)
        return (type(self), (self.path, self.line, self.reason))


@dataclass
class Body:
    """One tracked body over the n frames it appears in."""

    body_id: int  # exact tracking id (Python int), never float
    frames: np.ndarray  # (n,) int64, 0-based indices of the file's frames in which this body appears
    info: np.ndarray  # (n, 9) float64, the INFO_FIELDS per frame
    xyz: np.ndarray  # (n, V, 3) float64, camera space, metres
    depth_xy: np.ndarray  # (n, V, 2) float64, depth-image pixels
    color_xy: np.ndarray  # (n, V, 2) float64, colour-image pixels
    orientation: np.ndarray  # (n, V, 4) float64, quaternion W X Y Z
    tracking: np.ndarray  # (n, V) int8: 0 not tracked, 1 inferred, 2 tracked

    @property
    def num_joints(self) -> int:
        return int(self.xyz.shape[1])


@dataclass
class Skeleton:
    """A whole `.skeleton` file."""

    num_frames: int
    bodies: list[Body]  # in order of first appearance
    path: str | None = None

    @property
    def bodies_per_frame(self) -> np.ndarray:
        """(num_frames,) int64 number of bodies in each frame."""
        out = np.zeros(self.num_frames, dtype=np.int64)
        for b in self.bodies:
            np.add.at(out, b.frames, 1)
        return out

    @property
    def num_joints(self) -> int | None:
        """V, or None for a file without bodies."""
        return self.bodies[0].num_joints if self.bodies else None
