"""DCMAE Studio desktop app (PySide6 + pyqtgraph)."""
