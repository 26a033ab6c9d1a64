"""Webcam capture through MediaPipe Pose (optional extra, off by default) and its landmark -> NTU-25 map.

MediaPipe is not a dependency: `pip install mediapipe==0.10.21` (the only release whose wheel ships the
legacy `solutions` pose model; it needs numpy < 2). The mapping below is pure numpy and always available.
"""

from __future__ import annotations

import time

import numpy as np

from dcmae_core.live.sources import LiveFrame, LiveSource, LiveSourceError

NUM_LANDMARKS = 33  # MediaPipe Pose world landmarks
MEDIAPIPE_HINT = (
    "webcam capture needs MediaPipe and OpenCV, which are not installed: "
    "pip install mediapipe==0.10.21 (it needs numpy < 2; use a separate environment if needed)"
)

# NTU-25 joint (1-based) -> MediaPipe landmarks (0-based) averaged; joints 2 and 3 are derived below.
_DIRECT: dict[int, tuple[int, ...]] = {
    1: (23, 24),
    21: (11, 12),
    4: (0, 7, 8),
    5: (11,),
    6: (13,),
    7: (15,),
    8: (15, 17, 19),
    22: (19,),
    23: (21,),
    9: (12,),
    10: (14,),
    11: (16,),
    12: (16, 18, 20),
    24: (20,),
    25: (22,),
    13: (23,),
    14: (25,),
    15: (27,),
    16: (31,),
    17: (24,),
    18: (26,),
    19: (28,),
    20: (32,),
}


def _mapping_matrix() -> np.ndarray:
    """(25, 33) weights W with ntu = W @ landmarks (before the y flip); rows sum to 1."""
    w = np.zeros((25, NUM_LANDMARKS), np.float64)
    for joint, lms in _DIRECT.items():
        w[joint - 1, list(lms)] = 1.0 / len(lms)
    w[1] = 0.5 * (w[0] + w[20])  # 2 spine mid: halfway from 1 (spine base) to 21 (spine shoulder)
    w[2] = 0.7 * w[20] + 0.3 * w[3]  # 3 neck: 30 % of the way from 21 to 4 (head)
    return w


_W = _mapping_matrix()


def mediapipe_to_ntu25(
    landmarks: np.ndarray, visibility: np.ndarray | None = None, min_visibility: float = 0.5
) -> np.ndarray:
    """MediaPipe world landmarks (..., 33, 3) metres, y down -> NTU-25 joints (..., 25, 3), y up (SPEC §5).

    A landmark whose visibility (..., 33) is below `min_visibility` is NaN, and so is every joint built
    from it (the live pipeline reconstructs those joints).
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.shape[-2:] != (NUM_LANDMARKS, 3):
        raise ValueError(f"expected MediaPipe landmarks of shape (..., 33, 3), got {lm.shape}")
    if visibility is not None:
        vis = np.asarray(visibility, dtype=np.float64)
        if vis.shape != lm.shape[:-1]:
            raise ValueError(f"visibility {vis.shape} does not match landmarks {lm.shape[:-1]}")
        lm = np.where((vis >= min_visibility)[..., None], lm, np.nan)
    used = _W > 0  # (25, 33)
    nan = np.isnan(lm).any(axis=-1)  # (..., 33)
    out = np.einsum("jl,...lc->...jc", _W, np.nan_to_num(lm))  # (..., 25, 3)
    bad = (nan[..., None, :] & used).any(axis=-1)  # (..., 25)
    out[bad] = np.nan
    out[..., 1] *= -1.0  # MediaPipe y points down, Kinect's up
    return out.astype(np.float32)


class WebcamSource(LiveSource):
    """One person from a webcam through MediaPipe Pose (model complexity 1), NTU-25 in metres."""

    def __init__(self, camera: int = 0, num_persons: int = 2, fps: float = 30.0) -> None:
        super().__init__()
        self.camera, self.num_persons, self.fps = camera, num_persons, fps
        self.description = f"webcam {camera} (MediaPipe Pose)"
        self._cap = self._pose = None

    def open(self) -> None:
        try:
            import cv2
            import mediapipe as mp
        except ImportError as exc:
            raise LiveSourceError(MEDIAPIPE_HINT) from exc
        self._cv2 = cv2
        self._cap = cv2.VideoCapture(self.camera)
        if not self._cap.isOpened():
            raise LiveSourceError(f"cannot open webcam {self.camera}")
        self._pose = mp.solutions.pose.Pose(model_complexity=1, static_image_mode=False)
        self.status = f"capturing from {self.description}"

    def read(self, timeout: float = 0.1) -> list[LiveFrame]:
        if self._cap is None:
            raise LiveSourceError("the webcam source is not open")
        ok, image = self._cap.read()
        now = time.perf_counter()
        if not ok:
            self.status = f"{self.description}: no image"
            time.sleep(timeout)
            return []
        res = self._pose.process(self._cv2.cvtColor(image, self._cv2.COLOR_BGR2RGB))
        xyz = np.full((self.num_persons, 25, 3), np.nan, np.float32)  # (M, V, 3)
        if res.pose_world_landmarks is not None:
            lms = res.pose_world_landmarks.landmark
            pts = np.array([[p.x, p.y, p.z] for p in lms], np.float64)  # (33, 3)
            vis = np.array([p.visibility for p in lms], np.float64)  # (33,)
            xyz[0] = mediapipe_to_ntu25(pts, vis)
            self.status = f"capturing from {self.description}"
        else:
            self.status = f"{self.description}: no person in view"
        return [LiveFrame(xyz, now, time.perf_counter() - now, now)]

    def close(self) -> None:
        if self._pose is not None:
            self._pose.close()
        if self._cap is not None:
            self._cap.release()
        self._cap = self._pose = None
        self.status = "closed"
