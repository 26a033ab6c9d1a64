"""Kinematic model of the Kinect v2 (NTU-25) skeleton for the synthetic corpus.

A performer is a set of segment lengths (metres). A `Motion` is a set of joint-angle tracks (radians, one
value per frame at 30 fps) in the performer's own frame; `forward_kinematics` turns it into world joint
positions (T, V, 3): y up, floor at y = 0, a performer with facing 0 looks along -z (towards camera C002).
Local axes: x = the performer's right, y = up, z = backwards (right-handed, like Kinect camera space).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

FPS = 30.0  # Kinect v2 frame rate (frames per second)

# 0-based NTU-25 indices used below (1-based numbers in SPEC §2).
SPINE_BASE, SPINE_MID, NECK, HEAD = 0, 1, 2, 3
SHOULDER, ELBOW, WRIST, HAND = (4, 8), (5, 9), (6, 10), (7, 11)  # (left, right)
HIP, KNEE, ANKLE, FOOT = (12, 16), (13, 17), (14, 18), (15, 19)
SPINE_SHOULDER = 20
HAND_TIP, THUMB = (21, 23), (22, 24)
NUM_JOINTS = 25


@dataclass(frozen=True)
class BodyShape:
    """Segment lengths of one performer, metres."""

    spine_low: float  # spine base -> spine mid
    spine_high: float  # spine mid -> spine shoulder
    neck: float  # spine shoulder -> neck
    head: float  # neck -> head
    shoulder_half: float  # spine shoulder -> each shoulder, sideways
    upper_arm: float
    forearm: float
    hand: float  # wrist -> hand (Kinect's hand joint sits close to the wrist)
    hand_tip: float  # hand -> hand tip
    hip_half: float  # spine base -> each hip, sideways
    thigh: float
    shin: float
    foot: float  # ankle -> foot, forwards


def sample_body_shape(rng: np.random.Generator) -> BodyShape:
    """Draw one performer: stature 1.50-1.92 m and independent +-8 % variation of limb proportions."""
    stature = rng.uniform(1.50, 1.92)
    s = stature / 1.75

    def part(base: float, spread: float = 0.08) -> float:
        return float(base * s * (1.0 + rng.uniform(-spread, spread)))

    return BodyShape(
        spine_low=part(0.26),
        spine_high=part(0.21),
        neck=part(0.07),
        head=part(0.12),
        shoulder_half=part(0.15, 0.12),
        upper_arm=part(0.26),
        forearm=part(0.23),
        hand=part(0.05),
        hand_tip=part(0.05),
        hip_half=part(0.065, 0.12),
        thigh=part(0.37),
        shin=part(0.36),
        foot=part(0.10),
    )


def _zeros(num_frames: int, *lead: int) -> np.ndarray:
    return np.zeros((*lead, num_frames), dtype=np.float64)


@dataclass
class Motion:
    """Joint-angle tracks of one performer over T frames. Angles in radians, positions in metres.

    Arm and leg tracks are (2, T): row 0 = left limb, row 1 = right limb. Positive arm flexion raises the
    arm forwards, positive abduction sideways, positive rotation turns the elbow plane inwards, positive
    elbow/knee angles bend the joint; positive lean bends the trunk forwards, positive nod the head.
    """

    num_frames: int
    root: np.ndarray = None  # (T, 3) pelvis offset in the scene frame (x, 0, z), metres
    lift: np.ndarray = None  # (T,) extra height of the whole body (jumps), metres
    yaw: np.ndarray = None  # (T,) turning of the whole body about the vertical axis
    pitch: np.ndarray = None  # (T,) forward tipping of the whole body, legs included (falls)
    roll: np.ndarray = None  # (T,) sideways tipping of the whole body (towards the right is positive)
    lean: np.ndarray = None  # (T,) trunk forward flexion
    bend: np.ndarray = None  # (T,) trunk lateral bend (towards the right is positive)
    twist: np.ndarray = None  # (T,) trunk axial twist
    nod: np.ndarray = None  # (T,) head forward pitch
    arm_flex: np.ndarray = None  # (2, T)
    arm_abd: np.ndarray = None  # (2, T)
    arm_rot: np.ndarray = None  # (2, T)
    elbow: np.ndarray = None  # (2, T)
    wrist: np.ndarray = None  # (2, T) wrist flexion
    hip_flex: np.ndarray = None  # (2, T)
    hip_abd: np.ndarray = None  # (2, T)
    knee: np.ndarray = None  # (2, T)
    extra: dict = field(default_factory=dict)  # free-form notes of the action (e.g. who is the actor)

    def __post_init__(self) -> None:
        t = self.num_frames
        for name in ("lift", "yaw", "pitch", "roll", "lean", "bend", "twist", "nod"):
            if getattr(self, name) is None:
                setattr(self, name, _zeros(t))
        for name in ("arm_flex", "arm_abd", "arm_rot", "elbow", "wrist", "hip_flex", "hip_abd", "knee"):
            if getattr(self, name) is None:
                setattr(self, name, _zeros(t, 2))
        if self.root is None:
            self.root = np.zeros((t, 3))


def rot_x(a: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotations about x by angles a (...,)."""
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def rot_y(a: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotations about y (vertical) by angles a (...,)."""
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def rot_z(a: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotations about z by angles a (...,)."""
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def _apply(rot: np.ndarray, vec: np.ndarray) -> np.ndarray:
    """rot (T, 3, 3) times a fixed or per-frame vector (3,) / (T, 3) -> (T, 3)."""
    if vec.ndim == 1:
        return rot @ vec
    return np.einsum("tij,tj->ti", rot, vec)


def forward_kinematics(shape: BodyShape, motion: Motion) -> np.ndarray:
    """Scene joint positions (T, V, 3), metres, floor at y = 0 (the lowest joint touches it unless lifted).

    `motion.yaw` turns the performer about the vertical axis (yaw 0 looks along -z, yaw -pi/2 along +x);
    `motion.root` is the pelvis position in the scene frame.
    """
    t = motion.num_frames
    xyz = np.zeros((t, NUM_JOINTS, 3))  # (T, V, 3)
    down = np.array([0.0, -1.0, 0.0])
    up = np.array([0.0, 1.0, 0.0])
    pelvis = rot_y(motion.yaw) @ rot_x(-motion.pitch) @ rot_z(motion.roll)  # (T, 3, 3)
    trunk = pelvis @ rot_y(motion.twist) @ rot_z(motion.bend) @ rot_x(-motion.lean)  # (T, 3, 3)
    head = trunk @ rot_x(-motion.nod)  # (T, 3, 3)

    xyz[:, SPINE_MID] = _apply(trunk, up * shape.spine_low)
    xyz[:, SPINE_SHOULDER] = xyz[:, SPINE_MID] + _apply(trunk, up * shape.spine_high)
    xyz[:, NECK] = xyz[:, SPINE_SHOULDER] + _apply(head, up * shape.neck)
    xyz[:, HEAD] = xyz[:, NECK] + _apply(head, up * shape.head)
    for k, side in enumerate((-1.0, 1.0)):  # left (-x), right (+x)
        # Arm: shoulder frame, then elbow flexion in the arm's own sagittal plane.
        xyz[:, SHOULDER[k]] = xyz[:, SPINE_SHOULDER] + _apply(trunk, np.array([side * shape.shoulder_half, -0.03, 0.0]))
        arm = (
            trunk @ rot_x(motion.arm_flex[k]) @ rot_z(side * motion.arm_abd[k]) @ rot_y(side * motion.arm_rot[k])
        )  # (T, 3, 3)
        fore = arm @ rot_x(motion.elbow[k])  # (T, 3, 3)
        hand = fore @ rot_x(motion.wrist[k])  # (T, 3, 3)
        xyz[:, ELBOW[k]] = xyz[:, SHOULDER[k]] + _apply(arm, down * shape.upper_arm)
        xyz[:, WRIST[k]] = xyz[:, ELBOW[k]] + _apply(fore, down * shape.forearm)
        xyz[:, HAND[k]] = xyz[:, WRIST[k]] + _apply(hand, down * shape.hand)
        xyz[:, HAND_TIP[k]] = xyz[:, HAND[k]] + _apply(hand, down * shape.hand_tip)
        thumb = np.array([-side * 0.02, -0.025, -0.015]) * (shape.hand_tip / 0.05)
        xyz[:, THUMB[k]] = xyz[:, HAND[k]] + _apply(hand, thumb)
        # Leg: hip frame, knee bends backwards, the foot points forwards from the ankle.
        xyz[:, HIP[k]] = _apply(pelvis, np.array([side * shape.hip_half, -0.035, 0.0]))
        thigh = pelvis @ rot_x(motion.hip_flex[k]) @ rot_z(side * motion.hip_abd[k])  # (T, 3, 3)
        shin = thigh @ rot_x(-motion.knee[k])  # (T, 3, 3)
        xyz[:, KNEE[k]] = xyz[:, HIP[k]] + _apply(thigh, down * shape.thigh)
        xyz[:, ANKLE[k]] = xyz[:, KNEE[k]] + _apply(shin, down * shape.shin)
        xyz[:, FOOT[k]] = xyz[:, ANKLE[k]] + _apply(shin, np.array([0.0, -0.05, -shape.foot]))

    # Floor contact: the lowest joint rests on the floor (sole ~2 cm below the foot joint), plus any lift.
    ground = xyz[:, :, 1].min(axis=1)  # (T,)
    xyz[:, :, 1] += (0.02 - ground + motion.lift)[:, None]
    xyz += motion.root[:, None, :]
    return xyz
