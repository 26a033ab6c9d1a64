"""Skeleton layouts: joint names, parents, bones, centre joint and body-part groups, defined once.

Indices here are 0-based; the NTU paper's 1-based numbers appear only in comments and names.
A layout is data: it travels with datasets and checkpoints as a plain dict (`to_dict` / `from_dict`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Layout:
    name: str
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]  # parent index per joint, -1 for the root
    center: int  # joint the sequence is centred on (NTU: joint 2, spine mid -> index 1)
    groups: dict[str, tuple[int, ...]] = field(default_factory=dict)  # body-part name -> joint indices

    def __post_init__(self) -> None:
        v = len(self.joint_names)
        if len(self.parents) != v:
            raise ValueError(f"layout {self.name}: {v} joint names but {len(self.parents)} parents")
        if not 0 <= self.center < v:
            raise ValueError(f"layout {self.name}: centre joint {self.center} outside 0..{v - 1}")
        for j, p in enumerate(self.parents):
            if p != -1 and not 0 <= p < v:
                raise ValueError(f"layout {self.name}: joint {j} has parent {p} outside 0..{v - 1}")
        for g, idx in self.groups.items():
            if any(not 0 <= j < v for j in idx):
                raise ValueError(f"layout {self.name}: group {g!r} names a joint outside 0..{v - 1}")

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def bones(self) -> np.ndarray:
        """(B, 2) int array of (child, parent) pairs, one per non-root joint."""
        pairs = [(j, p) for j, p in enumerate(self.parents) if p >= 0]
        return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)

    @property
    def lateral_pairs(self) -> tuple[tuple[int, int], ...]:
        """(left, right) joint pairs across the body (hips, shoulders) that this layout names; () if none."""
        names = self.joint_names
        return tuple(
            (names.index(f"left {n}"), names.index(f"right {n}"))
            for n in ("hip", "shoulder")
            if f"left {n}" in names and f"right {n}" in names
        )

    @property
    def mirror(self) -> np.ndarray:
        """(V,) int: each joint's counterpart across the body ("left elbow" <-> "right elbow"), itself if none."""
        names = self.joint_names

        def swapped(n: str) -> str:
            return n.replace("left", "\0").replace("right", "left").replace("\0", "right")

        return np.asarray([names.index(swapped(n)) if swapped(n) in names else j for j, n in enumerate(names)])

    def group_mask(self, names: list[str] | tuple[str, ...]) -> np.ndarray:
        """(V,) bool, True for joints in any of the named groups."""
        out = np.zeros(self.num_joints, dtype=bool)
        for n in names:
            if n not in self.groups:
                raise KeyError(f"unknown body part {n!r}; layout {self.name} has {', '.join(self.groups)}")
            out[list(self.groups[n])] = True
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "joint_names": list(self.joint_names),
            "parents": list(self.parents),
            "center": self.center,
            "groups": {k: list(v) for k, v in self.groups.items()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Layout:
        try:
            return cls(
                name=str(d["name"]),
                joint_names=tuple(str(n) for n in d["joint_names"]),
                parents=tuple(int(p) for p in d["parents"]),
                center=int(d.get("center", 0)),
                groups={str(k): tuple(int(i) for i in v) for k, v in d.get("groups", {}).items()},
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"layout description is missing or has a bad field: {exc}") from exc


# NTU RGB+D (Kinect v2), 1-based numbers from the NTU paper in the comments.
_NTU_NAMES = (
    "spine base",  # 1
    "spine mid",  # 2
    "neck",  # 3
    "head",  # 4
    "left shoulder",  # 5
    "left elbow",  # 6
    "left wrist",  # 7
    "left hand",  # 8
    "right shoulder",  # 9
    "right elbow",  # 10
    "right wrist",  # 11
    "right hand",  # 12
    "left hip",  # 13
    "left knee",  # 14
    "left ankle",  # 15
    "left foot",  # 16
    "right hip",  # 17
    "right knee",  # 18
    "right ankle",  # 19
    "right foot",  # 20
    "spine shoulder",  # 21
    "left hand tip",  # 22
    "left thumb",  # 23
    "right hand tip",  # 24
    "right thumb",  # 25
)
# 1-based parents from SPEC §2: 2->1, 3->21, 4->3, 5->21, 6->5, 7->6, 8->7, 9->21, 10->9, 11->10, 12->11,
# 13->1, 14->13, 15->14, 16->15, 17->1, 18->17, 19->18, 20->19, 21->2, 22->8, 23->8, 24->12, 25->12.
_NTU_PARENTS_1 = (0, 1, 21, 3, 21, 5, 6, 7, 21, 9, 10, 11, 1, 13, 14, 15, 1, 17, 18, 19, 2, 8, 8, 12, 12)
_NTU_GROUPS_1 = {
    "head": (3, 4),
    "torso": (1, 2, 21),
    "left arm": (5, 6, 7, 8, 22, 23),
    "right arm": (9, 10, 11, 12, 24, 25),
    "left leg": (13, 14, 15, 16),
    "right leg": (17, 18, 19, 20),
}

NTU25 = Layout(
    name="ntu25",
    joint_names=_NTU_NAMES,
    parents=tuple(p - 1 for p in _NTU_PARENTS_1),
    center=1,
    groups={k: tuple(j - 1 for j in v) for k, v in _NTU_GROUPS_1.items()},
)


def generic_layout(num_joints: int) -> Layout:
    """A layout for data that brings none: joints named j1..jV, a chain, centred on joint 0."""
    return Layout(
        name=f"generic{num_joints}",
        joint_names=tuple(f"j{i + 1}" for i in range(num_joints)),
        parents=tuple(range(-1, num_joints - 1)),
        center=0,
        groups={},
    )


# Kinect SDK v1 (20 joints), the order NW-UCLA and Kinder-Gator publish: hip centre, spine, shoulder centre,
# head, then left arm, right arm, left leg, right leg. NTU-25 (1-based) of each joint: 1, 2, 21, 4, 5..20.
_K1_NAMES = (
    "hip centre",
    "spine",
    "shoulder centre",
    "head",
    "left shoulder",
    "left elbow",
    "left wrist",
    "left hand",
    "right shoulder",
    "right elbow",
    "right wrist",
    "right hand",
    "left hip",
    "left knee",
    "left ankle",
    "left foot",
    "right hip",
    "right knee",
    "right ankle",
    "right foot",
)
_K1_PARENTS = (-1, 0, 1, 2, 2, 4, 5, 6, 2, 8, 9, 10, 0, 12, 13, 14, 0, 16, 17, 18)
KINECT20 = Layout(
    name="kinect_v1",
    joint_names=_K1_NAMES,
    parents=_K1_PARENTS,
    center=1,  # spine, as NTU's spine mid
    groups={
        "head": (3,),
        "torso": (0, 1, 2),
        "left arm": (4, 5, 6, 7),
        "right arm": (8, 9, 10, 11),
        "left leg": (12, 13, 14, 15),
        "right leg": (16, 17, 18, 19),
    },
)
# KINECT20 joint k is NTU-25 joint KINECT20_TO_NTU25[k] (0-based). NTU's neck (3), hand tips (22, 24) and
# thumbs (23, 25) have no Kinect v1 counterpart.
KINECT20_TO_NTU25 = (0, 1, 20, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19)

LAYOUTS = {NTU25.name: NTU25, KINECT20.name: KINECT20}


def joint_map(src: Layout, dst: Layout) -> np.ndarray:
    """(V_dst,) int64: for each joint of `dst`, its index in `src`, or -1 where `src` has no such joint.

    Known pairs: identical layouts (by name), NTU-25 <-> Kinect v1. Anything else is an error that names both."""
    if src.name == dst.name and src.num_joints == dst.num_joints:
        return np.arange(dst.num_joints, dtype=np.int64)
    k2n = np.asarray(KINECT20_TO_NTU25, dtype=np.int64)
    if src.name == NTU25.name and dst.name == KINECT20.name:
        return k2n.copy()
    if src.name == KINECT20.name and dst.name == NTU25.name:
        out = np.full(NTU25.num_joints, -1, dtype=np.int64)
        out[k2n] = np.arange(KINECT20.num_joints)
        return out
    raise ValueError(
        f"no joint correspondence between layouts {src.name!r} ({src.num_joints} joints) and "
        f"{dst.name!r} ({dst.num_joints} joints)"
    )


def find_layout(joint_names: tuple[str, ...] | list[str]) -> Layout | None:
    """The known layout with exactly these joint names (NTU-25, Kinect v1), or None."""
    names = tuple(joint_names)
    for layout in LAYOUTS.values():
        if layout.joint_names == names:
            return layout
    return None
