"""Named occlusion patterns (dcmae_core/occlusion.py): what each hides, never absent data, seeding, devices,
the text grammar, the `--mask` items of mask_spec and evaluation's per-sample masks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dcmae_core.data.ntu import read_skeleton
from dcmae_core.data.preprocess import preprocess_skeleton
from dcmae_core.evaluation.missing_joints import occlusion_masks
from dcmae_core.layout import KINECT20, NTU25, generic_layout
from dcmae_core.mask_spec import MaskSpecError, parse_mask_spec
from dcmae_core.model.masking import missing_joint_mask
from dcmae_core.occlusion import (
    LIMBS,
    PATTERNS,
    OcclusionError,
    occlusion_applies,
    occlusion_mask,
    parse_pattern,
    parse_patterns,
)
from tests.shared_data import NTU_SAMPLES

V = NTU25.num_joints
LIMB_SETS = [frozenset(NTU25.groups[g]) for g in LIMBS]
LEGS = set(NTU25.groups["left leg"]) | set(NTU25.groups["right leg"])


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def full(n: int = 16, m: int = 2, t: int = 120) -> torch.Tensor:
    return torch.ones(n, m, t, dtype=torch.bool)


def holes(n: int = 16, m: int = 2, t: int = 90, seed: int = 0) -> torch.Tensor:
    """Presence with gaps: person 2 absent in half the clips, random missing frames elsewhere."""
    g = gen(seed)
    present = torch.rand(n, m, t, generator=g) > 0.2  # (N, M, T)
    present[::2, 1] = False
    return present


def _one_limb_of_one_person(mask_n: torch.Tensor) -> tuple[int, frozenset, torch.Tensor]:
    """mask_n (M, T, V) -> (person, joint set, frames (T,) bool); asserts one person and one limb group."""
    persons = mask_n.flatten(1).any(dim=1).nonzero().flatten().tolist()
    assert len(persons) == 1, f"masked persons {persons}"
    p = persons[0]
    joints = frozenset(mask_n[p].any(dim=0).nonzero().flatten().tolist())
    assert joints in LIMB_SETS, f"masked joints {sorted(joints)} are not one limb"
    frames = mask_n[p].any(dim=1)  # (T,)
    assert mask_n[p][frames][:, sorted(joints)].all(), "a masked frame lost only part of the limb"
    return p, joints, frames


def _runs(frames: torch.Tensor) -> list[int]:
    """Lengths of the runs of True in a (T,) bool tensor."""
    padded = torch.cat([torch.zeros(1, dtype=torch.int8), frames.to(torch.int8), torch.zeros(1, dtype=torch.int8)])
    edges = padded.diff().nonzero().flatten().tolist()
    return [b - a for a, b in zip(edges[::2], edges[1::2])]


@pytest.mark.parametrize("text,fps,lo,hi", [("limb_span", 30.0, 15, 60), ("limb_span:1-1.5", 20.0, 20, 30)])
def test_limb_span_hides_one_limb_of_one_person_for_a_bounded_contiguous_span(text, fps, lo, hi):
    m = occlusion_mask(text, full(), NTU25, gen(1), fps=fps)
    assert m.shape == (16, 2, 120, V)
    lengths, persons = [], set()
    for n in range(m.shape[0]):
        p, _, frames = _one_limb_of_one_person(m[n])
        runs = _runs(frames)
        assert len(runs) == 1, f"span is not contiguous: runs {runs}"
        lengths.append(runs[0])
        persons.add(p)
    assert all(lo <= n <= hi for n in lengths), lengths
    assert len(set(lengths)) > 1 and persons == {0, 1}  # lengths and persons vary between clips


def test_limb_span_is_clipped_to_a_short_clip_and_to_the_present_person():
    m = occlusion_mask("limb_span", full(t=10), NTU25, gen(2))  # 0.5 s = 15 frames > 10
    assert all(_runs(_one_limb_of_one_person(m[n])[2]) == [10] for n in range(m.shape[0]))
    present = full(t=60)
    present[:, 1] = False  # one person only
    present[:, 0, :20] = False  # who enters at frame 20
    m = occlusion_mask("limb_span:1-1", present, NTU25, gen(3))
    assert not m[:, 1].any() and not m[:, 0, :20].any()
    assert (m[:, 0].any(dim=2).sum(dim=1) == 30).all()  # 1 s at 30 fps, inside frames 20..59


def test_frame_burst_removes_whole_frames_in_bounded_bursts():
    present = full(t=150)
    m = occlusion_mask("frame_burst:1,0.1-0.5", present, NTU25, gen(4))
    for n in range(m.shape[0]):
        lost = m[n].all(dim=2).all(dim=0)  # (T,) frames where every joint of every person is gone
        touched = m[n].any(dim=2).any(dim=0)  # (T,) frames where anything is gone
        assert torch.equal(lost, touched), "a burst removed part of a frame"
        runs = _runs(lost)
        assert len(runs) == 1 and 3 <= runs[0] <= 15, runs
    m3 = occlusion_mask("frame_burst", present, NTU25, gen(4))  # default: 2 bursts of 0.1..0.5 s
    lost = m3.all(dim=3).all(dim=1)  # (N, T)
    assert torch.equal(lost, m3.any(dim=3).any(dim=1))
    assert ((lost.sum(dim=1) >= 3) & (lost.sum(dim=1) <= 30)).all()
    assert any(len(_runs(row)) == 2 for row in lost)  # two separate bursts in some clip


def test_limb_clip_and_lower_body_hide_their_groups_in_every_present_frame():
    present = holes()
    m = occlusion_mask("limb_clip", present, NTU25, gen(5))
    for n in range(m.shape[0]):
        p, joints, frames = _one_limb_of_one_person(m[n])
        assert torch.equal(frames, present[n, p])  # every frame the person is there
    lb = occlusion_mask("lower_body", present, NTU25, gen(5))
    legs = torch.zeros(V, dtype=torch.bool)
    legs[sorted(LEGS)] = True
    assert torch.equal(lb, present[..., None] & legs)


def test_random_removes_round_r_k_entries_like_the_paper_protocol():
    present = holes()
    m = occlusion_mask("random:0.1", present, NTU25, gen(6))
    k = present.flatten(1).sum(dim=1) * V  # (N,) present entries
    assert torch.equal(m.flatten(1).sum(dim=1), torch.round(k.double() * 0.1).long())
    assert torch.equal(m, missing_joint_mask(present, V, 0.1, gen(6)))
    assert torch.equal(occlusion_mask("0.1", present, NTU25, gen(6)), m)  # a bare number is random:R


@pytest.mark.parametrize("name", ["random:0.3", "limb_span", "frame_burst", "limb_clip", "lower_body"])
def test_nothing_removed_where_absent_and_seeds_decide(name):
    present = holes()
    m = occlusion_mask(name, present, NTU25, gen(7))
    assert m.any() and not (m & ~present[..., None]).any()
    assert torch.equal(m, occlusion_mask(name, present, NTU25, gen(7)))
    if name != "lower_body":  # the only pattern without chance
        assert not torch.equal(m, occlusion_mask(name, present, NTU25, gen(8)))
    empty = torch.zeros(2, 2, 30, dtype=torch.bool)
    assert not occlusion_mask(name, empty, NTU25, gen(7)).any()


def test_a_cpu_generator_gives_the_same_mask_on_every_device():
    present = holes()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for name in ["random:0.2", "limb_span", "frame_burst:3,0.2-0.4", "limb_clip"]:
        ref = occlusion_mask(name, present, NTU25, gen(9))
        for dev in devices:
            got = occlusion_mask(name, present.to(dev), NTU25, gen(9))
            assert got.device.type == dev and torch.equal(got.cpu(), ref), (name, dev)


def test_kinect_layout_and_layouts_without_limbs():
    m = occlusion_mask("limb_clip", full(n=8, t=20), KINECT20, gen(10))
    assert m.shape[-1] == 20
    limbs = [frozenset(KINECT20.groups[g]) for g in LIMBS]
    for n in range(8):
        assert frozenset(m[n].flatten(0, 1).any(dim=0).nonzero().flatten().tolist()) in limbs
    with pytest.raises(OcclusionError, match="generic25"):
        occlusion_mask("lower_body", full(), generic_layout(25))
    assert occlusion_mask("frame_burst", full(t=40), generic_layout(25), gen(0)).any()  # needs no groups


def _two_persons(dx: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Person 1 at 2 m, person 2 one metre behind and dx metres to the side; (present, x)."""
    skel = preprocess_skeleton(read_skeleton(NTU_SAMPLES / "S001C001P001R001A001.skeleton"))
    one = torch.from_numpy(skel.data[0, :40, :, :3].copy())  # (T, V, 3) a real body
    x = torch.stack([one + torch.tensor([0.0, 0.0, 2.0]), one + torch.tensor([dx, 0.0, 3.0])])  # (M, T, V, 3)
    return torch.ones(1, 2, 40, dtype=torch.bool), x[None]


