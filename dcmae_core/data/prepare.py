"""Raw NTU folder -> dataset cache, in parallel worker processes, resumable; the cache writer.

Cache folder layout (read by `dataset.SkeletonCache`; documented in docs/data_formats.md):
- `data.bin`: float32 samples appended one after another, each `(M, T_i, V, C)` in C order, no padding;
- `journal.jsonl`: one JSON line per finished (or failed) input, written after its bytes are in data.bin;
  it is what makes an interrupted run resumable;
- `index.npy`: structured array, one row per sample: offset (float32 elements), length T_i, label,
  setup, camera, performer, replication, action (-1 when unknown), split (-1 none, 0 train, 1 test),
  person_valid (M,) bool;  `names.txt`: one sample name per line;
- `meta.json`: format, dataset kind, layout, class names and ids, M, V, C, per-split statistics,
  counts of failed and excluded inputs. It is written last: its presence marks a finished cache.
Peak memory does not grow with the dataset: frames stream to disk as they come.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dcmae_core.data import splits as splits_mod
from dcmae_core.layout import Layout
from dcmae_core.resources import bundled

log = logging.getLogger(__name__)

FORMAT = "dcmae-cache"
VERSION = 1
FIELDS = ("setup", "camera", "performer", "replication", "action")
MISSING_LISTS = (
    "NTU_RGBD_samples_with_missing_skeletons.txt",
    "NTU_RGBD120_samples_with_missing_skeletons.txt",
)


def read_cache_index(root: Path) -> tuple[dict, np.ndarray, list[str]]:
    """meta, index and names of a finished cache folder; errors name what is missing or disagrees."""
    meta_path = root / "meta.json"
    if not meta_path.is_file():
        hint = " (an unfinished run: rerun the same prepare/import command to finish it)"
        raise ValueError(
            f"{root} is not a finished dataset cache: no meta.json" + hint * (root / "journal.jsonl").exists()
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{meta_path}: not valid JSON ({exc})") from exc
    if meta.get("format") != FORMAT:
        raise ValueError(f"{meta_path}: not a {FORMAT} folder (format = {meta.get('format')!r})")
    index = np.load(root / "index.npy", allow_pickle=False)
    names = (root / "names.txt").read_text(encoding="utf-8").splitlines()
    if len(names) != len(index) or len(index) != meta["num_samples"]:
        raise ValueError(f"{root}: index ({len(index)}), names ({len(names)}) and meta disagree")
    return meta, index, names


def index_dtype(num_persons: int) -> np.dtype:
    """The structured dtype of index.npy for M persons."""
    cols = [("offset", "<i8"), ("length", "<i8"), ("label", "<i8")]
    cols += [(f, "<i4") for f in FIELDS] + [("split", "i1"), ("person_valid", "?", (num_persons,))]
    return np.dtype(cols)


def nonfinite_reason(data: np.ndarray) -> str | None:
    """Why an array of coordinates cannot be stored (NaN, or Inf such as a value beyond float32's range);
    None when every value is finite."""
    nan, inf = int(np.isnan(data).sum()), int(np.isinf(data).sum())
    if not nan and not inf:
        return None
    parts = ([f"{nan} NaN value(s)"] if nan else []) + (
        [f"{inf} infinite value(s) (Inf, or beyond float32's range of about 3.4e38)"] if inf else []
    )
    return "contains " + " and ".join(parts)


class CacheWriter:
    """Append samples to a cache folder; resumes what a previous, interrupted writer left there."""

    def __init__(self, root: str | Path, num_persons: int, num_joints: int, channels: int) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.shape = (num_persons, num_joints, channels)
        self.records: list[dict] = []
        self.done: set[str] = set()
        header = {"format": FORMAT, "version": VERSION, "shape": list(self.shape)}
        journal, data = self.root / "journal.jsonl", self.root / "data.bin"
        end = 0
        if journal.exists():
            good: list[str] = []
            for line in journal.read_text(encoding="utf-8").splitlines(keepends=True):
                try:
                    rec = json.loads(line) if line.endswith("\n") else None
                except json.JSONDecodeError:
                    rec = None
                if rec is None:
                    break  # a line cut short by an interruption: everything after it is lost anyway
                good.append(line)
                if "format" in rec:
                    if rec["shape"] != list(self.shape):
                        raise ValueError(
                            f"{self.root} holds a cache of (M, V, C) = {tuple(rec['shape'])}, "
                            f"not {self.shape}; choose another output folder"
                        )
                    continue
                self.records.append(rec)
                self.done.add(rec["name"])
                if "offset" in rec:
                    end = max(end, rec["offset"] + int(np.prod([rec["length"], *self.shape])))
            journal.write_text("".join(good), encoding="utf-8")
            if self.records:
                log.info("resuming %s: %d inputs already done", self.root, len(self.records))
        if not journal.exists() or journal.stat().st_size == 0:
            journal.write_text(json.dumps(header) + "\n", encoding="utf-8")
        (self.root / "meta.json").unlink(missing_ok=True)  # unfinished again until finalize
        with open(data, "ab") as fh:
            fh.truncate(end * 4)  # drop bytes of a sample whose journal line never got written
        self._data = open(data, "ab")  # closed in close()
        self._journal = open(journal, "a", encoding="utf-8")
        self._end = end

    def add(
        self,
        name: str,
        data: np.ndarray,
        person_valid: np.ndarray,
        raw_label: int,
        fields: Iterable[int] = (-1, -1, -1, -1, -1),
        split: int = -1,
    ) -> bool:
        """Append one sample (M, T, V, C); raw_label is a class id mapped to 0..K-1 at finalize.

        A sample with NaN or Inf (also a value beyond float32's range, ~3.4e38, which becomes Inf) is not
        added but recorded as a failure with the reason, like an unreadable input; -> whether it was added."""
        data = np.ascontiguousarray(data, dtype=np.float32)
        if data.ndim != 4 or (data.shape[0], *data.shape[2:]) != self.shape or data.shape[1] < 1:
            raise ValueError(f"sample {name}: shape {data.shape} does not fit the cache's (M, T, V, C) = {self.shape}")
        reason = nonfinite_reason(data)
        if reason:
            log.error("skipping %s: %s", name, reason)
            self.add_failure(name, reason)
            return False
        self._data.write(data.tobytes())
        self._data.flush()
        rec = {
            "name": name,
            "offset": self._end,
            "length": int(data.shape[1]),
            "pv": [bool(v) for v in np.asarray(person_valid).reshape(-1)],
            "label": int(raw_label),
            "fields": [int(f) for f in fields],
            "split": int(split),
        }
        self._end += data.size
        self._log(rec)
        return True

    def add_failure(self, name: str, reason: str) -> None:
        """Record an input that could not be used (so a resumed run does not redo it)."""
        self._log({"name": name, "error": str(reason)})

    def _log(self, rec: dict) -> None:
        self._journal.write(json.dumps(rec) + "\n")
        self._journal.flush()
        self.records.append(rec)
        self.done.add(rec["name"])

    def close(self) -> None:
        self._data.close()
        self._journal.close()

    def finalize(
        self,
        dataset: str,
        layout: Layout,
        class_ids: list[int],
        class_names: list[str],
        split_names: tuple[str, ...],
        extra: dict | None = None,
    ) -> dict:
        """Write index.npy, names.txt and meta.json (with per-split statistics). Returns the meta dict."""
        self.close()
        m, v, c = self.shape
        ok = [r for r in self.records if "offset" in r]
        failed = [r for r in self.records if "error" in r]
        index = np.zeros(len(ok), dtype=index_dtype(m))
        position = {cid: k for k, cid in enumerate(class_ids)}
        for i, r in enumerate(ok):
            if r["label"] not in position:
                raise ValueError(f"sample {r['name']}: class id {r['label']} is not among the classes {class_ids}")
            index[i]["offset"], index[i]["length"], index[i]["label"] = (
                r["offset"],
                r["length"],
                position[r["label"]],
            )
            for f, val in zip(FIELDS, r["fields"], strict=True):
                index[i][f] = val
            index[i]["split"], index[i]["person_valid"] = r["split"], r["pv"]
        np.save(self.root / "index.npy", index)
        (self.root / "names.txt").write_text("".join(r["name"] + "\n" for r in ok), encoding="utf-8")
        meta = {
            "format": FORMAT,
            "version": VERSION,
            "dataset": dataset,
            "layout": layout.to_dict(),
            "class_names": list(class_names),
            "class_ids": [int(i) for i in class_ids],
            "num_persons": m,
            "num_joints": v,
            "channels": c,
            "num_samples": len(ok),
            "splits": list(split_names),
            "num_failed": len(failed),
            "failures": failed[:200],
            **(extra or {}),
        }
        meta["stats"] = compute_stats(self.root, index, dataset, split_names, self.shape)
        tmp = self.root / "meta.json.tmp"
        tmp.write_text(json.dumps(meta, indent=1), encoding="utf-8")
        tmp.replace(self.root / "meta.json")
        return meta


def train_masks(index: np.ndarray, dataset: str, split_names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """{split: (N,) bool training mask}: NTU from the name fields, others from the split column."""
    if dataset in splits_mod.SPLITS_BY_DATASET:
        return {
            s: splits_mod.ntu_train_mask(dataset, s, index["setup"], index["camera"], index["performer"])
            for s in split_names
        }
    return {s: index["split"] == 0 for s in split_names}


def compute_stats(root: Path, index: np.ndarray, dataset: str, split_names, shape) -> dict:
    """Per-channel mean/std over present person-frames of each split's training set (streamed)."""
    m, v, c = shape
    masks = train_masks(index, dataset, tuple(split_names))
    acc = {s: np.zeros((3, c)) for s in split_names}  # count, sum, sum of squares per channel
    # Plain reads, not a memory map: mapped pages would count as this process's resident memory.
    fh = open(root / "data.bin", "rb")  # closed below
    for i, row in enumerate(index):
        users = [s for s in split_names if masks[s][i]]
        if not users:
            continue
        fh.seek(int(row["offset"]) * 4)
        x = np.fromfile(fh, dtype=np.float32, count=m * int(row["length"]) * v * c).astype(np.float64)
        x = x.reshape(m, row["length"], v, c)  # (M, T, V, C)
        pts = x[np.any(x != 0, axis=(2, 3))].reshape(-1, c)  # (K*V, C) present person-frames
        part = np.stack([np.full(c, len(pts)), pts.sum(0), (pts**2).sum(0)])
        for s in users:
            acc[s] += part
    fh.close()
    out = {}
    for s, (n, sm, sq) in acc.items():
        if n[0] == 0:
            log.warning("split %s has no training samples: statistics default to mean 0, std 1", s)
            mean, std = np.zeros(c), np.ones(c)
        else:
            mean = sm / n
            std = np.sqrt(np.maximum(sq / n - mean**2, 0.0))
            std = np.where(std < 1e-6, 1.0, std)
        out[s] = {"mean": mean.tolist(), "std": std.tolist(), "count": int(n[0])}
    return out


def excluded_names() -> set[str]:
    """The union of the official NTU-60 and NTU-120 lists of samples without skeletons."""
    names: set[str] = set()
    for fname in MISSING_LISTS:
        text = bundled(fname).read_text(encoding="utf-8")
        names.update(tok for tok in text.split() if tok.startswith("S") and len(tok) == 20)
    return names


@dataclass
class PrepareResult:
    root: Path
    dataset: str  # "ntu60" or "ntu120"
    num_samples: int  # samples in the finished cache
    num_failed: int  # bad files, logged and skipped
    num_excluded: int  # files on the official missing-skeleton lists


def _prepare_one(job: tuple[str, bool]) -> tuple[str, np.ndarray | None, np.ndarray | None, str | None]:
    """Worker: read + preprocess one file -> (name, data (M, T, V, 3), person_valid (M,), error)."""
    from dcmae_core.data.ntu import read_skeleton
    from dcmae_core.data.preprocess import preprocess_skeleton

    path, copy_single = job
    name = Path(path).stem
    try:
        pre = preprocess_skeleton(read_skeleton(path), copy_single_actor=copy_single)
        return name, pre.data, pre.person_valid, None
    except Exception as exc:  # a bad file must never cost the whole run
        return name, None, None, f"{type(exc).__name__}: {exc}"


def prepare_ntu(
    ntu_dir: str | Path,
    out: str | Path,
    workers: int | None = None,
    copy_single_actor: bool = False,
    all_classes: bool = False,
    progress: bool = True,
    on_sample: Callable[[int], None] | None = None,
) -> PrepareResult:
    """Build (or resume) a cache from a folder of NTU `.skeleton` files (searched recursively).

    workers: processes (None = CPU count, 1 = in this process). all_classes: use all 60/120 NTU classes
    even when some actions are absent (default: the actions present, ascending). on_sample(k) is called
    after each input (k done in this run).
    """
    from tqdm import tqdm

    from dcmae_core.data.ntu import action_name, parse_sample_name
    from dcmae_core.layout import NTU25

    ntu_dir, out = Path(ntu_dir), Path(out)
    if not ntu_dir.is_dir():
        raise FileNotFoundError(f"NTU folder {ntu_dir} does not exist")
    files: dict[str, Path] = {}
    for p in sorted(ntu_dir.rglob("*.skeleton")):
        if p.stem in files:
            log.warning("duplicate sample %s at %s ignored (using %s)", p.stem, p, files[p.stem])
            continue
        files[p.stem] = p
    if not files:
        raise FileNotFoundError(f"no .skeleton files under {ntu_dir}")
    excluded = excluded_names()
    parsed, bad_names = {}, []
    for name in files:
        try:
            parsed[name] = parse_sample_name(name)
        except ValueError as exc:
            bad_names.append((name, str(exc)))
    todo_names = sorted(n for n in parsed if n not in excluded)
    num_excluded = len(parsed) - len(todo_names)
    if not todo_names:
        raise ValueError(f"no usable NTU samples under {ntu_dir} (all {len(files)} excluded or badly named)")
    big = any(parsed[n].setup > 17 or parsed[n].action > 60 for n in todo_names)
    dataset = "ntu120" if big else "ntu60"

    writer = CacheWriter(out, num_persons=2, num_joints=NTU25.num_joints, channels=3)
    try:
        for name, reason in bad_names:
            if name not in writer.done:
                log.error("skipping %s: %s", name, reason)
                writer.add_failure(name, reason)
        jobs = [(str(files[n]), copy_single_actor) for n in todo_names if n not in writer.done]
        workers = (os.cpu_count() or 1) if workers is None else max(1, workers)
        bar = tqdm(total=len(jobs), desc=f"prepare {dataset}", unit="file", disable=not progress)
        pool = mp.get_context("spawn").Pool(workers) if workers > 1 and len(jobs) > 1 else None
        try:
            results = pool.imap(_prepare_one, jobs, chunksize=8) if pool else map(_prepare_one, jobs)
            for k, (name, data, pv, err) in enumerate(results, 1):
                if err is not None:
                    log.error("skipping %s: %s", name, err)
                    writer.add_failure(name, err)
                else:
                    s = parsed[name]
                    fields = (s.setup, s.camera, s.performer, s.replication, s.action)
                    writer.add(name, data, pv, raw_label=s.action, fields=fields)
                bar.update(1)
                if on_sample is not None:
                    on_sample(k)
        finally:
            bar.close()
            if pool is not None:
                pool.terminate()
                pool.join()
    except BaseException:
        writer.close()
        raise
    kept = {r["label"] for r in writer.records if "offset" in r}
    class_ids = list(range(1, (120 if big else 60) + 1)) if all_classes else sorted(kept)
    meta = writer.finalize(
        dataset,
        NTU25,
        class_ids,
        [action_name(a) for a in class_ids],
        splits_mod.SPLITS_BY_DATASET[dataset],
        extra={"source": str(ntu_dir), "num_excluded": num_excluded, "copy_single_actor": copy_single_actor},
    )
    if meta["num_failed"]:
        log.warning("%d bad file(s) skipped; see meta.json 'failures'", meta["num_failed"])
    return PrepareResult(out, dataset, meta["num_samples"], meta["num_failed"], num_excluded)
