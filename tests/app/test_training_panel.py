"""Training panel: form validation and command line, a real `tiny` run as a subprocess with live curves,
stop (SIGTERM -> last.pt) and resume, the runs list, Open in viewer, and dataset prepare from the panel."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from shared_data import NTU_MALFORMED, NTU_SAMPLES

from app.workers.training import RunOptions, available_presets, scan_runs, summarise_run

RUN_TIMEOUT_MS = 180_000  # generous: 2 shared cores, torch import in the subprocess


@pytest.fixture
def ctl(qtbot, qloop):
    from app.training_controller import TrainingController

    c = TrainingController()
    yield c
    c.shutdown(timeout_ms=20_000)


@pytest.fixture
def panel(qtbot, ctl):
    from app.widgets.training_panel import TrainingPanel

    w = TrainingPanel(available_presets())
    ctl.attach(w)
    qtbot.addWidget(w)
    w.resize(900, 1000)
    w.show()
    return w


def fill(panel, data: Path, out: Path, epochs: int = 1, stage: str = "pretrain") -> None:
    form = panel.form
    form.data_edit.setText(str(data))
    form.out_edit.setText(str(out))
    form.stage.setCurrentText(stage)
    form.preset.setCurrentText("tiny")
    form.epochs.setValue(epochs)
    form.batch.setValue(4)
    form.device.setCurrentText("cpu")


def test_options_validate_and_command(tmp_path, tiny_cache):
    opts = RunOptions(data=str(tiny_cache), out=str(tmp_path / "r"), epochs=3, batch_size=8, device="cpu")
    assert opts.validate() == []
    argv = shlex.split(opts.command())
    assert argv[:4] == ["python", "-m", "dcmae_core.train", "pretrain"]
    assert "train.batch_size=8" in argv and argv[argv.index("--epochs") + 1] == "3" and "--jsonl" in argv
    assert opts.args(resume=True)[-1] == "--resume"
    bad = RunOptions(
        data=str(tmp_path),
        out="",
        epochs=0,
        batch_size=0,
        label_ratio=1.5,
        device="tpu",
        stage="finetune",
        pretrained=str(tmp_path / "none.pt"),
    )
    text = " | ".join(bad.validate())
    for needle in ("no meta.json", "output", "epochs", "batch size", "label ratio", "none.pt", "device"):
        assert needle in text
    ft = RunOptions(data=str(tiny_cache), out="o", stage="finetune", label_ratio=0.1)
    assert ft.args()[-2:] == ["--labels", "0.1"]


def test_form_shows_command_and_refuses_bad_input(panel, ctl, qtbot, tmp_path):
    form = panel.form
    fill(panel, tmp_path, tmp_path / "run")
    assert "--preset tiny" in form.command.text() and "--device cpu" in form.command.text()
    assert ctl.start(form.options()) is False
    assert "meta.json" in form.form_status.text() and not ctl.runner.running
    form.form_status.clear()
    with qtbot.waitSignal(panel.start_requested) as sig:  # the Start button asks with the form's options
        panel.start_btn.click()
    assert sig.args == [form.options(), False] and "meta.json" in form.form_status.text() and not ctl.runner.running
    assert form.pretrained_edit.isEnabled() is False
    form.stage.setCurrentText("finetune")
    assert form.pretrained_edit.isEnabled() and form.command.text().split()[3] == "finetune"


@pytest.mark.slow
def test_run_finishes_with_curves_and_opens_in_viewer(panel, ctl, qtbot, tiny_cache, tmp_path):
    out = tmp_path / "runs" / "pre"
    fill(panel, tiny_cache, out, epochs=1)
    with qtbot.waitSignal(ctl.runner.finished, timeout=RUN_TIMEOUT_MS) as sig:
        assert ctl.start(panel.form.options())
    assert sig.args[1] == "finished", "\n".join(panel.log.toPlainText().splitlines()[-15:])
    assert len(panel.loss_plot.x) >= 1 and len(panel.lr_plot.x) == len(panel.loss_plot.x)
    assert panel.progress.value() == 1000
    assert {"start", "step", "epoch", "end"} <= {e["event"] for e in ctl.events}
    runs = scan_runs(out.parent)
    assert [(r.status, r.stage, r.epochs_done) for r in runs] == [("finished", "pretrain", 1)]
    assert panel.runs.topLevelItem(0).text(2) == "finished"
    with qtbot.waitSignal(panel.open_checkpoint_requested) as opened:
        panel.open_btn.click()
    assert Path(opened.args[0]).name in ("best.pt", "last.pt") and Path(opened.args[0]).is_file()


@pytest.mark.slow
def test_stop_then_resume(panel, ctl, qtbot, tiny_cache, tmp_path):
    out = tmp_path / "runs" / "long"
    fill(panel, tiny_cache, out, epochs=200)
    assert ctl.start(panel.form.options())
    qtbot.waitUntil(lambda: any(e["event"] == "step" for e in ctl.events), timeout=RUN_TIMEOUT_MS)
    with qtbot.waitSignal(ctl.runner.finished, timeout=RUN_TIMEOUT_MS) as sig:
        panel.stop_btn.click()
    assert sig.args[1] == "stopped"
    assert (out / "last.pt").is_file() and summarise_run(out).status == "stopped"
    assert panel.resume_btn.isEnabled()
    stopped_at = max(e.get("step", 0) for e in ctl.events)
    panel.resume_btn.click()
    assert ctl.runner.running and "--resume" in panel.form.command.text()
    qtbot.waitUntil(
        lambda: any(e["event"] == "start" and e.get("resumed_at_step", 0) > 0 for e in ctl.events),
        timeout=RUN_TIMEOUT_MS,
    )
    resumed = [e for e in ctl.events if e["event"] == "start"][-1]
    assert resumed["resumed_at_step"] >= stopped_at - 1
    assert summarise_run(out, running=True).status == "running"
    with qtbot.waitSignal(ctl.runner.finished, timeout=RUN_TIMEOUT_MS) as sig:
        ctl.stop()
    assert sig.args[1] == "stopped"


@pytest.mark.slow
def test_crashing_run_is_reported_failed(panel, ctl, qtbot, tiny_cache, tmp_path):
    fill(panel, tiny_cache, tmp_path / "bad")
    panel.form.batch.setValue(4)
    with qtbot.waitSignal(ctl.runner.finished, timeout=RUN_TIMEOUT_MS) as sig:
        ctl.runner.start(
            [
                "pretrain",
                "--preset",
                "tiny",
                "--data",
                str(tiny_cache),
                "--out",
                str(tmp_path / "bad"),
                "--set",
                "train.nonsense=1",
                "--jsonl",
            ]
        )
    assert sig.args[1] == "failed" and sig.args[0] != 0
    assert "nonsense" in panel.log.toPlainText()


@pytest.mark.slow
def test_prepare_from_panel_counts_skipped_files(panel, ctl, qtbot, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    good = [p for p in sorted(NTU_SAMPLES.glob("*.skeleton")) if p.name != NTU_MALFORMED.name][:3]
    for p in good:
        (raw / p.name).symlink_to(p)
    (raw / NTU_MALFORMED.name).symlink_to(NTU_MALFORMED)
    panel.raw_edit.setText(str(raw))
    panel.cache_edit.setText(str(tmp_path / "cache"))
    with qtbot.waitSignal(ctl.preparer.finished, timeout=RUN_TIMEOUT_MS) as sig:
        panel.prepare_btn.click()
        assert ctl.preparer.running and not panel.prepare_btn.isEnabled()
    assert sig.args[1] == "finished", panel.log.toPlainText()[-2000:]
    assert "3 samples, 1 file(s) skipped" in panel.prepare_status.text()
    assert panel.prepare_bar.value() == panel.prepare_bar.maximum() == 4
    assert json.loads((tmp_path / "cache" / "meta.json").read_text())["num_samples"] == 3
    assert panel.form.data_edit.text() == str(tmp_path / "cache") and panel.prepare_btn.isEnabled()


@pytest.mark.slow
def test_start_on_a_folder_holding_a_run_asks_before_replacing_it(panel, ctl, qtbot, tiny_cache, tmp_path, monkeypatch):
    """A new start on an existing run's folder asks; No keeps the run, Yes passes --overwrite (the CLI refuses
    to replace a run without it)."""
    out = tmp_path / "runs" / "old"
    out.mkdir(parents=True)
    (out / "metrics.jsonl").write_text('{"event": "start"}\n')
    fill(panel, tiny_cache, out, epochs=1)
    asked = []
    monkeypatch.setattr(panel, "confirm_overwrite", lambda o: asked.append(o) or False)
    assert ctl.start(panel.form.options()) is False and asked == [str(out)] and not ctl.runner.running
    assert "already holds a run" in panel.form.form_status.text() and (out / "metrics.jsonl").read_text()
    monkeypatch.setattr(panel, "confirm_overwrite", lambda o: True)
    with qtbot.waitSignal(ctl.runner.finished, timeout=RUN_TIMEOUT_MS) as sig:
        assert ctl.start(panel.form.options())
    assert "--overwrite" in panel.form.command.text()
    assert sig.args[1] == "finished", "\n".join(panel.log.toPlainText().splitlines()[-15:])
