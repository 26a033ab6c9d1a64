"""Widgets that never widen the window: a one-line label that elides its text ('…') and a scroll area whose
minimum height is small, so a long panel scrolls instead of setting the window's minimum size."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QSizePolicy, QStyle, QWidget


class ElidedLabel(QLabel):
    """One line of text, elided to the width it is given; the full text is `text()` and the tooltip. Its
    minimum width is `min_chars` characters, so a long file or action name cannot widen the window."""

    def __init__(
        self,
        text: str = "",
        parent: QWidget | None = None,
        min_chars: int = 8,
        mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
    ) -> None:
        super().__init__(parent)
        self.min_chars, self.mode = min_chars, mode
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:  # Qt override
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:  # Qt override
        fm = self.fontMetrics()
        m = self.contentsMargins()
        return QSize(
            fm.horizontalAdvance("x" * self.min_chars) + m.left() + m.right(), fm.height() + m.top() + m.bottom()
        )

    def elided_text(self) -> str:
        """The text as drawn at the current width."""
        return self.fontMetrics().elidedText(self.text(), self.mode, max(self.contentsRect().width(), 0))

    def paintEvent(self, _ev) -> None:  # Qt override
        p = QPainter(self)
        align = self.alignment() or (Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.style().drawItemText(
            p,
            self.contentsRect(),
            int(align),
            self.palette(),
            self.isEnabled(),
            self.elided_text(),
            self.foregroundRole(),
        )
        p.end()


class PanelScroll(QScrollArea):
    """A dock panel in a vertical scroll area. Minimum width: the panel's (no horizontal scrolling at the
    width the panel asks for); minimum height: a few lines, so the dock can be short and the panel scrolls."""

    MIN_LINES = 5  # visible text lines at the smallest height

    def __init__(self, panel: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidget(panel)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)

    def _bar(self) -> int:
        return self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)

    def minimumSizeHint(self) -> QSize:  # Qt override
        inner = self.widget().minimumSizeHint()
        lines = self.MIN_LINES * self.fontMetrics().lineSpacing()
        return QSize(inner.width() + self._bar(), min(inner.height(), lines))

    def sizeHint(self) -> QSize:  # Qt override
        inner = self.widget().sizeHint().expandedTo(self.widget().minimumSizeHint())
        return QSize(inner.width() + self._bar(), inner.height())
