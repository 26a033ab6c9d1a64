"""Pure array -> geometry/colour functions for the skeleton views (no Qt, no GL: testable as is).

Coordinates: NTU camera space is metres with x to the sensor's left, y up, z away from the sensor.
The views draw in a z-up display frame: display = (-x, z, y), a proper rotation, so the "front" preset
looks at the subject from where the sensor stood, and the subject's right hand is on the screen's left.
"""

from __future__ import annotations

import numpy as np

# One colour per body (RGBA in [0, 1]); body i uses BODY_COLORS[i % len].
BODY_COLORS = np.array(
    [
        [0.15, 0.75, 1.00, 1.0],  # body 1: sky blue
        [1.00, 0.55, 0.10, 1.0],  # body 2: orange
        [0.45, 0.90, 0.35, 1.0],  # body 3: green
        [0.95, 0.35, 0.75, 1.0],  # body 4: pink
    ],
    dtype=np.float32,
)
RECON_COLOR = np.array([1.0, 0.25, 0.25, 1.0], dtype=np.float32)  # reconstructed joints (overlay / highlight)
GHOST_ALPHA = 0.18  # alpha of masked ("ghost") joints and bones
GHOST_COLOR = np.array([0.85, 0.85, 0.85, 1.0], dtype=np.float32)  # the original behind a reconstruction
SOURCES = ("original", "masked", "reconstruction", "overlay")  # what a view can show

# A perceptual ramp (approximately viridis -> yellow), stops for error colour maps.
_RAMP = np.array(
    [
        [0.267, 0.005, 0.329],
        [0.230, 0.322, 0.546],
        [0.128, 0.567, 0.551],
        [0.369, 0.789, 0.383],
        [0.993, 0.906, 0.144],
    ],
    dtype=np.float32,
)


def body_color(m: int) -> np.ndarray:
    """(4,) RGBA of body m."""
    return BODY_COLORS[m % len(BODY_COLORS)]


def to_display(xyz: np.ndarray) -> np.ndarray:
    """(..., 3) camera space -> (..., 3) display frame (-x, z, y), float32."""
    xyz = np.asarray(xyz, dtype=np.float32)
    return np.stack([-xyz[..., 0], xyz[..., 2], xyz[..., 1]], axis=-1)


def error_colormap(values: np.ndarray, vmax: float) -> np.ndarray:
    """(...,) values in [0, vmax] -> (..., 4) RGBA from the ramp; NaN -> grey."""
    values = np.asarray(values, dtype=np.float32)
    scale = max(float(vmax), 1e-9)
    u = np.clip(np.nan_to_num(values, nan=0.0) / scale, 0.0, 1.0) * (len(_RAMP) - 1)
    lo = np.floor(u).astype(np.int64).clip(0, len(_RAMP) - 2)
    w = (u - lo)[..., None]
    rgb = _RAMP[lo] * (1 - w) + _RAMP[lo + 1] * w  # (..., 3)
    rgba = np.concatenate([rgb, np.ones(rgb.shape[:-1] + (1,), np.float32)], axis=-1)  # (..., 4)
    rgba[np.isnan(values)] = (0.5, 0.5, 0.5, 1.0)
    return rgba


