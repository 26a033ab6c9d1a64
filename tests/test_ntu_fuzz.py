"""Property test: mutated and truncated real NTU files parse to a well-formed Skeleton or raise
SkeletonFormatError (never another exception, never a half-built result)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shared_data import NTU_SAMPLES

from dcmae_core.data.ntu import MAX_BODIES, Skeleton, SkeletonFormatError, parse_skeleton

# Two real files: one LF single-person, one CRLF two-person (the others share their layout).
SAMPLES = [
    (NTU_SAMPLES / name).read_bytes() for name in ("S001C001P001R001A005.skeleton", "S001C003P008R002A058.skeleton")
]
GARBAGE = [
    b"abc",
    b"nan",
    b"-inf",
    b"1e999",
    b"-",
    b"1.2.3",
    b"\x00\xff",
    b"",
    b"99999999999999999999",
    b"-5",
    b"2.5",
    b"0x1F",
    b"1e-400",
    b"+",
    b"\xc3\xa9",
    b"1 2",
    b"7" * 30,
]


def check_well_formed(skel: Skeleton) -> None:
    assert 1 <= skel.num_frames
    ids = [b.body_id for b in skel.bodies]
    assert len(set(ids)) == len(ids)
    firsts = [int(b.frames[0]) for b in skel.bodies]
    assert firsts == sorted(firsts), "bodies are in order of first appearance"
    v = skel.num_joints
    for b in skel.bodies:
        n = b.frames.size
        assert isinstance(b.body_id, int) and 0 <= b.body_id < 2**64
        assert n >= 1 and (np.diff(b.frames) > 0).all()
        assert 0 <= b.frames[0] and b.frames[-1] < skel.num_frames
        assert b.xyz.shape == (n, v, 3) and b.depth_xy.shape == (n, v, 2) and b.color_xy.shape == (n, v, 2)
        assert b.orientation.shape == (n, v, 4) and b.tracking.shape == (n, v) and b.info.shape == (n, 9)
        for a in (b.xyz, b.depth_xy, b.color_xy, b.orientation, b.info):
            assert a.dtype == np.float64 and np.isfinite(a).all()
        assert np.isin(b.tracking, (0, 1, 2)).all()
    assert skel.bodies_per_frame.max(initial=0) <= MAX_BODIES


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = draw(st.sampled_from(SAMPLES))
    lines = data.split(b"\n")
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["delete", "duplicate", "replace_line", "garbage_token", "truncate"]))
        i = draw(st.integers(0, len(lines) - 1))
        if kind == "delete" and len(lines) > 1:
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "replace_line":
            lines[i] = lines[draw(st.integers(0, len(lines) - 1))]
        elif kind == "garbage_token":
            toks = lines[i].split(b" ")
            toks[draw(st.integers(0, len(toks) - 1))] = draw(st.sampled_from(GARBAGE))
            lines[i] = b" ".join(toks)
        else:
            cut = draw(st.integers(0, len(b"\n".join(lines))))
            lines = b"\n".join(lines)[:cut].split(b"\n")
    return b"\n".join(lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
@pytest.mark.slow
def test_mutations_parse_or_raise_format_error(data: bytes) -> None:
    try:
        skel = parse_skeleton(data, path="fuzz.skeleton")
    except SkeletonFormatError as exc:
        assert exc.path == "fuzz.skeleton" and exc.reason and str(exc).startswith("fuzz.skeleton")
        assert exc.line is None or 1 <= exc.line <= data.count(b"\n") + 2
        return
    check_well_formed(skel)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_binary_garbage_raises_format_error(data: bytes) -> None:
    try:
        check_well_formed(parse_skeleton(data))
    except SkeletonFormatError:
        pass


def test_real_samples_are_well_formed() -> None:
    for data in SAMPLES:
        check_well_formed(parse_skeleton(data))
