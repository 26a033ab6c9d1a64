"""Import other skeleton datasets into the cache format (see docs/data_formats.md).

- `import_npz`: the field's preprocessed NTU `.npz` (CTR-GCN / STTFormer / MAMP): `x_train` (N, T, M*V*C)
  person-major, one-hot (or integer) `y_train`, same for `x_test` / `y_test`. Streamed row by row.
- `import_generic`: a folder with `layout.json`, `samples.csv` and one `.npy` per sample, any V, M <= 2.
Joint count V, persons M and channels C come from the data, never from constants. Both resume if interrupted.
"""

from __future__ import annotations

import csv
import json
import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from dcmae_core.data.prepare import CacheWriter
from dcmae_core.layout import NTU25, Layout, generic_layout

log = logging.getLogger(__name__)
STORED = ("stored",)  # split name of imported caches: their own train/test partition


def _ntu_names(k: int) -> list[str] | None:
    from dcmae_core.data.ntu import ACTION_NAMES

    return list(ACTION_NAMES[:k]) if k in (60, 120) else None


def mark_absent(data: np.ndarray) -> np.ndarray:
    """Zero the absent person-frames of (M, T, V, C) in place and return (M, T) present.

    Absent = NaN anywhere, or all joints at one point (zeros, or the field's `-origin` fill of an
    absent actor).
    """
    nan = np.isnan(data).any(axis=(2, 3))  # (M, T)
    clean = np.nan_to_num(data)
    if data.shape[2] > 1:
        spread = np.ptp(clean, axis=2).max(axis=-1)  # (M, T) largest extent over joints
    else:
        spread = np.abs(clean).max(axis=(2, 3))  # (M, T) a single joint: present when non-zero
    present = ~nan & (spread > 0)  # (M, T)
    data[~present] = 0.0
    return present


def _iter_npz_rows(path: Path, key: str, chunk: int = 256) -> Iterator[np.ndarray]:
    """Yield (F, ...) rows of array `key` in an .npz without loading it whole."""
    with zipfile.ZipFile(path) as zf:
        member = f"{key}.npy"
        if member not in zf.namelist():
            raise ValueError(f"{path}: no array {key!r}; it holds {', '.join(n[:-4] for n in zf.namelist())}")
        with zf.open(member) as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
            if fortran or dtype.hasobject or len(shape) < 2:
                raise ValueError(f"{path}: {key} must be a C-order numeric array (N, ...), got {shape} {dtype}")
            row = int(np.prod(shape[1:]))
            for start in range(0, shape[0], chunk):
                n = min(chunk, shape[0] - start)
                buf = fh.read(n * row * dtype.itemsize)
                if len(buf) != n * row * dtype.itemsize:
                    raise ValueError(f"{path}: {key} is truncated")
                yield from np.frombuffer(buf, dtype=dtype).reshape(n, *shape[1:])


def row_to_sample(row: np.ndarray, m: int, v: int, channels: int) -> tuple[np.ndarray, np.ndarray] | None:
    """One (T, M*V*C) row of the field's format -> (M, T, V, C) float32 with the trailing padding frames trimmed,
    and (M, T) present; None when every frame is zero."""
    frames = np.flatnonzero(np.any(row != 0, axis=1))
    if len(frames) == 0:
        return None
    x = np.array(row[: frames[-1] + 1], dtype=np.float32).reshape(-1, m, v, channels)  # (T, M, V, C)
    x = x.transpose(1, 0, 2, 3).copy()  # (M, T, V, C)
    return x, mark_absent(x)


def _npz_shape(path: Path, key: str) -> tuple[int, ...]:
    with zipfile.ZipFile(path) as zf, zf.open(f"{key}.npy") as fh:
        version = np.lib.format.read_magic(fh)
        reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        return tuple(reader(fh)[0])


MAX_CLASSES = 100_000  # a label beyond this is a mistake in the data, not a class (names would fill memory)


def class_count(max_label: int, where: str) -> int:
    """K = max_label + 1, refused at once when absurd (a label of 100000000 would build 10^8 class names)."""
    if max_label >= MAX_CLASSES:
        raise ValueError(f"{where}: label {max_label} is beyond {MAX_CLASSES - 1}; labels are class indices 0..K-1")
    return max_label + 1


