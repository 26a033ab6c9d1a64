"""Importers and converters never drop a sample without a word, never let one bad value block a dataset, and
never write what they cannot store: same-stem files stay two samples, duplicate rows and paths outside the
dataset folder are refused, a 1e39 coordinate (Inf in float32) skips that sample with its reason, `convert`
refuses to write Inf, a full disk is one line."""

from __future__ import annotations

import errno
import json
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from dcmae_core.data.dataset import SkeletonCache
from dcmae_core.data.importers import import_generic, import_npz
from dcmae_core.train import main
from tests.shared_data import NTU_SAMPLES

A001 = NTU_SAMPLES / "S001C001P001R001A001.skeleton"
HUGE = "1e39"  # finite as text and in float64, Inf in float32


def _generic(root: Path, files: dict[str, np.ndarray], rows: list[str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "layout.json").write_text(
        json.dumps({"name": "stick3", "joint_names": ["hip", "chest", "head"], "parents": [-1, 0, 1], "center": 0})
    )
    for rel, arr in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        np.save(root / rel, arr)
    rows = rows if rows is not None else [f"{rel},{i % 2}" for i, rel in enumerate(files)]
    (root / "samples.csv").write_text("file,label\n" + "\n".join(rows) + "\n")
    return root


def _walk(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(10, 3, 3))  # (T, V, C)


def _failures(cache: Path) -> dict[str, str]:
    meta = json.loads((cache / "meta.json").read_text())
    return {f["name"]: f["error"] for f in meta["failures"]}


def test_same_stem_in_two_folders_is_two_samples(tmp_path):
    src = _generic(tmp_path / "g", {"a/walk_0.npy": _walk(0), "b/walk_0.npy": _walk(1)})
    meta = import_generic(src, tmp_path / "c")
    assert meta["num_samples"] == 2 and meta["num_failed"] == 0
    assert SkeletonCache.open(tmp_path / "c").names == ["a/walk_0", "b/walk_0"]


def test_duplicate_rows_are_refused(tmp_path, capsys):
    src = _generic(
        tmp_path / "g",
        {"walk_0.npy": _walk(0), "run.npy": _walk(1)},
        rows=["walk_0.npy,0", "run.npy,1", "walk_0.npy,1"],
    )
    with pytest.raises(ValueError, match="line 4 repeats sample 'walk_0' of line 2"):
        import_generic(src, tmp_path / "c")
    assert main(["import-generic", str(src), "--out", str(tmp_path / "c")]) == 1
    assert "repeats sample" in capsys.readouterr().err


def test_paths_outside_the_dataset_folder_are_refused_unless_allowed(tmp_path):
    np.save(tmp_path / "secret.npy", _walk(2))
    src = _generic(tmp_path / "g", {"walk_0.npy": _walk(0)}, rows=["walk_0.npy,0", "../secret.npy,1"])
    with pytest.raises(ValueError, match="outside the dataset folder"):
        import_generic(src, tmp_path / "c")
    assert not (tmp_path / "c").exists()  # refused before anything was written
    (src / "samples.csv").write_text(f"file,label\nwalk_0.npy,0\n{tmp_path / 'secret.npy'},1\n")  # absolute
    with pytest.raises(ValueError, match="outside the dataset folder"):
        import_generic(src, tmp_path / "c")
    assert main(["import-generic", str(src), "--out", str(tmp_path / "c"), "--allow-outside"]) == 0
    assert json.loads((tmp_path / "c" / "meta.json").read_text())["num_samples"] == 2


def test_an_absurd_label_is_refused_at_once(tmp_path, capsys):
    src = _generic(tmp_path / "g", {"walk_0.npy": _walk(0)}, rows=["walk_0.npy,100000000"])
    t0 = time.monotonic()
    assert main(["import-generic", str(src), "--out", str(tmp_path / "c")]) == 1
    assert time.monotonic() - t0 < 5
    assert "label 100000000 is beyond" in capsys.readouterr().err


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda p: np.save(p, np.zeros((10, 3, 0))), "empty dimension"),  # C = 0
        (lambda p: p.write_bytes(b""), "not a readable .npy"),  # an empty file
        (lambda p: p.mkdir(), "is a folder"),  # a directory named .npy
    ],
)
def test_unusable_sample_files_are_one_line(tmp_path, capsys, make, words):
    src = _generic(tmp_path / "g", {"walk_0.npy": _walk(0)}, rows=["walk_0.npy,0", "bad.npy,1"])
    make(src / "bad.npy")
    assert main(["import-generic", str(src), "--out", str(tmp_path / "c")]) == 1
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1, err


