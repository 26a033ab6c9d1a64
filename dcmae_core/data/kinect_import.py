"""Import the Kinect v1 datasets (NW-UCLA, UTD-MHAD, Kinder-Gator) into dataset caches (docs/data_formats.md).

Each importer reads every file of its folder with the readers of `kinect_datasets`, writes (M=1, T, 20, 3)
samples in the KINECT20 layout, centred like `import_generic`, with the split of the dataset's usual protocol
in the split column, and resumes an interrupted run. Bad files (unreadable, wrong shape, non-finite values,
fewer than `min_frames` frames with a body) are recorded as failures and named in meta.json; the rest import.
Index columns: performer = subject, camera = view (NW-UCLA), replication = episode / trial / take,
action = the dataset's action id, setup = 1 adult / 2 child (Kinder-Gator).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from dcmae_core.data import kinect_datasets as kd
from dcmae_core.data.importers import STORED
from dcmae_core.data.prepare import CacheWriter
from dcmae_core.layout import KINECT20

log = logging.getLogger(__name__)

Reader = Callable[[Path], tuple[np.ndarray, dict]]


def _fields(info: dict) -> tuple[int, int, int, int, int]:
    """(setup, camera, performer, replication, action) index columns of one sample."""
    setup = kd.KG_GROUPS.get(info.get("group") or "", -1)
    rep = info.get("episode", info.get("trial", info.get("take", -1)))
    return setup, info.get("view", -1), info["subject"], rep, info["action"]


def _import(
    files: list[Path],
    out: str | Path,
    reader: Reader,
    dataset: str,
    actions: dict[int, str],
    extra: dict,
    min_frames: int,
) -> dict:
    """Shared loop: read, clean, centre and append each file; record failures; finalize."""
    if not files:
        raise FileNotFoundError(f"no {dataset} files found ({extra.get('source')})")
    writer = CacheWriter(out, num_persons=1, num_joints=KINECT20.num_joints, channels=3)
    try:
        for path in files:
            name = path.stem
            if name in writer.done:
                continue
            try:
                x, info = reader(path)
                if info["action"] not in actions:
                    raise ValueError(f"{path}: action {info.get('action_name')!r} is not one of the {dataset} classes")
                data, present = kd.clean_sample(path, x, min_frames)
            except (ValueError, OSError) as exc:
                log.error("skipping: %s", exc)
                writer.add_failure(name, str(exc))
                continue
            writer.add(name, data, present.any(axis=1), raw_label=info["action"], fields=_fields(info),
                       split=info["split"])  # fmt: skip
    except BaseException:
        writer.close()
        raise
    ids = sorted(actions)
    meta = writer.finalize(dataset, KINECT20, ids, [actions[i] for i in ids], STORED, extra=extra)
    log.debug("%s cache at %s: %d samples, %d failed", dataset, out, meta["num_samples"], meta["num_failed"])
    return meta


def summary(meta: dict) -> str:
    """One line: samples per split, classes, failures with names."""
    counts = meta.get("split_counts", {})
    text = (f"{meta['num_samples']} samples (train {counts.get('train', '?')}, test {counts.get('test', '?')}), "
            f"{len(meta['class_names'])} classes, {meta['num_failed']} failed")  # fmt: skip
    if meta["num_failed"]:
        text += ": " + "; ".join(f"{f['name']} ({f['error']})" for f in meta["failures"][:10])
        text += " ..." * (meta["num_failed"] > 10)
    return text


def _split_counts(out: Path) -> dict:
    index = np.load(Path(out) / "index.npy", allow_pickle=False)
    return {"train": int((index["split"] == 0).sum()), "test": int((index["split"] == 1).sum())}


def _with_counts(meta: dict, out: str | Path) -> dict:
    meta["split_counts"] = _split_counts(Path(out))
    return meta


def _folder(folder: str | Path, pattern: str) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder")
    return sorted(folder.rglob(pattern))


def import_nwucla(folder: str | Path, out: str | Path, min_frames: int = 2) -> dict:
    """NW-UCLA JSON files (searched recursively) -> cache; cross-view split: views 1 + 2 train, view 3 test."""
    extra = {"source": str(folder), "split_rule": "cross-view: views 1 and 2 train, view 3 test"}
    meta = _import(_folder(folder, "*.json"), out, kd.read_nwucla, "nwucla", kd.NWUCLA_ACTIONS, extra, min_frames)
    return _with_counts(meta, out)


def import_utd_mhad(folder: str | Path, out: str | Path, min_frames: int = 2) -> dict:
    """UTD-MHAD *_skeleton.mat files -> cache, joints reordered to KINECT20; odd subjects train, even test."""
    extra = {"source": str(folder), "split_rule": "cross-subject: subjects 1, 3, 5, 7 train, 2, 4, 6, 8 test"}
    meta = _import(_folder(folder, "*.mat"), out, kd.read_utd_mhad, "utd_mhad", kd.UTD_ACTIONS, extra, min_frames)
    return _with_counts(meta, out)


def import_kinder_gator(folder: str | Path, out: str | Path, min_frames: int = 2) -> dict:
    """Kinder-Gator CSVs ({Adults,Children}/*.csv) -> cache; every take in the train split (pretraining)."""
    extra = {"source": str(folder), "split_rule": "none: every take is in the train split",
             "setup_column": {"1": "adult", "2": "child"}}  # fmt: skip
    meta = _import(
        _folder(folder, "*.csv"), out, kd.read_kinder_gator, "kinder_gator", kd.KG_ACTIONS, extra, min_frames
    )
    return _with_counts(meta, out)
