"""Lookup: answer the person who calls. Find them by name (spelling mistakes tolerated), date of
birth, CII or case number, read each cannabis conviction's status in plain language, and print a
status letter. Every lookup and letter is recorded in the audit trail with the reason given."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import InputError
from ...core.workspace.filings import STATUS_LABELS, status_sentence
from ..dialogs import ErrorDialog
from ..session import Session
from ..widgets.common import task_failed


class LookupView(QWidget):
    """Search fields, the people found with their convictions' status, and the status letter."""

    title = "Lookup"

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.people: list[dict] = []
        self.last_letter: bytes | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<h2>Lookup</h2><p>Someone asks whether their record was cleared: find them and "
                                "read where each cannabis conviction stands. Each lookup is recorded in the "
                                "activity trail with its reason.</p>"))
        form = QFormLayout()
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Maria Alvarez (any order; small spelling mistakes are fine)")
        self.dob = QLineEdit()
        self.dob.setPlaceholderText("YYYY-MM-DD or MM/DD/YYYY")
        self.cii = QLineEdit()
        self.case = QLineEdit()
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("required, e.g. caller asked about their record")
        for label, field, name in (("&Name:", self.name, "Name"), ("&Date of birth:", self.dob, "Date of birth"),
                                   ("&CII number:", self.cii, "CII number"), ("C&ase number:", self.case, "Case number"),
                                   ("&Reason:", self.reason, "Reason for the lookup")):
            field.setAccessibleName(name)
            field.returnPressed.connect(self.search)
            lab = QLabel(label)
            lab.setBuddy(field)
            form.addRow(lab, field)
        layout.addLayout(form)
        row = QHBoxLayout()
        self.search_button = QPushButton("&Search")
        self.search_button.clicked.connect(self.search)
        self.letter_button = QPushButton("Status &letter...")
        self.letter_button.setEnabled(False)
        self.letter_button.clicked.connect(self.save_letter)
        self.summary = QLabel()
        self.summary.setAccessibleName("Search result")
        for w in (self.search_button, self.letter_button):
            row.addWidget(w)
        row.addWidget(self.summary, 1)
        layout.addLayout(row)
        self.tree = QTreeWidget()
        self.tree.setAccessibleName("People found and their convictions' status")
        self.tree.setHeaderLabels(["Person / case", "Status", "What it means"])
        self.tree.setColumnWidth(0, 260)
        self.tree.setColumnWidth(1, 200)
        self.tree.currentItemChanged.connect(lambda *_: self.letter_button.setEnabled(self.selected() is not None))
        layout.addWidget(self.tree, 1)
        self.address = QPlainTextEdit()
        self.address.setAccessibleName("Mailing address for the letter")
        self.address.setPlaceholderText("Mailing address printed on the letter (optional)")
        self.address.setMaximumHeight(70)
        layout.addWidget(self.address)
        session.workspace_changed.connect(self.clear)

    def clear(self) -> None:
        self.people = []
        self.tree.clear()
        self.summary.setText("")
        self.letter_button.setEnabled(False)

    def search(self) -> None:
        fields = {"name": self.name.text().strip() or None, "dob": self.dob.text().strip() or None,
                  "cii": self.cii.text().strip() or None, "case": self.case.text().strip() or None}
        try:
            task = self.session.lookup(reason=self.reason.text(), **fields)
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return
        task.succeeded.connect(self.show_people)
        task.failed.connect(lambda m, d: task_failed(self, m, d))

    def show_people(self, people: list[dict]) -> None:
        self.people = people
        self.tree.clear()
        for n, p in enumerate(people):
            top = QTreeWidgetItem([p["name"] or "", f"{len(p['convictions'])} cannabis conviction(s)", ""])
            top.setData(0, Qt.ItemDataRole.UserRole, n)
            for c in p["convictions"]:
                QTreeWidgetItem(top, [f"Case {c['court_case_number'] or '(none)'}",
                                      STATUS_LABELS.get(c.get("status") or "screened", ""), status_sentence(c)])
            self.tree.addTopLevelItem(top)
            top.setExpanded(True)
        self.summary.setText("No one found." if not people else f"{len(people)} match(es), best first.")
        if people:
            self.tree.setCurrentItem(self.tree.topLevelItem(0))

    def selected(self) -> dict | None:
        item = self.tree.currentItem()
        while item is not None and item.parent() is not None:
            item = item.parent()
        if item is None:
            return None
        n = item.data(0, Qt.ItemDataRole.UserRole)
        return self.people[n] if n is not None and n < len(self.people) else None

    def save_letter(self, path: Path | None = None) -> None:
        person = self.selected()
        if person is None:
            return
        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(self, "Save the status letter", "status-letter.pdf", "PDF (*.pdf)")
            if not chosen:
                return
            path = Path(chosen)
        try:
            task = self.session.status_letter(person, reason=self.reason.text() or "status letter",
                                              address=self.address.toPlainText() or None)
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return

        def write(pdf: bytes) -> None:
            self.last_letter = pdf
            try:
                Path(path).write_bytes(pdf)
            except OSError as exc:
                ErrorDialog.show_error(self, f"{path}: cannot be written ({exc.strerror or type(exc).__name__})")
                return
            self.summary.setText(f"Status letter saved to {path}")

        task.succeeded.connect(write)
        task.failed.connect(lambda m, d: task_failed(self, m, d))