def test_person_part_hides_the_farther_person_behind_the_nearer_one():
    behind = occlusion_mask("person_part", *_two_persons(0.0)[:1], NTU25, x=_two_persons(0.0)[1])
    assert behind[:, 1].all() and not behind[:, 0].any()  # right behind: hidden whole
    present, x = _two_persons(0.3)  # 30 cm to the side: hidden in part
    m = occlusion_mask("person_part", present, NTU25, x=x)
    assert not m[:, 0].any(), "the nearer person is never hidden"
    per_frame = m[:, 1].sum(dim=2)  # (1, T) joints hidden per frame
    assert (per_frame > 0).all() and (per_frame < V).all(), per_frame
    side = x[0, 1, :, :, 0] > x[0, 0, :, :, 0].max(dim=1, keepdim=True).values + 0.15  # (T, V) beside the front one
    assert not (m[0, 1] & side).any(), "a joint clear of the nearer body was hidden"
    assert not occlusion_mask("person_part", *_two_persons(2.0)[:1], NTU25, x=_two_persons(2.0)[1]).any()
    present_late = present.clone()
    present_late[:, 0, :20] = False  # the nearer person arrives at frame 20: nothing hidden before
    m2 = occlusion_mask("person_part", present_late, NTU25, x=x)
    assert not m2[:, :, :20].any() and m2[:, 1, 20:].any()
    # a single-person clip: no mask, and occlusion_applies says the pattern does not apply
    alone = present.clone()
    alone[:, 1] = False
    assert not occlusion_mask("person_part", alone, NTU25, x=x).any()
    assert occlusion_applies("person_part", alone).tolist() == [False]
    assert occlusion_applies("person_part", present).tolist() == [True]
    with pytest.raises(OcclusionError, match="positions"):
        occlusion_mask("person_part", present, NTU25)


