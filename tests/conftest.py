"""Shared fixtures: paths to the real NTU files in ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pytest
from shared_data import NTU_DERIVED, NTU_MALFORMED, NTU_META, NTU_SAMPLES, ROOT, SHARED_DATA  # noqa: F401


@pytest.fixture(scope="session")
def ntu_files() -> list[Path]:
    files = sorted(NTU_SAMPLES.glob("*.skeleton"))
    assert len(files) == 10, f"expected the 10 real NTU samples in {NTU_SAMPLES}"
    return files


@pytest.fixture(scope="session")
def tiny_cache(tmp_path_factory) -> Path:
    """A small prepared cache of the project's synthetic corpus (60 sequences), made once per session."""
    from dcmae_core.data.prepare import prepare_ntu
    from dcmae_core.data.synth import corpus_names, write_corpus

    root = tmp_path_factory.mktemp("tiny_corpus")
    names = corpus_names(count=60, seed=0, actions=(1, 3, 10, 23, 24, 58))
    write_corpus(root / "raw", names, seed=0)
    prepare_ntu(root / "raw", root / "cache", workers=1, progress=False)
    return root / "cache"
