"""The thin bridge from the app to dcmae_core's data layer: read/preprocess/export skeleton files, and the
core's seeded occlusion masks (section "occlusion patterns" at the end).

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
    action = _ntu_action(stem)
    return f"A{_ntu_number(stem):03d} {action}" if action else stem


def _ntu_number(stem: str) -> int:
    from dcmae_core.data import ntu

    return ntu.parse_sample_name(stem).action


def _ntu_action(stem: str) -> str:
    """The NTU action name of a file named SsssCcccPpppRrrrAaaa, or ""."""
    from dcmae_core.data import ntu

    try:
        return ntu.action_name(ntu.parse_sample_name(stem).action)
    except (ValueError, IndexError, KeyError):
        return ""


# Single files of the Kinect v1 datasets (20 joints): NW-UCLA .json, UTD-MHAD .mat, Kinder-Gator .csv.
KINECT_SUFFIXES = (".json", ".mat", ".csv")
_NOT_SAMPLES = {"layout.json", "meta.json", "samples.csv", "config.json"}  # files of other formats' folders
_DATASET_TITLES = {"nwucla": "NW-UCLA", "utd_mhad": "UTD-MHAD", "kinder_gator": "Kinder-Gator"}


def _load_kinect(path: Path) -> Sequence:
    """An NW-UCLA / UTD-MHAD / Kinder-Gator file -> Sequence in the KINECT20 layout, centred like the importers."""
    from dcmae_core.data.kinect_datasets import read_kinect_file
    from dcmae_core.layout import KINECT20

    try:
        data, present, info = read_kinect_file(path)
    except (OSError, ValueError) as exc:
        raise LoadError(str(exc)) from exc
    dataset = _DATASET_TITLES.get(info["dataset"], info["dataset"])
    action = f"A{info['action']:02d} " if info["action"] > 0 else ""
    log.info("loaded %s: %s", path, data.shape)
    return Sequence(
        name=path.stem,
        title=f"{dataset} {action}{info['action_name']}",
        data=data,
        present=present,
        joint_names=tuple(KINECT20.joint_names),
        parents=tuple(KINECT20.parents),
        groups=dict(KINECT20.groups),
        path=str(path),
        handle=None,
        action=f"{dataset}: {info['action_name']}" if info["action"] > 0 else "",
    )


def load_sequence(path: str | Path) -> Sequence:
    """Read and preprocess a skeleton file -> Sequence (centred): an NTU .skeleton file (2 actor slots, NTU-25) or
    a Kinect v1 file (.json NW-UCLA, .mat UTD-MHAD, .csv Kinder-Gator; 1 person, 20 joints).
    Raises LoadError with the parser's message (file, line, reason)."""
    from dcmae_core.data import ntu, preprocess
    from dcmae_core.layout import NTU25

    path = Path(path)
    if not path.is_file():
        raise LoadError(f"{path}: no such file")
    if path.suffix.lower() in KINECT_SUFFIXES:
        return _load_kinect(path)
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
        action=_ntu_action(path.stem),
        data=data,
        present=np.asarray(pre.present, dtype=bool),
        joint_names=tuple(NTU25.joint_names),
        parents=tuple(NTU25.parents),
        groups=dict(NTU25.groups),
        path=str(path),
        handle=_Handle(skeleton=skel, pre=pre),
    )


def export_skeleton(
    seq: Sequence, data: np.ndarray, path: str | Path, filled: np.ndarray | None = None, about: dict | None = None
) -> Path:
    """Write `data` (M, T, V, 3) metres (centred, like seq.data) as an NTU .skeleton file: the original file in
    which the joints where `filled` (M, T, V) bool is True take `data`, are marked not tracked and get projected
    pixels; every other number stays as the file had it (its digits, CRLF). A JSON sidecar (same name + .json)
    lists the filled entries with `about` (method, checkpoint); returns its path."""
    from dcmae_core.data import preprocess

    if not isinstance(seq.handle, _Handle):
        raise ValueError("this sequence was not read from a .skeleton file; export it as .npy instead")
    if data.shape != seq.data.shape:
        raise ValueError(f"data {data.shape} does not match the sequence {seq.data.shape}")
    filled = np.zeros(data.shape[:3], bool) if filled is None else np.asarray(filled, bool)  # (M, T, V)
    if filled.shape != data.shape[:3]:
        raise ValueError(f"filled {filled.shape} does not match the sequence {data.shape[:3]}")
    return preprocess.write_filled_file(
        Path(path), seq.handle.skeleton, seq.handle.pre, data, filled, dict(about or {}), list(seq.joint_names)
    )


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
    return {
        "setup": n.setup,
        "camera": n.camera,
        "performer": n.performer,
        "replication": n.replication,
        "action": n.action,
        "action_name": title,
    }


def _kinect_fields(path: Path) -> dict:
    """Browser fields of a Kinect v1 file from its name: camera = view, performer = subject, replication =
    episode / trial / take, setup = 1 adult / 2 child (Kinder-Gator); {} for a name of none of the datasets."""
    from dcmae_core.data import kinect_datasets as kd

    parse = {".json": kd.parse_nwucla_name, ".mat": kd.parse_utd_name, ".csv": kd.parse_kg_name}[path.suffix.lower()]
    try:
        info = parse(path.stem)
    except ValueError:
        return {}
    group = kd.KG_GROUPS.get(path.parent.name.lower())
    return {
        "setup": group,
        "camera": info.get("view"),
        "performer": info["subject"],
        "replication": info.get("episode", info.get("trial", info.get("take"))),
        "action": info["action"] if info["action"] > 0 else None,
        "action_name": info["action_name"],
    }


