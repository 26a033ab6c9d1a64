"""Readers for the field's Kinect v1 (20-joint) datasets: NW-UCLA, UTD-MHAD, Kinder-Gator.

Each reader returns `(data, info)`: data (M=1, T, 20, 3) float32 metres in the camera frame, joints in the
KINECT20 (Kinect SDK v1) order of `dcmae_core.layout`; info the fields parsed from the file name. Readers
never centre; `read_kinect_file` does (as the importers in `kinect_import.py` do) for the app and the CLI.
Every problem is a ValueError whose message names the file and the problem.

- NW-UCLA (CTR-GCN's JSON): `{"file_name": "a01_s01_e00_v01", "skeletons": [T][20][3]}`, SDK order.
- UTD-MHAD: MATLAB v5 `aAA_sS_tT_skeleton.mat`, variable `d_skel` (20, 3, T) in its own joint order
  (head, shoulder centre, spine, hip centre, then arms and legs as the SDK): reordered here.
- Kinder-Gator: CSV `Timestamp, HipCenterX .. FootRightZ, User-ID, Action` (trailing comma), read by column name.
"""

from __future__ import annotations

import json
import operator
import re
from pathlib import Path

import numpy as np

from dcmae_core.data.importers import centre, mark_absent
from dcmae_core.layout import KINECT20

V, C = KINECT20.num_joints, 3

# NW-UCLA: action id (as in the file names) -> name; 10 classes, ids 7 and 10 are not in the dataset.
NWUCLA_ACTIONS = {
    1: "pick up with one hand", 2: "pick up with two hands", 3: "drop trash", 4: "walk around",
    5: "sit down", 6: "stand up", 8: "donning", 9: "doffing", 11: "throw", 12: "carry",
}  # fmt: skip
NWUCLA_TEST_VIEW = 3  # cross-view split: views 1 + 2 train, view 3 test

UTD_ACTIONS = {
    i + 1: n
    for i, n in enumerate((
        "right arm swipe to the left", "right arm swipe to the right", "right hand wave", "two hand front clap",
        "right arm throw", "cross arms in the chest", "basketball shoot", "right hand draw x",
        "right hand draw circle (clockwise)", "right hand draw circle (counter clockwise)", "draw triangle",
        "bowling (right hand)", "front boxing", "baseball swing from right", "tennis right hand forehand swing",
        "arm curl (two arms)", "tennis serve", "two hand push", "right hand knock on door",
        "right hand catch an object", "right hand pick up and throw", "jogging in place", "walking in place",
        "sit to stand", "stand to sit", "forward lunge (left foot forward)", "squat (two arms stretch out)",
    ))
}  # fmt: skip
# KINECT20 joint k is row UTD_TO_KINECT20[k] of d_skel: UTD starts head, shoulder centre, spine, hip centre.
UTD_TO_KINECT20 = (3, 2, 1, 0, *range(4, 20))

