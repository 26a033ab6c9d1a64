"""Transforms (crop-resize, rotation, standardisation) and SkeletonDataset over a cache of the real files."""

from __future__ import annotations

import pickle
import shutil

import numpy as np
import pytest
import torch

from dcmae_core.config import DataConfig
from dcmae_core.data import transforms
from dcmae_core.data.dataset import SkeletonCache, SkeletonDataset
from dcmae_core.data.prepare import prepare_ntu
from dcmae_core.data.splits import resolve_splits


@pytest.fixture(scope="module")
def cache(tmp_path_factory, ntu_files):
    raw = tmp_path_factory.mktemp("raw")
    for p in ntu_files:
        shutil.copy(p, raw / p.name)
    out = tmp_path_factory.mktemp("cache")
    prepare_ntu(raw, out, workers=1, progress=False)
    return SkeletonCache.open(out)


def test_crop_window_rules():
    rng = np.random.default_rng(0)
    for length in (10, 64, 100, 300):
        for _ in range(50):
            start, stop = transforms.crop_window(length, True, rng, 0.5, 1.0, 64)
            assert 0 <= start < stop <= length
            assert stop - start >= min(64, length)
            assert stop - start >= int(0.5 * length)
    start, stop = transforms.crop_window(200, False, test_crop=0.95)
    assert stop - start == 190 and start == 5
    with pytest.raises(ValueError, match="Generator"):
        transforms.crop_window(100, True, None)


def test_resize_is_linear_and_keeps_absent_zero():
    t = np.arange(11, dtype=np.float32)
    data = np.zeros((2, 11, 3, 3), np.float32)
    data[0] = t[:, None, None] + 1.0  # a ramp, 1..11
    present = transforms.presence(data)
    assert present[0].all() and not present[1].any()
    out, pres = transforms.resize_time(data, present, 21)
    assert out.shape == (2, 21, 3, 3) and pres.shape == (2, 21)
    np.testing.assert_allclose(out[0, :, 0, 0], np.linspace(1, 11, 21), atol=1e-5)
    assert np.all(out[1] == 0) and not pres[1].any()
    # a hole in the middle: never blended with zeros
    data[0, 5] = 0
    out, pres = transforms.resize_time(data, transforms.presence(data), 40)
    vals = out[0, pres[0], 0, 0]
    assert np.all((vals >= 1) & (vals <= 11)) and np.all(out[0, ~pres[0]] == 0) and (~pres[0]).any()


def test_crop_resize_any_length():
    rng = np.random.default_rng(1)
    for length in (1, 7, 50, 300):
        data = rng.normal(size=(2, length, 25, 3)).astype(np.float32)
        out, pres = transforms.crop_resize(data, 120, True, rng)
        assert out.shape == (2, 120, 25, 3) and pres.all()


def test_rotation_properties():
    rng = np.random.default_rng(2)
    data = rng.normal(size=(2, 30, 25, 3)).astype(np.float32)
    data[1] = 0
    rot = transforms.random_rotate(data, 0.3, np.random.default_rng(5))
    again = transforms.random_rotate(data, 0.3, np.random.default_rng(5))
    assert np.array_equal(rot, again) and not np.allclose(rot, data)
    np.testing.assert_allclose(np.linalg.norm(rot, axis=-1), np.linalg.norm(data, axis=-1), rtol=1e-5)
    assert np.all(rot[1] == 0)
    # one rotation for the whole clip: pairwise distances within each frame and across frames are kept
    d0 = np.linalg.norm(data[0, 0, :, None] - data[0, 29, None, :], axis=-1)
    d1 = np.linalg.norm(rot[0, 0, :, None] - rot[0, 29, None, :], axis=-1)
    np.testing.assert_allclose(d0, d1, rtol=1e-4, atol=1e-5)
    r = transforms.rotation_matrix(np.array([0.3, -0.2, 0.1]))
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    assert np.allclose(transforms.random_rotate(data, 0.0, rng), data)
    with pytest.raises(ValueError, match="C = 4"):
        transforms.random_rotate(np.zeros((1, 2, 3, 4), np.float32), 0.3, rng)


def test_random_scale_per_axis():
    data = np.random.default_rng(3).normal(size=(2, 10, 25, 3)).astype(np.float32)
    data[1] = 0
    out = transforms.random_scale(data, 0.2, np.random.default_rng(4))
    assert np.array_equal(out, transforms.random_scale(data, 0.2, np.random.default_rng(4)))
    factors = out[0] / data[0]  # (T, V, 3): one factor per axis for the whole clip
    np.testing.assert_allclose(factors, np.broadcast_to(factors[0, 0], factors.shape), rtol=1e-5)
    assert np.all(np.abs(factors[0, 0] - 1) <= 0.2) and len(np.unique(factors[0, 0])) == 3
    assert np.all(out[1] == 0) and out.dtype == np.float32