def test_import_generic_skips_an_overflowing_sample_with_its_reason(tmp_path):
    bad = _walk(1)
    bad[3, 1, 0] = float(HUGE)
    src = _generic(tmp_path / "g", {"ok.npy": _walk(0), "bad.npy": bad})
    meta = import_generic(src, tmp_path / "c")
    assert meta["num_samples"] == 1 and meta["num_failed"] == 1
    assert "infinite" in _failures(tmp_path / "c")["bad"]


def test_import_npz_skips_an_infinite_sample_instead_of_aborting(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 8, 2 * 3 * 3)).astype(np.float32)  # (N, T, M*V*C) with V = 3
    x[2, 5, 4] = np.inf
    path = tmp_path / "d.npz"
    np.savez(path, x_train=x, y_train=np.array([0, 1, 0, 1]), x_test=x[:2], y_test=np.array([0, 1]))
    meta = import_npz(path, tmp_path / "c", num_persons=2)
    assert meta["num_samples"] == 5 and meta["num_failed"] == 1
    assert "infinite" in _failures(tmp_path / "c")["train_000002"]
    assert zipfile.is_zipfile(path)


def _overflowing_skeleton(tmp_path: Path) -> Path:
    lines = A001.read_text().splitlines()
    cols = lines[4].split()  # frame 1, body 1, joint 1: x y z ...
    lines[4] = " ".join([HUGE, *cols[1:]])
    bad = tmp_path / "raw" / "S001C001P001R001A002.skeleton"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text("\n".join(lines) + "\n")
    return bad


def test_prepare_skips_an_overflowing_file_and_reruns_cleanly(tmp_path):
    from dcmae_core.data.prepare import prepare_ntu

    _overflowing_skeleton(tmp_path)
    (tmp_path / "raw" / A001.name).write_bytes(A001.read_bytes())
    for _ in range(2):  # a rerun neither aborts nor redoes it
        res = prepare_ntu(tmp_path / "raw", tmp_path / "c", workers=1, progress=False)
        assert (res.num_samples, res.num_failed) == (1, 1)
    assert "infinite" in _failures(tmp_path / "c")["S001C001P001R001A002"]


def test_convert_refuses_to_write_inf(tmp_path, capsys):
    bad = _overflowing_skeleton(tmp_path)
    out = tmp_path / "x.npy"
    assert main(["convert", str(bad), "-o", str(out)]) == 1
    assert "infinite" in capsys.readouterr().err and not out.exists()


def test_convert_output_paths_are_checked_before_work(tmp_path, capsys):
    (tmp_path / "FILE").write_text("x")
    (tmp_path / "DIR").mkdir()
    for target, words in (
        (tmp_path / "FILE" / "x.npy", "is a file, not a folder"),
        (tmp_path / "DIR", "is a folder"),
        (tmp_path / "x.txt", "must end in .npy"),
    ):
        assert main(["convert", str(A001), "-o", str(target)]) == 1
        err = capsys.readouterr().err
        assert words in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "DIR.npy").exists()


def test_a_full_disk_during_prepare_is_one_line(tmp_path, capsys, monkeypatch):
    from dcmae_core.data import prepare

    def full(self, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(self.root / "data.bin"))

    monkeypatch.setattr(prepare.CacheWriter, "add", full)
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / A001.name).write_bytes(A001.read_bytes())
    assert main(["prepare", "--ntu-dir", str(tmp_path / "raw"), "--out", str(tmp_path / "c"), "--workers", "1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: the disk is full") and "data.bin" in err[-1] and "again" in err[-1]
