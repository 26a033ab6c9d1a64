"""Two-person interactions of the synthetic corpus (NTU A050-A060): both performers' joint-angle tracks.

The pair stands facing each other along the scene's x axis (performer 1, the file's P id, on the left);
the gap between them (pelvis to pelvis, metres) is part of each action's trajectory.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dcmae_core.data.synth_actions import Style, clock, gait, osc, ramp, window
from dcmae_core.data.synth_body import FPS, Motion


def _pair(t: int, gap: np.ndarray) -> list[Motion]:
    """Two performers facing each other along x, `gap` (T,) metres apart (pelvis to pelvis)."""
    a, b = Motion(t), Motion(t)
    a.yaw += -np.pi / 2  # looks along +x
    b.yaw += np.pi / 2  # looks along -x
    a.root[:, 0], b.root[:, 0] = -gap / 2, gap / 2
    return [a, b]


def punch(rng, st: Style) -> list[Motion]:
    c = clock(rng, st, (1.8, 3.0))
    u, d = c.u, st.hand
    hits = window(u, 0.1, 0.1, 0.25, 0.55) + (rng.random() < 0.4) * window(u, 0.1, 0.1, 0.55, 0.85)
    recoil = np.convolve(hits, np.ones(6) / 6, mode="same")
    a, b = _pair(c.num_frames, rng.uniform(0.7, 0.95) + 0.12 * recoil)
    guard = window(u, 0.15, 0.15)
    a.arm_flex[d] += 1.0 * guard + 0.55 * hits * st.amplitude
    a.elbow[d] += 2.0 * guard - 1.8 * hits
    a.lean += 0.2 * hits
    b.lean -= 0.35 * recoil
    b.nod -= 0.4 * recoil
    b.arm_flex += 0.7 * recoil
    b.elbow += 1.2 * recoil
    return [a, b]


def hugging(rng, st: Style) -> list[Motion]:
    c = clock(rng, st, (2.4, 3.6))
    u = c.u
    close = window(u, 0.3, 0.25)
    a, b = _pair(c.num_frames, rng.uniform(1.2, 1.5) - close * rng.uniform(0.8, 0.95))
    for k, m in enumerate((a, b)):
        gait(m, window(u, 0.1, 0.1, 0.0, 0.3) + window(u, 0.05, 0.1, 0.8, 1.0), c.ts, rng, 0.6)
        hold = window(u, 0.25, 0.2, 0.1, 0.9)
        m.arm_flex += hold * 1.3 * st.amplitude
        m.arm_abd += hold * 0.5
        m.arm_rot += hold * 0.8
        m.elbow += hold * (1.0 + 0.2 * np.array([[k], [1 - k]]))
        m.lean += hold * 0.15
    return [a, b]


def handshake(rng, st: Style) -> list[Motion]:
    c = clock(rng, st, (2.2, 3.5))
    u = c.u
    near = window(u, 0.2, 0.2)
    a, b = _pair(c.num_frames, rng.uniform(1.0, 1.25) - near * rng.uniform(0.2, 0.35))
    pump = window(u, 0.15, 0.15, 0.25, 0.8) * osc(rng, c.ts, (2.0, 3.0))
    for m in (a, b):  # both shake with the right hand
        m.arm_flex[1] += near * 0.75 * st.amplitude + 0.12 * pump
        m.arm_rot[1] += near * 0.3
        m.elbow[1] += near * 0.6 - 0.1 * pump
        gait(m, window(u, 0.1, 0.1, 0.0, 0.25), c.ts, rng, 0.4)
    return [a, b]


def _walk_pair(rng, st: Style, towards: bool) -> list[Motion]:
    c = clock(rng, st, (2.0, 3.2))
    u = c.u
    walk = window(u, 0.1, 0.1)
    pace = rng.uniform(0.45, 0.7) * st.speed  # metres per second per person
    travel = np.cumsum(walk) * pace / FPS
    start = rng.uniform(0.8, 1.0) + (2 * travel[-1] if towards else 0.0)
    a, b = _pair(c.num_frames, start - 2 * travel if towards else start + 2 * travel)
    turn = ramp(u, 0.0, 0.12) * (0.0 if towards else np.pi)  # walking apart: first turn away
    for m in (a, b):
        m.yaw += turn * (1 if rng.random() < 0.5 else -1)
        gait(m, walk, c.ts, rng, st.amplitude)
    return [a, b]


def walk_towards(rng, st: Style) -> list[Motion]:
    return _walk_pair(rng, st, towards=True)


def walk_apart(rng, st: Style) -> list[Motion]:
    return _walk_pair(rng, st, towards=False)


# The two-person part of the library: NTU action id -> generator returning [performer, partner].
PAIR_ACTIONS: dict[int, Callable[[np.random.Generator, Style], list[Motion]]] = {
    50: punch,
    55: hugging,
    58: handshake,
    59: walk_towards,
    60: walk_apart,
}
