"""Modal dialogs: errors, new / open workspace, column mapping, decision reason, settings."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import polars as pl
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from .models import Column, FrameModel
from .session import Session

WORKSPACE_FILTER = "ClearRec workspace (*.clearrec);;All files (*)"
MIN_PASSPHRASE = 8


def _error_label() -> QLabel:
    label = QLabel()
    label.setObjectName("errorLabel")
    label.setWordWrap(True)
    label.setStyleSheet("color: palette(bright-text); background: #b3261e; padding: 4px;")
    label.setAccessibleName("Error")
    label.hide()
    return label


def _show_error(label: QLabel, text: str) -> None:
    label.setText(text)
    label.setVisible(bool(text))


class ErrorDialog(QDialog):
    """An error the user can read, select and copy (to send to county IT)."""

    def __init__(self, parent: QWidget | None, message: str, details: str = ""):
        super().__init__(parent)
        self.setWindowTitle("Error")
        self.message = message
        self.details = details
        layout = QVBoxLayout(self)
        text = QLabel(message)
        text.setWordWrap(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                     | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        text.setAccessibleName("Error message")
        layout.addWidget(text)
        if details:
            box = QPlainTextEdit(details)
            box.setReadOnly(True)
            box.setAccessibleName("Error details")
            box.setMinimumSize(560, 180)
            layout.addWidget(box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("&Copy message", QDialogButtonBox.ButtonRole.ActionRole)
        copy.setAccessibleName("Copy message to clipboard")
        copy.clicked.connect(self.copy_to_clipboard)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)

    def copy_to_clipboard(self) -> None:
        text = self.message + ("\n\n" + self.details if self.details else "")
        QGuiApplication.clipboard().setText(text)

    @staticmethod
    def show_error(parent: QWidget | None, message: str, details: str = "") -> None:
        dialog = ErrorDialog(parent, message, details)
        dialog.exec()
        dialog.deleteLater()


class NewWorkspaceDialog(QDialog):
    """Where to keep the new workspace, its passphrase (twice) and the office's county.

    The county is a required choice: no county is preselected, so an office that does not look
    never gets another county's workspace. The passphrase rule is shown from the start, and an
    error disappears as soon as what it named is fixed."""

    CHOOSE = "Choose your county…"

    def __init__(self, parent: QWidget | None, counties: Sequence[str], start_dir: str = "",
                 proposed_county: str = ""):
        super().__init__(parent)
        self.setWindowTitle("New workspace")
        self._start_dir = start_dir
        form = QFormLayout()
        self.path_edit = QLineEdit()
        self.path_edit.setAccessibleName("Workspace file")
        self.path_edit.setPlaceholderText("Where to save the workspace file")
        browse = QPushButton("&Browse…")
        browse.setAccessibleName("Choose where to save the workspace")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        file_label = QLabel("&File:")
        file_label.setBuddy(self.path_edit)  # a row holding a layout gets no buddy by itself
        form.addRow(file_label, row)
        self.pass1 = QLineEdit()
        self.pass1.setEchoMode(QLineEdit.EchoMode.Password)
        self.pass1.setAccessibleName("Passphrase")
        self.pass1.setPlaceholderText(f"at least {MIN_PASSPHRASE} characters")
        self.pass2 = QLineEdit()
        self.pass2.setEchoMode(QLineEdit.EchoMode.Password)
        self.pass2.setAccessibleName("Repeat passphrase")
        form.addRow("&Passphrase:", self.pass1)
        # the rule, before anything is typed (not only after a refusal)
        self.rule = QLabel(f"At least {MIN_PASSPHRASE} characters and hard to guess (strength “strong” or "
                           "better): four or more unrelated words, or a longer phrase with a number or "
                           "symbol; no names, dates or the county's name.")
        self.rule.setObjectName("passphraseRule")
        self.rule.setWordWrap(True)
        self.rule.setAccessibleName("Passphrase rule")
        form.addRow("Rule:", self.rule)
        self.strength = QLabel("")
        self.strength.setAccessibleName("Passphrase strength")
        form.addRow("Strength:", self.strength)
        self.pass1.textChanged.connect(self._show_strength)
        form.addRow("&Repeat passphrase:", self.pass2)
        self.county = QComboBox()
        # not editable: typing a letter selects the first county starting with it (typing
        # quickly selects by prefix) instead of appending to the name shown
        self.county.setEditable(False)
        self.county.addItems(list(counties))
        self.county.setPlaceholderText(self.CHOOSE)
        self.county.setCurrentIndex(self.county.findText(proposed_county.upper()) if proposed_county else -1)
        self.county.setAccessibleName("County")
        self.county.setMaxVisibleItems(20)
        form.addRow("&County:", self.county)
        county_hint = QLabel("The county whose convictions this office screens. Every run screens this "
                             "county unless you choose another when importing.")
        county_hint.setWordWrap(True)
        form.addRow("", county_hint)
        hint = QLabel("The workspace is encrypted with this passphrase. It cannot be recovered if "
                      "it is lost: keep it where your office keeps its other passwords. Four or more "
                      "unrelated words make a strong one.")
        hint.setWordWrap(True)
        self.error = _error_label()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Cr&eate")
        self.buttons.accepted.connect(self._check)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        QWidget.setTabOrder(self.path_edit, browse)
        QWidget.setTabOrder(browse, self.pass1)
        QWidget.setTabOrder(self.pass1, self.pass2)
        QWidget.setTabOrder(self.pass2, self.county)
        for edit in (self.path_edit, self.pass1, self.pass2):
            edit.textChanged.connect(self._recheck)
        self.county.currentIndexChanged.connect(self._recheck)
        self.setMinimumWidth(520)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "New workspace", self._start_dir, WORKSPACE_FILTER)
        if path:
            if not Path(path).suffix:
                path += ".clearrec"
            self.path_edit.setText(path)

    def problem(self) -> str:
        if not self.path_edit.text().strip():
            return "Choose where to save the workspace."
        path = Path(self.path_edit.text().strip())
        if path.exists():
            return f"{path.name} already exists; choose another name or open it with File > Open."
        weak = Session.passphrase_problem(self.pass1.text(), self._context())
        if weak:
            return weak[0].upper() + weak[1:] + "."
        if self.pass1.text() != self.pass2.text():
            return "The two passphrases differ; type the same passphrase twice."
        if self.county.currentIndex() < 0 or not self.county.currentText().strip():
            return "Choose the county: the workspace screens that county's convictions."
        return ""

    def _context(self) -> tuple[str, ...]:
        return (self.county.currentText().strip(), Path(self.path_edit.text().strip() or "x").stem)

    def _show_strength(self, text: str) -> None:
        if not text:
            self.strength.setText("")
            return
        score = Session.passphrase_strength(text, self._context())
        words = ["very weak", "weak", "fair", "strong", "very strong"]
        self.strength.setText(words[max(0, min(score, 4))] + ("" if score >= 3 else " (not accepted)"))

    def _recheck(self) -> None:
        """Once an error is shown, keep it current: it goes away as soon as it is fixed."""
        if self.error.isVisible() or self.error.text():
            _show_error(self.error, self.problem())

    def _check(self) -> None:
        problem = self.problem()
        _show_error(self.error, problem)
        if not problem:
            self.accept()

    def values(self) -> tuple[Path, str, str]:
        path = Path(self.path_edit.text().strip())
        if not path.suffix:
            path = path.with_suffix(".clearrec")
        return path, self.pass1.text(), self.county.currentText().strip()


class PassphraseDialog(QDialog):
    """Ask for a workspace's passphrase; shows why the last one was refused."""

    def __init__(self, parent: QWidget | None, path: Path, error: str = ""):
        super().__init__(parent)
        self.setWindowTitle("Open workspace")
        layout = QVBoxLayout(self)
        label = QLabel(f"Passphrase for <b>{_html(path.name)}</b>:")
        layout.addWidget(label)
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setAccessibleName("Passphrase")
        label.setBuddy(self.passphrase)
        layout.addWidget(self.passphrase)
        self.error = _error_label()
        _show_error(self.error, error)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Open")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.passphrase.setFocus()

    def value(self) -> str:
        return self.passphrase.text()