# Kinder-Gator's 58 motions as its file names spell them, in its README's order (warm-up, exercise, mime,
# communication); class id = position + 1. Typos ("Climb-and-", "Throw-a-ball-") are the dataset's own.
KG_MOTIONS = (
    "Raise-your-hand", "Raise-your-other-hand", "Wave-your-hand", "Wave-your-other-hand", "Bow",
    "Raise-your-arm-to-one-side", "Raise-your-arm-to-the-other-side", "Bend-your-knee-while-raising-your-leg",
    "Bend-your-other-knee-while-raising-your-leg",
    "Put-your-hands-on-your-hips-and-lean-to-the-side", "Put-your-hands-on-your-hips-and-lean-to-the-other-side",
    "Put-your-hands-on-your-hips-and-twist", "Touch-your-toes", "Do-a-forward-lunge", "Lift-your-leg-to-one-side",
    "Lift-your-leg-to-the-other-side", "Walk-in-place", "Walk-in-place-as-fast-as-you-can", "Run-in-place",
    "Run-in-place-as-fast-as-you-can", "Jump", "Jump-as-high-as-you-can", "Do-two-jumping-jacks",
    "Push-an-imaginary-button-in-front-of-you",
    "Swipe-across-an-imaginary-screen-in-front-of-you-from-right-to-left",
    "Swipe-across-an-imaginary-screen-in-front-of-you-from-left-to-right", "Fly-like-a-bird",
    "Fly-like-an-airplane", "Swim", "Kick-a-ball", "Kick-a-ball-as-far-as-you-can", "Kick-a-ball-with-the-other-leg",
    "Kick-a-ball-as-far-as-you-can-with-the-other-leg", "Throw-a-ball-", "Throw-a-ball-as-far-as-you-can",
    "Throw-a-ball-with-your-other-arm", "Throw-a-ball-as-far-as-you-can-with-the-other-arm", "Punch",
    "Climb-and-imaginary-ladder",
    "Point-at-the-camera", "Signal-someone-to-stop", "Signal-someone-to-come-here", "Draw-a-circle",
    "Draw-a-square", "Draw-a-triangle", "Draw-the-letter-A", "Draw-the-letter-C", "Draw-the-letter-K",
    "Draw-the-letter-M", "Draw-the-letter-X", "Make-the-letter-Y", "Make-the-letter-M", "Make-the-letter-C",
    "Make-the-letter-A", "Make-the-letter-K", "Make-the-letter-P", "Make-the-letter-T", "Make-the-letter-X",
)  # fmt: skip
KG_ACTIONS = {i + 1: m.strip("-").replace("-", " ") for i, m in enumerate(KG_MOTIONS)}
_KG_ID = {m.strip("-").lower(): i + 1 for i, m in enumerate(KG_MOTIONS)}
# CSV column stem of each KINECT20 joint (columns are stem + X / Y / Z).
KG_COLUMNS = (
    "HipCenter", "Spine", "ShoulderCenter", "Head", "ShoulderLeft", "ElbowLeft", "WristLeft", "HandLeft",
    "ShoulderRight", "ElbowRight", "WristRight", "HandRight", "HipLeft", "KneeLeft", "AnkleLeft", "FootLeft",
    "HipRight", "KneeRight", "AnkleRight", "FootRight",
)  # fmt: skip
KG_GROUPS = {"adults": 1, "children": 2}  # stored in the index's setup column

_NWUCLA_NAME = re.compile(r"a(\d+)_s(\d+)_e(\d+)_v(\d+)$")
_UTD_NAME = re.compile(r"a(\d+)_s(\d+)_t(\d+)(?:_skeleton)?$")
_KG_NAME = re.compile(r"POSE-p(\d+)_(\d+)-(.+)-(\d+)$")


def _checked(path: Path, x: np.ndarray) -> np.ndarray:
    """(T, 20, 3) -> (1, T, 20, 3) float32 after the checks every reader shares."""
    if x.ndim != 3 or x.shape[1:] != (V, C):
        raise ValueError(f"{path}: expected frames of 20 joints x 3 coordinates, got an array of shape {x.shape}")
    if len(x) == 0:
        raise ValueError(f"{path}: no frames")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{path}: contains NaN or infinite coordinates")
    return np.ascontiguousarray(x, dtype=np.float32)[None]  # (1, T, V, C)


def parse_nwucla_name(stem: str) -> dict:
    """Fields of an NW-UCLA name aAA_sSS_eEE_vVV; split 0 (train) for views 1-2, 1 (test) for view 3."""
    m = _NWUCLA_NAME.fullmatch(stem)
    if not m:
        raise ValueError(f"{stem}: not an NW-UCLA name aAA_sSS_eEE_vVV")
    action, subject, episode, view = (int(g) for g in m.groups())
    if action not in NWUCLA_ACTIONS:
        raise ValueError(f"{stem}: action {action} is not one of NW-UCLA's {sorted(NWUCLA_ACTIONS)}")
    return {"dataset": "nwucla", "action": action, "action_name": NWUCLA_ACTIONS[action], "subject": subject,
            "episode": episode, "view": view, "split": int(view == NWUCLA_TEST_VIEW)}  # fmt: skip


