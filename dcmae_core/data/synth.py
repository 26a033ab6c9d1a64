"""The project's own training corpus: genuine NTU `.skeleton` files from a procedural Kinect model.

A sample `SsssCcccPpppRrrrAaaa` is one performance (setup, performer, replication, action) filmed by one of
the three cameras (C001 at -45 deg, C002 at 0 deg, C003 at +45 deg about the vertical axis), so the three
views of a performance show the same motion, as in NTU. Everything is a pure function of
(seed, name): the same seed gives byte-identical files in any order, any subset, on any machine.

Factors of variation: performer body proportions and habits (handedness, speed, amplitude), replication
(speed, amplitude, facing the left or the right camera, random phase and timing), setup (camera height,
distance, tilt), position on the floor, sensor jitter, inferred joints with larger noise (hand tips and
thumbs, the far limbs in side views), and tracking dropouts (a body missing for a few frames, possibly
coming back under a new body id; a limb snapped to garbage and marked inferred).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dcmae_core.data.ntu import SampleName, Skeleton, skeleton_from_arrays, write_skeleton
from dcmae_core.data.synth_actions import SOLO_ACTIONS, Style, add_idle
from dcmae_core.data.synth_body import (
    ANKLE,
    ELBOW,
    FOOT,
    HAND,
    HAND_TIP,
    HIP,
    KNEE,
    SHOULDER,
    SPINE_BASE,
    THUMB,
    WRIST,
    BodyShape,
    forward_kinematics,
    sample_body_shape,
)
from dcmae_core.data.synth_interactions import PAIR_ACTIONS

log = logging.getLogger(__name__)

ACTIONS = {**SOLO_ACTIONS, **PAIR_ACTIONS}  # NTU action id -> generator of one motion per person
SYNTH_ACTIONS: tuple[int, ...] = tuple(sorted(ACTIONS))  # the corpus's classes

CAMERA_ANGLES = {1: -np.pi / 4, 2: 0.0, 3: np.pi / 4}  # NTU camera id -> angle about the vertical axis
NUM_PERFORMERS = 40  # performer ids 1..40 (the NTU-60 X-Sub list splits them)
BODY_ID_BASE = 72057594037927936  # 2**56: Kinect v2 body ids are 17-digit numbers just above it
_ARMS = (
    (SHOULDER[0], ELBOW[0], WRIST[0], HAND[0], HAND_TIP[0], THUMB[0]),
    (SHOULDER[1], ELBOW[1], WRIST[1], HAND[1], HAND_TIP[1], THUMB[1]),
)  # left, right
_LEGS = ((HIP[0], KNEE[0], ANKLE[0], FOOT[0]), (HIP[1], KNEE[1], ANKLE[1], FOOT[1]))
# Per-joint base chance of being reported as inferred (Kinect loses hand tips and thumbs most often).
_P_INFERRED = np.full(25, 0.01)
_P_INFERRED[[HAND_TIP[0], HAND_TIP[1], THUMB[0], THUMB[1]]] = 0.15
_P_INFERRED[[HAND[0], HAND[1], WRIST[0], WRIST[1]]] = 0.05
_P_INFERRED[[FOOT[0], FOOT[1], ANKLE[0], ANKLE[1]]] = 0.06
# Per-joint sensor jitter at 3 m (metres, per coordinate): the trunk is steady, the extremities shake,
# as in the real files (residual around a 9-frame mean: trunk 1-3 mm, wrists ~2 cm, tips and feet ~4 cm).
_JITTER = np.full(25, 0.0015)
_JITTER[[ELBOW[0], ELBOW[1], KNEE[0], KNEE[1]]] = 0.005
_JITTER[[WRIST[0], WRIST[1], HAND[0], HAND[1], ANKLE[0], ANKLE[1]]] = 0.01
_JITTER[[HAND_TIP[0], HAND_TIP[1], THUMB[0], THUMB[1], FOOT[0], FOOT[1]]] = 0.018


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *key]))


@dataclass(frozen=True)
class Setup:
    """Camera placement of one setup (the same for its three cameras)."""

    height: float  # metres above the floor
    distance: float  # metres from the middle of the performance area
    tilt: float  # radians, pitched down


def setup_geometry(seed: int, setup: int) -> Setup:
    rng = _rng(seed, 1, setup)
    return Setup(rng.uniform(0.7, 1.3), rng.uniform(2.7, 3.5), rng.uniform(0.03, 0.3))


def performer_shape(seed: int, performer: int) -> BodyShape:
    return sample_body_shape(_rng(seed, 2, performer))


def performance_style(seed: int, performer: int, replication: int, action: int) -> Style:
    """The performer's habits (hand, speed, amplitude) varied per replication and action."""
    habit = _rng(seed, 3, performer)
    hand, speed, amp = int(habit.random() < 0.85), habit.uniform(0.85, 1.15), habit.uniform(0.85, 1.15)
    rng = _rng(seed, 4, performer, replication, action)
    if rng.random() < 0.1:
        hand = 1 - hand
    return Style(speed * rng.uniform(0.8, 1.25), amp * rng.uniform(0.8, 1.2), hand)


