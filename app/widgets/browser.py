"""The sample browser: the samples of a folder, a prepared dataset or an .npz, filtered by their NTU name fields
(setup, camera, performer, replication, action id or name); a double click (or Enter) opens one."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.state import BrowserEntry

FIELDS = ("setup", "camera", "performer", "replication", "action")
COLUMNS = ("name", "S", "C", "P", "R", "A", "action")


def parse_ids(text: str) -> set[int] | None:
    """'1,3-5' -> {1, 3, 4, 5}; '' -> None (no filter). Raises ValueError naming the bad part."""
    text = text.strip()
    if not text:
        return None
    out: set[int] = set()
    for part in text.replace(" ", "").split(","):
        a, sep, b = part.partition("-")
        if not a.isdigit() or (sep and not b.isdigit()):
            raise ValueError(f"{part!r} is not a number or a range like 3-5")
        out.update(range(int(a), int(b if sep else a) + 1))
    return out


def filter_entries(entries: list[BrowserEntry], ids: dict[str, set[int] | None], text: str = "") -> list[int]:
    """Indices of the entries whose fields are in `ids` (None = any) and whose name or action name contains
    `text` (case-insensitive). An entry without a field never passes a filter on it."""
    text = text.strip().lower()
    keep = []
    for i, e in enumerate(entries):
        if any(allowed is not None and getattr(e, f) not in allowed for f, allowed in ids.items()):
            continue
        if text and text not in e.name.lower() and text not in e.action_name.lower():
            continue
        keep.append(i)
    return keep


class BrowserPanel(QWidget):
    open_requested = Signal(object)  # BrowserEntry
    browse_requested = Signal()  # "Folder…" pressed: the window asks for a folder or file

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: list[BrowserEntry] = []
        self.shown: list[int] = []
        self.source = QLabel("no folder: File → Browse folder or dataset… (Ctrl+B)")
        self.source.setWordWrap(True)
        browse = QPushButton("Folder / dataset…")
        browse.clicked.connect(self.browse_requested)
        self.edits: dict[str, QLineEdit] = {}
        grid = QGridLayout()
        for col, f in enumerate(FIELDS):
            edit = QLineEdit()
            edit.setPlaceholderText("any")
            edit.setToolTip(f"{f} ids, e.g. 1,3-5")
            edit.textChanged.connect(self.refilter)
            label = QLabel(f[0].upper())  # S C P R A, as in NTU names
            label.setToolTip(f)
            grid.addWidget(label, 0, col)
            grid.addWidget(edit, 1, col)
            self.edits[f] = edit
        self.text = QLineEdit()
        self.text.setPlaceholderText("name or action contains…")
        self.text.textChanged.connect(self.refilter)
        self.count = QLabel("")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.cellDoubleClicked.connect(lambda row, _col: self.open_row(row))
        self.table.horizontalHeader().setMinimumSectionSize(24)  # the table scrolls sideways, not the window
        col = QVBoxLayout(self)
        col.addWidget(self.source)
        col.addWidget(browse)
        col.addLayout(grid)
        col.addWidget(self.text)
        col.addWidget(self.count)
        col.addWidget(self.table, 1)

    def set_entries(self, source: str, entries: list[BrowserEntry]) -> None:
        self.entries = list(entries)
        self.source.setText(source)
        self.refilter()

    def refilter(self) -> None:
        ids, bad = {}, []
        for f, edit in self.edits.items():
            try:
                ids[f] = parse_ids(edit.text())
                edit.setStyleSheet("")
            except ValueError as exc:
                ids[f] = None
                bad.append(f"{f}: {exc}")
                edit.setStyleSheet("border: 1px solid #d04040;")
        self.shown = filter_entries(self.entries, ids, self.text.text())
        self.table.setRowCount(len(self.shown))
        for row, i in enumerate(self.shown):
            e = self.entries[i]
            values = (e.name, e.setup, e.camera, e.performer, e.replication, e.action, e.action_name)
            for c, v in enumerate(values):
                item = QTableWidgetItem("" if v is None else str(v))
                if isinstance(v, int):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, c, item)
        self.table.resizeColumnsToContents()
        note = f"{len(self.shown)} of {len(self.entries)} samples"
        self.count.setText(note + ("; " + "; ".join(bad) if bad else ""))

    def open_row(self, row: int) -> None:
        if 0 <= row < len(self.shown):
            self.open_requested.emit(self.entries[self.shown[row]])

    def keyPressEvent(self, event) -> None:  # Qt override
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.table.currentRow() >= 0:
            self.open_row(self.table.currentRow())
            return
        super().keyPressEvent(event)
