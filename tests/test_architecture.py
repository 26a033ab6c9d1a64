"""The layering rules: dcmae_core never imports Qt or app; widgets and views never import torch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_CORE = {"PySide6", "PyQt5", "PyQt6", "pyqtgraph", "qasync", "app", "OpenGL"}


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_sources_never_import_qt_or_app():
    bad = {}
    for path in (ROOT / "dcmae_core").rglob("*.py"):
        hits = _imported_roots(path) & FORBIDDEN_IN_CORE
        if hits:
            bad[str(path.relative_to(ROOT))] = sorted(hits)
    assert not bad, f"dcmae_core imports GUI modules: {bad}"


@pytest.mark.slow
def test_importing_core_loads_no_qt_module():
    code = (
        "import sys, pkgutil, importlib, dcmae_core\n"
        "for m in pkgutil.walk_packages(dcmae_core.__path__, 'dcmae_core.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        f"{sorted(FORBIDDEN_IN_CORE)!r}]\n"
        "print(','.join(bad)); sys.exit(1 if bad else 0)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, f"importing dcmae_core pulled in: {res.stdout} {res.stderr[-2000:]}"


def test_widgets_and_views_never_import_torch():
    bad = []
    for sub in ("app/widgets", "app/views"):
        for path in (ROOT / sub).rglob("*.py") if (ROOT / sub).exists() else []:
            if _imported_roots(path) & {"torch", "dcmae_core"}:
                bad.append(str(path.relative_to(ROOT)))
    assert not bad, f"widgets/views must not import torch or the core: {bad}"


def test_only_the_workers_and_the_core_bridge_import_the_core():
    """Controllers, state, views and widgets reach dcmae_core (and torch) only through app/workers/ and
    app/core_bridge.py."""
    allowed = {ROOT / "app" / "core_bridge.py"}
    bad = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        if path in allowed or (ROOT / "app" / "workers") in path.parents:
            continue
        if _imported_roots(path) & {"torch", "dcmae_core"}:
            bad.append(str(path.relative_to(ROOT)))
    assert not bad, f"only app/workers/ and app/core_bridge.py may import torch or the core: {bad}"


# What the core's top level may hold: what every floor uses (configs, layout, masks, checkpoints), the fills
# beside the model (baselines, the motion bank), the inference API, the CLI entry, and the packages. Training
# code belongs in training/, evaluation in evaluation/.
CORE_TOP_LEVEL = {
    "__init__.py",
    "config.py",
    "layout.py",
    "occlusion.py",
    "mask_spec.py",
    "checkpoint.py",
    "inference.py",
    "baselines.py",
    "motion_bank.py",
    "train.py",
    "cli",
    "data",
    "evaluation",
    "live",
    "model",
    "resources",
    "training",
}


def test_the_core_top_level_holds_only_the_listed_modules_and_packages():
    """The folders show the architecture: a new module goes into its package, or onto this list on purpose."""
    core = ROOT / "dcmae_core"
    found = {p.name for p in core.iterdir() if p.name != "__pycache__" and not p.name.startswith(".")}
    assert found - CORE_TOP_LEVEL == set(), "new at dcmae_core's top level: move it into a package or list it here"
    assert CORE_TOP_LEVEL - found == set(), "listed but gone: update CORE_TOP_LEVEL"
    assert {"engine.py", "stages.py", "run_folder.py"} <= {p.name for p in (core / "training").iterdir()}
    assert {"missing_joints.py", "experiments.py", "profiling.py"} <= {p.name for p in (core / "evaluation").iterdir()}
