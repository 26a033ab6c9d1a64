"""Merge finished dataset caches of one layout into one cache (e.g. the Kinect v1 datasets for pretraining).

Samples are copied source after source with M padded to the largest M (extra person slots empty), labels
offset so each source keeps its own classes, class names prefixed by the source ("NW-UCLA: walk around"),
the stored split column and the other index columns kept, and statistics recomputed over the merged training
split. meta["sources"] lists which label range came from which source. Sample names become "kind/name"
("nwucla/a01_s01_e00_v01"; the source's display name instead of its kind when two sources share a kind).
Resumable like the importers (an interrupted merge picks up where it stopped).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from dcmae_core.data.importers import STORED
from dcmae_core.data.prepare import FIELDS, CacheWriter, read_cache_index
from dcmae_core.data.splits import SPLITS_BY_DATASET
from dcmae_core.layout import Layout

log = logging.getLogger(__name__)

# Display names of the dataset kinds the importers write; any other kind is shown as it is.
DISPLAY_NAMES = {"nwucla": "NW-UCLA", "utd_mhad": "UTD-MHAD", "kinder_gator": "Kinder-Gator", "ntu60": "NTU-60",
                 "ntu120": "NTU-120"}  # fmt: skip


def merge_caches(sources: list[str | Path], out: str | Path, names: list[str] | None = None) -> dict:
    """Concatenate finished caches `sources` (same layout, V and C) into a cache at `out`; returns its meta.

    names: display name per source (default: from each cache's dataset kind, e.g. "NW-UCLA"). Caches with an
    NTU split (no stored split column) cannot be merged. Returns the merged meta."""
    roots = [Path(s) for s in sources]
    if len(roots) < 2:
        raise ValueError("merge needs at least two caches")
    if Path(out).resolve() in {r.resolve() for r in roots}:
        raise ValueError(f"the output {out} is one of the inputs")
    opened = [read_cache_index(r) for r in roots]
    names = names or [DISPLAY_NAMES.get(m["dataset"], m["dataset"]) for m, _, _ in opened]
    if len(names) != len(roots) or len(set(names)) != len(names):
        raise ValueError(f"need one distinct name per cache, got {names}")
    layout = Layout.from_dict(opened[0][0]["layout"])
    v, c = opened[0][0]["num_joints"], opened[0][0]["channels"]
    for root, (meta, _, _) in zip(roots, opened):
        other = Layout.from_dict(meta["layout"])
        if (other.name, meta["num_joints"], meta["channels"]) != (layout.name, v, c):
            raise ValueError(f"{root}: layout {other.name} with (V, C) = ({meta['num_joints']}, {meta['channels']})"
                             f" does not match {roots[0]}: {layout.name} with ({v}, {c})")  # fmt: skip
        if meta["dataset"] in SPLITS_BY_DATASET:
            raise ValueError(f"{root}: an {meta['dataset']} cache has no stored split column to merge")
    prefixes = [meta["dataset"] for meta, _, _ in opened]  # sample names become prefix/name
    if len(set(prefixes)) < len(prefixes):
        prefixes = names  # two caches of one kind (e.g. two generic imports): their distinct names
    m_out = max(int(meta["num_persons"]) for meta, _, _ in opened)
    writer = CacheWriter(out, num_persons=m_out, num_joints=v, channels=c)
    info, offset = [], 0
    try:
        for root, (meta, index, sample_names), name, prefix in zip(roots, opened, names, prefixes):
            m = int(meta["num_persons"])
            frames = np.memmap(root / "data.bin", dtype=np.float32, mode="r") if len(index) else None
            for row, sname in zip(index, sample_names):
                key = f"{prefix}/{sname}"
                if key in writer.done:
                    continue
                t = int(row["length"])
                x = np.zeros((m_out, t, v, c), np.float32)  # (M_out, T, V, C), extra slots empty
                x[:m] = np.asarray(frames[row["offset"] : row["offset"] + m * t * v * c]).reshape(m, t, v, c)
                pv = np.zeros(m_out, bool)
                pv[:m] = row["person_valid"]
                fields = [int(row[f]) for f in FIELDS]
                writer.add(key, x, pv, raw_label=offset + int(row["label"]), fields=fields, split=int(row["split"]))
            k = len(meta["class_names"])
            info.append({"name": name, "dataset": meta["dataset"], "path": str(root.resolve()), "first_label": offset,
                         "num_classes": k, "num_samples": int(meta["num_samples"]),
                         "num_failed": int(meta.get("num_failed", 0))})  # fmt: skip
            offset += k
    except BaseException:
        writer.close()
        raise
    class_names = [f"{s['name']}: {n}" for s, (meta, _, _) in zip(info, opened) for n in meta["class_names"]]
    meta = writer.finalize("merged", layout, list(range(offset)), class_names, STORED, extra={"sources": info})
    log.info("merged cache at %s: %d samples, %d classes from %s", out, meta["num_samples"], offset,
             ", ".join(s["name"] for s in info))  # fmt: skip
    return meta