class MappingDialog(QDialog):
    """Map a county file's columns onto the import fields, with a preview of its first rows."""

    NOT_IN_FILE = "(not in this file)"
    AUTOMATIC = "(recognise automatically)"
    FROM_FILE = "(from the file's county column)"
    DATE_FORMATS = ("MM/DD/YYYY", "DD/MM/YYYY", "YYYY-MM-DD", "YYYYMMDD", "MM-DD-YYYY")

    def __init__(self, parent: QWidget | None, file_name: str, header: Sequence[str],
                 rows: Sequence[Sequence[str]], fields: Sequence[tuple[str, str, bool]],
                 current: dict | None = None, counties: Sequence[str] = ()):
        """``fields``: (field id, label, required); ``current``: a saved or guessed mapping,
        ``{"columns": {field: header}, "options": {...}}``."""
        super().__init__(parent)
        self.setWindowTitle(f"Map the columns of {file_name}")
        self._fields = list(fields)
        self._header = [h or f"(column {i + 1})" for i, h in enumerate(header)]
        layout = QVBoxLayout(self)
        intro = QLabel("This file is not a DOJ extract. Tell ClearRec which column holds each item; "
                       "the mapping is saved in the workspace for the next file with the same columns.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        keys = [f"c{i}" for i in range(len(self._header))]
        width = len(keys)
        data = {k: [(list(r) + [""] * width)[i] for r in rows] for i, k in enumerate(keys)}
        self.preview_model = FrameModel([Column(k, h, 130) for k, h in zip(keys, self._header)], self)
        self.preview_model.set_frame(pl.DataFrame(data, schema={k: pl.String for k in keys}))
        table = QTableView()
        table.setModel(self.preview_model)
        table.setAccessibleName("Preview of the first rows of the file")
        table.setMinimumHeight(160)
        table.verticalHeader().hide()
        layout.addWidget(table)
        current = current if isinstance(current, dict) else {}
        columns = current.get("columns", current)
        options = current.get("options", {}) or {}
        form = QFormLayout()
        self.combos: dict[str, QComboBox] = {}
        for field_id, label, required in self._fields:
            combo = QComboBox()
            combo.addItems([self.NOT_IN_FILE, *self._header])
            combo.setAccessibleName(f"Column for {label}")
            if columns.get(field_id) in self._header:
                combo.setCurrentText(columns[field_id])
            self.combos[field_id] = combo
            form.addRow(f"{label}{' *' if required else ''}:", combo)
        self.date_format = QComboBox()
        self.date_format.setEditable(True)
        self.date_format.addItems([self.AUTOMATIC, *self.DATE_FORMATS])
        self.date_format.setAccessibleName("Date format of the file")
        if options.get("date_format"):
            self.date_format.setCurrentText(options["date_format"])
        form.addRow("Date format:", self.date_format)
        self.county = QComboBox()
        self.county.addItems([self.FROM_FILE, *counties])
        self.county.setAccessibleName("County of every row, when the file has no county column")
        if options.get("county"):
            self.county.setCurrentText(options["county"])
        form.addRow("County (if not in the file):", self.county)
        layout.addLayout(form)
        layout.addWidget(QLabel("* required"))
        self.error = _error_label()
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._check)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def mapping(self) -> dict:
        """``{"columns": {field: header}, "options": {...}}`` as the county-file importer reads it."""
        columns = {f: c.currentText() for f, c in self.combos.items() if c.currentText() != self.NOT_IN_FILE}
        options = {}
        fmt = self.date_format.currentText().strip()
        if fmt and fmt != self.AUTOMATIC:
            options["date_format"] = fmt
        if self.county.currentText() != self.FROM_FILE:
            options["county"] = self.county.currentText()
        return {"columns": columns, "options": options}

    def _check(self) -> None:
        chosen = self.mapping()["columns"]
        missing = [label for f, label, required in self._fields if required and f not in chosen]
        _show_error(self.error, ("Choose a column for: " + ", ".join(missing)) if missing else "")
        if not missing:
            self.accept()


