"""Named occlusion patterns: masks that look like occlusion, seeded, one vocabulary for CLI, evaluation and app.

A pattern is a short text, a name with optional arguments after a colon:

  random:R               the paper's missing-joint protocol: a share R of the present (m, t, v) entries
  limb_span[:A-B]        one limb of one present person hidden for a contiguous span of A..B seconds
  frame_burst[:K[,A-B]]  K bursts of lost frames of A..B seconds each (every joint of every person)
  limb_clip              one limb of one present person hidden in every frame
  lower_body             both legs of every person hidden in every frame (out of the picture)
  person_part            the farther of two persons hidden where the nearer one stands in front of it

Masks follow the model's convention (dcmae_core/model/masking.py): bool, True = removed, and never True
where the person has no data. Random numbers come from the explicit `torch.Generator` on its own device
(as `_rand` draws them), so a CPU generator with seed s gives the same mask on every device, in the CLI
(`reconstruct --mask NAME --seed s`) and in the app (pattern NAME, seed s).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import torch

from dcmae_core.layout import Layout
from dcmae_core.model.masking import _rand, missing_joint_mask

RANDOM_RATIO = 0.1  # random: share of entries removed when no ratio is given (the paper's mid ratio)
LIMB_SPAN_SECONDS = (0.5, 2.0)  # limb_span: a limb behind an object for half a second to two seconds
BURST_COUNT = 2  # frame_burst: number of bursts of lost frames per clip
BURST_SECONDS = (0.1, 0.5)  # frame_burst: a dropped-frame burst of a tracker lasts 3..15 frames at 30 fps
# person_part: half-width (metres) of the nearer person's silhouette around each of its bones in the x-y
# plane; about half a torso's width, generous for arms since the bones run through the middle of the limb.
PERSON_PART_RADIUS = 0.15

LIMBS = ("left arm", "right arm", "left leg", "right leg")  # the limb groups a layout must have
LEGS = ("left leg", "right leg")

PATTERNS: dict[str, str] = {
    "random": f"a random share R of the present joint entries, the paper's protocol (random:R, "
    f"default {RANDOM_RATIO:g})",
    "limb_span": f"one limb of one person hidden for A..B seconds in a row (limb_span:A-B, default "
    f"{LIMB_SPAN_SECONDS[0]:g}-{LIMB_SPAN_SECONDS[1]:g})",
    "frame_burst": f"K bursts of lost frames of A..B seconds each, all joints (frame_burst:K,A-B, default "
    f"{BURST_COUNT},{BURST_SECONDS[0]:g}-{BURST_SECONDS[1]:g})",
    "limb_clip": "one limb of one person hidden in every frame",
    "lower_body": "both legs of every person out of the picture in every frame",
    "person_part": "where two persons overlap, the farther one's joints behind the nearer one are hidden "
    "(needs joint positions; nothing on single-person clips)",
}


class OcclusionError(ValueError):
    """A pattern text or its use is invalid; the message says why in plain words."""


@dataclass(frozen=True)
class OcclusionPattern:
    """A parsed pattern: `name` (a key of PATTERNS) and the arguments that name uses."""

    name: str
    ratio: float = RANDOM_RATIO  # random
    seconds: tuple[float, float] = LIMB_SPAN_SECONDS  # limb_span, frame_burst: span length bounds
    count: int = BURST_COUNT  # frame_burst

    def __str__(self) -> str:
        """The canonical text, e.g. 'limb_span:0.5-2' (parses back to an equal pattern)."""
        lo, hi = self.seconds
        if self.name == "random":
            return f"random:{self.ratio:g}"
        if self.name == "limb_span":
            return f"limb_span:{lo:g}-{hi:g}"
        if self.name == "frame_burst":
            return f"frame_burst:{self.count},{lo:g}-{hi:g}"
        return self.name


_RANGE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*-\s*(\d+(?:\.\d*)?|\.\d+)\s*$")


def _seconds(text: str, what: str) -> tuple[float, float]:
    m = _RANGE.match(text)
    if not m:
        raise OcclusionError(f"{what} needs a span in seconds like 0.5-2, got {text!r}")
    lo, hi = float(m.group(1)), float(m.group(2))
    if not 0.0 < lo <= hi:
        raise OcclusionError(f"{what}: the span {text!r} must have 0 < A <= B seconds")
    return lo, hi


def parse_pattern(text: str | OcclusionPattern) -> OcclusionPattern:
    """'limb_span:1-1.5' -> OcclusionPattern; a bare number R means random:R. OcclusionError names what is valid."""
    if isinstance(text, OcclusionPattern):
        return text
    raw = str(text).strip()
    if not raw:
        raise OcclusionError(f"empty occlusion pattern; use one of {', '.join(PATTERNS)}")
    name, colon, arg = raw.partition(":")
    name, arg = name.strip().lower(), arg.strip()
    if not colon:
        try:
            return OcclusionPattern("random", ratio=_ratio(float(name)))
        except OcclusionError:
            raise
        except ValueError:
            pass  # not a number: a pattern name without arguments
    return _parse_named(name, arg)


def _ratio(r: float) -> float:
    if not 0.0 <= r <= 1.0 or math.isnan(r):
        raise OcclusionError(f"random: the share of removed entries must lie in [0, 1], got {r:g}")
    return r


def _parse_named(name: str, arg: str) -> OcclusionPattern:
    if name not in PATTERNS:
        raise OcclusionError(f"unknown occlusion pattern {name!r}; use one of {', '.join(PATTERNS)}")
    if name == "random":
        if not arg:
            return OcclusionPattern("random")
        try:
            r = float(arg)
        except ValueError:
            raise OcclusionError(f"random takes one share in [0, 1] like random:0.1, got {arg!r}") from None
        return OcclusionPattern("random", ratio=_ratio(r))
    if name == "limb_span":
        return OcclusionPattern("limb_span", seconds=_seconds(arg, "limb_span") if arg else LIMB_SPAN_SECONDS)
    if name == "frame_burst":
        if not arg:
            return OcclusionPattern("frame_burst", seconds=BURST_SECONDS)
        k_text, comma, span = arg.partition(",")
        if not k_text.strip().isdigit() or int(k_text) < 1:
            raise OcclusionError(
                f"frame_burst takes a count of bursts >= 1 and a span, like frame_burst:2,0.1-0.5; got {arg!r}"
            )
        return OcclusionPattern(
            "frame_burst", count=int(k_text), seconds=_seconds(span, "frame_burst") if comma else BURST_SECONDS
        )
    if arg:
        raise OcclusionError(f"{name} takes no arguments, got {arg!r}")
    return OcclusionPattern(name)


def parse_patterns(text: str) -> list[OcclusionPattern]:
    """A comma-separated list ('limb_span,random:0.1,0.05,frame_burst:3,0.2-0.4') -> patterns, in order.

    A bare number R is random:R. frame_burst's own comma stays unambiguous: a span 'A-B' is never an item on
    its own, so it belongs to the frame_burst:K just before it."""
    items: list[str] = []
    for tok in (s.strip() for s in text.split(",")):
        if not tok:
            continue
        if _RANGE.match(tok) and items and re.fullmatch(r"frame_burst:\s*\d+", items[-1].strip().lower()):
            items[-1] += "," + tok
        else:
            items.append(tok)
    return [parse_pattern(s) for s in items]


def _groups(layout: Layout, names: tuple[str, ...], pattern: str) -> list[tuple[int, ...]]:
    missing = [g for g in names if g not in layout.groups]
    if missing:
        raise OcclusionError(
            f"pattern {pattern} needs the body parts {', '.join(names)}, but layout "
            f"{layout.name!r} has no {', '.join(repr(g) for g in missing)}"
        )
    return [layout.groups[g] for g in names]


def _group_table(layout: Layout, names: tuple[str, ...], pattern: str, device: torch.device) -> torch.Tensor:
    """(len(names), V) bool, row g = the joints of group names[g]."""
    table = torch.zeros(len(names), layout.num_joints, dtype=torch.bool)
    for g, idx in enumerate(_groups(layout, names, pattern)):
        table[g, list(idx)] = True
    return table.to(device)


def _pick_person(present: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """(N,) index of a person uniformly among those present in some frame (0 when nobody is); u (N, M)."""
    score = u.masked_fill(~present.any(dim=2), -1.0)  # (N, M)
    return score.argmax(dim=1)


def _extent(rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """rows (N, T) bool -> (first, length) (N,) int64 of the span from the first to the last True frame
    (length 0 where a row has none)."""
    t = rows.shape[1]
    has = rows.any(dim=1)  # (N,)
    first = rows.int().argmax(dim=1)  # (N,) first True
    last = t - 1 - rows.flip(1).int().argmax(dim=1)  # (N,) last True
    return first, torch.where(has, last - first + 1, torch.zeros_like(first))


def _spans(
    first: torch.Tensor,
    extent: torch.Tensor,
    u_len: torch.Tensor,
    u_start: torch.Tensor,
    seconds: tuple[float, float],
    fps: float,
    num_frames: int,
) -> torch.Tensor:
    """(N, K, T) bool: K spans per clip of round(U[A, B] s * fps) frames (at least 1, at most the extent),
    placed uniformly inside [first, first + extent). first, extent (N,); u_len, u_start (N, K) in [0, 1)."""
    lo, hi = seconds
    length = torch.round((lo + u_len * (hi - lo)) * fps).long().clamp(min=1)  # (N, K) frames
    length = torch.minimum(length, extent[:, None])  # (N, K) clipped to the clip
    room = extent[:, None] - length + 1  # (N, K) possible starts
    start = first[:, None] + torch.minimum((u_start * room).long(), (room - 1).clamp(min=0))  # (N, K)
    t = torch.arange(num_frames, device=first.device)  # (T,)
    return (t >= start[..., None]) & (t < (start + length)[..., None])  # (N, K, T)


def occlusion_mask(
    pattern: str | OcclusionPattern,
    present: torch.Tensor,
    layout: Layout,
    generator: torch.Generator | None = None,
    fps: float = 30.0,
    x: torch.Tensor | None = None,
) -> torch.Tensor:
    """(N, M, T, V) bool occlusion mask, True = removed, of the named pattern (see PATTERNS).

    present: (N, M, T) bool, which person has data in which frame; the mask is False wherever it is False.
    layout: the joints' layout (its groups name the limbs). fps: frames per second of the clip, to turn the
    patterns' seconds into frames. x: (N, M, T, V, C) joint positions in metres, camera axes (x right, y up,
    z away from the camera), needed by person_part only. Each clip draws its own numbers from `generator`
    (on the generator's device); a clip with no present person gets an empty mask.
    """
    pat = parse_pattern(pattern)
    if present.dim() != 3 or present.dtype != torch.bool:
        raise OcclusionError(f"present must be an (N, M, T) bool tensor, got {tuple(present.shape)} {present.dtype}")
    if fps <= 0:
        raise OcclusionError(f"fps must be positive, got {fps:g}")
    n, m, t = present.shape
    v = layout.num_joints
    dev = present.device
    if pat.name == "random":
        return missing_joint_mask(present, v, pat.ratio, generator)  # (N, M, T, V)
    if pat.name == "lower_body":
        legs = _group_table(layout, LEGS, pat.name, dev).any(dim=0)  # (V,)
        return present[..., None] & legs  # (N, M, T, V)
    if pat.name in ("limb_span", "limb_clip"):
        limbs = _group_table(layout, LIMBS, pat.name, dev)  # (4, V)
        u = _rand((n, 3 + m), generator, dev)  # (N, 3 + M): limb, span length, span start, person scores
        limb = (u[:, 0] * len(LIMBS)).long().clamp(max=len(LIMBS) - 1)  # (N,)
        person = _pick_person(present, u[:, 3:])  # (N,)
        one_person = torch.arange(m, device=dev) == person[:, None]  # (N, M)
        if pat.name == "limb_clip":
            frames = torch.ones(n, t, dtype=torch.bool, device=dev)  # (N, T)
        else:
            rows = present[torch.arange(n, device=dev), person]  # (N, T) the chosen person's frames
            first, extent = _extent(rows)
            frames = _spans(first, extent, u[:, 1:2], u[:, 2:3], pat.seconds, fps, t)[:, 0]  # (N, T)
        return (
            present[..., None] & one_person[:, :, None, None] & frames[:, None, :, None] & limbs[limb][:, None, None, :]
        )  # (N, M, T, V)
    if pat.name == "frame_burst":
        u = _rand((n, 2 * pat.count), generator, dev)  # (N, 2K): burst lengths, burst starts
        first, extent = _extent(present.any(dim=1))  # (N,) over frames where anyone is present
        frames = _spans(first, extent, u[:, : pat.count], u[:, pat.count :], pat.seconds, fps, t).any(dim=1)  # (N, T)
        return present[..., None] & frames[:, None, :, None].expand(n, m, t, v)  # (N, M, T, V)
    if pat.name == "person_part":
        return _person_part(present, layout, x)
    raise OcclusionError(f"unknown occlusion pattern {pat.name!r}")  # parse_pattern admits only PATTERNS


def _segment_distance(p: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Distance of points p (..., V, 1, 2) to segments a-b (..., 1, B, 2) -> (..., V, B)."""
    ab = b - a
    ap = p - a
    s = ((ap * ab).sum(-1) / (ab * ab).sum(-1).clamp(min=1e-12)).clamp(0.0, 1.0)  # (..., V, B)
    return (ap - s[..., None] * ab).norm(dim=-1)


def _person_part(present: torch.Tensor, layout: Layout, x: torch.Tensor | None) -> torch.Tensor:
    """Person p loses the joints that lie, in the x-y plane, within PERSON_PART_RADIUS of a bone of a person q
    present in the same frame whose mean depth z is smaller (nearer the camera). One person: nothing."""
    n, m, t = present.shape
    v = layout.num_joints
    if x is None:
        raise OcclusionError("person_part needs the joint positions (x) to tell who stands in front of whom")
    if x.shape[:4] != (n, m, t, v) or x.dim() != 5 or x.shape[4] < 3:
        raise OcclusionError(
            f"person_part: positions must be (N, M, T, V, 3) = {(n, m, t, v, 3)}, got {tuple(x.shape)}"
        )
    x = x.to(present.device, torch.float32)
    bones = torch.as_tensor(layout.bones, device=present.device)  # (B, 2) child, parent
    if bones.numel() == 0:
        bones = torch.arange(v, device=present.device)[:, None].expand(v, 2)  # no bones: joints as points
    depth = x[..., 2].mean(dim=3)  # (N, M, T) mean z of each person in each frame
    xy = x[..., :2]  # (N, M, T, V, 2)
    removed = torch.zeros(n, m, t, v, dtype=torch.bool, device=present.device)
    for p in range(m):  # M is 1 or 2 in practice: a loop over person pairs, not over frames
        for q in range(m):
            if p == q:
                continue
            behind = present[:, p] & present[:, q] & (depth[:, p] > depth[:, q])  # (N, T)
            ni, ti = behind.nonzero(as_tuple=True)  # (F,) the frames where p stands behind q
            if ni.numel() == 0:
                continue
            near = xy[ni, q, ti]  # (F, V, 2) the nearer person's joints
            a, b = near[:, None, bones[:, 0]], near[:, None, bones[:, 1]]  # (F, 1, B, 2) bone ends
            dist = _segment_distance(xy[ni, p, ti][:, :, None], a, b)  # (F, V, B)
            removed[ni, p, ti] |= (dist < PERSON_PART_RADIUS).any(dim=2)  # (F, V)
    return removed  # (N, M, T, V)


def occlusion_applies(pattern: str | OcclusionPattern, present: torch.Tensor) -> torch.Tensor:
    """(N,) bool: whether the pattern can occlude each clip at all. person_part needs two persons present in
    a common frame; every other pattern applies to any clip with someone present."""
    pat = parse_pattern(pattern)
    if pat.name == "person_part":
        return (present.sum(dim=1) >= 2).any(dim=1)  # (N,)
    return present.any(dim=2).any(dim=1)  # (N,)