def bone_pairs(parents: tuple[int, ...] | list[int]) -> np.ndarray:
    """(B, 2) int64 (child, parent) pairs of the non-root joints."""
    pairs = [(j, p) for j, p in enumerate(parents) if p >= 0]
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def skeleton_geometry(
    xyz: np.ndarray,
    parents: tuple[int, ...] | list[int],
    visible: np.ndarray,
    ghost: np.ndarray | None = None,
    joint_colors: np.ndarray | None = None,
    base_colors: np.ndarray | None = None,
    shown: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Line segments and points of one frame; sizes are fixed so GL items only ever get `setData`.

    xyz (M, V, 3) camera-space metres; visible (M,) bool (present and shown); ghost (M, V) bool joints
    drawn faded; joint_colors (M, V, 4) optional per-joint colours (error map); base_colors (M, 4)
    per-body colours (default BODY_COLORS); shown (M, V) bool restricts drawing to those joints and the
    bones touching them (overlay of reconstructed joints). Returns line_pos (M*B*2, 3), line_col (M*B*2, 4),
    point_pos (M*V, 3), point_col (M*V, 4), display frame. Hidden bodies get alpha 0.
    """
    xyz = np.asarray(xyz, dtype=np.float32)
    m_count, v_count, _ = xyz.shape
    visible = np.asarray(visible, dtype=bool).reshape(m_count)
    ghost = np.zeros((m_count, v_count), bool) if ghost is None else np.asarray(ghost, bool)
    pairs = bone_pairs(parents)  # (B, 2)
    if base_colors is None:
        base_colors = np.stack([body_color(m) for m in range(m_count)])  # (M, 4)
    pos = to_display(np.nan_to_num(xyz))  # (M, V, 3)
    if joint_colors is None:
        col = np.broadcast_to(base_colors[:, None, :], (m_count, v_count, 4)).copy()  # (M, V, 4)
    else:
        col = np.asarray(joint_colors, dtype=np.float32).copy()  # (M, V, 4)
    col[..., 3] = np.where(ghost, GHOST_ALPHA, 1.0)
    col[~visible] = 0.0
    if shown is not None:
        shown = np.asarray(shown, bool)
        col[~shown] = 0.0
    point_pos = pos.reshape(m_count * v_count, 3)  # (M*V, 3)
    point_col = col.reshape(m_count * v_count, 4)  # (M*V, 4)
    seg_pos = pos[:, pairs.reshape(-1), :]  # (M, B*2, 3)
    bone_ghost = ghost[:, pairs[:, 0]] | ghost[:, pairs[:, 1]]  # (M, B)
    seg_col = np.broadcast_to(base_colors[:, None, :], (m_count, len(pairs), 4)).copy()  # (M, B, 4)
    seg_col[..., 3] = np.where(bone_ghost, GHOST_ALPHA, 1.0)
    seg_col[~visible] = 0.0
    if shown is not None:
        seg_col[~(shown[:, pairs[:, 0]] | shown[:, pairs[:, 1]])] = 0.0
    if joint_colors is not None:  # bones take the mean colour of their two joints
        mix = 0.5 * (col[:, pairs[:, 0], :3] + col[:, pairs[:, 1], :3])  # (M, B, 3)
        seg_col[..., :3] = np.where(seg_col[..., 3:] > 0, mix, seg_col[..., :3])
    seg_col = np.repeat(seg_col, 2, axis=1)  # (M, B*2, 4): both ends of a segment share its colour
    return (
        seg_pos.reshape(-1, 3),  # (M*B*2, 3)
        seg_col.reshape(-1, 4),  # (M*B*2, 4)
        point_pos,
        point_col,
    )


def error_scale(errors_cm: np.ndarray, mask: np.ndarray) -> float:
    """Colour-bar maximum (cm): the masked errors' maximum rounded up to 1, 2 or 5 x 10^k (>= 1 cm)."""
    vals = np.asarray(errors_cm)[np.asarray(mask, bool)]
    vals = vals[np.isfinite(vals)]
    top = float(vals.max()) if len(vals) else 1.0
    top = max(top, 1.0)
    k = 10 ** np.floor(np.log10(top))
    for f in (1, 2, 5, 10):
        if top <= f * k:
            return float(f * k)
    return float(10 * k)  # pragma: no cover - the loop always returns


def project_points(points: np.ndarray, mvp: np.ndarray, width: float, height: float) -> np.ndarray:
    """(n, 3) display-frame points through a 4x4 model-view-projection -> (n, 2) widget pixels (x right,
    y down). Points behind the camera get NaN."""
    pts = np.asarray(points, dtype=np.float64)
    hom = np.concatenate([pts, np.ones((len(pts), 1))], axis=1) @ np.asarray(mvp, np.float64).T  # (n, 4)
    w = hom[:, 3:4]
    with np.errstate(divide="ignore", invalid="ignore"):
        ndc = hom[:, :2] / w  # (n, 2) in [-1, 1]
    ndc[w[:, 0] <= 0] = np.nan
    return np.stack([(ndc[:, 0] + 1) * 0.5 * width, (1 - ndc[:, 1]) * 0.5 * height], axis=1)


def orthographic(points: np.ndarray, azimuth: float, elevation: float) -> np.ndarray:
    """(n, 3) display-frame points -> (n, 2) plane coordinates (right, up) seen from a camera at
    `azimuth`/`elevation` degrees (same convention as pyqtgraph's GLViewWidget)."""
    az, el = np.radians(azimuth), np.radians(elevation)
    forward = -np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])  # camera -> target
    right = np.cross(forward, [0.0, 0.0, 1.0])
    if np.linalg.norm(right) < 1e-6:  # looking straight down: keep the azimuth's right direction
        right = np.array([-np.sin(az), np.cos(az), 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    pts = np.asarray(points, dtype=np.float64)
    return np.stack([pts @ right, pts @ up], axis=1)  # (n, 2)


def nearest_point(
    screen: np.ndarray, click: tuple[float, float], max_dist: float, candidates: np.ndarray | None = None
) -> int:
    """Index of the (n, 2) screen point nearest to `click` within `max_dist` pixels, or -1.
    `candidates` (n,) bool restricts the choice (e.g. visible bodies only)."""
    screen = np.asarray(screen, dtype=np.float64)
    d = np.hypot(screen[:, 0] - click[0], screen[:, 1] - click[1])  # (n,)
    d = np.where(np.isnan(d), np.inf, d)
    if candidates is not None:
        d = np.where(np.asarray(candidates, bool), d, np.inf)
    if len(d) == 0:
        return -1
    i = int(np.argmin(d))
    return i if d[i] <= max_dist else -1


def scene_bounds(xyz: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Centre (3,), radius (m) and floor height of the present joints of (M, T, V, 3), display frame."""
    pts = to_display(np.asarray(xyz)[np.asarray(present, bool)])  # (K, V, 3)
    pts = pts.reshape(-1, 3)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) == 0:
        return np.zeros(3, np.float32), 1.0, 0.0
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    centre = (lo + hi) / 2
    radius = float(max(np.linalg.norm(hi - lo) / 2, 0.3))
    return centre.astype(np.float32), radius, float(lo[2])


def joint_errors_cm(original: np.ndarray, recon: np.ndarray) -> np.ndarray:
    """(M, T, V, 3) metres twice -> (M, T, V) Euclidean error in centimetres."""
    return np.linalg.norm(np.asarray(recon, np.float64) - np.asarray(original, np.float64), axis=-1) * 100.0


def frame_errors_cm(original: np.ndarray, recon: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(T,) mean error (cm) over the masked joints of each frame; NaN where nothing is masked."""
    err = joint_errors_cm(original, recon)  # (M, T, V)
    mask = np.asarray(mask, bool)
    count = mask.sum(axis=(0, 2))  # (T,)
    total = np.where(mask, err, 0.0).sum(axis=(0, 2))  # (T,)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def top_k(probs: np.ndarray, names: list[str], k: int = 5) -> list[tuple[str, float]]:
    """The k most probable (name, probability) pairs, best first."""
    probs = np.asarray(probs, dtype=np.float64).reshape(-1)
    if len(names) != len(probs):
        raise ValueError(f"{len(probs)} probabilities but {len(names)} class names")
    order = np.argsort(-probs, kind="stable")[:k]
    return [(names[i], float(probs[i])) for i in order]