def test_person_part_on_a_real_two_person_recording():
    pre = preprocess_skeleton(read_skeleton(NTU_SAMPLES / "S001C003P008R002A058.skeleton"))
    present = torch.from_numpy(pre.present)[None]  # (1, M, T)
    x = torch.from_numpy(pre.data[..., :3].copy())[None]  # (1, M, T, V, 3)
    m = occlusion_mask("person_part", present, NTU25, x=x)[0]  # (M, T, V)
    depth = x[0, ..., 2].mean(dim=2)  # (M, T)
    farther = depth.argmax(dim=0)  # (T,) which person is behind in each frame
    hit_person = m.any(dim=2)  # (M, T)
    assert not (m & ~present[0, ..., None]).any()
    for p in range(2):
        assert not (hit_person[p] & (farther != p)).any(), "the nearer person lost joints"


def test_pattern_grammar_and_plain_errors():
    assert set(PATTERNS) == {"random", "limb_span", "frame_burst", "limb_clip", "lower_body", "person_part"}
    for text in ["random:0.2", "limb_span:1-1.5", "frame_burst:3,0.2-0.4", "limb_clip", "lower_body", "person_part"]:
        assert str(parse_pattern(text)) == text and parse_pattern(str(parse_pattern(text))) == parse_pattern(text)
    assert str(parse_pattern("limb_span")) == "limb_span:0.5-2"
    assert str(parse_pattern("frame_burst")) == "frame_burst:2,0.1-0.5"
    assert [str(p) for p in parse_patterns("limb_span, 0.05 ,frame_burst:3,0.2-0.4,random:0.1,lower_body")] == [
        "limb_span:0.5-2",
        "random:0.05",
        "frame_burst:3,0.2-0.4",
        "random:0.1",
        "lower_body",
    ]
    for bad, words in [
        ("elbow_span", "unknown occlusion pattern"),
        ("random:1.5", r"\[0, 1\]"),
        ("limb_span:2-1", "A <= B"),
        ("limb_span:x", "span in seconds"),
        ("frame_burst:0", "count of bursts"),
        ("lower_body:2", "takes no arguments"),
        ("", "empty"),
        ("0.3-0.5", "unknown"),
    ]:
        with pytest.raises(OcclusionError, match=words):
            parse_pattern(bad)
    with pytest.raises(OcclusionError, match="unknown"):
        parse_patterns("limb_span,0.1-0.5")  # a span only follows frame_burst:K