def parse_utd_name(stem: str) -> dict:
    """Fields of a UTD-MHAD name aAA_sS_tT[_skeleton]; split 0 (train) for odd subjects, 1 for even."""
    m = _UTD_NAME.fullmatch(stem)
    if not m:
        raise ValueError(f"{stem}: not a UTD-MHAD name aAA_sS_tT_skeleton")
    action, subject, trial = (int(g) for g in m.groups())
    if action not in UTD_ACTIONS:
        raise ValueError(f"{stem}: action {action} outside UTD-MHAD's 1..27")
    return {"dataset": "utd_mhad", "action": action, "action_name": UTD_ACTIONS[action], "subject": subject,
            "trial": trial, "split": int(subject % 2 == 0)}  # fmt: skip


def parse_kg_name(stem: str, group: str | None = None) -> dict:
    """Fields of a Kinder-Gator name POSE-pPID_NN-Motion-Name-TIMESTAMP (NN = order the motion was taken).
    Every take is in the train split (a pretraining corpus). action is -1 for a motion not in KG_MOTIONS."""
    m = _KG_NAME.fullmatch(stem)
    if not m:
        raise ValueError(f"{stem}: not a Kinder-Gator name POSE-pPID_NN-Motion-TIMESTAMP")
    motion = m.group(3)
    action = _KG_ID.get(motion.strip("-").lower(), -1)
    return {"dataset": "kinder_gator", "action": action, "action_name": KG_ACTIONS.get(action, motion),
            "subject": int(m.group(1)), "participant": int(m.group(1)), "take": int(m.group(2)), "motion": motion,
            "group": group,
            "timestamp": int(m.group(4)), "split": 0}  # fmt: skip


def read_nwucla(path: str | Path) -> tuple[np.ndarray, dict]:
    """An NW-UCLA JSON file -> ((1, T, 20, 3) float32 metres, fields of its name)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_bytes())
        frames = doc["skeletons"]
        x = np.asarray(frames, dtype=np.float32)  # (T, V, C)
    except (OSError, ValueError, TypeError, KeyError) as exc:  # JSON errors are ValueErrors
        raise ValueError(f"{path}: not an NW-UCLA JSON file with 'skeletons' [T][20][3] ({exc})") from None
    name = doc.get("file_name") if isinstance(doc.get("file_name"), str) else path.stem
    try:
        info = parse_nwucla_name(name)
    except ValueError:
        info = parse_nwucla_name(path.stem)
    return _checked(path, x), info


def read_utd_mhad(path: str | Path) -> tuple[np.ndarray, dict]:
    """A UTD-MHAD .mat file -> ((1, T, 20, 3) float32 metres in KINECT20 order, fields of its name)."""
    import scipy.io

    path = Path(path)
    try:
        mat = scipy.io.loadmat(path, variable_names=["d_skel"])
    except Exception as exc:  # scipy raises many types (MatReadError, ValueError, TypeError, OSError...)
        raise ValueError(f"{path}: not a readable MATLAB file ({type(exc).__name__}: {exc})") from None
    if "d_skel" not in mat:
        raise ValueError(f"{path}: no variable d_skel")
    d = np.asarray(mat["d_skel"])
    if d.ndim != 3 or d.shape[:2] != (V, C) or not np.issubdtype(d.dtype, np.number):
        raise ValueError(f"{path}: d_skel must be a numeric (20, 3, T) array, got {d.shape} {d.dtype}")
    x = d.transpose(2, 0, 1)[:, UTD_TO_KINECT20]  # (T, V, C), joints in KINECT20 order
    return _checked(path, x), parse_utd_name(path.stem)


def read_kinder_gator(path: str | Path) -> tuple[np.ndarray, dict]:
    """A Kinder-Gator CSV -> ((1, T, 20, 3) float32 metres, fields of its name, plus 'fps' from Timestamp ms).

    Columns are found by name. A file not named like Kinder-Gator's takes its motion and participant from
    the Action and User-ID columns of its first row."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the file ({exc})") from None
    if not lines:
        raise ValueError(f"{path}: empty file")
    header = [h.strip() for h in lines[0].split(",")]
    col = {h: i for i, h in enumerate(header) if h}
    wanted = [f"{j}{a}" for j in KG_COLUMNS for a in "XYZ"]
    missing = [w for w in wanted if w not in col]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing[:6])}{' ...' * (len(missing) > 6)}")
    idx = [col[w] for w in wanted] + ([col["Timestamp"]] if "Timestamp" in col else [])
    pick = operator.itemgetter(*idx)
    rows = [ln.split(",") for ln in lines[1:] if ln.strip()]
    for n, r in enumerate(rows):
        if len(r) < len(header) - (header[-1] == ""):
            raise ValueError(f"{path}: data row {n + 1} has {len(r)} fields, the header {len(header)}")
    try:
        vals = np.array([pick(r) for r in rows], dtype=np.float64).reshape(len(rows), len(idx))  # (T, 60 [+1])
    except ValueError as exc:
        raise ValueError(f"{path}: a joint or Timestamp value is not a number ({exc})") from None
    x = _checked(path, vals[:, : V * C].reshape(-1, V, C))  # (1, T, V, C)
    group = next((g for g in KG_GROUPS if g == path.parent.name.lower()), None)
    try:
        info = parse_kg_name(path.stem, group)
    except ValueError:
        first = rows[0] if rows else []
        motion = first[col["Action"]].strip() if "Action" in col and len(first) > col["Action"] else path.stem
        user = first[col["User-ID"]].strip() if "User-ID" in col and len(first) > col["User-ID"] else ""
        action = _KG_ID.get(motion.strip("-").lower(), -1)
        info = {"dataset": "kinder_gator", "action": action, "action_name": KG_ACTIONS.get(action, motion),
                "subject": int(user) if user.isdigit() else -1, "participant": int(user) if user.isdigit() else -1,
                "take": -1, "motion": motion, "group": group,
                "split": 0}  # fmt: skip
    if "Timestamp" in col and len(vals) > 1:
        dt = np.median(np.diff(vals[:, -1]))  # ms between frames
        info["fps"] = float(1000.0 / dt) if dt > 0 else None
    return x, info


