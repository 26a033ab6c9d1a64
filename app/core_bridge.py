"""The thin bridge from the app to dcmae_core's data layer: read/preprocess/export skeleton files.

Besides app/workers/, this is the only app module that imports dcmae_core. It hands the rest of the
app numpy arrays (app.state.Sequence) and keeps the core objects in an opaque handle for export.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.state import BrowserEntry, Sequence

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


def _entry_fields(name: str) -> dict:
    from dcmae_core.data import ntu

    try:
        n = ntu.parse_sample_name(name)
    except ValueError:
        return {}
    try:
        title = ntu.action_name(n.action)
    except (ValueError, IndexError, KeyError):
        title = ""
    return {"setup": n.setup, "camera": n.camera, "performer": n.performer, "replication": n.replication,
            "action": n.action, "action_name": title}


def scan_source(path: str | Path) -> list[BrowserEntry]:
    """The samples of a folder of .skeleton files, a prepared dataset cache (a folder with meta.json) or the
    field's .npz, with their NTU name fields. Reads names and labels only. Raises LoadError."""
    from dcmae_core.data.dataset import SkeletonCache
    from dcmae_core.data.importers import npz_summary

    path = Path(path)
    try:
        if path.is_file() and path.suffix == ".npz":
            labels = npz_summary(path)
            return [BrowserEntry(name=f"{key[2:]} {i}", kind="npz", source=str(path), index=i, key=key,
                                 **_npz_fields(labels, int(y)))
                    for key, ys in labels.items() for i, y in enumerate(ys)]
        if path.is_dir() and (path / "meta.json").is_file():
            cache = SkeletonCache.open(path)
            return [BrowserEntry(name=n, kind="cache", source=str(path), index=i,
                                 **(_entry_fields(n) or {"action_name": cache.class_names[int(cache.labels[i])]}))
                    for i, n in enumerate(cache.names)]
        if path.is_dir():
            return [BrowserEntry(name=p.stem, kind="file", source=str(p), **_entry_fields(p.stem))
                    for p in sorted(path.glob("*.skeleton"))]
    except (OSError, ValueError) as exc:
        raise LoadError(f"{path}: {exc}") from exc
    raise LoadError(f"{path}: not a folder of .skeleton files, a prepared dataset or an .npz")


def _npz_fields(labels: dict, y: int) -> dict:
    """NTU action id and name when the labels fit NTU-120 (action = label + 1), else a class number."""
    from dcmae_core.data.ntu import ACTION_NAMES

    k = max((int(v.max(initial=-1)) for v in labels.values()), default=-1) + 1
    if k <= len(ACTION_NAMES):
        return {"action": y + 1, "action_name": ACTION_NAMES[y]}
    return {"action_name": f"class {y}"}


def load_entry(entry: BrowserEntry) -> Sequence:
    """Open what a browser entry points at as a Sequence (centred like the file path). Raises LoadError."""
    if entry.kind == "file":
        return load_sequence(entry.source)
    from dcmae_core.data.dataset import SkeletonCache
    from dcmae_core.data.importers import npz_sample
    from dcmae_core.layout import NTU25, Layout

    try:
        if entry.kind == "cache":
            cache = SkeletonCache.open(entry.source)
            data, person_valid = cache.sample(entry.index)  # (M, T, V, C), (M,)
            layout: Layout = cache.layout
        elif entry.kind == "npz":
            data, _ = npz_sample(entry.source, entry.key, entry.index)
            layout = NTU25 if data.shape[2] == 25 else None
        else:
            raise ValueError(f"unknown entry kind {entry.kind!r}")
    except (OSError, ValueError, IndexError) as exc:
        raise LoadError(f"{entry.source} [{entry.name}]: {exc}") from exc
    if layout is None or data.shape[-1] < 3:
        raise LoadError(f"{entry.source} [{entry.name}]: the viewer shows 3D NTU-25 skeletons, got {data.shape}")
    data = np.asarray(data[..., :3], dtype=np.float32)
    present = np.abs(data).sum(axis=(2, 3)) > 0  # (M, T)
    keep = present.any(axis=0)
    if not keep.any():
        raise LoadError(f"{entry.source} [{entry.name}]: no frame with a body")
    data, present = data[:, keep], present[:, keep]
    title = f"A{entry.action:03d} {entry.action_name}" if entry.action else entry.action_name or entry.name
    return Sequence(name=entry.name, title=title, data=data, present=present,
                    joint_names=tuple(layout.joint_names), parents=tuple(layout.parents),
                    groups=dict(layout.groups), path=None, handle=None)
