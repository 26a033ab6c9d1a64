"""Checkpoints: atomic save, safe load; corrupt, truncated, foreign and malicious files are refused clearly."""

from __future__ import annotations

import os
import zipfile

import pytest
import torch

from dcmae_core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


def _payload():
    return {
        "config": {"train": {"seed": 1}},
        "layout": {"name": "x"},
        "class_names": ["a", "b"],
        "stats": {"mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]},
        "num_persons": 1,
        "in_channels": 3,
        "num_frames": 8,
        "dcmae": {"w": torch.ones(3)},
        "classifier": None,
    }


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


# ----------------------------------------------------------------------------- checksum, NaN weights, missing fields
def _model_checkpoint(tmp_path):
    from dcmae_core.checkpoint import write_untrained_checkpoint

    return write_untrained_checkpoint(tmp_path / "m.pt")


@pytest.mark.slow
def test_bit_flips_never_load_as_changed_weights(tmp_path):
    """Of single-bit flips anywhere in a valid checkpoint, none may load with different contents (before the
    checksum, most loaded with changed weights)."""
    import numpy as np

    path = _model_checkpoint(tmp_path)
    ref = load_checkpoint(path)
    raw = bytearray(path.read_bytes())
    rng = np.random.default_rng(0)
    refused = 0
    for pos in rng.integers(0, len(raw), 60):
        bad = bytearray(raw)
        bad[pos] ^= 1 << int(rng.integers(0, 8))
        flipped = tmp_path / "flipped.pt"
        flipped.write_bytes(bytes(bad))
        try:
            got = load_checkpoint(flipped)
        except CheckpointError:
            refused += 1
            continue
        for part in ("dcmae", "classifier"):
            for k, v in ref[part].items():
                assert torch.equal(got[part][k], v), f"a flip at byte {pos} changed {part}.{k} and loaded"
    assert refused >= 50  # nearly every byte of the file is tensor data or the pickle


def test_a_flipped_weight_names_the_checksum(tmp_path):
    path = _model_checkpoint(tmp_path)
    data = torch.load(path, weights_only=True)
    data["dcmae"][next(iter(data["dcmae"]))].view(-1)[0] += 1.0  # changed behind save_checkpoint's back
    torch.save(data, tmp_path / "edited.pt")
    with pytest.raises(CheckpointError, match="do not match the checksum"):
        load_checkpoint(tmp_path / "edited.pt")


@pytest.mark.parametrize(
    "spoil, words",
    [
        (lambda d: d["dcmae"][next(iter(d["dcmae"]))].view(-1).__setitem__(0, float("nan")), "NaN or infinite"),
        (
            lambda d: d["classifier"][next(iter(d["classifier"]))].view(-1).__setitem__(0, float("inf")),
            "NaN or infinite",
        ),
        (lambda d: d["stats"]["std"].__setitem__(1, float("nan")), "statistics are unusable"),
        (lambda d: d.pop("num_persons"), "lacks num_persons"),
        (lambda d: d.pop("stats"), "lacks stats"),
    ],
)
@pytest.mark.slow
def test_nan_weights_statistics_and_missing_fields_are_refused(tmp_path, capsys, spoil, words):
    from dcmae_core.train import main
    from tests.shared_data import NTU_SAMPLES

    data = {
        k: v for k, v in load_checkpoint(_model_checkpoint(tmp_path)).items() if k not in ("path", "format", "version")
    }
    spoil(data)
    bad = save_checkpoint(tmp_path / "bad.pt", data)  # a fresh checksum: the content itself is refused
    with pytest.raises(CheckpointError, match=words):
        load_checkpoint(bad)
    assert main(["classify", str(NTU_SAMPLES / "S001C001P001R001A001.skeleton"), "--checkpoint", str(bad)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0]


def test_checkpoints_without_a_checksum_still_load(tmp_path):
    from dcmae_core.checkpoint import CHECKSUM_KEY

    data = torch.load(_model_checkpoint(tmp_path), weights_only=True)
    del data[CHECKSUM_KEY]
    torch.save(data, tmp_path / "old.pt")
    assert load_checkpoint(tmp_path / "old.pt")["dcmae"]
