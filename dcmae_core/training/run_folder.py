"""A run folder belongs to one run: a lock while it runs, no silent overwrite, metrics never repeated.

Standard library only (the app's training worker imports `EXIT_STOPPED` from here without torch).

- `claim_run_dir` takes `run.lock` (an exclusive `flock`, released by the kernel however the holder ends, so
  a lock left by a killed process is simply taken over) and refuses a second run on the same folder, naming
  the holder's pid and host. It refuses to start a new run over an existing one (a checkpoint or metrics
  lines) unless asked to `--resume` it or to `--overwrite` it, and removes the temporary files of saves that
  a kill interrupted.
- `truncate_metrics` drops the metrics lines written after the checkpoint a run resumes from, so the
  replayed steps are not logged twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: the lock falls back to checking the holder's pid
    fcntl = None

EXIT_STOPPED = 143  # exit status of a run stopped by SIGTERM/SIGINT after saving last.pt (128 + SIGTERM)
LOCK_NAME = "run.lock"
RUN_FILES = ("last.pt", "best.pt", "metrics.jsonl", "label_indices.json")  # what --overwrite replaces


class RunFolderError(ValueError):
    """The run folder cannot be used as asked; the message says why and what to do."""


def existing_run(run_dir: Path) -> str | None:
    """What marks `run_dir` as holding a run (finished or partial), or None for a new or empty folder."""
    for name in ("last.pt", "best.pt"):
        if (run_dir / name).is_file():
            return name
    metrics = run_dir / "metrics.jsonl"
    if metrics.is_file() and metrics.stat().st_size > 0:
        return "metrics.jsonl"
    return None


def _holder(lock: Path) -> str:
    try:
        info = json.loads(lock.read_text())
        return f"pid {info['pid']} on {info['host']} (since {info.get('since', '?')})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _lock(run_dir: Path) -> int:
    """Take `run.lock` exclusively; -> its open descriptor. A second holder gets RunFolderError."""
    lock = run_dir / LOCK_NAME
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise RunFolderError(
                f"run folder {run_dir} is in use by {_holder(lock)}: wait for that run to end, "
                f"stop it, or choose another --out"
            ) from None
    else:  # no flock: a live pid on this host holds it
        try:
            info = json.loads(lock.read_text() or "{}")
        except ValueError:
            info = {}
        if (
            info.get("host") == socket.gethostname()
            and _pid_alive(int(info.get("pid", 0)))
            and int(info["pid"]) != os.getpid()
        ):
            os.close(fd)
            raise RunFolderError(
                f"run folder {run_dir} is in use by {_holder(lock)}: wait for that run to end, "
                f"stop it, or choose another --out"
            )
    record = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%d %H:%M:%S")})
    os.ftruncate(fd, 0)
    os.pwrite(fd, (record + "\n").encode(), 0)
    return fd


def remove_temp_files(run_dir: Path) -> list[Path]:
    """Remove the `.NAME.tmpPID` files of checkpoint saves that a kill interrupted (call under the lock)."""
    gone = []
    for tmp in run_dir.glob(".*.tmp*"):
        if tmp.is_file():
            tmp.unlink(missing_ok=True)
            gone.append(tmp)
    return gone


def _clear_run(run_dir: Path) -> None:
    for name in RUN_FILES:
        (run_dir / name).unlink(missing_ok=True)
    shutil.rmtree(run_dir / "tb", ignore_errors=True)


@contextlib.contextmanager
def claim_run_dir(
    run_dir: str | Path, resume: bool = False, overwrite: bool = False, is_main: bool = True
) -> Iterator[Path]:
    """Hold `run_dir` for one run: locked, checked against an existing run, cleaned of temp files.

    A new run (neither flag) on a folder that holds one is refused; `overwrite=True` deletes the old run's
    checkpoints, metrics and events first; `resume=True` needs last.pt. Only the main rank locks."""
    run_dir = Path(run_dir)
    if resume and overwrite:
        raise RunFolderError("--resume and --overwrite exclude each other: continue the run or replace it")
    if run_dir.exists() and not run_dir.is_dir():
        raise RunFolderError(f"--out {run_dir} is a file, not a folder: give a folder for the run")
    if not is_main:
        yield run_dir
        return
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunFolderError(f"cannot create run folder {run_dir}: {exc.strerror or exc}") from exc
    fd = _lock(run_dir)
    try:
        remove_temp_files(run_dir)
        found = existing_run(run_dir)
        if resume and not (run_dir / "last.pt").is_file():
            raise RunFolderError(
                f"cannot resume: {run_dir / 'last.pt'} does not exist (start a new run without "
                f"--resume{', with --overwrite to replace what is there' if found else ''})"
            )
        if found and not resume:
            if not overwrite:
                raise RunFolderError(
                    f"run folder {run_dir} already holds a run ({found}): pass --resume to "
                    f"continue it or --overwrite to replace it, or choose another --out"
                )
            _clear_run(run_dir)
        yield run_dir
    finally:
        os.close(fd)  # releases the flock; the file stays (its content names the last holder)


def truncate_metrics(run_dir: str | Path, size: int | None, step: int) -> int:
    """Drop metrics lines written after the checkpoint a run resumes from; -> lines dropped.

    `size` is metrics.jsonl's length when that checkpoint was saved (checkpoints since this change carry it);
    older checkpoints give None and lines with a step beyond the checkpoint's `step` are dropped."""
    metrics = Path(run_dir) / "metrics.jsonl"
    if not metrics.is_file():
        return 0
    data = metrics.read_bytes()
    if size is not None:
        if len(data) <= size:
            return 0
        kept, dropped = data[:size], data[size:]
        metrics.write_bytes(kept)
        return dropped.count(b"\n")
    lines = data.decode("utf-8", "replace").splitlines(keepends=True)
    kept_lines = []
    for line in lines:
        try:
            rec_step = json.loads(line).get("step")
        except (ValueError, AttributeError):
            rec_step = None
        if not (isinstance(rec_step, int) and rec_step > step):
            kept_lines.append(line)
    metrics.write_text("".join(kept_lines))
    return len(lines) - len(kept_lines)
