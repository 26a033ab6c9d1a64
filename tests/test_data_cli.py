"""The data CLI: inspect, convert, prepare, import-npz, import-generic (in-process via train.main)."""

from __future__ import annotations

import json
import shutil

import numpy as np

from dcmae_core.data.dataset import SkeletonCache
from dcmae_core.data.ntu import read_skeleton
from dcmae_core.data.preprocess import preprocess_skeleton
from dcmae_core.train import main


def test_inspect_json_two_person(ntu_files, capsys):
    path = next(p for p in ntu_files if "A058" in p.name)
    assert main(["inspect", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["frames"] == 70 and out["kept_frames"] == 70
    assert sorted(b["id"] for b in out["bodies"]) == ["72057594037944734", "72057594037944738"]
    assert all(b["frames"] == 70 for b in out["bodies"]) and len(out["actors"]) == 2
    assert out["action"] == {"id": 58, "name": "handshaking"}


def test_inspect_text(ntu_files, capsys):
    assert main(["inspect", str(ntu_files[0])]) == 0
    text = capsys.readouterr().out
    assert "frames: 103" in text and "A001 drink water" in text and "actor 1: body 72057594037931101" in text


def test_inspect_malformed_is_a_clear_error(capsys):
    from shared_data import NTU_MALFORMED

    assert main(["inspect", str(NTU_MALFORMED)]) == 1
    assert "line" in capsys.readouterr().err


def test_convert(ntu_files, tmp_path):
    out = tmp_path / "a.npy"
    assert main(["convert", str(ntu_files[1]), "-o", str(out)]) == 0
    arr = np.load(out)
    ref = preprocess_skeleton(read_skeleton(ntu_files[1])).data
    assert arr.dtype == np.float32 and arr.shape == (2, 158, 25, 3) and np.array_equal(arr, ref)


def test_prepare_and_import_commands(ntu_files, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for p in ntu_files[:3]:
        shutil.copy(p, raw / p.name)
    assert main(["prepare", "--ntu-dir", str(raw), "--out", str(tmp_path / "c"), "--workers", "1"]) == 0
    assert len(SkeletonCache.open(tmp_path / "c")) == 3
    assert main(["prepare", "--ntu-dir", str(tmp_path / "none"), "--out", str(tmp_path / "d")]) == 1

    rows = np.zeros((2, 30, 150), np.float32)
    rows[:, :20] = np.random.default_rng(0).normal(size=(2, 20, 150))
    np.savez(tmp_path / "f.npz", x_train=rows, y_train=np.eye(2)[[0, 1]], x_test=rows[:1], y_test=np.eye(2)[[1]])
    assert main(["import-npz", str(tmp_path / "f.npz"), "--out", str(tmp_path / "n")]) == 0
    cache = SkeletonCache.open(tmp_path / "n")
    assert len(cache) == 3 and cache.sample(0)[0].shape == (2, 20, 25, 3)

    g = tmp_path / "g"
    g.mkdir()
    (g / "layout.json").write_text(json.dumps({"name": "pair", "joint_names": ["a", "b"], "parents": [-1, 0]}))
    for i in range(3):
        np.save(g / f"{i}.npy", np.random.default_rng(i).normal(size=(9, 2, 3)))
    (g / "samples.csv").write_text("file,label\n0.npy,0\n1.npy,1\n2.npy,1\n")
    assert main(["import-generic", str(g), "--out", str(tmp_path / "gc"), "--test-ratio", "0.4"]) == 0
    assert SkeletonCache.open(tmp_path / "gc").layout.joint_names == ("a", "b")
