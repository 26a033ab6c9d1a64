"""Splits: NTU benchmark rules, few-label subsets, validation slices, JSON round trip."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from dcmae_core.data import splits


def _fields(n: int = 2000, seed: int = 0):
    rng = np.random.default_rng(seed)
    setup = rng.integers(1, 33, n)
    camera = rng.integers(1, 4, n)
    performer = rng.integers(1, 107, n)
    return setup, camera, performer


def test_ntu60_xsub_by_subject():
    setup, camera, performer = _fields()
    train = splits.ntu_train_mask("ntu60", "xsub", setup, camera, performer)
    assert set(performer[train]) <= set(splits.NTU60_XSUB_TRAIN)
    assert not set(performer[~train]) & set(splits.NTU60_XSUB_TRAIN)
    assert 1 in performer[train] and 3 in performer[~train]


def test_ntu60_xview_by_camera():
    setup, camera, performer = _fields()
    train = splits.ntu_train_mask("ntu60", "xview", setup, camera, performer)
    assert set(camera[train]) == {2, 3} and set(camera[~train]) == {1}


def test_ntu120_xsub_and_xset():
    setup, camera, performer = _fields()
    xsub = splits.ntu_train_mask("ntu120", "xsub", setup, camera, performer)
    assert set(performer[xsub]) <= set(splits.NTU120_XSUB_TRAIN)
    assert 45 in performer[xsub] and 44 in performer[~xsub]
    assert len(splits.NTU120_XSUB_TRAIN) == 53
    xset = splits.ntu_train_mask("ntu120", "xset", setup, camera, performer)
    assert np.all(setup[xset] % 2 == 0) and np.all(setup[~xset] % 2 == 1)


def test_wrong_split_for_dataset_is_a_clear_error():
    setup, camera, performer = _fields(10)
    with pytest.raises(ValueError, match="xview.*ntu120"):
        splits.ntu_train_mask("ntu120", "xview", setup, camera, performer)
    with pytest.raises(ValueError, match="xset"):
        splits.ntu_train_mask("ntu60", "xset", setup, camera, performer)


def test_few_label_subset_is_seeded_and_sized():
    train = np.arange(0, 4000, 2)
    a = splits.few_label_subset(train, 0.05, seed=3)
    b = splits.few_label_subset(train, 0.05, seed=3)
    c = splits.few_label_subset(train, 0.05, seed=4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert len(a) == 100 and np.all(np.isin(a, train)) and np.all(np.diff(a) > 0)
    assert np.array_equal(splits.few_label_subset(train, 1.0, seed=0), train)
    with pytest.raises(ValueError, match="ratio"):
        splits.few_label_subset(train, 0.0, seed=0)


def test_few_label_identical_in_another_process():
    train = np.arange(1000)
    here = splits.few_label_subset(train, 0.1, seed=7)
    code = (
        "import numpy as np; from dcmae_core.data.splits import few_label_subset;"
        "print(','.join(map(str, few_label_subset(np.arange(1000), 0.1, seed=7))))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == ",".join(map(str, here))


def test_stratified_subset_covers_every_class():
    labels = np.repeat(np.arange(10), [200, 5, 50, 50, 50, 50, 50, 50, 50, 3])
    train = np.arange(len(labels))
    sub = splits.few_label_subset(train, 0.1, seed=0, labels=labels, stratified=True)
    counts = np.bincount(labels[sub], minlength=10)
    assert np.all(counts >= 1)
    assert counts[0] == 20 and counts[2] == 5


def test_validation_split_partitions_train():
    train = np.arange(500)
    rest, val = splits.validation_split(train, 0.1, seed=0)
    assert len(val) == 50 and not np.intersect1d(rest, val).size
    assert np.array_equal(np.sort(np.concatenate([rest, val])), train)
    rest0, val0 = splits.validation_split(train, 0.0, seed=0)
    assert len(val0) == 0 and np.array_equal(rest0, train)


def test_indices_json_round_trip(tmp_path):
    idx = splits.few_label_subset(np.arange(300), 0.1, seed=1)
    path = tmp_path / "few_label.json"
    splits.save_indices(path, idx, ratio=0.1, seed=1)
    assert np.array_equal(splits.load_indices(path), idx)
    (tmp_path / "bad.json").write_text('{"nope": 1}')
    with pytest.raises(ValueError, match="not an index file"):
        splits.load_indices(tmp_path / "bad.json")