def submit_with_ctrl_enter(dialog: QDialog, slot) -> None:
    """Ctrl+Enter (either Enter key) submits ``dialog`` from anywhere in it, text boxes included."""
    for keys in ("Ctrl+Return", "Ctrl+Enter"):
        shortcut = QShortcut(QKeySequence(keys), dialog)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(slot)


class DecisionDialog(QDialog):
    """What a decision needs beyond the key press: the reason when it departs from the proposal
    (asked in words that fit the decision), the ground of a challenge, and notes.

    Mnemonics: Record (R), Reason (S), Notes (N), grounds E and P; Ctrl+Enter records."""

    def __init__(self, parent: QWidget | None, *, title: str, summary: str, reason_required: bool,
                 grounds: Sequence[tuple[str, str]] = (), notes: str = "", reason_prompt: str = ""):
        super().__init__(parent)
        self.setWindowTitle(title)
        self._reason_required = reason_required
        layout = QVBoxLayout(self)
        head = QLabel(summary)
        head.setWordWrap(True)
        layout.addWidget(head)
        self.ground_group = QButtonGroup(self)
        self.grounds: dict[str, QRadioButton] = {}
        if grounds:
            layout.addWidget(QLabel("Ground of the challenge:"))
        for i, (ground_id, label) in enumerate(grounds):
            button = QRadioButton(label)
            button.setAccessibleName(f"Ground: {label.replace('&', '')}")
            self.ground_group.addButton(button, i)
            self.grounds[ground_id] = button
            layout.addWidget(button)
            if i == 0:
                button.setChecked(True)
        prompt = reason_prompt or ("Rea&son (required):" if reason_required else "Rea&son (optional):")
        self.reason_label = QLabel(prompt)
        self.reason = QPlainTextEdit()
        self.reason.setTabChangesFocus(True)
        self.reason.setAccessibleName("Reason")
        self.reason.setFixedHeight(70)
        self.reason_label.setBuddy(self.reason)
        layout.addWidget(self.reason_label)
        layout.addWidget(self.reason)
        notes_label = QLabel("&Notes for the office (optional, not filed):")
        self.notes = QPlainTextEdit(notes)
        self.notes.setTabChangesFocus(True)
        self.notes.setAccessibleName("Notes")
        self.notes.setFixedHeight(70)
        notes_label.setBuddy(self.notes)
        layout.addWidget(notes_label)
        layout.addWidget(self.notes)
        self.error = _error_label()
        layout.addWidget(self.error)
        hint = QLabel("Ctrl+Enter records · Esc cancels")
        hint.setAccessibleName("Keys")
        layout.addWidget(hint)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Record")
        self.buttons.accepted.connect(self._check)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        submit_with_ctrl_enter(self, self._check)
        self.reason.setFocus()

    def _check(self) -> None:
        if self._reason_required and not self.reason.toPlainText().strip():
            _show_error(self.error, "Give the reason: it is recorded with the decision.")
            self.reason.setFocus()
            return
        self.accept()

    def values(self) -> tuple[str, str | None, str]:
        ground = next((g for g, b in self.grounds.items() if b.isChecked()), None)
        return self.reason.toPlainText().strip(), ground, self.notes.toPlainText().strip()


