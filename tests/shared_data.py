"""Paths to the real NTU files in ../shared/data (never copied into the project)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
NTU_SAMPLES = SHARED_DATA / "ntu_samples"
NTU_MALFORMED = SHARED_DATA / "ntu_malformed" / "S001C001P001R001A002.skeleton"
NTU_DERIVED = SHARED_DATA / "ntu_derived"
NTU_META = SHARED_DATA / "ntu_meta"
