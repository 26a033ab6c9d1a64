"""Project hygiene that a reader cannot see from one file: the Qt binding is named in one place, ruff targets the
Python the package requires, and the tree passes ruff's lint (no unused `noqa` either) and is in ruff's format."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [p for d in ("app", "dcmae_core", "tests", "bench", "tools") for p in (ROOT / d).rglob("*.py")]
SOURCES.append(ROOT / "main.py")


def test_the_qt_binding_is_named_in_one_place():
    here = Path(__file__).resolve()
    setters = sorted(
        str(p.relative_to(ROOT))
        for p in SOURCES
        if p.resolve() != here and "PYQTGRAPH_QT_LIB" in p.read_text(encoding="utf-8")
    )
    assert setters == ["app/__init__.py"]


def test_ruff_targets_the_required_python():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    required = project["project"]["requires-python"].removeprefix(">=").replace(".", "")
    assert project["tool"]["ruff"]["target-version"] == f"py{required}"


def test_ruff_passes():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (it comes with the dev extra)")
    done = subprocess.run([ruff, "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1000:]
    # the tree is kept in ruff's format (applied once, issue 14): `ruff format .` before committing
    done = subprocess.run(
        [ruff, "format", "--check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, "run `ruff format .`:\n" + done.stdout[-3000:] + done.stderr[-1000:]


def test_make_test_fast_leaves_out_the_slow_tests():
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    # -n prints the commands without running them (nor the install steps before them)
    fast = subprocess.run([make, "-n", "test-fast"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    full = subprocess.run([make, "-n", "test"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert fast.returncode == 0 and full.returncode == 0, fast.stderr + full.stderr
    assert '-m pytest -q -m "not slow"' in fast.stdout
    assert "-m pytest -q\n" in full.stdout  # `make test` still runs everything