def _folder_files(path: Path) -> list[Path]:
    """The .skeleton and Kinect v1 files of a folder; when it has none, those of its subfolders (Kinder-Gator
    keeps Adults/ and Children/)."""
    suffixes = (".skeleton", *KINECT_SUFFIXES)

    def pick(paths) -> list[Path]:
        return sorted(p for p in paths if p.suffix.lower() in suffixes and p.name not in _NOT_SAMPLES and p.is_file())

    return pick(path.iterdir()) or pick(path.rglob("*"))


def _cache_fields(cache, i: int) -> dict:
    """Index columns of a non-NTU cache sample as browser fields (-1 = none) and its class name."""
    row = cache.index[i]
    out = {f: int(row[f]) if int(row[f]) >= 0 else None for f in ("setup", "camera", "performer", "replication")}
    out["action"] = int(row["action"]) if int(row["action"]) > 0 else None
    out["action_name"] = cache.class_names[int(cache.labels[i])]
    return out


def scan_source(path: str | Path) -> list[BrowserEntry]:
    """The samples of a folder of skeleton files (.skeleton, or the Kinect v1 datasets' .json / .mat / .csv), a
    prepared dataset cache (a folder with meta.json) or the field's .npz, with the fields their names carry.
    Reads names and labels only. Raises LoadError."""
    from dcmae_core.data.dataset import SkeletonCache
    from dcmae_core.data.importers import npz_summary

    path = Path(path)
    try:
        if path.is_file() and path.suffix == ".npz":
            labels = npz_summary(path)
            return [
                BrowserEntry(
                    name=f"{key[2:]} {i}", kind="npz", source=str(path), index=i, key=key, **_npz_fields(labels, int(y))
                )
                for key, ys in labels.items()
                for i, y in enumerate(ys)
            ]
        if path.is_dir() and (path / "meta.json").is_file():
            cache = SkeletonCache.open(path)
            return [
                BrowserEntry(
                    name=n, kind="cache", source=str(path), index=i, **(_entry_fields(n) or _cache_fields(cache, i))
                )
                for i, n in enumerate(cache.names)
            ]
        if path.is_dir():
            return [
                BrowserEntry(
                    name=p.stem,
                    kind="file",
                    source=str(p),
                    **(_entry_fields(p.stem) if p.suffix == ".skeleton" else _kinect_fields(p)),
                )
                for p in _folder_files(path)
            ]
    except (OSError, ValueError) as exc:
        raise LoadError(f"{path}: {exc}") from exc
    raise LoadError(
        f"{path}: not a folder of skeleton files (.skeleton, NW-UCLA .json, UTD-MHAD .mat, "
        "Kinder-Gator .csv), a prepared dataset or an .npz"
    )


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
    return Sequence(
        name=entry.name,
        title=title,
        data=data,
        present=present,
        joint_names=tuple(layout.joint_names),
        parents=tuple(layout.parents),
        groups=dict(layout.groups),
        path=None,
        handle=None,
    )


# occlusion patterns ---------------------------------------------------------------------------------------
# The app's random masks are the core's (dcmae_core/occlusion.py, dcmae_core/mask_spec.py), drawn from a CPU
# generator seeded with the user's seed: pattern NAME with seed s here is `reconstruct --mask NAME --seed s`.


def occlusion_patterns() -> dict[str, str]:
    """Pattern name -> one-line description, in the order the core lists them."""
    from dcmae_core.occlusion import PATTERNS

    return dict(PATTERNS)


def _layout_of(seq: Sequence):
    """The core layout of a sequence: a known one (NTU-25, Kinect v1) by its joint names, else one built from
    the sequence's own names, parents and groups."""
    from dcmae_core.layout import Layout, find_layout

    layout = find_layout(seq.joint_names)
    if layout is not None and tuple(layout.parents) == tuple(seq.parents):
        return layout
    return Layout(
        name=f"{seq.num_joints}-joint layout of {seq.name}",
        joint_names=tuple(seq.joint_names),
        parents=tuple(seq.parents),
        center=0,
        groups=dict(seq.groups),
    )


def occlusion(pattern: str, seq: Sequence, seed: int, fps: float = 30.0) -> np.ndarray:
    """(M, T, V) bool mask (True = removed) of an occlusion pattern ('limb_span', 'random:0.1', ...) on the
    sequence, seeded. Raises ValueError in plain words for a bad pattern or a layout without limbs."""
    import torch

    from dcmae_core.occlusion import occlusion_mask

    g = torch.Generator().manual_seed(int(seed))
    present = torch.from_numpy(np.ascontiguousarray(seq.present, dtype=bool))[None]  # (1, M, T)
    x = torch.from_numpy(np.ascontiguousarray(seq.data, dtype=np.float32))[None]  # (1, M, T, V, 3)
    return occlusion_mask(pattern, present, _layout_of(seq), g, fps=fps, x=x)[0].numpy()  # (M, T, V)


def mask_spec(spec: str, seq: Sequence, seed: int, fps: float = 30.0) -> np.ndarray:
    """(M, T, V) bool mask of a `reconstruct --mask` spec (e.g. 'random:0.5,0.4' for the pretraining mask,
    'lower_body;person:1'), seeded as the CLI seeds it. Raises ValueError in plain words."""
    from dcmae_core.mask_spec import parse_mask_spec

    return parse_mask_spec(
        spec, np.asarray(seq.present, dtype=bool), _layout_of(seq), seed=int(seed), fps=fps, x=seq.data
    )
