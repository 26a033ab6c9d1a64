"""Write NTU `.skeleton` files (official CRLF layout) and build a Skeleton from plain arrays."""

from __future__ import annotations

import copy
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from dcmae_core.data.ntu_types import (
    COLOR_CAMERA,
    DEFAULT_BODY_ID,
    DEPTH_CAMERA,
    INFO_FIELDS,
    INFO_INT_COLS,
    MAX_BODIES,
    MAX_BODY_ID,
    MAX_FRAMES,
    MAX_JOINTS,
    Body,
    Skeleton,
)

_EOL = "\r\n"  # the official release uses CRLF


def _check_skeleton(skel: Skeleton) -> None:
    """Raise ValueError naming the first field that cannot be written as a valid file."""
    if isinstance(skel.num_frames, bool) or not isinstance(skel.num_frames, int | np.integer):
        raise ValueError(f"num_frames must be an int, got {skel.num_frames!r}")
    if not 1 <= skel.num_frames <= MAX_FRAMES:
        raise ValueError(f"num_frames must be in 1..{MAX_FRAMES}, got {skel.num_frames}")
    seen: set[int] = set()
    num_joints = None
    for k, b in enumerate(skel.bodies):
        name = f"body {k} (id {b.body_id!r})"
        if isinstance(b.body_id, bool) or not isinstance(b.body_id, int | np.integer):
            raise ValueError(f"{name}: body_id must be an int, got {type(b.body_id).__name__}")
        if not 0 <= int(b.body_id) < MAX_BODY_ID:
            raise ValueError(f"{name}: body_id must be an unsigned 64-bit integer")
        if int(b.body_id) in seen:
            raise ValueError(f"{name}: body_id appears twice in bodies")
        seen.add(int(b.body_id))
        f = np.asarray(b.frames)
        if f.ndim != 1 or f.size == 0 or not np.issubdtype(f.dtype, np.integer):
            raise ValueError(f"{name}: frames must be a non-empty (n,) int array, got {f.dtype} {f.shape}")
        if f[0] < 0 or f[-1] >= skel.num_frames or (np.diff(f) <= 0).any():
            raise ValueError(f"{name}: frames must increase strictly within 0..{skel.num_frames - 1}")
        n, v = f.size, np.shape(b.xyz)[1] if np.ndim(b.xyz) == 3 else -1
        if num_joints is None:
            num_joints = v
        for field, shape in (
            ("info", (n, len(INFO_FIELDS))),
            ("xyz", (n, v, 3)),
            ("depth_xy", (n, v, 2)),
            ("color_xy", (n, v, 2)),
            ("orientation", (n, v, 4)),
            ("tracking", (n, v)),
        ):
            arr = np.asarray(getattr(b, field))
            if arr.shape != shape or v != num_joints or not 1 <= v <= MAX_JOINTS:
                raise ValueError(
                    f"{name}: {field} has shape {arr.shape}, expected {shape} with the same "
                    f"joint count V (1..{MAX_JOINTS}) for every body"
                )
            if not np.isfinite(arr.astype(np.float64)).all():
                raise ValueError(f"{name}: {field} holds NaN or Inf")
        ints = np.asarray(b.info, dtype=np.float64)[:, INFO_INT_COLS]
        if (ints != np.round(ints)).any():
            names = [INFO_FIELDS[c] for c in INFO_INT_COLS]
            raise ValueError(f"{name}: info columns {names} must hold integers")
        t = np.asarray(b.tracking)
        if not np.isin(t, (0, 1, 2)).all():
            raise ValueError(f"{name}: tracking states must be 0, 1 or 2")
    if skel.bodies and skel.bodies_per_frame.max() > MAX_BODIES:
        raise ValueError(f"a frame holds more than {MAX_BODIES} bodies")


def _formatter(digits: int | None):
    """float -> text: repr (the shortest text that reads back to the same float64, an exact round trip) or, with
    `digits`, %.{digits}G, how the official release wrote its numbers (7 digits: "0.7201789", "0", "-4.63308E-05")."""
    return repr if digits is None else (lambda x: f"{x:.{digits}G}")


def _body_lines(b: Body, digits: int | None = None) -> list[str]:
    """The text block (info line, joint count, V joint lines) of each of the body's n frames."""
    num = _formatter(digits)
    info = np.asarray(b.info, dtype=np.float64)  # (n, 9)
    joints = np.concatenate(
        [np.asarray(a, dtype=np.float64) for a in (b.xyz, b.depth_xy, b.color_xy, b.orientation)], axis=-1
    ).tolist()  # (n, V, 11) nested lists
    tracking = np.asarray(b.tracking).astype(np.int64).tolist()  # (n, V)
    v = len(tracking[0])
    blocks = []
    for row, jrows, trows in zip(info.tolist(), joints, tracking, strict=True):
        fields = [str(int(row[c])) if c in INFO_INT_COLS else num(row[c]) for c in range(len(row))]
        lines = [f"{int(b.body_id)} {' '.join(fields)}", str(v)]
        lines += [f"{' '.join(map(num, j))} {t}" for j, t in zip(jrows, trows, strict=True)]
        blocks.append(_EOL.join(lines))
    return blocks