def test_split_files(real_root: str | Path) -> dict[str, list[Path]]:
    """The test-split files of the labelled Kinect-v1 datasets under a folder laid out as ../shared/data/real
    (nw_ucla/all_sqe/*.json, utd_mhad/*.mat), by display name: NW-UCLA view 3, UTD-MHAD even subjects. Sorted."""
    root = Path(real_root)
    nwucla = [f for f in sorted((root / "nw_ucla" / "all_sqe").glob("*.json")) if parse_nwucla_name(f.stem)["split"]]
    utd = [f for f in sorted((root / "utd_mhad").glob("*.mat")) if parse_utd_name(f.stem)["split"]]
    return {"NW-UCLA": nwucla, "UTD-MHAD": utd}


def read_kinect_raw(path: str | Path) -> tuple[np.ndarray, dict]:
    """Dispatch on the suffix: .json NW-UCLA, .mat UTD-MHAD, .csv Kinder-Gator-style. Not centred."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".json":
        return read_nwucla(path)
    if suffix == ".mat":
        return read_utd_mhad(path)
    if suffix == ".csv":
        return read_kinder_gator(path)
    raise ValueError(f"{path}: unknown Kinect v1 file type {suffix!r} (expected .json, .mat or .csv)")


def clean_sample(path: str | Path, x: np.ndarray, min_frames: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Zero absent frames, drop frames nobody is in, centre on KINECT20's centre joint (as the importers do).
    x (M, T, V, C) -> (data (M, T', V, C) float32, present (M, T') bool); fewer than min_frames is an error."""
    x = np.array(x, dtype=np.float32)
    present = mark_absent(x)  # (M, T)
    keep = present.any(axis=0)  # frames somebody is in
    if keep.sum() < min_frames:
        raise ValueError(f"{path}: {int(keep.sum())} frame(s) with a body; at least {min_frames} needed")
    x, present = x[:, keep], present[:, keep]
    centre(x, present, KINECT20.center)
    return x, present


def read_kinect_file(path: str | Path) -> tuple[np.ndarray, np.ndarray, dict]:
    """One NW-UCLA .json, UTD-MHAD .mat or Kinder-Gator .csv -> (data (M=1, T, 20, 3) float32 metres, centred
    like the importers, present (M, T) bool, info: dataset, action, action_name, subject, split, layout ...)."""
    x, info = read_kinect_raw(path)
    data, present = clean_sample(path, x, min_frames=1)
    info["layout"] = KINECT20.name
    return data, present, info
