"""Training panel: form validation and command line, a real `tiny` run as a subprocess with live curves,
stop (SIGTERM -> last.pt) and resume, the runs list, Open in viewer, and dataset prepare from the panel."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from shared_data import NTU_MALFORMED, NTU_SAMPLES

from app.workers.training import RunOptions, scan_runs, summarise_run

RUN_TIMEOUT_MS = 180_000  # generous: 2 shared cores, torch import in the subprocess


@pytest.fixture
def panel(qtbot, qloop):
    from app.widgets.training_panel import TrainingPanel

    w = TrainingPanel()
    qtbot.addWidget(w)
    w.resize(900, 1000)
    w.show()
    yield w
    w.shutdown(timeout_ms=20_000)


def fill(panel, data: Path, out: Path, epochs: int = 1, stage: str = "pretrain") -> None:
    panel.data_edit.setText(str(data))
    panel.out_edit.setText(str(out))
    panel.stage.setCurrentText(stage)
    panel.preset.setCurrentText("tiny")
    panel.epochs.setValue(epochs)
    panel.batch.setValue(4)
    panel.device.setCurrentText("cpu")


def test_options_validate_and_command(tmp_path, tiny_cache):
    opts = RunOptions(data=str(tiny_cache), out=str(tmp_path / "r"), epochs=3, batch_size=8, device="cpu")
    assert opts.validate() == []
    argv = shlex.split(opts.command())
    assert argv[:4] == ["python", "-m", "dcmae_core.train", "pretrain"]
    assert "train.batch_size=8" in argv and argv[argv.index("--epochs") + 1] == "3" and "--jsonl" in argv
    assert opts.args(resume=True)[-1] == "--resume"
    bad = RunOptions(data=str(tmp_path), out="", epochs=0, batch_size=0, label_ratio=1.5, device="tpu",
                     stage="finetune", pretrained=str(tmp_path / "none.pt"))
    text = " | ".join(bad.validate())
    for needle in ("no meta.json", "output", "epochs", "batch size", "label ratio", "none.pt", "device"):
        assert needle in text
    ft = RunOptions(data=str(tiny_cache), out="o", stage="finetune", label_ratio=0.1)
    assert ft.args()[-2:] == ["--labels", "0.1"]


def test_form_shows_command_and_refuses_bad_input(panel, tmp_path):
    fill(panel, tmp_path, tmp_path / "run")
    assert "--preset tiny" in panel.command.text() and "--device cpu" in panel.command.text()
    assert panel.start() is False
    assert "meta.json" in panel.form_status.text() and not panel.runner.running
    assert panel.pretrained_edit.isEnabled() is False
    panel.stage.setCurrentText("finetune")
    assert panel.pretrained_edit.isEnabled() and panel.command.text().split()[3] == "finetune"


@pytest.mark.slow
def test_run_finishes_with_curves_and_opens_in_viewer(panel, qtbot, tiny_cache, tmp_path):
    out = tmp_path / "runs" / "pre"
    fill(panel, tiny_cache, out, epochs=1)
    with qtbot.waitSignal(panel.runner.finished, timeout=RUN_TIMEOUT_MS) as sig:
        assert panel.start()
    assert sig.args[1] == "finished", "\n".join(panel.log.toPlainText().splitlines()[-15:])
    assert len(panel.loss_plot.x) >= 1 and len(panel.lr_plot.x) == len(panel.loss_plot.x)
    assert panel.progress.value() == 1000
    assert {"start", "step", "epoch", "end"} <= {e["event"] for e in panel.events}
    runs = scan_runs(out.parent)
    assert [(r.status, r.stage, r.epochs_done) for r in runs] == [("finished", "pretrain", 1)]
    assert panel.runs.topLevelItem(0).text(2) == "finished"
    with qtbot.waitSignal(panel.open_checkpoint_requested) as opened:
        panel.open_btn.click()
    assert Path(opened.args[0]).name in ("best.pt", "last.pt") and Path(opened.args[0]).is_file()


@pytest.mark.slow
def test_stop_then_resume(panel, qtbot, tiny_cache, tmp_path):
    out = tmp_path / "runs" / "long"
    fill(panel, tiny_cache, out, epochs=200)
    assert panel.start()
    qtbot.waitUntil(lambda: any(e["event"] == "step" for e in panel.events), timeout=RUN_TIMEOUT_MS)
    with qtbot.waitSignal(panel.runner.finished, timeout=RUN_TIMEOUT_MS) as sig:
        panel.stop_btn.click()
    assert sig.args[1] == "stopped"
    assert (out / "last.pt").is_file() and summarise_run(out).status == "stopped"
    assert panel.resume_btn.isEnabled()
    stopped_at = max(e.get("step", 0) for e in panel.events)
    panel.resume_btn.click()
    assert panel.runner.running and "--resume" in panel.command.text()
    qtbot.waitUntil(lambda: any(e["event"] == "start" and e.get("resumed_at_step", 0) > 0
                                for e in panel.events), timeout=RUN_TIMEOUT_MS)
    resumed = [e for e in panel.events if e["event"] == "start"][-1]
    assert resumed["resumed_at_step"] >= stopped_at - 1
    assert summarise_run(out, running=True).status == "running"
    with qtbot.waitSignal(panel.runner.finished, timeout=RUN_TIMEOUT_MS) as sig:
        panel.stop()
    assert sig.args[1] == "stopped"


def test_crashing_run_is_reported_failed(panel, qtbot, tiny_cache, tmp_path):
    fill(panel, tiny_cache, tmp_path / "bad")
    panel.batch.setValue(4)
    with qtbot.waitSignal(panel.runner.finished, timeout=RUN_TIMEOUT_MS) as sig:
        panel.runner.start(["pretrain", "--preset", "tiny", "--data", str(tiny_cache), "--out",
                            str(tmp_path / "bad"), "--set", "train.nonsense=1", "--jsonl"])
    assert sig.args[1] == "failed" and sig.args[0] != 0
    assert "nonsense" in panel.log.toPlainText()


def test_prepare_from_panel_counts_skipped_files(panel, qtbot, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    good = [p for p in sorted(NTU_SAMPLES.glob("*.skeleton")) if p.name != NTU_MALFORMED.name][:3]
    for p in good:
        (raw / p.name).symlink_to(p)
    (raw / NTU_MALFORMED.name).symlink_to(NTU_MALFORMED)
    panel.raw_edit.setText(str(raw))
    panel.cache_edit.setText(str(tmp_path / "cache"))
    with qtbot.waitSignal(panel.preparer.finished, timeout=RUN_TIMEOUT_MS) as sig:
        assert panel.prepare()
    assert sig.args[1] == "finished", panel.log.toPlainText()[-2000:]
    assert "3 samples, 1 file(s) skipped" in panel.prepare_status.text()
    assert panel.prepare_bar.value() == panel.prepare_bar.maximum() == 4
    assert json.loads((tmp_path / "cache" / "meta.json").read_text())["num_samples"] == 3
    assert panel.data_edit.text() == str(tmp_path / "cache")


@pytest.mark.slow
def test_start_on_a_folder_holding_a_run_asks_before_replacing_it(panel, qtbot, tiny_cache, tmp_path, monkeypatch):
    """A new start on an existing run's folder asks; No keeps the run, Yes passes --overwrite (the CLI refuses
    to replace a run without it)."""
    out = tmp_path / "runs" / "old"
    out.mkdir(parents=True)
    (out / "metrics.jsonl").write_text('{"event": "start"}\n')
    fill(panel, tiny_cache, out, epochs=1)
    asked = []
    monkeypatch.setattr(panel, "confirm_overwrite", lambda o: asked.append(o) or False)
    assert panel.start() is False and asked == [str(out)] and not panel.runner.running
    assert "already holds a run" in panel.form_status.text() and (out / "metrics.jsonl").read_text()
    monkeypatch.setattr(panel, "confirm_overwrite", lambda o: True)
    with qtbot.waitSignal(panel.runner.finished, timeout=RUN_TIMEOUT_MS) as sig:
        assert panel.start()
    assert "--overwrite" in panel.command.text()
    assert sig.args[1] == "finished", "\n".join(panel.log.toPlainText().splitlines()[-15:])
