"""NTU .skeleton I/O on the real samples: read, cross-check, errors, write round trips, sample names."""

from __future__ import annotations

import pickle
import threading
from pathlib import Path

import numpy as np
import pytest
from shared_data import NTU_DERIVED, NTU_MALFORMED

from dcmae_core.data import textnum
from dcmae_core.data.ntu import (
    ACTION_NAMES,
    Body,
    SampleName,
    Skeleton,
    SkeletonFormatError,
    action_name,
    is_two_person,
    parse_sample_name,
    parse_skeleton,
    read_skeleton,
    skeleton_from_arrays,
    write_skeleton,
)
from dcmae_core.data.textnum import TokenError, tokenize

# frames per sample, from the data README
FRAMES = {"A001": 103, "A002": 158, "A003": 104, "A005": 54, "A006": 75, "A007": 86, "A009": 67, "A011": 82, "A058": 70}
BODY_FIELDS = ("frames", "info", "xyz", "depth_xy", "color_xy", "orientation", "tracking")


def _sample(files: list[Path], stem: str) -> Path:
    return next(p for p in files if p.stem == stem)


def assert_same_skeleton(a: Skeleton, b: Skeleton) -> None:
    assert a.num_frames == b.num_frames
    assert [x.body_id for x in a.bodies] == [x.body_id for x in b.bodies]
    for x, y in zip(a.bodies, b.bodies, strict=True):
        for f in BODY_FIELDS:
            assert getattr(x, f).dtype == getattr(y, f).dtype, f
            np.testing.assert_array_equal(getattr(x, f), getattr(y, f), err_msg=f)


def test_reads_every_sample(ntu_files: list[Path]) -> None:
    eols = set()
    for p in ntu_files:
        skel = read_skeleton(p)
        raw = p.read_bytes()
        eols.add(b"\r\n" in raw)
        assert skel.num_frames == int(raw.split()[0])
        if p.stem[-4:] in FRAMES and p.stem != "S002C001P003R001A003":
            assert skel.num_frames == FRAMES[p.stem[-4:]]
        two = p.stem.endswith("A058")
        assert len(skel.bodies) == (2 if two else 1)
        assert (skel.bodies_per_frame == (2 if two else 1)).all()
        for b in skel.bodies:
            assert isinstance(b.body_id, int) and b.body_id > 10**16
            n = b.frames.size
            assert b.frames.dtype == np.int64 and b.tracking.dtype == np.int8
            assert b.xyz.shape == (n, 25, 3) and b.depth_xy.shape == (n, 25, 2)
            assert b.color_xy.shape == (n, 25, 2) and b.orientation.shape == (n, 25, 4)
            assert b.info.shape == (n, 9) and (b.info[:, 8] == 2).all()
            assert set(np.unique(b.tracking)) <= {1, 2}
            assert 1.0 < b.xyz[:, :, 2].mean() < 5.0  # metres in front of the camera
        assert skel.num_joints == 25
    assert eols == {True, False}, "the samples hold both LF and CRLF files"


def test_a001_matches_other_parser(ntu_files: list[Path]) -> None:
    ref = np.load(NTU_DERIVED / "S001C001P001R001A001.body0.xyz.npy")
    skel = read_skeleton(_sample(ntu_files, "S001C001P001R001A001"))
    assert skel.bodies[0].xyz.shape == ref.shape
    np.testing.assert_array_equal(skel.bodies[0].xyz, ref)


def test_a058_two_exact_ids(ntu_files: list[Path]) -> None:
    skel = read_skeleton(_sample(ntu_files, "S001C003P008R002A058"))
    assert sorted(b.body_id for b in skel.bodies) == [72057594037944734, 72057594037944738]
    assert skel.bodies[0].body_id == 72057594037944738  # first body of frame 1
    for b in skel.bodies:
        np.testing.assert_array_equal(b.frames, np.arange(70))


