"""Checkpoints: atomic save, safe load; corrupt, truncated, foreign and malicious files are refused clearly."""

from __future__ import annotations

import os
import zipfile

import pytest
import torch

from dcmae_core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


def _payload():
    return {"config": {"train": {"seed": 1}}, "layout": {"name": "x"}, "class_names": ["a", "b"],
            "stats": {"mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]},
            "dcmae": {"w": torch.ones(3)}, "classifier": None}


def test_round_trip(tmp_path):
    path = save_checkpoint(tmp_path / "c.pt", _payload())
    data = load_checkpoint(path)
    assert torch.equal(data["dcmae"]["w"], torch.ones(3))
    assert data["class_names"] == ["a", "b"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary file left behind"


def test_truncated_and_garbage_files(tmp_path):
    path = save_checkpoint(tmp_path / "c.pt", _payload())
    raw = path.read_bytes()
    (tmp_path / "t.pt").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError, match="t.pt"):
        load_checkpoint(tmp_path / "t.pt")
    (tmp_path / "g.pt").write_bytes(os.urandom(2000))
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "g.pt")
    (tmp_path / "e.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        load_checkpoint(tmp_path / "e.pt")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")


def test_foreign_state_dict_is_refused(tmp_path):
    torch.save({"weight": torch.zeros(2)}, tmp_path / "f.pt")
    with pytest.raises(CheckpointError, match="not a DCMAE Studio checkpoint"):
        load_checkpoint(tmp_path / "f.pt")


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch PWNED_BY_CHECKPOINT",))


def test_malicious_pickle_is_refused_and_never_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    payload = {**_payload(), "evil": _Evil()}
    payload["format"] = "dcmae-checkpoint"
    payload["version"] = 1
    torch.save(payload, tmp_path / "m.pt")
    assert zipfile.is_zipfile(tmp_path / "m.pt")
    with pytest.raises(CheckpointError, match="refused"):
        load_checkpoint(tmp_path / "m.pt")
    assert not (tmp_path / "PWNED_BY_CHECKPOINT").exists()
