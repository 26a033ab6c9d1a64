"""Importers: the field's .npz and the generic folder format, into the same cache."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dcmae_core.data.dataset import SkeletonCache
from dcmae_core.data.importers import import_generic, import_npz
from dcmae_core.data.ntu import read_skeleton
from dcmae_core.data.preprocess import preprocess_skeleton


def _field_rows(samples: list[np.ndarray], t_pad: int = 300) -> np.ndarray:
    """(N, t_pad, M*V*C) person-major rows from (M, T, V, C) samples, zero-padded (the field's layout)."""
    m, _, v, c = samples[0].shape
    out = np.zeros((len(samples), t_pad, m * v * c), np.float32)
    for i, s in enumerate(samples):
        out[i, : s.shape[1]] = s.transpose(1, 0, 2, 3).reshape(s.shape[1], -1)  # (T, M*V*C)
    return out


def test_import_npz_real_samples(tmp_path, ntu_files):
    pres = [preprocess_skeleton(read_skeleton(p)) for p in ntu_files]
    data = [p.data for p in pres]
    a058 = next(i for i, p in enumerate(ntu_files) if "A058" in p.name)
    field_fill = data[0].copy()
    field_fill[1] = -0.5  # the field's script leaves -origin in an absent actor's frames
    labels = np.array([int(p.stem[-3:]) - 1 for p in ntu_files])
    onehot = np.eye(60, dtype=np.float32)[labels]
    path = tmp_path / "ntu60_xsub.npz"
    np.savez_compressed(
        path,
        x_train=_field_rows(data[:6]),
        y_train=onehot[:6],
        x_test=_field_rows(data[6:] + [field_fill]),
        y_test=np.concatenate([onehot[6:], onehot[:1]]),
    )
    meta = import_npz(path, tmp_path / "cache")
    cache = SkeletonCache.open(tmp_path / "cache")
    assert len(cache) == 11 and meta["num_persons"] == 2 and cache.layout.name == "ntu25"
    assert len(cache.class_names) == 60 and cache.class_names[0] == "drink water"
    for i in range(10):
        x, pv = cache.sample(i)
        assert x.shape == data[i].shape  # padding trimmed to the real length
        np.testing.assert_array_equal(x, data[i])
        assert cache.labels[i] == labels[i]
        assert pv.tolist() == ([True, True] if i == a058 else [True, False])
    x, pv = cache.sample(10)
    assert pv.tolist() == [True, False] and np.all(x[1] == 0)
    train, test = cache.split_indices("xsub")
    assert train.tolist() == list(range(6)) and test.tolist() == list(range(6, 11))
    assert cache.stats("xview")[1].shape == (3,)


def test_import_npz_other_shapes_from_the_data(tmp_path):
    rng = np.random.default_rng(0)
    samples = [rng.normal(size=(1, 20 + i, 17, 2)).astype(np.float32) for i in range(4)]
    path = tmp_path / "coco.npz"
    np.savez(path, x_train=_field_rows(samples[:3], 40), y_train=np.array([0, 1, 2]),
             x_test=_field_rows(samples[3:], 40), y_test=np.array([1]))  # fmt: skip
    import_npz(path, tmp_path / "c", num_persons=1, channels=2)
    cache = SkeletonCache.open(tmp_path / "c")
    assert (cache.num_persons, cache.num_joints, cache.channels) == (1, 17, 2)
    assert cache.class_names == ["class 0", "class 1", "class 2"]
    assert cache.sample(3)[0].shape == (1, 23, 17, 2)
    with pytest.raises(ValueError, match="do not split"):
        import_npz(path, tmp_path / "d", num_persons=4, channels=3)
    np.savez(tmp_path / "wrong.npz", x_train=np.zeros((2, 5, 6)))
    with pytest.raises(ValueError, match="x_test"):
        import_npz(tmp_path / "wrong.npz", tmp_path / "e")


def _generic_folder(root, split=True):
    rng = np.random.default_rng(1)
    root.mkdir()
    layout = {"name": "stick5", "joint_names": ["hip", "chest", "head", "lhand", "rhand"],
              "parents": [-1, 0, 1, 1, 1], "center": 0}  # fmt: skip
    (root / "layout.json").write_text(json.dumps(layout))
    rows = ["file,label,split" if split else "file,label"]
    for i in range(6):
        if i % 2:
            x = rng.normal(size=(2, 12, 5, 3))
            x[1, :4] = np.nan  # second person enters at frame 4
        else:
            x = rng.normal(size=(15, 5, 3))  # one person, (T, V, C)
            x[:3] = np.nan  # nobody in the first 3 frames
        np.save(root / f"s{i}.npy", x)
        rows.append(f"s{i}.npy,{i % 3}" + (f",{'train' if i < 4 else 'test'}" if split else ""))
    (root / "samples.csv").write_text("\n".join(rows) + "\n")
    (root / "classes.txt").write_text("walk\nrun\njump\n")


def test_import_generic(tmp_path):
    _generic_folder(tmp_path / "g")
    import_generic(tmp_path / "g", tmp_path / "c")
    cache = SkeletonCache.open(tmp_path / "c")
    assert (cache.num_persons, cache.num_joints, cache.channels) == (2, 5, 3)
    assert cache.layout.joint_names[2] == "head" and cache.class_names == ["walk", "run", "jump"]
    assert cache.labels.tolist() == [0, 1, 2, 0, 1, 2]
    x0, pv0 = cache.sample(0)
    assert x0.shape == (2, 12, 5, 3) and pv0.tolist() == [True, False]  # empty frames removed
    assert np.all(x0[0, 0, 0] == 0) and np.all(x0[1] == 0)  # centred on the layout's centre joint
    x1, pv1 = cache.sample(1)
    assert pv1.all() and np.all(x1[1, :4] == 0) and np.all(x1[1, 4:] != 0)
    assert cache.split_indices("xsub")[1].tolist() == [4, 5]


def test_import_generic_without_split_and_errors(tmp_path):
    _generic_folder(tmp_path / "g", split=False)
    import_generic(tmp_path / "g", tmp_path / "c", test_ratio=0.5, seed=2)
    cache = SkeletonCache.open(tmp_path / "c")
    train, test = cache.split_indices("xsub")
    assert len(train) + len(test) == 6 and len(test) > 0
    (tmp_path / "g" / "layout.json").write_text(json.dumps({"name": "x", "joint_names": ["a"], "parents": [-1]}))
    with pytest.raises(ValueError, match="V = 5"):
        import_generic(tmp_path / "g", tmp_path / "d")
    with pytest.raises(FileNotFoundError, match="missing layout.json"):
        import_generic(tmp_path, tmp_path / "e")
