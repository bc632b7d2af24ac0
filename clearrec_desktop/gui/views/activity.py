"""Activity: the audit trail, and verifying it."""

from __future__ import annotations

import polars as pl
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import InputError
from ..dialogs import ErrorDialog
from ..models import (
    ROW_ID,
    Column,
    FrameModel,
)
from ..session import Session
from ..widgets.common import ANY, configure_table, esc


class ActivityView(QWidget):
    """The audit trail, filterable by action, and a check that it is intact."""

    title = "Activity"

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<h2>Activity</h2><p>Everything recorded in this workspace: imports, runs, "
                                "decisions, undos, exports. Entries are chained so any change is detected.</p>"))
        row = QHBoxLayout()
        self.action_filter = QComboBox()
        self.action_filter.setAccessibleName("Filter by action")
        self.action_filter.currentIndexChanged.connect(self.apply_filter)
        lab = QLabel("&Action:")
        lab.setBuddy(self.action_filter)
        self.verify_button = QPushButton("&Verify trail")
        self.verify_button.setAccessibleName("Verify that the audit trail is intact")
        self.verify_button.clicked.connect(self.verify)
        self.verify_result = QLabel()
        self.verify_result.setAccessibleName("Verification result")
        self.verify_result.setWordWrap(True)
        self.verify_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for w in (lab, self.action_filter, self.verify_button):
            row.addWidget(w)
        row.addWidget(self.verify_result, 1)
        layout.addLayout(row)
        self.model = FrameModel([Column("seq", "#", 50), Column("at", "When (UTC)", 235),
                                 Column("actor", "Who", 110), Column("action", "Action", 140),
                                 Column("details", "Details", 520), Column("hash", "Hash", 140)], self)
        self.table = QTableView()
        configure_table(self.table, self.model, "Audit trail", sortable=True)
        layout.addWidget(self.table, 1)
        QWidget.setTabOrder(self.action_filter, self.verify_button)
        QWidget.setTabOrder(self.verify_button, self.table)
        self._stale = True
        session.audit_changed.connect(self.mark_stale)
        session.workspace_changed.connect(self.mark_stale)

    def mark_stale(self) -> None:
        """Re-read the trail now if shown, else when next shown (every decision adds an entry;
        reading thousands of entries per keypress in Review would slow the review down)."""
        self._stale = True
        if self.isVisible():
            self.refresh()

    def showEvent(self, event) -> None:
        if self._stale:
            self.refresh()
        super().showEvent(event)

    def refresh(self) -> None:
        self._stale = False
        frame = self.session.audit_frame()
        current = self.action_filter.currentData()
        self.action_filter.blockSignals(True)
        self.action_filter.clear()
        self.action_filter.addItem(ANY, None)
        for action in sorted(set(frame.get_column("action").to_list())):
            self.action_filter.addItem(action, action)
        i = self.action_filter.findData(current)
        self.action_filter.setCurrentIndex(max(i, 0))
        self.action_filter.blockSignals(False)
        self.model.set_frame(frame)
        self.apply_filter()
        self.verify_result.setText("")

    def apply_filter(self) -> None:
        action = self.action_filter.currentData()
        self.model.set_filter(pl.col("action") == action if action else None)

    def verify(self) -> tuple[bool, int | None, str] | None:
        try:
            ok, bad, message = self.session.verify_audit()
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return None
        if ok:
            self.verify_result.setText("✔ " + esc(message[:1].upper() + message[1:]))
        else:
            where = f" First broken entry: #{bad}." if bad is not None else ""
            self.verify_result.setText(f"<b>✘ The audit trail is broken.</b>{where} {esc(message)}")
            hit = self.model.frame().filter(pl.col("seq") == bad) if bad is not None else None
            if hit is not None and hit.height:
                row = self.model.row_of(hit.item(0, ROW_ID))
                if row >= 0:
                    self.table.selectRow(row)
        return ok, bad, message