def test_mask_spec_accepts_patterns_beside_the_old_items():
    present = np.ones((2, 80), dtype=bool)
    present[1, 60:] = False
    pm = torch.from_numpy(present)[None]
    ls = parse_mask_spec("limb_span:1-1.5", present, NTU25, seed=7)
    assert np.array_equal(ls, occlusion_mask("limb_span:1-1.5", pm, NTU25, gen(7))[0].numpy())
    lb = parse_mask_spec("lower_body;person:1", present, NTU25, seed=7)
    assert lb[0][:, sorted(LEGS)].all() and lb.sum() == 80 * len(LEGS)  # person 1 only
    assert np.array_equal(
        parse_mask_spec("random:0.1", present, NTU25, seed=3), parse_mask_spec("occlusion:0.1", present, NTU25, seed=3)
    )
    pre = parse_mask_spec("random:0.5,0.4", present, NTU25, seed=3)  # still the pretraining mask
    assert pre[0].all(axis=1).sum() == 40
    burst = parse_mask_spec("frame_burst:1,0.5-0.5;frames:0-9", present, NTU25, seed=1)
    assert not burst[:, 10:].any()  # frames restricts a pattern
    with pytest.raises(MaskSpecError, match="positions"):
        parse_mask_spec("person_part", present, NTU25)
    with pytest.raises(MaskSpecError, match="limb_span"):
        parse_mask_spec("limb_span:5", present, NTU25)


def test_evaluation_masks_keep_the_old_per_sample_protocol():
    present = holes(n=4)
    batch = {"present": present, "index": torch.tensor([3, 9, 4, 11]), "x": torch.zeros(4, 2, 90, V, 3)}
    got = occlusion_masks(batch, 0.1, 5, NTU25)
    for i, idx in enumerate([3, 9, 4, 11]):  # the masks evaluate always drew, sample by sample
        g = torch.Generator().manual_seed(5 * 1_000_003 + idx)
        assert torch.equal(got[i : i + 1], missing_joint_mask(present[i : i + 1], V, 0.1, g))
    swapped = {k: v[[1, 0, 2, 3]] for k, v in batch.items()}
    ls = occlusion_masks(batch, "limb_span", 5, NTU25)
    assert torch.equal(occlusion_masks(swapped, "limb_span", 5, NTU25), ls[[1, 0, 2, 3]])  # order-free