def test_values_equal_python_float(ntu_files: list[Path]) -> None:
    p = _sample(ntu_files, "S001C001P001R001A003")  # holds exponent notation (9.276937E-05)
    skel = read_skeleton(p)
    rows = [ln.split() for ln in p.read_text().splitlines() if len(ln.split()) == 12]
    ref = np.array(rows, dtype=np.float64).reshape(-1, 25, 12)
    np.testing.assert_array_equal(skel.bodies[0].xyz, ref[:, :, 0:3])
    np.testing.assert_array_equal(skel.bodies[0].orientation, ref[:, :, 7:11])


def test_malformed_names_line_6() -> None:
    with pytest.raises(SkeletonFormatError) as ei:
        read_skeleton(NTU_MALFORMED)
    assert ei.value.line == 6 and "line 6" in str(ei.value)
    assert NTU_MALFORMED.name in str(ei.value) and "12" in str(ei.value)
    again = pickle.loads(pickle.dumps(ei.value))
    assert (again.path, again.line, again.reason) == (ei.value.path, ei.value.line, ei.value.reason)


def test_write_read_round_trip_every_sample(ntu_files: list[Path], tmp_path: Path) -> None:
    for p in ntu_files:
        skel = read_skeleton(p)
        out = tmp_path / p.name
        write_skeleton(out, skel)
        raw = out.read_bytes()
        assert raw.endswith(b"\r\n") and raw.count(b"\n") == raw.count(b"\r\n")
        assert_same_skeleton(read_skeleton(out), skel)
    assert sorted(x.name for x in tmp_path.iterdir()) == sorted(p.name for p in ntu_files)  # no temp left


def test_from_arrays_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    xyz = rng.normal(0.0, 0.3, size=(2, 12, 25, 3)).astype(np.float32) + np.array([0, 0, 3.0], np.float32)
    xyz[1, :4] = np.nan  # the second person enters at frame 4 ...
    present = ~np.isnan(xyz).all(axis=(2, 3))
    tracking = rng.integers(0, 3, size=(2, 12, 25))
    skel = skeleton_from_arrays(xyz, present, body_ids=[7, 72057594037944738], tracking=tracking)
    assert [b.body_id for b in skel.bodies] == [7, 72057594037944738]
    np.testing.assert_array_equal(skel.bodies[1].frames, np.arange(4, 12))
    np.testing.assert_array_equal(skel.bodies_per_frame, [1] * 4 + [2] * 8)
    assert (skel.bodies[0].depth_xy[..., 0] > 0).all() and (skel.bodies[0].color_xy[..., 1] > 0).all()
    write_skeleton(tmp_path / "a.skeleton", skel)
    back = read_skeleton(tmp_path / "a.skeleton")
    assert_same_skeleton(back, skel)
    np.testing.assert_array_equal(back.bodies[1].xyz, xyz[1, 4:].astype(np.float64))
    # the person order follows first appearance, whatever the array order
    swapped = skeleton_from_arrays(xyz[::-1].copy())
    assert swapped.bodies[0].frames[0] == 0 and swapped.bodies[1].frames[0] == 4


