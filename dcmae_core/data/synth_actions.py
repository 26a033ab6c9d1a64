"""The synthetic corpus's action library: NTU action id -> joint-angle tracks (see synth_body.Motion).

Every action starts and ends in a relaxed stance, has a random lead-in and tail, and is timed in seconds
(30 fps), so that duration, rhythm and amplitude vary with the performer's style. Classes differ the way
real actions do: which limb moves, with which rhythm, through which posture trajectory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dcmae_core.data.synth_body import FPS, Motion

MIN_FRAMES, MAX_FRAMES = 40, 150  # clip lengths (frames at 30 fps)


@dataclass(frozen=True)
class Style:
    """How one performance is done."""

    speed: float  # > 1 faster (shorter clip)
    amplitude: float  # scales the main excursions
    hand: int  # dominant limb: 0 left, 1 right (index into Motion's (2, T) tracks)


@dataclass
class Clock:
    """Time axes of one clip: frame times `ts` (T,) in seconds and `u` (T,) in [0, 1] over the active part."""

    num_frames: int
    ts: np.ndarray
    u: np.ndarray


def clock(rng: np.random.Generator, style: Style, seconds: tuple[float, float]) -> Clock:
    active = rng.uniform(*seconds) / style.speed * FPS  # frames of the action proper
    lead, tail = rng.uniform(0.05, 0.3) * active, rng.uniform(0.05, 0.3) * active
    t = int(np.clip(round(active + lead + tail), MIN_FRAMES, MAX_FRAMES))
    scale = t / (active + lead + tail)
    frames = np.arange(t, dtype=np.float64)
    u = np.clip((frames - lead * scale) / (active * scale), 0.0, 1.0)
    return Clock(t, frames / FPS, u)


def ramp(u: np.ndarray, a: float, b: float) -> np.ndarray:
    """Smooth step from 0 (u <= a) to 1 (u >= b)."""
    x = np.clip((u - a) / max(b - a, 1e-6), 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def window(u: np.ndarray, rise: float, fall: float, a: float = 0.0, b: float = 1.0) -> np.ndarray:
    """0 -> 1 over [a, a + rise], hold, 1 -> 0 over [b - fall, b]."""
    return ramp(u, a, a + rise) * (1.0 - ramp(u, b - fall, b))


def osc(rng: np.random.Generator, ts: np.ndarray, hz: tuple[float, float]) -> np.ndarray:
    """sin(2 pi f t + phase) with a random frequency (Hz) and phase."""
    return np.sin(2 * np.pi * rng.uniform(*hz) * ts + rng.uniform(0, 2 * np.pi))


def gait(m: Motion, e: np.ndarray, ts: np.ndarray, rng: np.random.Generator, amp: float) -> None:
    """Add walking leg/arm swing, weighted by e (T,) in [0, 1]."""
    f, ph = rng.uniform(0.8, 1.1), rng.uniform(0, 2 * np.pi)
    s = np.sin(2 * np.pi * f * ts + ph)
    for k, sign in ((0, 1.0), (1, -1.0)):
        m.hip_flex[k] += e * 0.35 * amp * sign * s
        m.knee[k] += e * 0.7 * amp * np.maximum(0.0, sign * np.sin(2 * np.pi * f * ts + ph + 0.9))
        m.arm_flex[k] -= e * 0.3 * amp * sign * s
    m.lift += e * 0.015 * np.abs(s)


def drink(rng, st: Style) -> list[Motion]:
    c = clock(rng, st, (2.2, 3.4))
    m, d, e = Motion(c.num_frames), st.hand, window(c.u, 0.3, 0.3)
    m.arm_flex[d] += e * (0.7 + 0.15 * st.amplitude)  # the cup comes up to the mouth
    m.arm_rot[d] += e * 0.7
    m.elbow[d] += e * 2.45
    m.wrist[d] += e * 0.7
    m.nod -= window(c.u, 0.4, 0.4, 0.1, 0.9) * 0.3 * st.amplitude  # head tips back while drinking
    return [m]


def brush_teeth(rng, st: Style) -> list[Motion]:
    c = clock(rng, st, (2.4, 3.8))
    m, d, e = Motion(c.num_frames), st.hand, window(c.u, 0.15, 0.15)
    m.arm_flex[d] += e * (0.65 + 0.15 * st.amplitude)
    m.arm_rot[d] += e * (0.7 + 0.3 * st.amplitude * osc(rng, c.ts, (2.5, 4.0)))  # scrubbing
    m.elbow[d] += e * (2.4 + 0.1 * osc(rng, c.ts, (2.5, 4.0)))
    m.wrist[d] += e * 0.6
    m.nod += e * 0.1
    return [m]


def pickup(rng, st: Style) -> list[Motion]:
    c = clock(rng, st, (2.2, 3.6))
    m, d, e = Motion(c.num_frames), st.hand, window(c.u, 0.4, 0.4)
    bend = e * rng.uniform(0.8, 1.2) * st.amplitude
    m.lean += bend
    m.hip_flex += e * 0.45
    m.knee += e * rng.uniform(0.3, 0.9)
    m.arm_flex[d] += bend * 1.1
    m.arm_flex[1 - d] += bend * 0.6
    m.elbow[d] += 0.15 * e
    return [m]


def throw(rng, st: Style) -> list[Motion]:
    c = clock(rng, st, (1.6, 2.6))
    m, d, u = Motion(c.num_frames), st.hand, c.u
    side = 1.0 if d == 1 else -1.0
    wind, release = window(u, 0.35, 0.05, 0.0, 0.55), ramp(u, 0.5, 0.6) * (1 - ramp(u, 0.7, 1.0))
    m.arm_flex[d] += -0.6 * wind + 2.0 * release * st.amplitude
    m.arm_abd[d] += 1.1 * wind + 0.2 * release
    m.arm_rot[d] += -0.9 * wind
    m.elbow[d] += 1.7 * wind + 0.2 * release
    m.twist += side * (0.35 * wind - 0.3 * release)
    m.lean += 0.3 * release - 0.1 * wind
    m.hip_flex[1 - d] += 0.3 * window(u, 0.3, 0.3, 0.2, 1.0)  # step forward with the other foot
    return [m]


def _sit_track(m: Motion, s: np.ndarray, rng: np.random.Generator) -> None:
    depth = rng.uniform(1.35, 1.6)
    m.hip_flex += s * depth
    m.knee += s * depth
    m.lean += 0.55 * np.sin(np.pi * s) + 0.1 * s
    m.arm_flex += 0.35 * np.sin(np.pi * s)
    m.elbow += 0.4 * s


def sit_down(rng, st: Style) -> list[Motion]:
    c = clock(rng, st, (2.0, 3.5))
    m = Motion(c.num_frames)
    _sit_track(m, ramp(c.u, 0.0, 1.0), rng)
    return [m]


def stand_up(rng, st: Style) -> list[Motion]:
    c = clock(rng, st, (2.0, 3.5))
    m = Motion(c.num_frames)
    _sit_track(m, 1.0 - ramp(c.u, 0.0, 1.0), rng)
    return [m]


def clapping(rng, st: Style) -> list[Motion]:
    c = clock(rng, st, (2.2, 3.6))
    m, e = Motion(c.num_frames), window(c.u, 0.15, 0.15)
    beat = 0.5 + 0.5 * osc(rng, c.ts, (2.0, 3.2))
    m.arm_flex += e * 0.8 * st.amplitude
    m.arm_rot += e * (0.9 - 0.5 * beat)
    m.elbow += e * 1.3
    m.arm_abd += e * 0.35 * beat
    return [m]


def hand_waving(rng, st: Style) -> list[Motion]:
    c = clock(rng, st, (2.2, 3.6))
    m, d, e = Motion(c.num_frames), st.hand, window(c.u, 0.2, 0.2)
    m.arm_abd[d] += e * 1.35 * st.amplitude
    m.arm_flex[d] += e * 0.3
    m.arm_rot[d] -= e * 1.4
    m.elbow[d] += e * (1.3 + 0.45 * st.amplitude * osc(rng, c.ts, (1.5, 2.5)))
    return [m]


def kicking(rng, st: Style) -> list[Motion]:
    c = clock(rng, st, (1.5, 2.4))
    m, d, u = Motion(c.num_frames), st.hand, c.u
    wind, kick = window(u, 0.3, 0.1, 0.0, 0.5), ramp(u, 0.45, 0.6) * (1 - ramp(u, 0.65, 1.0))
    m.hip_flex[d] += -0.35 * wind + 1.2 * st.amplitude * kick
    m.knee[d] += 1.2 * wind + 0.15 * kick
    m.lean -= 0.2 * kick
    m.arm_abd += 0.3 * (wind + kick)
    m.arm_flex[d] -= 0.4 * kick
    return [m]


def hopping(rng, st: Style) -> list[Motion]:
    c = clock(rng, st, (2.2, 3.6))
    m, d, e = Motion(c.num_frames), st.hand, window(c.u, 0.1, 0.1)
    hop = osc(rng, c.ts, (1.8, 2.6))
    m.knee[d] += e * 1.3
    m.hip_flex[d] += e * 0.5
    m.lift += e * rng.uniform(0.05, 0.11) * st.amplitude * np.maximum(0.0, hop)
    m.knee[1 - d] += e * 0.3 * np.maximum(0.0, -hop)
    m.arm_abd += e * 0.35
    return [m]


def jump_up(rng, st: Style) -> list[Motion]:
    c = clock(rng, st, (1.5, 2.5))
    m, u = Motion(c.num_frames), c.u
    crouch = window(u, 0.25, 0.1, 0.0, 0.45) + 0.6 * window(u, 0.1, 0.25, 0.65, 1.0)
    air = np.clip(np.sin(np.pi * (u - 0.45) / 0.2), 0.0, None) * ((u > 0.45) & (u < 0.65))
    m.knee += 1.0 * crouch
    m.hip_flex += 0.9 * crouch
    m.lean += 0.45 * crouch
    m.lift += air * rng.uniform(0.15, 0.35) * st.amplitude
    m.arm_flex += -0.6 * window(u, 0.25, 0.1, 0.0, 0.45) + 2.4 * window(u, 0.05, 0.25, 0.4, 0.8)
    return [m]


def pointing(rng, st: Style) -> list[Motion]:
    c = clock(rng, st, (2.2, 3.8))
    m, d, e = Motion(c.num_frames), st.hand, window(c.u, 0.2, 0.25)
    m.arm_flex[d] += e * rng.uniform(1.1, 1.7) * st.amplitude
    m.arm_abd[d] += e * rng.uniform(-0.2, 0.5)
    m.elbow[d] += e * 0.1
    m.wrist[d] += e * 0.2
    return [m]


def salute(rng, st: Style) -> list[Motion]:
    c = clock(rng, st, (2.0, 3.2))
    m, d, e = Motion(c.num_frames), st.hand, window(c.u, 0.1, 0.2)
    m.arm_abd[d] += e * 1.3 * st.amplitude
    m.arm_flex[d] += e * 0.35
    m.arm_rot[d] -= e * 0.7
    m.elbow[d] += e * 2.35
    return [m]


def falling(rng, st: Style) -> list[Motion]:
    c = clock(rng, st, (1.8, 3.0))
    m, u = Motion(c.num_frames), c.u
    s = ramp(u, 0.1, 0.7) ** 1.5  # accelerates towards the floor
    buckle = np.sin(np.pi * ramp(u, 0.05, 0.8))  # knees give way, then the body lies stretched
    where = rng.integers(3)
    if where == 0:
        m.pitch += 1.5 * s  # forwards
    elif where == 1:
        m.pitch -= 1.5 * s  # backwards
    else:
        m.roll += rng.choice([-1.5, 1.5]) * s  # sideways
    m.knee += 1.1 * buckle + 0.2 * s
    m.hip_flex += 0.7 * buckle + 0.2 * s
    m.lean += 0.4 * buckle
    m.arm_abd += 1.0 * s * st.amplitude
    m.arm_flex += 0.9 * buckle
    return [m]


# The single-person part of the library: NTU action id -> generator (synth_interactions has the pairs).
SOLO_ACTIONS: dict[int, Callable[[np.random.Generator, Style], list[Motion]]] = {
    1: drink,
    3: brush_teeth,
    6: pickup,
    7: throw,
    8: sit_down,
    9: stand_up,
    10: clapping,
    23: hand_waving,
    24: kicking,
    26: hopping,
    27: jump_up,
    31: pointing,
    38: salute,
    43: falling,
}


def add_idle(m: Motion, rng: np.random.Generator) -> None:
    """The relaxed stance every action shares: hanging arms, slow sway of trunk, head and arms."""
    t = m.num_frames

    def drift(scale: float, *lead: int) -> np.ndarray:
        knots = rng.normal(0.0, scale, (*lead, t // 15 + 2))  # one random knot every 15 frames
        grid = np.linspace(0, knots.shape[-1] - 1, t)
        return np.apply_along_axis(lambda k: np.interp(grid, np.arange(k.size), k), -1, knots)

    m.arm_abd += rng.uniform(0.05, 0.2) + drift(0.04, 2)
    m.elbow += rng.uniform(0.05, 0.3) + drift(0.05, 2)
    m.arm_flex += drift(0.04, 2)
    m.lean += rng.uniform(-0.05, 0.1) + drift(0.02)
    m.bend += drift(0.02)
    m.nod += rng.uniform(-0.05, 0.15) + drift(0.04)
    m.yaw += drift(0.04)
    m.hip_abd += rng.uniform(0.0, 0.12)