def _labels(y: np.ndarray, where: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2:
        return y.argmax(axis=1).astype(np.int64)  # one-hot (N, K)
    if y.ndim == 1 and np.issubdtype(y.dtype, np.number) and np.all(y == np.round(y)) and y.min(initial=0) >= 0:
        return y.astype(np.int64)
    raise ValueError(f"{where}: labels must be one-hot (N, K) or non-negative integers (N,), got {y.shape} {y.dtype}")


def import_npz(
    path: str | Path,
    out: str | Path,
    num_persons: int | None = None,
    channels: int = 3,
    layout: Layout | None = None,
    class_names: list[str] | None = None,
) -> dict:
    """Import a field-format .npz into a cache at `out`; returns the cache meta.

    Per frame the F = M*V*C values are person-major, then joint, then coordinate. V is taken from the
    layout when given (M = F / (V*C)), else M = num_persons (default 2) and V = F / (M*C).
    Trailing all-zero frames (padding) are trimmed; all-zero samples are skipped and counted.
    """
    path, out = Path(path), Path(out)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    try:
        shapes = {k: _npz_shape(path, k) for k in ("x_train", "x_test")}
        npz = np.load(path, allow_pickle=False)
        ys = {k: _labels(npz[f"y_{k[2:]}"], f"{path}: y_{k[2:]}") for k in shapes}
    except (KeyError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: not an .npz with x_train, y_train, x_test, y_test ({exc})") from exc
    feat = shapes["x_train"][-1]
    if any(len(s) != 3 or s[-1] != feat for s in shapes.values()):
        raise ValueError(f"{path}: x_train/x_test must be (N, T, F) with one F, got {shapes}")
    if layout is not None:
        v = layout.num_joints
        m = feat // (v * channels)
    else:
        m = num_persons or 2
        v = feat // (m * channels)
    if m < 1 or m * v * channels != feat:
        raise ValueError(f"{path}: {feat} values per frame do not split into M x V x C = {m} x {v} x {channels}")
    layout = layout or (NTU25 if v == 25 else generic_layout(v))
    k = class_count(int(max(y.max(initial=-1) for y in ys.values())), f"{path}: y_train/y_test")
    if npz["y_train"].ndim == 2:
        k = max(k, npz["y_train"].shape[1])
    names = class_names or (_ntu_names(k) if v == 25 else None) or [f"class {i}" for i in range(k)]
    if len(names) < k:
        raise ValueError(f"{len(names)} class names for {k} classes")
    writer = CacheWriter(out, num_persons=m, num_joints=v, channels=channels)
    for split, key in enumerate(("x_train", "x_test")):
        if len(ys[key]) != shapes[key][0]:
            raise ValueError(f"{path}: {key} has {shapes[key][0]} samples but y has {len(ys[key])}")
        for i, row in enumerate(_iter_npz_rows(path, key)):
            name = f"{key[2:]}_{i:06d}"
            if name in writer.done:
                continue
            sample = row_to_sample(row, m, v, channels)
            if sample is None:
                writer.add_failure(name, "all frames are zero")
                continue
            x, present = sample
            writer.add(name, x, present.any(axis=1), raw_label=int(ys[key][i]), split=split)
    meta = writer.finalize("npz", layout, list(range(len(names))), names, STORED, extra={"source": str(path)})
    _report(meta)
    return meta


def _report(meta: dict) -> None:
    log.info("cache: %d samples, %d classes", meta["num_samples"], len(meta["class_names"]))
    if meta["num_failed"]:
        log.warning("%d sample(s) skipped; see meta.json 'failures'", meta["num_failed"])


def centre(data: np.ndarray, present: np.ndarray, joint: int) -> np.ndarray:
    """Subtract `joint` of the first person with data, in its first present frame, from present frames.

    data (M, T, V, C) in place; returns the origin (C,).
    """
    persons = np.flatnonzero(present.any(axis=1))
    if len(persons) == 0:
        raise ValueError("no person has data")
    p = persons[0]
    origin = data[p, np.flatnonzero(present[p])[0], joint].copy()  # (C,)
    data[present] -= origin
    return origin


def _split_value(value: str, where: str) -> int:
    v = value.strip().lower()
    if v in ("train", "0"):
        return 0
    if v in ("test", "1"):
        return 1
    raise ValueError(f"{where}: split must be train or test, got {value!r}")


def _sample_file(folder: Path, file: str, where: str, allow_outside: bool) -> Path:
    """The .npy a samples.csv row names; inside `folder` unless `allow_outside`."""
    path = folder / file
    if not allow_outside and not path.resolve().is_relative_to(folder.resolve()):
        raise ValueError(
            f"{where}: {file!r} lies outside the dataset folder {folder}; move it in, or pass "
            f"--allow-outside if that is intended"
        )
    return path


def _read_header(path: Path, where: str) -> tuple[int, ...]:
    """(M, T, V, C) of one sample file, without reading its data; a clear error for an unusable file."""
    if not path.is_file():
        raise ValueError(f"{where}: {path} is {'a folder' if path.is_dir() else 'missing'}, not a .npy file")
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise ValueError(f"{where}: {path} is not a readable .npy array ({str(exc)[:200] or 'empty file'})") from exc
    if arr.ndim not in (3, 4):
        raise ValueError(f"{path}: expected (T, V, C) or (M, T, V, C), got {arr.shape}")
    shape = arr.shape if arr.ndim == 4 else (1, *arr.shape)
    if min(shape) < 1:
        raise ValueError(f"{path}: (M, T, V, C) = {shape} has an empty dimension")
    return shape


def sample_key(row: dict, file: str) -> str:
    """A sample's name in the cache: the row's `name`, else its path relative to the dataset folder without
    the suffix (`a/walk_0.npy` -> `a/walk_0`), so files of one stem in two folders stay two samples."""
    return (row.get("name") or "").strip() or Path(file).with_suffix("").as_posix()


def import_generic(
    folder: str | Path,
    out: str | Path,
    test_ratio: float = 0.2,
    seed: int = 0,
    centre_data: bool = True,
    allow_outside: bool = False,
) -> dict:
    """Import the generic format (docs/data_formats.md) from `folder` into a cache at `out`.

    Without a split column a seeded share test_ratio of the samples becomes the test split. Every file must
    lie inside `folder` unless allow_outside; two rows naming one file or one sample name are refused.
    """
    folder, out = Path(folder), Path(out)
    for req in ("layout.json", "samples.csv"):
        if not (folder / req).is_file():
            raise FileNotFoundError(f"{folder}: missing {req} (see docs/data_formats.md)")
    try:
        layout = Layout.from_dict(json.loads((folder / "layout.json").read_text(encoding="utf-8")))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{folder}/layout.json: not valid JSON ({exc})") from exc
    with open(folder / "samples.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or not {"file", "label"} <= set(rows[0]):
        raise ValueError(f"{folder}/samples.csv needs a header with at least the columns file,label")
    labels, headers, files, names_at = [], [], [], {}
    for n, r in enumerate(rows, start=2):
        where = f"{folder}/samples.csv line {n}"
        try:
            labels.append(int(r["label"]))
        except (TypeError, ValueError):
            raise ValueError(f"{where}: label {r['label']!r} is not an integer") from None
        file = (r.get("file") or "").strip()
        if not file:
            raise ValueError(f"{where}: no file given")
        name = sample_key(r, file)
        if name in names_at:
            raise ValueError(f"{where} repeats sample {name!r} of line {names_at[name]}: each sample once")
        names_at[name] = n
        path = _sample_file(folder, file, where, allow_outside)
        headers.append(_read_header(path, where))
        files.append((name, path))
    if min(labels) < 0:
        raise ValueError(f"{folder}/samples.csv: labels must be 0..K-1")
    k = class_count(max(labels), f"{folder}/samples.csv")
    m = max(h[0] for h in headers)
    vc = {h[2:] for h in headers}
    if m > 2 or len(vc) != 1:
        raise ValueError(f"{folder}: samples need M <= 2 and one (V, C) for all, got M = {m}, (V, C) in {vc}")
    ((v, c),) = vc
    if v != layout.num_joints:
        raise ValueError(f"{folder}: the data has V = {v} joints but layout.json names {layout.num_joints}")
    if "split" in rows[0] and all(r.get("split") for r in rows):
        split = [_split_value(r["split"], f"{folder}/samples.csv line {n}") for n, r in enumerate(rows, start=2)]
    else:
        draw = np.random.default_rng(seed).random(len(rows))
        split = [int(d < test_ratio) for d in draw]
    classes_file = folder / "classes.txt"
    names = classes_file.read_text(encoding="utf-8").splitlines() if classes_file.is_file() else []
    names = [n for n in names if n.strip()] or [f"class {i}" for i in range(k)]
    if len(names) < k:
        raise ValueError(f"{classes_file}: {len(names)} class names but labels go up to {k - 1}")
    writer = CacheWriter(out, num_persons=m, num_joints=v, channels=c)
    for i, (name, path) in enumerate(files):
        if name in writer.done:
            continue
        try:
            arr = np.load(path, allow_pickle=False).astype(np.float32)
            arr = arr.reshape(headers[i])  # (M_i, T, V, C)
            x = np.zeros((m, *arr.shape[1:]), np.float32)  # (M, T, V, C)
            x[: arr.shape[0]] = arr
            present = mark_absent(x)
            keep = present.any(axis=0)  # frames where somebody is present
            x, present = x[:, keep], present[:, keep]
            if centre_data:
                centre(x, present, layout.center)
            writer.add(name, x, present.any(axis=1), raw_label=labels[i], split=split[i])
        except (ValueError, OSError) as exc:
            log.error("skipping %s: %s", path, exc)
            writer.add_failure(name, str(exc))
    meta = writer.finalize("generic", layout, list(range(len(names))), names, STORED, extra={"source": str(folder)})
    _report(meta)
    return meta


def npz_summary(path: str | Path) -> dict[str, np.ndarray]:
    """Labels (class indices) of the field's .npz per split key ('x_train', 'x_test'), without loading x."""
    path = Path(path)
    try:
        npz = np.load(path, allow_pickle=False)
        out = {}
        for key in ("x_train", "x_test"):
            shape = _npz_shape(path, key)
            if len(shape) != 3:
                raise ValueError(f"{path}: {key} must be (N, T, F), got {shape}")
            labels = _labels(npz[f"y_{key[2:]}"], f"{path}: y_{key[2:]}")
            if len(labels) != shape[0]:
                raise ValueError(f"{path}: {key} has {shape[0]} samples but y has {len(labels)}")
            out[key] = labels
    except (KeyError, zipfile.BadZipFile, OSError) as exc:
        raise ValueError(f"{path}: not an .npz with x_train, y_train, x_test, y_test ({exc})") from exc
    return out


def npz_sample(
    path: str | Path, key: str, i: int, num_persons: int = 2, channels: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """Row i of `key` in the field's .npz as (M, T, V, C) float32 with padding frames trimmed, and (M, T) present.

    Reads only that row (seeks inside the archive; a compressed member is decompressed up to it)."""
    path = Path(path)
    with zipfile.ZipFile(path) as zf, zf.open(f"{key}.npy") as fh:
        version = np.lib.format.read_magic(fh)
        reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = reader(fh)
        if fortran or len(shape) != 3 or not 0 <= i < shape[0]:
            raise ValueError(f"{path}: {key} {shape}: no sample {i}")
        row = int(np.prod(shape[1:])) * dtype.itemsize
        fh.seek(fh.tell() + i * row)
        buf = fh.read(row)
    if len(buf) != row:
        raise ValueError(f"{path}: {key} is truncated at sample {i}")
    x = np.frombuffer(buf, dtype=dtype).reshape(shape[1:])  # (T, F)
    feat = shape[2]
    v = feat // (num_persons * channels)
    if num_persons * v * channels != feat:
        raise ValueError(f"{path}: {feat} values per frame do not split into {num_persons} persons x V x {channels}")
    sample = row_to_sample(x, num_persons, v, channels)
    if sample is None:
        raise ValueError(f"{path}: {key}[{i}] is all zeros")
    return sample