def test_from_arrays_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="shape"):
        skeleton_from_arrays(np.zeros((2, 3, 4)))
    xyz = np.ones((1, 3, 25, 3))
    xyz[0, 1, 5, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        skeleton_from_arrays(xyz)
    with pytest.raises(ValueError, match="tracking"):
        skeleton_from_arrays(np.ones((1, 3, 25, 3)), tracking=np.full((1, 3, 25), 5))
    with pytest.raises(ValueError, match="body_ids"):
        skeleton_from_arrays(np.ones((2, 3, 25, 3)), body_ids=[1, 1])


def test_write_rejects_invalid_skeleton(tmp_path: Path) -> None:
    skel = skeleton_from_arrays(np.ones((1, 3, 25, 3)))
    bad = Body(**{**skel.bodies[0].__dict__, "body_id": 1.5})
    with pytest.raises(ValueError, match="body_id"):
        write_skeleton(tmp_path / "x.skeleton", Skeleton(3, [bad]))
    bad = Body(**{**skel.bodies[0].__dict__, "frames": np.array([0, 0, 1])})
    with pytest.raises(ValueError, match="frames"):
        write_skeleton(tmp_path / "x.skeleton", Skeleton(3, [bad]))
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (b"", None, "empty"),
        (b"0\n", 1, "zero frames"),
        (b"-3\n", 1, "non-negative"),
        (b"200000\n", 1, "frame count"),
        (b"1\n11\n", 2, "body count"),
        (b"1\n1\n5 0 0 0 0 0 0 0.1 0.2 2\n999\n", 4, "joint count"),
        (b"1\n1\n5 0 0 0 0 0 0 0.1 0.2 2\n2\n" + b"1 2 3 4 5 6 7 8 9 10 11 2\n", 6, "truncated"),
        (b"2\n1\n5 0 0 0 0 0 0 0.1 0.2 2\n1\n1 2 3 4 5 6 7 8 9 10 11 2\n", 6, "truncated"),
        (b"1\n2\n5 0 0 0 0 0 0 0.1 0.2 2\n1\n1 2 3 4 5 6 7 8 9 10 11 2\n", 6, "truncated"),
        (b"1\n1\n5 0 0 0 0 0 0 0.1 0.2 2\n1\n1 2 3 4 5 6 7 8 9 10 nan 2\n", 5, "'nan'"),
        (b"1\n1\n5 0 0 0 0 0 0 0.1 0.2 2\n1\n1 2 3 4 5 6 7 8 9 10 abc 2\n", 5, "not a number"),
        (b"1\n1.0\n5 0 0 0 0 0 0 0.1 0.2 2\n1\n1 2 3 4 5 6 7 8 9 10 11 2\n", 2, "non-negative integer"),
        (b"1\n1\n5 0 0 0 0 0 0 0.1 0.2 2\n1\n1 2 3 4 5 6 7 8 9 10 1e999 2\n", 5, "finite"),
        (b"1\n1\n5 0 0 0 0 0 0 0.1 0.2 2\n1\n1 2 3 4 5 6 7 8 9 10 11 2\n7\n", 6, "after the last frame"),
        (b"1\n1\n5 0 0 0 0 0 0 0.1 0.2 2\n1\n1 2 3 4 5 6 7 8 9 10 11 7\n", 5, "trackingState"),
        (b"1\n1\n5.5 0 0 0 0 0 0 0.1 0.2 2\n1\n1 2 3 4 5 6 7 8 9 10 11 2\n", 3, "bodyID"),
        (b"1\n1\n5 0 0 0 0 0 0 0.1 0.2 2\n1\n1 2 3 \x00\xff 5 6 7 8 9 10 11 2\n", 5, "byte 0x00"),
    ],
)
def test_malformed_buffers(text: bytes, line: int | None, words: str) -> None:
    with pytest.raises(SkeletonFormatError) as ei:
        parse_skeleton(text, path="x.skeleton")
    assert ei.value.line == line, str(ei.value)
    assert words in str(ei.value) and str(ei.value).startswith("x.skeleton")


def test_tolerates_trailing_blank_lines_and_empty_frames() -> None:
    text = b"2\r\n0\r\n1\r\n5 0 0 0 0 0 0 0.1 0.2 2\r\n1\r\n1 2 3 4 5 6 7 8 9 10 11 2\r\n\r\n  \n"
    skel = parse_skeleton(text)
    np.testing.assert_array_equal(skel.bodies_per_frame, [0, 1])
    assert skel.bodies[0].body_id == 5 and skel.bodies[0].frames.tolist() == [1]


def test_bad_paths(tmp_path: Path) -> None:
    for p, words in ((tmp_path / "missing.skeleton", "no such file"), (tmp_path, "directory")):
        with pytest.raises(SkeletonFormatError, match=words):
            read_skeleton(p)
    (tmp_path / "empty.skeleton").write_bytes(b"")
    with pytest.raises(SkeletonFormatError, match="empty"):
        read_skeleton(tmp_path / "empty.skeleton")