def perform(seed: int, name: SampleName) -> np.ndarray:
    """World joint positions (M, T, V, 3) of the performance behind `name` (its camera is ignored)."""
    if name.action not in ACTIONS:
        raise ValueError(f"action A{name.action:03d} is not in the synthetic library ({_action_list()})")
    if not 1 <= name.performer <= NUM_PERFORMERS:
        raise ValueError(f"performer P{name.performer:03d} outside P001..P{NUM_PERFORMERS:03d}")
    key = (name.setup, name.performer, name.replication, name.action)
    rng = _rng(seed, 5, *key)
    style = performance_style(seed, name.performer, name.replication, name.action)
    motions = ACTIONS[name.action](rng, style)
    partner = 1 + (name.performer + 6 * name.replication + name.action) % NUM_PERFORMERS
    if partner == name.performer:
        partner = 1 + partner % NUM_PERFORMERS
    shapes = [performer_shape(seed, name.performer), performer_shape(seed, partner)]
    xyz = []
    for m, shape in zip(motions, shapes[: len(motions)], strict=True):
        add_idle(m, rng)
        xyz.append(forward_kinematics(shape, m))  # (T, V, 3)
    scene = np.stack(xyz)  # (M, T, V, 3)
    # Replication 1 faces the left camera, replication 2 the right one; the spot on the floor varies.
    facing = (-1.0 if name.replication % 2 else 1.0) * np.pi / 4 + rng.uniform(-0.2, 0.2)
    turn = np.array([[np.cos(facing), 0, np.sin(facing)], [0, 1, 0], [-np.sin(facing), 0, np.cos(facing)]])
    spot = np.array([rng.uniform(-0.3, 0.3), 0.0, rng.uniform(-0.3, 0.3)])
    return scene @ turn.T + spot  # (M, T, V, 3)


def to_camera(world: np.ndarray, setup: Setup, camera: int) -> np.ndarray:
    """World (..., 3) -> Kinect camera space (..., 3): x to the sensor's left, y up, z depth (metres)."""
    if camera not in CAMERA_ANGLES:
        raise ValueError(f"camera C{camera:03d} is not one of C001, C002, C003")
    a = -CAMERA_ANGLES[camera]
    turn = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    q = world @ turn.T - np.array([0.0, setup.height, -setup.distance])
    c, s = np.cos(setup.tilt), np.sin(setup.tilt)
    out = q.copy()
    out[..., 1] = c * q[..., 1] + s * q[..., 2]
    out[..., 2] = -s * q[..., 1] + c * q[..., 2]
    return out


