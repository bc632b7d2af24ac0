"""Reconciliation: DOJ's extract against the county's own records (issue 15).

The clerk picks both files and asks for a reconciliation (a task with progress and cancel);
the view then shows the count of each list (county only, DOJ only, both but disagreeing), the
convictions of the list chosen (a double-click opens one in Review), DOJ's and the county's
values side by side for the selected conviction, and the links the clerk confirms or splits.
A link decision takes effect when the two imports are reconciled again ("Reconcile again").
Everything here goes through the session; no linking or screening rule lives in this widget.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
from PySide6.QtCore import QDate, QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import InputError
from ..dialogs import ErrorDialog, MappingDialog
from ..models import Column, FrameModel
from ..session import Session, profile_choices
from ..widgets.common import configure_table, esc, fmt_int, task_failed
from ..widgets.progress import ProgressStrip
from ..workers import Task

# The lists, in the order the view offers them: (provenance, title, what it means).
LISTS = (
    ("county_only", "County only", "In the county's records, not on DOJ's list: the cases DOJ missed."),
    ("doj_only", "DOJ only", "On DOJ's list, not found in the county's records: find the court file."),
    ("both_disagreeing", "Both, disagreeing", "The same conviction recorded differently: the outcome follows "
                                              "DOJ's record and the reason names the difference."),
    ("both", "Both, agreeing", "The same conviction in both, recorded alike."),
)

LIST_COLUMNS = [
    Column("name", "Name", 170),
    Column("court_case_number", "Case number", 110),
    Column("courthouse", "Courthouse", 150),
    Column("code_section", "Section", 90),
    Column("level", "Level", 45),
    Column("conviction_date", "Convicted", 90),
    Column("outcome", "Outcome", 80),
    Column("link_score", "Link score", 70),
    Column("disagreements", "Differences", 260),
]
PAIR_COLUMNS = [Column("field", "Field", 130), Column("doj", "DOJ's record", 150),
                Column("county", "County's record", 150), Column("differs", "Differs", 60)]
LINK_COLUMNS = [Column("kind", "Link", 75), Column("status", "Status", 80), Column("score_text", "Score", 55),
                Column("word", "Clerk's word", 85), Column("fields", "Made by", 220),
                Column("disagreements", "Differences", 200)]
LINK_WORDS = {"confirm": "confirmed", "split": "split"}


class ReconcileDialog(QDialog):
    """Both files, the county, the evaluation date and the profile of a reconciliation."""

    def __init__(self, parent: QWidget | None, county: str, as_of: date):
        super().__init__(parent)
        self.setWindowTitle("Reconcile DOJ's extract with the county's records")
        layout = QVBoxLayout(self)
        intro = QLabel("Import DOJ's bulk extract and the county's own case-management export (or the court's) "
                       "together. ClearRec links people and convictions across the two and screens three lists: "
                       "county only, DOJ only and both but disagreeing.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.doj = QLineEdit()
        self.doj.setAccessibleName("DOJ's extract")
        self.county_file = QLineEdit()
        self.county_file.setAccessibleName("The county's export")
        for label, edit, title in (("&DOJ's extract:", self.doj, "Choose DOJ's extract"),
                                   ("County's e&xport:", self.county_file, "Choose the county's export")):
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            browse = QPushButton("Browse…")
            browse.setAccessibleName(title)
            browse.clicked.connect(lambda _c=False, e=edit, t=title: self._browse(e, t))
            row.addWidget(browse)
            form.addRow(label, row)
        from ...core.demo import CA_COUNTIES

        self.county = QComboBox()
        self.county.setEditable(True)
        self.county.addItems(list(CA_COUNTIES))
        self.county.setCurrentText(county.title() if county else "")
        self.county.setAccessibleName("County to reconcile")
        form.addRow("&County:", self.county)
        self.as_of = QDateEdit(QDate(as_of.year, as_of.month, as_of.day))
        self.as_of.setCalendarPopup(True)
        self.as_of.setDisplayFormat("yyyy-MM-dd")
        self.as_of.setAccessibleName("Evaluation date")
        form.addRow("&Evaluation date:", self.as_of)
        self.profile = QComboBox()
        self.profile.setAccessibleName("Policy profile")
        for p in profile_choices():
            self.profile.addItem(p.title, p)
        form.addRow("&Profile:", self.profile)
        layout.addLayout(form)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Reconcile")
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _browse(self, edit: QLineEdit, title: str) -> None:
        settings = QSettings()
        start = str(settings.value("import/last_dir", "") or "")
        path, _ = QFileDialog.getOpenFileName(self, title, start,
                                              "Extracts and county files (*.dat *.csv *.txt *.xlsx);;All files (*)")
        if path:
            settings.setValue("import/last_dir", str(Path(path).parent))
            edit.setText(path)

    def _check(self) -> None:
        missing = [what for what, e in (("DOJ's extract", self.doj), ("the county's export", self.county_file))
                   if not e.text().strip()]
        if not self.county.currentText().strip():
            missing.append("the county")
        self.error.setText(("Choose " + " and ".join(missing) + ".") if missing else "")
        if not missing:
            self.accept()

    def choices(self) -> dict:
        return {"doj": Path(self.doj.text().strip()), "county_file": Path(self.county_file.text().strip()),
                "county": self.county.currentText().strip(), "as_of": self.as_of.date().toPython(),
                "profile": self.profile.currentData()}


class ReconcileView(QWidget):
    """The reconciliation's lists, the side-by-side comparison and the links."""

    title = "Reconciliation"
    open_case = Signal(str)  # conviction id to show in Review

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.heading.setAccessibleName("Reconciliation")
        top.addWidget(self.heading, 1)
        self.reconcile_button = QPushButton("&Reconcile DOJ and County Records…")
        self.reconcile_button.setAccessibleName("Import DOJ's extract and the county's export and reconcile them")
        self.reconcile_button.clicked.connect(lambda _c=False: self.choose_files())
        self.again_button = QPushButton("Reconcile a&gain")
        self.again_button.setAccessibleName("Reconcile again with the link decisions in force")
        self.again_button.setToolTip("Confirmed and split links take effect when the two imports are reconciled again")
        self.again_button.clicked.connect(lambda _c=False: self.reconcile_again())
        top.addWidget(self.reconcile_button, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.again_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)
        self.progress = ProgressStrip()
        layout.addWidget(self.progress)

        # the counts: one button per list (it also picks the list shown)
        counts = QGridLayout()
        self.count_buttons: dict[str, QPushButton] = {}
        self.count_labels: dict[str, QLabel] = {}
        for i, (key, title, meaning) in enumerate(LISTS):
            button = QPushButton(title)
            button.setCheckable(True)
            button.setAccessibleName(f"Show the list: {title}")
            button.setToolTip(meaning)
            button.clicked.connect(lambda _c=False, k=key: self.show_list(k))
            label = QLabel()
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setAccessibleName(f"Convictions {title.lower()}")
            self.count_buttons[key], self.count_labels[key] = button, label
            counts.addWidget(label, 0, i)
            counts.addWidget(button, 1, i)
        layout.addLayout(counts)
        self.meaning = QLabel()
        self.meaning.setWordWrap(True)
        layout.addWidget(self.meaning)

        split = QSplitter(Qt.Orientation.Vertical)
        upper = QSplitter(Qt.Orientation.Horizontal)
        self.list_model = FrameModel(LIST_COLUMNS, self, keep=["conviction_id", "provenance", "subject_id"])
        self.list_table = QTableView()
        configure_table(self.list_table, self.list_model, "Convictions of the list", sortable=True)
        self.list_table.activated.connect(lambda _i: self.open_selected())  # double-click or Enter
        self.list_table.selectionModel().currentRowChanged.connect(lambda *_a: self._show_pair())
        upper.addWidget(self.list_table)
        pair_box = QGroupBox("DOJ's record and the county's, side by side")
        pl_ = QVBoxLayout(pair_box)
        self.pair_model = FrameModel(PAIR_COLUMNS, self, highlight="_differs")
        self.pair_table = QTableView()
        configure_table(self.pair_table, self.pair_model, "DOJ's value and the county's value of each field")
        pl_.addWidget(self.pair_table)
        self.open_button = QPushButton("&Open in Review")
        self.open_button.setAccessibleName("Open the selected conviction in Review")
        self.open_button.clicked.connect(lambda _c=False: self.open_selected())
        pl_.addWidget(self.open_button)
        upper.addWidget(pair_box)
        upper.setStretchFactor(0, 3)
        upper.setStretchFactor(1, 2)
        split.addWidget(upper)

        links_box = QGroupBox("Links between DOJ's and the county's records: proposed links are never merged "
                              "silently; confirm or split them")
        ll = QVBoxLayout(links_box)
        self.links_model = FrameModel(LINK_COLUMNS, self, keep=["county_key", "doj_key"])
        self.links_table = QTableView()
        configure_table(self.links_table, self.links_model, "Links", sortable=True)
        self.links_table.selectionModel().currentRowChanged.connect(lambda *_a: self._update_buttons())
        ll.addWidget(self.links_table)
        row = QHBoxLayout()
        self.confirm_button = QPushButton("&Confirm link")
        self.split_button = QPushButton("&Split link")
        self.withdraw_button = QPushButton("&Withdraw my word")
        self.withdraw_button.setToolTip("Undo the confirmation or split of this link (recorded in the audit trail)")
        for button, word in ((self.confirm_button, "confirm"), (self.split_button, "split"),
                             (self.withdraw_button, "withdraw")):
            button.clicked.connect(lambda _c=False, w=word: self.decide_link(w))
            row.addWidget(button)
        row.addStretch(1)
        self.links_note = QLabel()
        self.links_note.setWordWrap(True)
        row.addWidget(self.links_note, 2)
        ll.addLayout(row)
        split.addWidget(links_box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout.addWidget(split, 1)

        self._list = "county_only"
        session.run_changed.connect(self.refresh)
        session.workspace_changed.connect(self.refresh)
        session.links_changed.connect(self._fill_links)
        session.runner.busy_changed.connect(lambda _b: self._update_buttons())
        self.refresh()

    # -- data -------------------------------------------------------------------------------------

    def refresh(self) -> None:
        counts = self.session.reconciliation_counts()
        run = self.session.run
        if counts is None:
            self.heading.setText("<h2>Reconciliation</h2><p>Import DOJ's extract and the county's own case export "
                                 "together to find the convictions DOJ's list missed.</p>")
            for key, _title, _m in LISTS:
                self.count_labels[key].setText("<span style='font-size:18pt'>–</span>")
            self.list_model.set_frame(None)
            self.pair_model.set_frame(None)
            self.links_model.set_frame(None)
            self.meaning.setText("")
            self.links_note.setText("")
            self._update_buttons()
            return
        lists = counts.get("lists", {})
        files = " and ".join(esc(f.file) for f in run.report.files)
        self.heading.setText(
            f"<h2>Reconciliation: {esc(run.county)}</h2><p>{files} · evaluation date {run.as_of.isoformat()} · "
            f"profile {esc(run.profile_title)} · run {run.run_id}. County only: "
            f"<b>{fmt_int(counts.get('county_only_with_doj_history'))}</b> screened with the linked DOJ history, "
            f"<b>{fmt_int(counts.get('county_only_history_unknown'))}</b> with the statewide history unknown; "
            f"people newly relieved: <b>{fmt_int(counts.get('people_newly_relieved'))}</b>.</p>")
        for key, _title, _m in LISTS:
            self.count_labels[key].setText(f"<span style='font-size:18pt'><b>{fmt_int(lists.get(key, 0))}</b></span>")
        self.show_list(self._list)
        self._fill_links()

    def count(self, provenance: str) -> int:
        counts = self.session.reconciliation_counts() or {}
        return int(counts.get("lists", {}).get(provenance, 0))

    def show_list(self, provenance: str) -> None:
        self._list = provenance
        for key, button in self.count_buttons.items():
            button.setChecked(key == provenance)
        self.meaning.setText(next(m for k, _t, m in LISTS if k == provenance))
        frame = self.session.reconciliation_list(provenance)
        self.list_model.set_frame(frame if frame.height or frame.width else None)
        if self.list_model.rowCount():
            self.list_table.selectRow(0)
        self._show_pair()

    def current_conviction(self) -> str | None:
        index = self.list_table.currentIndex()
        if not index.isValid():
            return None
        return self.list_model.record(index.row()).get("conviction_id")

    def _show_pair(self) -> None:
        cid = self.current_conviction()
        pairs = self.session.reconciliation_pair(cid) if cid else []
        if not pairs:
            self.pair_model.set_frame(None)
        else:
            self.pair_model.set_frame(pl.DataFrame(
                {"field": [p[0] for p in pairs], "doj": [p[1] or "—" for p in pairs],
                 "county": [p[2] or "—" for p in pairs], "differs": ["differs" if p[3] else "" for p in pairs],
                 "_differs": [p[3] for p in pairs]}))
        self._update_buttons()

    def _fill_links(self) -> None:
        links = self.session.reconciliation_links()
        if links.height == 0:
            self.links_model.set_frame(None)
            self.links_note.setText("")
        else:
            shown = links.with_columns(pl.col("word").replace(LINK_WORDS))
            self.links_model.set_frame(shown)
            proposed = links.filter((pl.col("status") == "proposed") & (pl.col("word") == "")).height
            pending = self._words_since_run()
            self.links_note.setText(
                f"{fmt_int(proposed)} proposed link(s) without a word yet."
                + (f" {fmt_int(pending)} decision(s) since this run: choose Reconcile again to apply them."
                   if pending else ""))
        self._update_buttons()

    def _words_since_run(self) -> int:
        run = self.session.run
        if run is None:
            return 0
        return sum(1 for h in self.session.link_history() if h["at"] > (run.created_at or ""))

    def current_link(self) -> dict | None:
        index = self.links_table.currentIndex()
        if not index.isValid():
            return None
        return self.links_model.record(index.row())

    def _update_buttons(self) -> None:
        busy = self.session.runner.busy
        is_open = self.session.is_open
        recon = self.session.reconciliation_counts() is not None
        self.reconcile_button.setEnabled(is_open and not busy)
        self.again_button.setEnabled(recon and not busy)
        self.open_button.setEnabled(self.current_conviction() is not None)
        link = self.current_link()
        for button in (self.confirm_button, self.split_button, self.withdraw_button):
            button.setEnabled(link is not None and not busy)
        if link is not None:
            self.withdraw_button.setEnabled(not busy and bool(link.get("word")))

    # -- actions ----------------------------------------------------------------------------------

    def open_selected(self) -> None:
        cid = self.current_conviction()
        if cid:
            self.open_case.emit(cid)

    def choose_files(self) -> Task | None:
        if not self.session.is_open:
            ErrorDialog.show_error(self, "Create or open a workspace first.")
            return None
        run = self.session.run
        dialog = ReconcileDialog(self, self.session.workspace_county or (run.county if run else ""),
                                 run.as_of if run else date.today())
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        choices = dialog.choices()
        dialog.deleteLater()
        if not accepted:
            return None
        try:
            mapping = self.ask_mapping(choices["county_file"])
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return None
        if mapping is None:
            return None
        return self.start(choices["doj"], choices["county_file"], mapping, choices["county"], choices["as_of"],
                          choices["profile"])

    def ask_mapping(self, path: Path) -> dict | None:
        """The county export's column mapping: the saved one for files with these columns, else the
        importer's guess, confirmed or corrected by the clerk and saved for next time."""
        from ...core.demo import CA_COUNTIES

        header, rows, signature = self.session.preview_file(path)
        current = self.session.saved_mapping(signature) or self.session.guess_mapping(header)
        dialog = MappingDialog(self, path.name, header, rows, self.session.mapping_fields(), current, CA_COUNTIES)
        accepted = dialog.exec() == MappingDialog.DialogCode.Accepted
        mapping = dialog.mapping()
        dialog.deleteLater()
        if not accepted:
            return None
        self.session.save_mapping(signature, mapping)
        return mapping

    def start(self, doj: Path, county_file: Path, mapping: dict, county: str, as_of: date, profile) -> Task | None:
        """Start the reconciliation task (progress and Cancel in the strip)."""
        try:
            task = self.session.reconcile(doj, county_file, mapping, county, as_of, profile)
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return None
        task.failed.connect(lambda m, d: task_failed(self, m, d))
        self.progress.follow(task)
        return task

    def reconcile_again(self) -> Task | None:
        try:
            task = self.session.reconcile_again()
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return None
        task.failed.connect(lambda m, d: task_failed(self, m, d))
        self.progress.follow(task)
        return task

    def decide_link(self, word: str) -> bool:
        link = self.current_link()
        if link is None:
            return False
        try:
            self.session.decide_link(link["kind"], link["county_key"], link["doj_key"], word)
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return False
        return True

    def select_link(self, status: str | None = None, kind: str | None = None, word: str = "") -> bool:
        """Select the first link shown with this status and kind (the tests and the keyboard)."""
        frame = self.links_model.view_frame()
        for i, r in enumerate(frame.iter_rows(named=True)):
            if (status is None or r["status"] == status) and (kind is None or r["kind"] == kind) \
                    and (r["word"] or "") == word:
                self.links_table.selectRow(i)
                return True
        return False
