"""Where the main window's panels sit, and a window geometry that fits the screen.

The default arrangement (first start, View → Reset layout, `--screenshot`):
- right column, full height: Occlusion, Inference, Live and Browser as tabs; where the column is tall
  enough for both, Inference sits below the tabs instead, so Occlusion and Inference are seen together;
- under the views: Results;
- Training: its own window (a floating dock sized to the screen), which can be docked like any panel.
Every panel sits in a `PanelScroll`, so wherever it is docked it cannot make the window taller than the
screen: a 1366×768 laptop at 100 % scaling holds the window with every panel open.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabWidget, QWidget

from app.widgets.elided import PanelScroll

LAYOUT_VERSION = 2  # saveState/restoreState version: layouts saved before the panels scrolled are dropped
RIGHT = ("Occlusion", "Inference", "Live", "Browser")  # the right column's tabs, in this order
SHOWN = ("Occlusion", "Inference", "Results")  # shown by a reset; the others keep their visibility
PREFERRED = QSize(1400, 900)  # the window size asked for where the screen has room (pixels)
SCREEN_SHARE = (0.8, 0.85)  # on a larger screen: this share of its width and height
COLUMN_SHARE = 0.2  # the right column's share of the window width, where that is more than it needs
RESULTS_SHARE = 0.25  # the Results panel's largest share of the window height
PART_ROWS = 5  # rows of body-part check boxes (and slack) not in the Occlusion panel before a sequence opens
FLOAT_WIDTH = 960  # a floating panel's widest default (pixels)
FLOAT_SHARE = 0.9  # and at most this share of the screen, leaving room for a window frame


def clamp_rect(rect: tuple[int, int, int, int], avail: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """(x, y, w, h) shrunk to fit inside `avail` (x, y, w, h) and moved into it, in pixels."""
    x, y, w, h = rect
    ax, ay, aw, ah = avail
    w, h = min(w, aw), min(h, ah)
    x = min(max(x, ax), ax + aw - w)
    y = min(max(y, ay), ay + ah - h)
    return x, y, w, h


def default_size(avail: QSize) -> QSize:
    """The window size for a screen with `avail` free pixels: 1400×900 where that fits, more on a large
    screen, the whole free area on a small one."""
    w = max(PREFERRED.width(), round(SCREEN_SHARE[0] * avail.width()))
    h = max(PREFERRED.height(), round(SCREEN_SHARE[1] * avail.height()))
    return QSize(min(w, avail.width()), min(h, avail.height()))


def available_geometry(widget: QWidget) -> QRect:
    """The free area (without taskbars) of the screen the widget is on."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry()


def frame_extra(widget: QWidget) -> QSize:
    """What the window manager adds around the client area (title bar, borders); zero before it is shown."""
    return widget.frameGeometry().size() - widget.geometry().size()


def fit_to_screen(win: QWidget, avail: QRect | None = None) -> bool:
    """Shrink and move the window (with its frame) into the available screen area; True if it changed."""
    avail = avail if avail is not None else available_geometry(win)
    extra = frame_extra(win)
    frame = win.frameGeometry()
    x, y, w, h = clamp_rect(
        (frame.x(), frame.y(), frame.width(), frame.height()), (avail.x(), avail.y(), avail.width(), avail.height())
    )
    if (x, y, w, h) == (frame.x(), frame.y(), frame.width(), frame.height()):
        return False
    win.resize(w - extra.width(), h - extra.height())
    win.move(x, y)
    return True


def make_dock(win: QMainWindow, name: str, panel: QWidget) -> QDockWidget:
    """A dock named `name` holding `panel` in a scroll area."""
    dock = QDockWidget(name, win)
    dock.setObjectName(f"dock_{name}")
    dock.setWidget(PanelScroll(panel))
    return dock


def _content(dock: QDockWidget) -> QWidget:
    inner = dock.widget()
    return inner.widget() if isinstance(inner, PanelScroll) else inner


def arrange(win: QMainWindow, docks: dict[str, QDockWidget], size: QSize, avail: QRect) -> None:
    """Put the docks in the default arrangement for a window of `size` (client pixels) on a screen whose
    free area is `avail`."""
    right, bottom = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
    win.setCorner(Qt.Corner.TopRightCorner, right)
    win.setCorner(Qt.Corner.BottomRightCorner, right)  # the right column runs the full height
    win.setTabPosition(right, QTabWidget.TabPosition.North)  # the tabs at the top, where they are seen
    visible = {name: not d.isHidden() for name, d in docks.items()}
    for d in docks.values():
        d.setFloating(False)  # before removing: a removed floating dock comes back floating
        win.removeDockWidget(d)
    bars = win.menuBar().sizeHint().height() + win.statusBar().sizeHint().height()
    title = win.fontMetrics().height() + 10  # a dock's title bar or a tab
    # both panels, their title bars, a tab bar, and the body-part rows Occlusion gains with the first sequence
    need = sum(_content(docks[n]).sizeHint().height() + title for n in ("Occlusion", "Inference")) + title
    need += PART_ROWS * title
    stacked = size.height() - bars >= need
    tabs = [n for n in RIGHT if not (stacked and n == "Inference")]
    win.addDockWidget(right, docks[tabs[0]])
    if stacked:  # below the first tab; split before tabifying (a split of a tab group adds a tab)
        win.addDockWidget(right, docks["Inference"], Qt.Orientation.Vertical)
    for n in tabs[1:]:
        win.tabifyDockWidget(docks[tabs[0]], docks[n])
    win.addDockWidget(bottom, docks["Results"])
    if "Training" in docks:
        win.addDockWidget(right, docks["Training"])
        win.tabifyDockWidget(docks[tabs[0]], docks["Training"])
        docks["Training"].setFloating(True)  # its own window; docking it puts it among the right tabs
        place_floating(docks["Training"], avail)
    for name, d in docks.items():
        d.setVisible(name in SHOWN or visible[name])
    docks["Occlusion"].raise_()
    if docks["Browser"].isVisible():
        docks["Browser"].raise_()
    col = max(docks["Occlusion"].minimumSizeHint().width(), round(COLUMN_SHARE * size.width()))
    win.resizeDocks([docks["Occlusion"]], [col], Qt.Orientation.Horizontal)
    res = _content(docks["Results"]).sizeHint().height() + title
    win.resizeDocks([docks["Results"]], [min(res, round(RESULTS_SHARE * size.height()))], Qt.Orientation.Vertical)
    if stacked:
        inf = _content(docks["Inference"]).sizeHint().height() + title
        win.resizeDocks([docks["Inference"]], [inf], Qt.Orientation.Vertical)


def place_floating(dock: QDockWidget, avail: QRect) -> None:
    """Size a floating dock to its content, at most FLOAT_WIDTH wide and FLOAT_SHARE of the screen, and
    centre it on the screen."""
    hint, least = _content(dock).sizeHint(), dock.minimumSizeHint()
    w = min(round(FLOAT_SHARE * avail.width()), max(least.width(), min(hint.width(), FLOAT_WIDTH)))
    h = min(round(FLOAT_SHARE * avail.height()), hint.height() + 40)
    x, y, w, h = clamp_rect(
        (avail.center().x() - w // 2, avail.center().y() - h // 2, w, h),
        (avail.x(), avail.y(), avail.width(), avail.height()),
    )
    dock.setGeometry(x, y, w, h)