def write_skeleton(path: str | os.PathLike[str], skeleton: Skeleton, digits: int | None = None) -> None:
    """Write `skeleton` as an official CRLF `.skeleton` file, atomically (temporary file + rename).

    Numbers are written exactly (repr), or with `digits` significant digits (%G) as the file they came from
    was (significant_digits): a file read and written back with its own digits is the same bytes.
    """
    _check_skeleton(skeleton)
    if digits is not None and not 1 <= digits <= 17:
        raise ValueError(f"digits must be in 1..17, got {digits}")
    per_frame: list[list[str]] = [[] for _ in range(skeleton.num_frames)]
    for b in skeleton.bodies:
        for f, block in zip(np.asarray(b.frames).tolist(), _body_lines(b, digits), strict=True):
            per_frame[f].append(block)
    parts = [str(skeleton.num_frames)]
    for blocks in per_frame:
        parts.append(str(len(blocks)))
        parts.extend(blocks)
    text = _EOL.join(parts) + _EOL

    _write_atomic(Path(os.fspath(path)), text.encode("ascii"))


def _write_atomic(target: Path, raw: bytes) -> None:
    """Write raw bytes to target through a temporary file and a rename, with the mode open() would give."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the mode open() would
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def _project(xyz: np.ndarray, camera: tuple[float, float, float, float]) -> np.ndarray:
    """(..., 3) camera-space metres -> (..., 2) pixels; 0 where z <= 0 (behind the camera)."""
    fx, cx, fy, cy = camera
    z = xyz[..., 2]
    ok = z > 1e-6
    zs = np.where(ok, z, 1.0)
    uv = np.stack([cx + fx * xyz[..., 0] / zs, cy - fy * xyz[..., 1] / zs], axis=-1)  # (..., 2)
    return np.where(ok[..., None], uv, 0.0)


def skeleton_from_arrays(
    xyz: np.ndarray,
    present: np.ndarray | None = None,
    body_ids: list[int] | None = None,
    tracking: np.ndarray | None = None,
) -> Skeleton:
    """Build a Skeleton from xyz (M, T, V, 3) camera-space metres.

    present (M, T) bool says which person appears in which frame (default: frames where the person is not
    all NaN). body_ids default to distinct Kinect-like ids; tracking (M, T, V) defaults to 2 (tracked).
    Depth and colour pixels come from a pinhole projection fitted to NTU's Kinect; orientation is 0.
    Persons present in no frame are left out; bodies are ordered by first appearance.
    """
    xyz = np.asarray(xyz, dtype=np.float64)
    if xyz.ndim != 4 or xyz.shape[-1] != 3:
        raise ValueError(f"xyz must have shape (M, T, V, 3), got {xyz.shape}")
    m, t, v, _ = xyz.shape
    if not (1 <= t <= MAX_FRAMES and 1 <= v <= MAX_JOINTS):
        raise ValueError(f"xyz has {t} frames and {v} joints; need 1..{MAX_FRAMES} and 1..{MAX_JOINTS}")
    if present is None:
        present = ~np.isnan(xyz).all(axis=(2, 3))  # (M, T)
    present = np.asarray(present)
    if present.shape != (m, t) or present.dtype != np.bool_:
        raise ValueError(f"present must be bool of shape {(m, t)}, got {present.dtype} {present.shape}")
    if not np.isfinite(xyz[present]).all():
        raise ValueError("xyz holds NaN or Inf in a frame where its person is present")
    if body_ids is None:
        body_ids = [DEFAULT_BODY_ID + 1 + k for k in range(m)]
    if len(body_ids) != m or len(set(body_ids)) != m:
        raise ValueError(f"body_ids must be {m} distinct ints, got {body_ids!r}")
    if tracking is None:
        tracking = np.full((m, t, v), 2, dtype=np.int8)
    tracking = np.asarray(tracking)
    if tracking.shape != (m, t, v) or not np.isin(tracking, (0, 1, 2)).all():
        raise ValueError(f"tracking must have shape {(m, t, v)} and values 0, 1, 2")

    firsts = [(int(np.argmax(present[k])), k) for k in range(m) if present[k].any()]
    bodies = []
    for _, k in sorted(firsts):
        frames = np.flatnonzero(present[k]).astype(np.int64)  # (n,)
        pts = xyz[k, frames]  # (n, V, 3)
        info = np.zeros((frames.size, len(INFO_FIELDS)))  # (n, 9)
        info[:, INFO_FIELDS.index("trackingState")] = 2
        bodies.append(
            Body(
                body_id=int(body_ids[k]),
                frames=frames,
                info=info,
                xyz=pts,
                depth_xy=_project(pts, DEPTH_CAMERA),
                color_xy=_project(pts, COLOR_CAMERA),
                orientation=np.zeros((frames.size, v, 4)),
                tracking=tracking[k, frames].astype(np.int8),
            )
        )
    skel = Skeleton(num_frames=t, bodies=bodies)
    if bodies and skel.bodies_per_frame.max() > MAX_BODIES:
        raise ValueError(f"more than {MAX_BODIES} persons in one frame")
    return skel


# filled files ----------------------------------------------------------------------------------------------
# A file whose hidden joints were filled in (by a model or interpolation) must say which joints were invented:
# those joints are marked not tracked, and a JSON sidecar lists them with the method that filled them.


def significant_digits(skel: Skeleton, most: int = 9) -> int | None:
    """The fewest significant digits (%G) that give back every float of the file as read (7 for the official
    release), or None when `most` digits are not enough (then write exactly, with repr)."""
    values = [
        np.ravel(np.asarray(getattr(b, f), dtype=np.float64))
        for b in skel.bodies
        for f in ("xyz", "depth_xy", "color_xy", "orientation")
    ]
    values += [np.ravel(np.asarray(b.info, dtype=np.float64)) for b in skel.bodies]
    flat = np.concatenate(values).tolist() if values else []
    for d in range(1, most + 1):
        if all(float(f"{x:.{d}g}") == x for x in flat):  # stops at the first value that does not fit
            return d
    return None


def mark_filled(original: Skeleton, xyz: list[np.ndarray], filled: list[np.ndarray]) -> Skeleton:
    """A copy of `original` in which, for each body k, the joints where filled[k] (n_k, V) bool is True take
    xyz[k] (n_k, V, 3) camera-space metres, tracking state 0 (not tracked), depth and colour pixels projected
    from that position with the fitted Kinect cameras (DEPTH_CAMERA, COLOR_CAMERA; a few pixels off, never the
    hidden joint's recorded pixels) and a zero orientation. Every other number stays as read."""
    if len(xyz) != len(original.bodies) or len(filled) != len(original.bodies):
        raise ValueError(
            f"need one xyz and one filled array per body ({len(original.bodies)}), got {len(xyz)} and {len(filled)}"
        )
    out = copy.deepcopy(original)
    for k, (b, pts, hit) in enumerate(zip(out.bodies, xyz, filled, strict=True)):
        pts, hit = np.asarray(pts, dtype=np.float64), np.asarray(hit, dtype=bool)
        if pts.shape != b.xyz.shape or hit.shape != b.tracking.shape:
            raise ValueError(
                f"body {k}: xyz {pts.shape} / filled {hit.shape} do not match the file's "
                f"{b.xyz.shape} / {b.tracking.shape}"
            )
        if not np.isfinite(pts[hit]).all():
            raise ValueError(f"body {k}: a filled joint is NaN or Inf")
        b.xyz[hit] = pts[hit]
        b.depth_xy[hit] = _project(pts[hit], DEPTH_CAMERA)
        b.color_xy[hit] = _project(pts[hit], COLOR_CAMERA)
        b.orientation[hit] = 0.0
        b.tracking[hit] = 0
    return out


def fill_record(skel: Skeleton, filled: list[np.ndarray], about: dict, joint_names: list[str] | None = None) -> dict:
    """The sidecar of a filled file: `about` (method, checkpoint, ...) and the filled [frame, body, joint]
    entries (0-based file frame, body in the file's order, joint), sorted by frame."""
    entries = sorted(
        [int(f), k, int(j)]
        for k, (b, hit) in enumerate(zip(skel.bodies, filled, strict=True))
        for f, j in zip(np.asarray(b.frames)[np.nonzero(hit)[0]], np.nonzero(hit)[1], strict=True)
    )
    return {
        "format": "dcmae-filled/1",
        **about,
        "convention": "entries are [frame, body, joint], 0-based: the file's frame, the body in the order "
        "of first appearance, the joint; these joints were filled in, not recorded, and "
        "are marked not tracked (state 0) in the file",
        "body_ids": [str(b.body_id) for b in skel.bodies],  # text: 64-bit ids do not fit a JSON double
        "joint_names": list(joint_names or []),
        "num_filled": len(entries),
        "entries": entries,
    }


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    """Where the sidecar of a filled file goes: the same name + .json ("x.skeleton" -> "x.skeleton.json")."""
    path = Path(os.fspath(path))
    return path.with_name(path.name + ".json")


def write_filled_skeleton(
    path: str | os.PathLike[str],
    original: Skeleton,
    xyz: list[np.ndarray],
    filled: list[np.ndarray],
    about: dict,
    joint_names: list[str] | None = None,
) -> Path:
    """Write `original` with its filled joints (mark_filled) as a CRLF .skeleton with the original's number
    format (significant_digits), and the JSON sidecar beside it (fill_record); returns the sidecar's path."""
    out = mark_filled(original, xyz, filled)
    write_skeleton(path, out, digits=significant_digits(original))
    side = sidecar_path(path)
    doc = fill_record(original, filled, about, joint_names)
    _write_atomic(side, (json.dumps(doc) + "\n").encode("utf-8"))  # one line: thousands of entries
    return side
