"""A run folder belongs to one run: a second run on it stops naming the holder, a lock left by a killed
process is taken over, an existing run is never replaced without --resume or --overwrite, a resume does not
repeat metrics lines, interrupted saves leave no temp files, and SIGTERM exits with EXIT_STOPPED."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dcmae_core.config import build_config
from dcmae_core.train import main
from dcmae_core.training import stages
from dcmae_core.training.run_folder import EXIT_STOPPED, LOCK_NAME

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--preset", "tiny", "--set", "train.pretrain_epochs=1"]


def _metrics(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]


def _wait_for(cond, proc: subprocess.Popen, seconds: float = 120.0) -> None:
    end = time.monotonic() + seconds
    while not cond():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else "the process ended"
        assert time.monotonic() < end, "timed out"
        time.sleep(0.1)


@pytest.mark.slow
def test_a_second_run_on_a_busy_folder_stops_naming_the_holder_and_sigterm_exits_stopped(tiny_cache, tmp_path, capsys):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dcmae_core.train",
            "pretrain",
            "--preset",
            "tiny",
            "--data",
            str(tiny_cache),
            "--out",
            str(out),
            "--epochs",
            "200",
            "--device",
            "cpu",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(lambda: (out / "metrics.jsonl").is_file() and '"step"' in (out / "metrics.jsonl").read_text(), first)
        capsys.readouterr()
        for extra in ([], ["--resume"], ["--overwrite"]):
            t0 = time.monotonic()
            assert main(["pretrain", *FAST, "--data", str(tiny_cache), "--out", str(out), *extra]) == 1
            assert time.monotonic() - t0 < 5  # at once, before loading data
            err = capsys.readouterr().err
            assert f"in use by pid {first.pid} on {socket.gethostname()}" in err, err
        first.send_signal(signal.SIGTERM)
        assert first.wait(120) == EXIT_STOPPED
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert _metrics(out)[-1]["event"] == "stopped" and (out / "last.pt").is_file()


@pytest.mark.slow
def test_a_lock_left_by_a_killed_process_is_taken_over(tiny_cache, tmp_path):
    out = tmp_path / "run"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\nfrom dcmae_core.training.run_folder import claim_run_dir\n"
            f"with claim_run_dir({str(out)!r}):\n    print('held', flush=True)\n"
            "    time.sleep(600)",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert json.loads((out / LOCK_NAME).read_text())["pid"] == holder.pid
        assert main(["pretrain", *FAST, "--data", str(tiny_cache), "--out", str(out)]) == 1  # held: refused
        holder.kill()  # SIGKILL: no cleanup runs, the lock file stays behind
        holder.wait()
    finally:
        if holder.poll() is None:
            holder.kill()
    assert (out / LOCK_NAME).is_file()
    assert main(["pretrain", *FAST, "--data", str(tiny_cache), "--out", str(out)]) == 0
    assert json.loads((out / LOCK_NAME).read_text())["pid"] == os.getpid()


@pytest.mark.slow
def test_an_existing_run_is_never_replaced_without_resume_or_overwrite(tiny_cache, tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["pretrain", *FAST, "--data", str(tiny_cache), "--out", str(out)]
    assert main(argv) == 0
    before = {n: (out / n).read_bytes() for n in ("metrics.jsonl", "last.pt", "best.pt")}
    capsys.readouterr()
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "already holds a run" in err and "--resume" in err and "--overwrite" in err
    assert len(err.strip().splitlines()) == 1
    assert {n: (out / n).read_bytes() for n in before} == before  # nothing touched
    assert main([*argv, "--resume", "--overwrite"]) == 1
    assert main([*argv, "--overwrite"]) == 0
    events = [r["event"] for r in _metrics(out)]
    assert events.count("start") == 1 and events[-1] == "end"
    assert (out / "last.pt").read_bytes() != before["last.pt"]  # a fresh run (new time stamps at least)
    (out / "metrics.jsonl").unlink()
    (out / "best.pt").unlink()
    assert main(argv) == 1  # a partial run: last.pt alone still counts


@pytest.mark.slow
def test_resume_after_a_kill_repeats_no_metrics_line_and_cleans_temp_files(tiny_cache, tmp_path, monkeypatch):
    """Killed right after an in-loop save at step 3: lines logged after that save are replayed by the resume
    and must appear once; the temp file of an interrupted save is removed."""
    cfg = build_config(
        "tiny", [f"data.root={tiny_cache}", "train.pretrain_epochs=2", "train.batch_size=8", "train.checkpoint_every=3"]
    )
    out, side = tmp_path / "run", tmp_path / "at_step_3.pt"
    real_save = stages.save_checkpoint

    def spy(path, payload):
        res = real_save(path, payload)
        if Path(path).name == "last.pt" and payload["train_state"]["step"] == 3 and not side.exists():
            shutil.copy(path, side)
        return res

    monkeypatch.setattr(stages, "save_checkpoint", spy)
    assert stages.run_pretrain(cfg, out)["finished"]
    whole = [(r["event"], r.get("step")) for r in _metrics(out)]
    shutil.copy(side, out / "last.pt")  # the state at the kill: last.pt from step 3, lines logged up to the end
    (out / ".last.pt.tmp4242").write_bytes(b"half a checkpoint")
    assert stages.run_pretrain(cfg, out, resume=True)["finished"]
    assert not list(out.glob(".*.tmp*"))
    resumed = [(r["event"], r.get("step")) for r in _metrics(out)]
    steps = [s for e, s in resumed if e == "step"]
    assert steps == sorted(set(steps)) == [s for e, s in whole if e == "step"]
    assert [e for e, _ in resumed if e == "epoch"] == ["epoch", "epoch"]
    assert [e for e, _ in resumed].count("start") == 2 and resumed[-1][0] == "end"


def test_a_file_as_run_folder_is_a_message(tiny_cache, tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["pretrain", *FAST, "--data", str(tiny_cache), "--out", str(f)]) == 1
    assert "is a file, not a folder" in capsys.readouterr().err


@pytest.mark.parametrize("code, outcome", [(EXIT_STOPPED, "stopped"), (1, "failed")])
def test_the_training_worker_reads_the_stopped_exit_status(qtbot, code, outcome):
    from PySide6.QtCore import QProcess

    from app.workers.training import CliProcess

    proc = CliProcess()
    proc.proc = QProcess(proc)  # never started: only the exit status is judged
    with qtbot.waitSignal(proc.finished) as sig:
        proc._on_finished(code, QProcess.ExitStatus.NormalExit)
    assert sig.args == [code, outcome]
