"""Every training command through the CLI on the tiny preset: pretrain, finetune, evaluate, reconstruct, classify,
experiment (the table writer, resumable) and demo (report and plots); a stopped sweep says how to resume."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dcmae_core.config import build_config
from dcmae_core.data.ntu import read_skeleton
from dcmae_core.evaluation import experiments
from dcmae_core.train import main
from tests.shared_data import NTU_SAMPLES

FAST = ["--preset", "tiny", "--set", "train.pretrain_epochs=1", "--set", "train.finetune_epochs=1"]
FILE = NTU_SAMPLES / "S001C003P008R002A058.skeleton"  # two persons


@pytest.fixture(scope="module")
def finetuned(tiny_cache, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli")
    assert main(["pretrain", *FAST, "--data", str(tiny_cache), "--out", str(out / "pre")]) == 0
    assert (
        main(
            [
                "finetune",
                *FAST,
                "--data",
                str(tiny_cache),
                "--out",
                str(out / "ft"),
                "--labels",
                "0.5",
                "--pretrained",
                str(out / "pre" / "last.pt"),
            ]
        )
        == 0
    )
    return out / "ft" / "best.pt"


@pytest.mark.slow
def test_evaluate_prints_every_arm(finetuned, capsys):
    capsys.readouterr()
    assert main(["evaluate", "--checkpoint", str(finetuned), "--occlusion", "0.1,0.2", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["full"]["count"] > 0 and 0 <= res["full"]["top1"] <= 1
    for key in ("occlusion_0.1", "occlusion_0.2"):
        assert set(res[key]) == {"encoder_only", "rec", "interpolation"}
    assert main(["evaluate", "--checkpoint", str(finetuned), "--occlusion", "0.2"]) == 0
    line = [x for x in capsys.readouterr().out.splitlines() if x.startswith("missing joints 20 %")][0]
    assert "encoder only" in line and "REC" in line and "interpolation" in line


@pytest.mark.slow
def test_evaluate_takes_occlusion_patterns_beside_ratios(finetuned, capsys):
    capsys.readouterr()
    assert (
        main(
            [
                "evaluate",
                "--checkpoint",
                str(finetuned),
                "--occlusion",
                "limb_span,0.1,frame_burst:3,0.2-0.4,person_part",
                "--json",
            ]
        )
        == 0
    )
    res = json.loads(capsys.readouterr().out)
    n = res["full"]["count"]
    for key in ("occlusion_limb_span:0.5-2", "occlusion_0.1", "occlusion_frame_burst:3,0.2-0.4"):
        assert set(res[key]) == {"encoder_only", "rec", "interpolation"}
        assert all(res[key][arm]["count"] == n for arm in res[key])
    pp = res["occlusion_person_part"]  # scored only on the two-person clips where one hides part of the other
    assert set(pp) == {"encoder_only", "rec", "interpolation"} and all(0 < pp[arm]["count"] < n for arm in pp)
    assert main(["evaluate", "--checkpoint", str(finetuned), "--occlusion", "lower_body,0.2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(x.startswith("lower_body:") and "REC" in x and "interpolation" in x for x in lines)
    assert any(x.startswith("missing joints 20 %") for x in lines)
    assert main(["evaluate", "--checkpoint", str(finetuned), "--occlusion", "elbow_span"]) != 0


def test_table_4_puts_every_arm_beside_the_paper(tmp_path):
    cells = [c for c in experiments.table_cells(4) if c.name == "DCMAE"][:1]
    arms = {"encoder_only": 0.5, "rec": 0.625, "interpolation": 0.75}
    results = [{"occlusion": {f"occlusion_{r:g}": arms for r in cells[0].occlusion}}]
    text = experiments.write_table(4, results, cells, "ntu60", "xsub", tmp_path / "t4.md")
    header, _, first = text.splitlines()[2:5]
    assert "ours interpolation" in header and header.count("|") == first.count("|")
    assert "| 50.0 | 62.5 | 75.0 |" in first


@pytest.mark.slow
def test_reconstruct_writes_a_valid_ntu_file_and_npy(finetuned, tmp_path):
    out = tmp_path / "rec.skeleton"
    assert (
        main(
            [
                "reconstruct",
                str(FILE),
                "-o",
                str(out),
                "--checkpoint",
                str(finetuned),
                "--mask",
                "part:left arm",
                "--save-mask",
                str(tmp_path / "mask.json"),
            ]
        )
        == 0
    )
    src, rec = read_skeleton(FILE), read_skeleton(out)
    assert rec.num_frames == src.num_frames and len(rec.bodies) == len(src.bodies)
    assert any(not np.allclose(a.xyz, b.xyz, atol=1e-3) for a, b in zip(src.bodies, rec.bodies)), "nothing filled"
    assert json.loads((tmp_path / "mask.json").read_text())
    # the filled joints say so: not tracked (state 0) in the file, listed in the sidecar, CRLF like NTU files
    side = json.loads((tmp_path / "rec.skeleton.json").read_text())
    assert side["method"] == "one_step" and side["num_filled"] > 0
    for frame, body, joint in side["entries"]:
        assert rec.bodies[body].tracking[list(rec.bodies[body].frames).index(frame), joint] == 0
    assert sum(int((b.tracking == 0).sum()) for b in rec.bodies) >= side["num_filled"]
    assert b"\r\n" in out.read_bytes()[:200]
    assert main(["reconstruct", str(FILE), "-o", str(tmp_path / "rec.npy"), "--checkpoint", str(finetuned)]) == 0
    arr = np.load(tmp_path / "rec.npy")
    assert arr.ndim == 4 and arr.shape[2:] == (25, 3) and np.isfinite(arr).all()


def test_classify_prints_five_named_actions(finetuned, capsys):
    capsys.readouterr()
    assert main(["classify", str(FILE), "--checkpoint", str(finetuned), "--json"]) == 0
    top = json.loads(capsys.readouterr().out)
    assert len(top["top5"]) == 5 and all(item["action"] and 0 <= item["prob"] <= 1 for item in top["top5"])


def test_bad_inputs_are_clear_errors(finetuned, tmp_path, capsys):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    assert main(["classify", str(FILE), "--checkpoint", str(bad)]) != 0
    assert "bad.pt" in capsys.readouterr().err
    assert (
        main(
            [
                "reconstruct",
                str(FILE),
                "-o",
                str(tmp_path / "x.skeleton"),
                "--checkpoint",
                str(finetuned),
                "--mask",
                "part:tail",
            ]
        )
        != 0
    )


@pytest.mark.slow
def test_experiment_writes_the_table_and_does_not_rerun_finished_cells(tiny_cache, tmp_path, monkeypatch):
    argv = ["experiment", "1", *FAST, "--data", str(tiny_cache), "--out", str(tmp_path)]
    assert main(argv) == 0
    table = (tmp_path / "table1.md").read_text()
    assert "DCMAE" in table and "SkeletonMAE" in table and "paper" in table.lower()
    assert "87.7" in table and "86.6" in table  # the paper's NTU-60 X-Sub numbers beside ours

    def no_training(*args, **kwargs):
        raise AssertionError("a finished cell was trained again")

    monkeypatch.setattr("dcmae_core.training.stages.run_pretrain", no_training)
    monkeypatch.setattr("dcmae_core.training.stages.run_finetune", no_training)
    assert main(argv) == 0
    assert (tmp_path / "table1.md").read_text() == table


def test_a_stopped_stage_ends_the_sweep_with_a_resume_hint(tiny_cache, tmp_path, monkeypatch):
    monkeypatch.setattr("dcmae_core.training.stages.run_pretrain", lambda *a, **k: {"finished": False})
    cfg = build_config("tiny", [f"data.root={tiny_cache}"])
    with pytest.raises(experiments.SweepStopped, match="run the same command again"):
        experiments.run_cell(experiments.Cell("DCMAE"), cfg, tmp_path)


@pytest.mark.slow
def test_demo_end_to_end_writes_report_plots_and_checkpoint(tmp_path):
    out = tmp_path / "demo"
    assert (
        main(
            ["demo", *FAST, "--out", str(out), "--count", "40", "--install-checkpoint", str(tmp_path / "installed.pt")]
        )
        == 0
    )
    report = (out / "report.md").read_text()
    for text in (
        "DCMAE",
        "SkeletonMAE",
        "10 % labels",
        "5 % labels",
        "missing: enc / REC / interp",
        "python -m dcmae_core.train demo",
    ):
        assert text in report, text
    for png in ("pretrain_loss.png", "accuracy_vs_occlusion.png", "filmstrip.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
    assert main(["classify", str(FILE), "--checkpoint", str(tmp_path / "installed.pt")]) == 0
