"""`pip install .` (not editable) gives a working package: presets, resources and the bundled checkpoints ship in
the wheel and are found there, and `dcmae` is an installed command.

The wheel is built from a copy of the build inputs (a stale `build/` in the checkout cannot leak into it) with the
running interpreter's setuptools, offline, then unpacked with `pip install --target` and used from outside the
source tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD_INPUTS = ("pyproject.toml", "README.md", "dcmae_core", "app")
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "-q"]
pytestmark = pytest.mark.slow


def _pip(*args: str | Path) -> None:
    env = {**os.environ, "PIP_NO_INDEX": "1"}  # offline: nothing to download, and nothing may be
    done = subprocess.run([*PIP, *map(str, args)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def _bundled_files() -> list[str]:
    """Every file in the checkout's dcmae_core/resources, as a path inside the wheel."""
    folder = ROOT / "dcmae_core" / "resources"
    return sorted(
        p.relative_to(ROOT).as_posix() for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("dist")
    _pip("wheel", "--no-deps", "--no-build-isolation", src, "-w", out)
    (whl,) = out.glob("dcmae_studio-*.whl")
    return whl


def test_wheel_holds_presets_resources_checkpoints_and_the_command(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        scripts = z.read(entry_points).decode()
    bundled = _bundled_files()
    assert "dcmae_core/resources/configs/real.toml" in bundled  # the list is the checkout's, so check it is real
    assert "dcmae_core/resources/checkpoints/dcmae_real.pt" in bundled
    assert "dcmae_core/resources/checkpoints/dcmae_demo.pt" in bundled
    assert not [f for f in bundled if f not in names], "files the package reads are missing from the wheel"
    sources = [p.relative_to(ROOT).as_posix() for p in (ROOT / "dcmae_core").rglob("*.py")]
    assert "dcmae_core/training/engine.py" in sources  # the list is the checkout's, so check it is real
    assert not [f for f in sources if f not in names], "core modules missing from the wheel (a package not found?)"
    assert "dcmae = dcmae_core.train:main" in scripts
    assert "app/main_window.py" in names
    assert not [n for n in names if n.startswith(("tests/", "bench/", "assets/"))]
    assert wheel.stat().st_size < 20 * 2**20  # two small checkpoints; nothing else heavy


def test_installed_wheel_works_outside_the_source_tree(wheel, tmp_path):
    target = tmp_path / "site"
    _pip("install", "--no-deps", "--target", target, wheel)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # Only the installed copy is importable: not the checkout (cwd, PYTHONPATH) nor an editable install.
    env = {**os.environ, "PYTHONPATH": str(target)}
    command = target / "bin" / "dcmae"
    assert command.is_file()
    done = subprocess.run([str(command), "--help"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "pretrain" in done.stdout
    check = f"""
from pathlib import Path
import dcmae_core
from dcmae_core.config import build_config, list_presets
from dcmae_core.data.actions import action_name
from dcmae_core.data.prepare import excluded_names
from dcmae_core.inference import DEMO_CHECKPOINT, Predictor, default_checkpoint

site = Path({str(target)!r}).resolve()
assert Path(dcmae_core.__file__).resolve().is_relative_to(site), dcmae_core.__file__
assert list_presets() == ["demo", "paper", "real", "tiny"], list_presets()
assert build_config("real").model.cross_attention
assert default_checkpoint().resolve().is_relative_to(site), default_checkpoint()
assert default_checkpoint().name == "dcmae_real.pt"
for path in (default_checkpoint(), DEMO_CHECKPOINT):
    assert Predictor.from_checkpoint(path, device="cpu").num_frames > 0
assert action_name(1) == "drink water"
assert len(excluded_names()) > 100
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-c", check], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "ok"