class NoteDialog(QDialog):
    """A note on a case (Ctrl+Enter saves, as in the decision dialogs)."""

    def __init__(self, parent: QWidget | None, case: str):
        super().__init__(parent)
        self.setWindowTitle(f"Note on {case}")
        layout = QVBoxLayout(self)
        label = QLabel("&Note (kept in the workspace with your name and the time):")
        self.text = QPlainTextEdit()
        self.text.setTabChangesFocus(True)
        self.text.setAccessibleName("Note")
        label.setBuddy(self.text)
        layout.addWidget(label)
        layout.addWidget(self.text)
        layout.addWidget(QLabel("Ctrl+Enter saves · Esc cancels"))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Save note")
        self.buttons.accepted.connect(self._check)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        submit_with_ctrl_enter(self, self._check)
        self.text.setFocus()

    def _check(self) -> None:
        if self.text.toPlainText().strip():
            self.accept()

    def value(self) -> str:
        return self.text.toPlainText().strip()


class BulkDecisionDialog(QDialog):
    """Confirm one decision on many cases: how many, chosen how, and that one undo takes it back."""

    def __init__(self, parent: QWidget | None, *, count: int, selection: str, decision_text: str,
                 breakdown: str = ""):
        super().__init__(parent)
        self.setWindowTitle(f"{decision_text} for {count:,} cases")
        layout = QVBoxLayout(self)
        text = QLabel(f"<p><b>{decision_text}</b> for <b>{count:,}</b> "
                      f"{'case' if count == 1 else 'cases'}: {_html(selection)}.</p>"
                      + (f"<p>{_html(breakdown)}</p>" if breakdown else "")
                      + "<p>Each case gets its own entry in the decision history and the audit trail, and one "
                        "entry lists them all. Edit &gt; Undo takes the whole step back.</p>")
        text.setWordWrap(True)
        text.setAccessibleName("What will be recorded")
        layout.addWidget(text)
        notes_label = QLabel("&Notes recorded with each case (optional):")
        self.notes = QPlainTextEdit()
        self.notes.setTabChangesFocus(True)
        self.notes.setAccessibleName("Notes")
        self.notes.setFixedHeight(60)
        notes_label.setBuddy(self.notes)
        layout.addWidget(notes_label)
        layout.addWidget(self.notes)
        layout.addWidget(QLabel("Ctrl+Enter records · Esc cancels"))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(f"&Record for {count:,}")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        submit_with_ctrl_enter(self, self.accept)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setFocus()
        self.setMinimumWidth(480)


class SettingsDialog(QDialog):
    """Per-user preferences: the reviewer name recorded with decisions, auto-advance."""

    def __init__(self, parent: QWidget | None, reviewer: str, default_reviewer: str,
                 advance: bool):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        form = QFormLayout(self)
        self.reviewer = QLineEdit(reviewer)
        self.reviewer.setPlaceholderText(default_reviewer)
        self.reviewer.setAccessibleName("Reviewer name recorded with decisions")
        form.addRow("&Reviewer:", self.reviewer)
        hint = QLabel(f"Leave empty to use the computer login ({_html(default_reviewer)}).")
        hint.setWordWrap(True)
        form.addRow(hint)
        self.advance = QCheckBox("&Move to the next case after a decision")
        self.advance.setChecked(advance)
        self.advance.setAccessibleName("Move to the next case after a decision")
        form.addRow(self.advance)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
