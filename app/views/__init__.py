"""Skeleton views: the 3D GL view, or the 2D projection view where OpenGL is unavailable."""

from __future__ import annotations

import logging
import os

from PySide6.QtGui import QGuiApplication, QOffscreenSurface, QOpenGLContext

from app.state import AppState
from app.views.base import SkeletonViewBase
from app.views.projection_view import ProjectionView

log = logging.getLogger(__name__)
NO_GL_NOTICE = "OpenGL is not available here: showing a 2D projection (orbit by dragging)."


def gl_available() -> tuple[bool, str]:
    """Whether a GL view can render here, and why not."""
    if os.environ.get("DCMAE_NO_GL"):
        return False, "DCMAE_NO_GL is set"
    platform = QGuiApplication.platformName()
    if platform in ("offscreen", "minimal"):
        return False, f"the Qt platform {platform!r} does not render OpenGL to the screen"
    ctx = QOpenGLContext()
    if not ctx.create():
        return False, "no OpenGL context could be created"
    surface = QOffscreenSurface()
    surface.create()
    ok = ctx.makeCurrent(surface)
    ctx.doneCurrent()
    return (True, "") if ok else (False, "the OpenGL context could not be made current")


def create_view(state: AppState, source: str = "masked", prefer_gl: bool = True) -> SkeletonViewBase:
    """The GL view when it can render, else the 2D projection view with a notice."""
    if prefer_gl:
        ok, why = gl_available()
        if ok:
            try:
                from app.views.gl_view import GLSkeletonView

                return GLSkeletonView(state, source)
            except Exception as exc:  # any GL import/initialisation failure -> fallback
                why = f"the GL view failed to start ({exc})"
        log.info("2D fallback view: %s", why)
        return ProjectionView(state, source, notice=f"{NO_GL_NOTICE} Reason: {why}.")
    return ProjectionView(state, source)


__all__ = ["SkeletonViewBase", "ProjectionView", "create_view", "gl_available", "NO_GL_NOTICE"]
