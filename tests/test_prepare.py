"""prepare: real NTU files -> cache; a corrupt file is skipped and counted; interrupted runs resume."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from shared_data import NTU_MALFORMED

from dcmae_core.data.dataset import SkeletonCache
from dcmae_core.data.ntu import read_skeleton
from dcmae_core.data.prepare import excluded_names, prepare_ntu
from dcmae_core.data.preprocess import preprocess_skeleton


@pytest.fixture()
def raw_dir(tmp_path, ntu_files):
    d = tmp_path / "raw"
    (d / "sub").mkdir(parents=True)
    for i, p in enumerate(ntu_files):
        shutil.copy(p, d / ("sub" if i % 2 else "") / p.name)  # recursive search
    shutil.copy(NTU_MALFORMED, d / "S003C001P001R001A002.skeleton")  # corrupt joint line
    (d / "S001C002P005R002A008.skeleton").write_text("1\r\n0\r\n")  # on the official missing list
    return d


class Stop(Exception):
    pass


def test_prepare_real_files(raw_dir, tmp_path, ntu_files):
    out = tmp_path / "cache"
    res = prepare_ntu(raw_dir, out, workers=1, progress=False)
    assert (res.dataset, res.num_samples, res.num_failed, res.num_excluded) == ("ntu60", 10, 1, 1)
    cache = SkeletonCache.open(out)
    assert len(cache) == 10 and cache.num_persons == 2 and cache.layout.num_joints == 25
    # classes = the actions present, ascending, labels remapped
    assert cache.meta["class_ids"] == [1, 2, 3, 5, 6, 7, 9, 11, 58]
    assert cache.class_names[0] == "drink water" and cache.class_names[-1] == "handshaking"
    for i, name in enumerate(cache.names):
        action = int(name[-3:])
        assert cache.meta["class_ids"][cache.labels[i]] == action
        src = next(p for p in ntu_files if p.stem == name)
        data, pv = cache.sample(i)
        pre = preprocess_skeleton(read_skeleton(src))
        assert np.array_equal(data, pre.data) and np.array_equal(pv, pre.person_valid)  # no padding
    meta = json.loads((out / "meta.json").read_text())
    assert meta["num_failed"] == 1 and "S003C001P001R001A002" in meta["failures"][0]["name"]
    mean, std = cache.stats("xsub")
    assert mean.shape == (3,) and np.all(std > 0)
    with pytest.raises(ValueError, match="xset"):
        cache.split_indices("xset")
    train, test = cache.split_indices("xview")
    assert [cache.names[i][4:8] for i in train] == ["C003"]  # camera 3 trains, camera 1 tests
    assert len(test) == 9


def test_all_classes_and_parallel_workers(raw_dir, tmp_path):
    res = prepare_ntu(raw_dir, tmp_path / "c2", workers=2, all_classes=True, progress=False)
    cache = SkeletonCache.open(tmp_path / "c2")
    assert res.num_samples == 10 and len(cache.class_names) == 60
    assert all(cache.labels[i] == int(n[-3:]) - 1 for i, n in enumerate(cache.names))


def test_ntu120_detected_by_setup(raw_dir, tmp_path, ntu_files):
    shutil.copy(ntu_files[0], raw_dir / "S018C001P001R001A001.skeleton")
    res = prepare_ntu(raw_dir, tmp_path / "c3", workers=1, progress=False)
    cache = SkeletonCache.open(tmp_path / "c3")
    assert res.dataset == "ntu120" and cache.meta["splits"] == ["xsub", "xset"]
    train, _ = cache.split_indices("xset")
    assert {cache.names[i][:4] for i in train} == {"S002", "S018"}


def test_resume_after_interruption(raw_dir, tmp_path):
    out = tmp_path / "cache"

    def stop_after_four(k):
        if k == 4:
            raise Stop

    with pytest.raises(Stop):
        prepare_ntu(raw_dir, out, workers=1, progress=False, on_sample=stop_after_four)
    with pytest.raises(ValueError, match="not a finished"):
        SkeletonCache.open(out)
    with open(out / "data.bin", "ab") as fh:  # a sample cut short when the process died
        fh.write(b"\x01" * 1000)
    with open(out / "journal.jsonl", "a") as fh:
        fh.write('{"name": "S001C0')  # a journal line cut short
    seen = []
    res = prepare_ntu(raw_dir, out, workers=1, progress=False, on_sample=seen.append)
    assert len(seen) == 11 - 4  # finished files are not redone (10 good + 1 corrupt, minus 4)
    assert (res.num_samples, res.num_failed) == (10, 1)
    fresh = tmp_path / "fresh"
    prepare_ntu(raw_dir, fresh, workers=1, progress=False)
    a, b = SkeletonCache.open(out), SkeletonCache.open(fresh)
    assert a.names == b.names
    assert (out / "data.bin").read_bytes() == (fresh / "data.bin").read_bytes()
    # a rerun of a finished cache does nothing new
    again = []
    prepare_ntu(raw_dir, out, workers=1, progress=False, on_sample=again.append)
    assert again == [] and len(SkeletonCache.open(out)) == 10


def test_bad_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        prepare_ntu(tmp_path / "nope", tmp_path / "out", progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no .skeleton"):
        prepare_ntu(tmp_path / "empty", tmp_path / "out", progress=False)


def test_shipped_exclusion_lists():
    names = excluded_names()
    assert len(names) >= 535 and "S001C002P005R002A008" in names
