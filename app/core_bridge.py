"""The thin bridge from the app to dcmae_core's data layer: read/preprocess/export skeleton files.

Besides app/workers/, this is the only app module that imports dcmae_core. It hands the rest of the
app numpy arrays (app.state.Sequence) and keeps the core objects in an opaque handle for export.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.state import Sequence

log = logging.getLogger(__name__)


class LoadError(ValueError):
    """A file the app cannot open; the message names the file and the problem."""


@dataclass
class _Handle:
    skeleton: object  # dcmae_core.data.ntu.Skeleton as read
    pre: object  # dcmae_core.data.preprocess.Preprocessed


def _title(stem: str) -> str:
    from dcmae_core.data import ntu

    try:
        name = ntu.parse_sample_name(stem)
    except ValueError:
        return stem
    try:
        return f"A{name.action:03d} {ntu.action_name(name.action)}"
    except (ValueError, IndexError, KeyError):
        return stem


def load_sequence(path: str | Path) -> Sequence:
    """Read and preprocess an NTU .skeleton file -> Sequence (centred, 2 actor slots).
    Raises LoadError with the parser's message (file, line, reason)."""
    from dcmae_core.data import ntu, preprocess
    from dcmae_core.layout import NTU25

    path = Path(path)
    if not path.is_file():
        raise LoadError(f"{path}: no such file")
    try:
        skel = ntu.read_skeleton(path)
        pre = preprocess.preprocess_skeleton(skel, NTU25)
    except ntu.SkeletonFormatError as exc:
        raise LoadError(str(exc)) from exc
    except (OSError, ValueError) as exc:
        raise LoadError(f"{path}: {exc}") from exc
    data = np.asarray(pre.data[..., :3], dtype=np.float32)  # (M, T, V, 3)
    if data.shape[1] == 0:
        raise LoadError(f"{path}: the file holds no frame with a body")
    log.info("loaded %s: %s", path, data.shape)
    return Sequence(
        name=path.stem,
        title=_title(path.stem),
        data=data,
        present=np.asarray(pre.present, dtype=bool),
        joint_names=tuple(NTU25.joint_names),
        parents=tuple(NTU25.parents),
        groups=dict(NTU25.groups),
        path=str(path),
        handle=_Handle(skeleton=skel, pre=pre),
    )


def export_skeleton(seq: Sequence, data: np.ndarray, path: str | Path) -> None:
    """Write `data` (M, T, V, 3) metres (centred, like seq.data) as an NTU .skeleton file: the original
    file with each kept actor's joints replaced (other fields kept)."""
    from dcmae_core.data import ntu, preprocess

    if not isinstance(seq.handle, _Handle):
        raise ValueError("this sequence was not read from a .skeleton file; export it as .npy instead")
    if data.shape != seq.data.shape:
        raise ValueError(f"data {data.shape} does not match the sequence {seq.data.shape}")
    pre = seq.handle.pre
    full = np.array(pre.data, dtype=np.float32, copy=True)  # (M, T, V, C)
    full[..., :3] = data
    out = preprocess.restore_skeleton(seq.handle.skeleton, pre, full)
    ntu.write_skeleton(Path(path), out)


def read_back(path: str | Path) -> Sequence:
    """Load an exported file again (used to verify exports)."""
    return load_sequence(path)
