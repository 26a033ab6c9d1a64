"""DCMAE Studio desktop app (PySide6 + pyqtgraph)."""

import os

# The Qt binding, named once for the whole app: every app module is imported through this package, so these are
# set before anything imports pyqtgraph (PYQTGRAPH_QT_LIB) or qasync (QT_API).
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
os.environ.setdefault("QT_API", "pyside6")