def test_face_front_undoes_any_camera_yaw(ntu_files):
    from dcmae_core.data.ntu import read_skeleton
    from dcmae_core.data.preprocess import preprocess_skeleton
    from dcmae_core.layout import NTU25, generic_layout

    data = preprocess_skeleton(read_skeleton(ntu_files[0])).data  # a real clip, (M, T, 25, 3), y up
    pairs = NTU25.lateral_pairs
    assert pairs == ((12, 16), (4, 8))  # (left, right) hips and shoulders
    front = transforms.face_front(data, pairs)
    lateral = sum(front[0, :, r] - front[0, :, left] for left, r in pairs).sum(0)
    assert lateral[0] > 0 and abs(lateral[2]) < 1e-3 * abs(lateral[0])  # right-minus-left is +x
    for yaw in (0.4, -1.3, 2.8):  # the same people seen by cameras turned about the vertical axis
        turned = (data @ transforms.rotation_matrix(np.array([0.0, yaw, 0.0])).T).astype(np.float32)
        np.testing.assert_allclose(transforms.face_front(turned, pairs), front, atol=1e-4)
    hidden = data.copy()
    hidden[:, :, [4, 12]] = 0.0  # left shoulder and hip hidden: nothing to measure, the clip stays as it is
    np.testing.assert_array_equal(transforms.face_front(hidden, pairs), hidden)
    assert generic_layout(25).lateral_pairs == ()
    np.testing.assert_array_equal(transforms.face_front(data, ()), data)


def test_test_items_are_standardised_crops(cache):
    cfg = DataConfig()
    mean, std = cache.stats("xsub")
    ds = SkeletonDataset(cache, np.arange(len(cache)), cfg, train=False, mean=mean, std=std)
    for k in range(len(ds)):
        item = ds[k]
        assert item["x"].shape == (2, 120, 25, 3) and item["x"].dtype == torch.float32
        assert item["present"].shape == (2, 120) and item["present"].dtype == torch.bool
        assert item["label"].dtype == torch.int64 and int(item["index"]) == k
        data, pv = cache.sample(k)
        ref, pres = transforms.crop_resize(data, 120, False, test_crop=cfg.test_crop)
        x = item["x"].numpy()
        np.testing.assert_allclose(x[pres] * std + mean, ref[pres], atol=1e-5)
        assert np.all(x[~pres] == 0)  # absent persons stay exactly 0
        assert item["person_valid"].tolist() == pv.tolist()
        if not pv[1]:
            assert torch.all(item["x"][1] == 0) and not item["present"][1].any()


def test_face_front_items(cache):
    cfg = DataConfig(face_front=True)
    mean, std = cache.stats("xsub")
    ds = SkeletonDataset(cache, np.arange(len(cache)), cfg, train=False, mean=mean, std=std)
    for k in range(len(ds)):
        data, _ = cache.sample(k)
        ref, pres = transforms.crop_resize(data, 120, False, test_crop=cfg.test_crop)
        ref = transforms.face_front(ref, cache.layout.lateral_pairs)
        x = ds[k]["x"].numpy()
        np.testing.assert_allclose(x[pres] * std + mean, ref[pres], atol=1e-5)


def test_train_items_random_but_seedable(cache):
    cfg = DataConfig()
    mean, std = cache.stats("xsub")
    ds = SkeletonDataset(cache, np.arange(len(cache)), cfg, train=True, mean=mean, std=std, seed=3)
    a, b = ds[2]["x"], ds[2]["x"]
    assert torch.equal(a, b)
    ds.set_epoch(1)
    assert not torch.equal(a, ds[2]["x"])
    loose = SkeletonDataset(cache, np.arange(len(cache)), cfg, train=True, mean=mean, std=std)
    torch.manual_seed(0)
    c = loose[2]["x"]
    torch.manual_seed(0)
    assert torch.equal(c, loose[2]["x"])
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
    assert batch["x"].shape == (4, 2, 120, 25, 3) and batch["person_valid"].shape == (4, 2)


def test_copy_single_actor_at_load(cache):
    cfg = DataConfig(copy_single_actor=True)
    mean, std = cache.stats("xsub")
    ds = SkeletonDataset(cache, [0], cfg, train=False, mean=mean, std=std)
    item = ds[0]
    assert item["person_valid"].all() and torch.equal(item["x"][0], item["x"][1])


def test_resolve_splits_and_pickle(cache):
    cfg = DataConfig(split="xview", val_ratio=0.3, label_ratio=0.5, label_seed=1)
    s = resolve_splits(cache, cfg)
    assert len(s.test) == 9 and len(s.full_train) + len(s.val) == 1
    assert set(s.train) <= set(s.full_train)
    cache.sample(0)
    clone = pickle.loads(pickle.dumps(cache))
    assert clone._mm is None and np.array_equal(clone.sample(3)[0], cache.sample(3)[0])


def test_open_rejects_bad_folders(tmp_path, cache):
    with pytest.raises(FileNotFoundError):
        SkeletonCache.open(tmp_path / "none")
    bad = tmp_path / "bad"
    shutil.copytree(cache.root, bad)
    with open(bad / "data.bin", "r+b") as fh:
        fh.truncate(100)
    with pytest.raises(ValueError, match="truncated"):
        SkeletonCache.open(bad)
    with pytest.raises(IndexError):
        SkeletonDataset(cache, [len(cache)], DataConfig(), False, *cache.stats("xsub"))
