"""Shared fixtures: paths to the real NTU files in ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
os.environ.setdefault("QT_API", "pyside6")

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
NTU_SAMPLES = SHARED_DATA / "ntu_samples"
NTU_MALFORMED = SHARED_DATA / "ntu_malformed" / "S001C001P001R001A002.skeleton"
NTU_DERIVED = SHARED_DATA / "ntu_derived"
NTU_META = SHARED_DATA / "ntu_meta"


@pytest.fixture(scope="session")
def ntu_files() -> list[Path]:
    files = sorted(NTU_SAMPLES.glob("*.skeleton"))
    assert len(files) == 10, f"expected the 10 real NTU samples in {NTU_SAMPLES}"
    return files