def test_sample_names() -> None:
    s = parse_sample_name("/data/nturgb+d/S001C002P003R002A013.skeleton")
    assert s == SampleName(setup=1, camera=2, performer=3, replication=2, action=13)
    assert str(s) == "S001C002P003R002A013"
    assert parse_sample_name(Path("S018C001P042R001A120.body0.xyz.npy")).action == 120
    for bad in ("S01C002P003R002A013.skeleton", "x_S001C002P003R002A013", "S000C001P001R001A001"):
        with pytest.raises(ValueError, match="not an NTU sample name"):
            parse_sample_name(bad)
    assert len(ACTION_NAMES) == 120
    assert action_name(1) == "drink water" and action_name(58) == ACTION_NAMES[57]
    assert is_two_person(58) and is_two_person(106) and is_two_person(120)
    assert not is_two_person(49) and not is_two_person(61) and not is_two_person(105)
    with pytest.raises(ValueError, match="1..120"):
        action_name(121)


def test_tokenize_equals_python_float() -> None:
    """The vectorised number parser gives float(token) bit for bit, on every path."""
    rng = np.random.default_rng(1)
    toks = []
    for _ in range(3000):
        sign = rng.choice(["", "-", "+"])
        whole = "".join(rng.choice(list("0123456789"), size=rng.integers(0, 11)))
        frac = "".join(rng.choice(list("0123456789"), size=rng.integers(0, 11)))
        tok = sign + whole + ("." if rng.random() < 0.8 else "") + frac
        if rng.random() < 0.05:
            tok += f"e{rng.integers(-30, 30)}"
        if whole or frac:
            toks.append(tok)
    toks += ["0", "-0", "5.", ".5", "-.5", "72057594037944734", "999999999999999", "0.111111111111111"]
    for sep in (" ", "\n", "\r\n\t "):
        table = tokenize(sep.join(toks).encode())
        ref = np.array([float(t) for t in toks])
        np.testing.assert_array_equal(table.values, ref)
        assert (np.signbit(table.values) == np.signbit(ref)).all()
    table = tokenize(b"1 2\r\n3 4 5\n\n6")
    assert table.counts.tolist() == [2, 3, 0, 1] and table.first.tolist() == [0, 2, 5, 5]


def _random_decimals(rng: np.random.Generator, n: int) -> list[str]:
    """n plain decimals of 1..16 digits, signed or not, with the dot anywhere or absent."""
    toks = []
    for _ in range(n):
        digits = "".join(rng.choice(list("0123456789"), size=rng.integers(1, 17)))
        cut = int(rng.integers(0, len(digits) + 1))
        body = digits[:cut] + "." + digits[cut:] if rng.random() < 0.8 else digits
        toks.append(str(rng.choice(["", "-", "+"])) + body)
    return toks


@pytest.mark.slow
def test_tokenize_across_chunks_and_threads() -> None:
    """Texts longer than one numpy pass, parsed in several threads at once (each has its own workspace)."""
    rng = np.random.default_rng(2)
    texts = [_random_decimals(rng, textnum._CHUNK + 5000 + 1000 * i) for i in range(4)]
    refs = [np.array([float(t) for t in toks]) for toks in texts]
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        for _ in range(3):
            results[i] = tokenize(" ".join(texts[i]).encode()).values

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, ref in enumerate(refs):
        assert results[i].size == ref.size > textnum._CHUNK
        assert (results[i].view(np.uint64) == ref.view(np.uint64)).all()  # bit for bit, signs of zero too


@pytest.mark.parametrize(
    "tok",
    [
        b"1.2.3",
        b"1..2",
        b"1.2345678.9",
        b"--1",
        b"-",
        b".",
        b"1e",
        b"1-2",
        b"1/2",
        b"1_0",
        b"0x10",
        b"12:3",
        b"nan",
        b"inf",
        b"1e999",
    ],
)
def test_tokenize_rejects_non_numbers(tok: bytes) -> None:
    with pytest.raises(TokenError) as ei:
        tokenize(b"1 2\n3 " + tok + b" 4\n")
    assert ei.value.line == 2 and tok.decode() in str(ei.value)