def _runs(rng: np.random.Generator, t: int, v: int, p: np.ndarray, run: int = 4) -> np.ndarray:
    """(T, V) bool: True in runs of `run` frames with per-frame/joint probability p (T, V)."""
    draws = rng.random((-(-t // run), v)).repeat(run, axis=0)[:t]  # (T, V)
    return draws < p


def _drift(rng: np.random.Generator, t: int, shape: tuple[int, ...], scale: float) -> np.ndarray:
    """(T, *shape) slowly varying offsets (knots every 8 frames, linear in between)."""
    knots = rng.normal(0.0, scale, (t // 8 + 2, *shape))
    pos = np.linspace(0.0, knots.shape[0] - 1.0, t)
    i = np.minimum(pos.astype(int), knots.shape[0] - 2)
    w = (pos - i).reshape(-1, *([1] * len(shape)))
    return knots[i] * (1 - w) + knots[i + 1] * w


def film(world: np.ndarray, name: SampleName, seed: int) -> Skeleton:
    """What camera `name.camera` of setup `name.setup` reports for the performance `world` (M, T, V, 3)."""
    rng = _rng(seed, 6, name.setup, name.camera, name.performer, name.replication, name.action)
    xyz = to_camera(world, setup_geometry(seed, name.setup), name.camera)  # (M, T, V, 3)
    num_persons, t, v, _ = xyz.shape
    tracking = np.full((num_persons, t, v), 2, dtype=np.int8)
    present = np.ones((num_persons, t), dtype=bool)
    for m in range(num_persons):
        p = np.broadcast_to(_P_INFERRED, (t, v)).copy()  # (T, V)
        # Side views: the limbs on the far side of the body are often inferred.
        dz = xyz[m, :, SHOULDER[0], 2] - xyz[m, :, SHOULDER[1], 2]  # (T,) left minus right depth
        side_on = np.clip((np.abs(dz) - 0.1) / 0.15, 0.0, 1.0)
        for k in (0, 1):
            far = side_on * ((dz > 0) if k == 0 else (dz < 0))
            p[:, list(_ARMS[k][1:])] += 0.45 * far[:, None]
            p[:, list(_LEGS[k][1:])] += 0.2 * far[:, None]
        inferred = _runs(rng, t, v, p)  # (T, V)
        tracking[m][inferred] = 1
        xyz[m] += _drift(rng, t, (v, 3), 0.03) * inferred[..., None]  # inferred joints wander
        if rng.random() < 0.12:  # a limb snaps to garbage for a few frames
            n = int(rng.integers(3, 11))
            s = int(rng.integers(0, t - n))
            limb = list((_ARMS + _LEGS)[rng.integers(4)][1:])
            seg = xyz[m, s : s + n]  # (n, V, 3) view
            hub = seg[:, SPINE_BASE : SPINE_BASE + 1]  # (n, 1, 3)
            seg[:, limb] = 0.5 * (seg[:, limb] + hub) + rng.normal(0, 0.08, 3)
            tracking[m, s : s + n, limb] = 1
        if rng.random() < 0.1:  # the body is lost for a few frames
            n = int(rng.integers(3, 13))
            s = int(rng.integers(int(0.15 * t), int(0.85 * t) - n))
            present[m, s : s + n] = False
    sigma = _JITTER[:, None] * np.clip(xyz[..., 2:3], 0.5, None) / 3.0  # (M, T, V, 1) grows with depth
    xyz += rng.normal(0.0, 1.0, xyz.shape) * sigma
    xyz, present, tracking = _reacquire(rng, xyz, present, tracking)
    xyz = np.round(xyz, 6)  # micrometres: Kinect prints 7 significant digits, and short text writes fast
    xyz[~present] = np.nan  # (M', T, V, 3)
    ids = BODY_ID_BASE + rng.choice(np.arange(1000, 60000), size=len(xyz), replace=False)
    skel = skeleton_from_arrays(xyz, present=present, body_ids=[int(i) for i in ids], tracking=tracking)
    for b in skel.bodies:  # pixel coordinates to 1/1000 px, as in the official files
        b.depth_xy, b.color_xy = np.round(b.depth_xy, 3), np.round(b.color_xy, 3)
    return skel


def _reacquire(rng, xyz, present, tracking):
    """After a lost stretch Kinect may report the same person under a new body id: split such bodies."""
    rows = [], [], []
    for m in range(len(xyz)):
        gaps = np.flatnonzero(np.diff(present[m].astype(np.int8)) == 1)  # frames before a re-appearance
        cut = int(gaps[0]) + 1 if gaps.size and rng.random() < 0.5 else None
        parts = [(None, None)] if cut is None else [(None, cut), (cut, None)]
        for a, b in parts:
            keep = np.zeros_like(present[m])
            keep[a:b] = present[m, a:b]
            rows[0].append(xyz[m])
            rows[1].append(keep)
            rows[2].append(tracking[m])
    return np.stack(rows[0]), np.stack(rows[1]), np.stack(rows[2])  # (M', T, V, 3), (M', T), (M', T, V)


def generate_sample(name: SampleName | str, seed: int = 0) -> Skeleton:
    """One synthetic sample, e.g. generate_sample("S001C002P003R001A023", seed=0)."""
    from dcmae_core.data.ntu import parse_sample_name

    name = parse_sample_name(name) if isinstance(name, str) else name
    return film(perform(seed, name), name, seed)


def spread_names(actions: Sequence[int], performers: Sequence[int], per_action: int = 2) -> list[SampleName]:
    """`per_action` names per action, spread over setups, the three cameras and `performers` in turn. With
    held-out performers and a seed other than the corpus's, `generate_sample` makes clips a model never saw."""
    return [
        SampleName(
            setup=1 + j,
            camera=1 + (k + j) % 3,
            performer=performers[(k + j) % len(performers)],
            replication=1 + j,
            action=action,
        )
        for k, action in enumerate(actions)
        for j in range(per_action)
    ]


def _action_list() -> str:
    return ", ".join(f"A{a:03d}" for a in SYNTH_ACTIONS)


def corpus_names(
    count: int | None = None,
    seed: int = 0,
    setups: Sequence[int] = (1, 2, 3),
    cameras: Sequence[int] = (1, 2, 3),
    performers: Sequence[int] = tuple(range(1, NUM_PERFORMERS + 1)),
    replications: Sequence[int] = (1, 2),
    actions: Sequence[int] = SYNTH_ACTIONS,
) -> list[SampleName]:
    """The full grid of names, or `count` of them drawn from it (classes balanced, seeded), sorted."""
    for label, values, ok in (
        ("setup", setups, lambda x: 1 <= x <= 999),
        ("camera", cameras, lambda x: x in CAMERA_ANGLES),
        ("performer", performers, lambda x: 1 <= x <= NUM_PERFORMERS),
        ("replication", replications, lambda x: 1 <= x <= 999),
        ("action", actions, lambda x: x in ACTIONS),
    ):
        bad = [x for x in values if not ok(x)]
        if bad or not values:
            extra = f"; available: {_action_list()}" if label == "action" else ""
            shown = ", ".join(f"{label[0].upper()}{x:03d}" for x in bad) or "none given"
            raise ValueError(f"invalid {label} ids: {shown}{extra}")
    grid = list(
        itertools.product(sorted(set(setups)), sorted(set(cameras)), sorted(set(performers)), sorted(set(replications)))
    )
    acts = sorted(set(actions))
    if count is None:
        return [SampleName(s, c, p, r, a) for a in acts for s, c, p, r in grid]
    if not 1 <= count <= len(grid) * len(acts):
        raise ValueError(f"count must lie in 1..{len(grid) * len(acts)} for this grid, got {count}")
    rng = _rng(seed, 7)
    order = {a: rng.permutation(len(grid)) for a in acts}
    names = [SampleName(*grid[order[acts[i % len(acts)]][i // len(acts)]], acts[i % len(acts)]) for i in range(count)]
    return sorted(names, key=str)


def write_corpus(
    out_dir: str | Path,
    names: Sequence[SampleName],
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Write one `.skeleton` file per name into out_dir (created); returns the paths, in `names` order."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = [out / f"{n}.skeleton" for n in names]
    by_performance: dict[tuple[int, ...], list[int]] = {}
    for i, n in enumerate(names):  # the three views of a performance share one motion
        by_performance.setdefault((n.setup, n.performer, n.replication, n.action), []).append(i)
    start, done = time.perf_counter(), 0
    for members in by_performance.values():
        world = perform(seed, names[members[0]])
        for i in members:
            write_skeleton(paths[i], film(world, names[i], seed))
            done += 1
            if progress is not None:
                progress(done, len(names))
    elapsed = time.perf_counter() - start
    rate = len(names) / max(elapsed, 1e-9)
    log.info("wrote %d sequences to %s in %.1f s (%.0f/s)", len(names), out, elapsed, rate)
    return paths
