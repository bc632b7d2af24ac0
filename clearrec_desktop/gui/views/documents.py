"""The Documents view: office details, what to file, what goes in, build, preview, save, print.

Documents are built in memory on the worker and written only into the folder the user
chooses; printing paints the same pages on the printer. The view holds no filing rules: the
core's ``select_for_filing`` decides what goes in, through the session.
"""

from __future__ import annotations

from pathlib import Path

from datetime import date

from PySide6.QtCore import QDate, QStandardPaths, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import InputError
from ...core.outputs.filing import LEFT_OUT, FilingOptions
from ..dialogs import ErrorDialog, submit_with_ctrl_enter
from ..pdfview import PagePreview, prepare_printer
from ..session import (
    MULTILINE_OFFICE_FIELDS,
    OFFICE_LABELS,
    OFFICE_REQUIRED,
    BuiltDocument,
    DocumentSet,
    Session,
    missing_office_fields,
)
from ..widgets.common import esc, task_failed
from ..widgets.progress import ProgressStrip
from ..workers import Task

ALL_COURTS = "All courthouses"
GROUP_TEXT = {  # Exhibit A parts as the "what goes in" table names them
    "dismiss_statute": "Dismiss and seal: conduct now lawful (HS 11361.8)",
    "dismiss_policy": "Dismiss in furtherance of justice (PC 1385): office criteria",
    "redesignate_misdemeanor": "Redesignate as misdemeanor (HS 11361.8(f))",
    "redesignate_infraction": "Redesignate as infraction (HS 11361.8(f))",
    "resentence": "Recall and resentence (HS 11361.8(b))",
    "redesignate_policy": "Redesignate beyond the statute: office criteria",
}
LEFT_OUT_TEXT = LEFT_OUT
POSTURE_CHOICES = [  # (label, posture key)
    ("Choose the filing's posture…", None),
    ("Response to the Department of Justice's list (HS 11361.9)", "doj_list"),
    ("Supplemental motion: convictions DOJ's list missed", "supplemental"),
    ("Response to an individual petition or application", "petition"),
]
PLACEHOLDERS = {
    "district_attorney": "Full name of the District Attorney",
    "state_bar_number": "e.g. 123456",
    "office": "Office of the District Attorney, County of …",
    "address": "Street, city, CA ZIP (one or more lines)",
    "phone": "(916) 555-0100",
    "email": "prop64@da.example.gov",
    "court": "SUPERIOR COURT OF THE STATE OF CALIFORNIA, COUNTY OF …",
    "county": "e.g. Sacramento",
    "deputy": "The deputy who reviewed, signs and declares (optional)",
    "deputy_state_bar_number": "e.g. 234567 (needed with a deputy)",
    "public_defender": "Public Defender of … County (default)",
    "public_defender_address": "Where the Public Defender is served",
    "city_attorneys": "One per line: name, address (prosecuting city attorneys served)",
}


def _date_edit(accessible: str, *, optional: bool) -> QDateEdit:
    edit = QDateEdit()
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("MM/dd/yyyy")
    edit.setAccessibleName(accessible)
    if optional:  # starts "not set": the minimum date shows as that text
        edit.setMinimumDate(QDate(1990, 1, 1))
        edit.setSpecialValueText("not set")
        edit.setDate(edit.minimumDate())
    else:
        edit.setDate(QDate.currentDate())
    return edit


def _date_of(edit: QDateEdit) -> date | None:
    if edit.specialValueText() and edit.date() == edit.minimumDate():
        return None
    d = edit.date()
    return date(d.year(), d.month(), d.day())


class RecordFilingDialog(QDialog):
    """What recording a filing needs beyond the documents: the court, the date filed, a note."""

    def __init__(self, parent: QWidget | None, *, court: str, count: int, files: int):
        super().__init__(parent)
        self.setWindowTitle("Mark the documents as filed")
        layout = QVBoxLayout(self)
        intro = QLabel(
            f"<p>Record that these documents ({files:,} {'file' if files == 1 else 'files'}, {count:,} "
            f"{'conviction' if count == 1 else 'convictions'}) were filed with the court. The workspace keeps "
            "which convictions went in, each file's fingerprint (SHA-256) and the audit record printed on the "
            "pages; the convictions' progress becomes <i>filed</i> until the court's ruling is recorded.</p>"
            "<p>A filing is never changed afterwards: it can be withdrawn, or amended by a later filing.</p>")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.court = QLineEdit(court)
        self.court.setAccessibleName("Court the documents were filed with")
        form.addRow("&Court:", self.court)
        self.filed_on = _date_edit("Date filed", optional=False)
        self.filed_on.setMaximumDate(QDate.currentDate())
        form.addRow("Date &filed:", self.filed_on)
        self.note = QLineEdit()
        self.note.setAccessibleName("Note on the filing (optional)")
        self.note.setPlaceholderText("optional, e.g. the clerk's filing stamp number")
        form.addRow("&Note:", self.note)
        layout.addLayout(form)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        self.error.setAccessibleName("Problem")
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Record the filing")
        self.buttons.accepted.connect(self._check)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        submit_with_ctrl_enter(self, self._check)
        self.setMinimumWidth(520)

    def _check(self) -> None:
        if not self.court.text().strip():
            self.error.setText("Name the court the documents were filed with.")
            self.court.setFocus()
            return
        self.accept()

    def values(self) -> tuple[str, date, str | None]:
        return self.court.text().strip(), _date_of(self.filed_on), self.note.text().strip() or None


class _AddressEdit(QPlainTextEdit):
    """A multi-line field that reports when the user leaves it (saved then, like the others)."""

    editing_finished = Signal()

    def focusOutEvent(self, event) -> None:
        super().focusOutEvent(event)
        self.editing_finished.emit()


class DocumentsView(QWidget):
    """Build the motion packet (or per-case motions), challenge notice, cover report and court
    update file from the current decisions; preview, save, print."""

    title = "Documents"

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.doc_set: DocumentSet | None = None
        self._recorded: DocumentSet | None = None   # the built set already recorded as filed
        self.record_dialog: RecordFilingDialog | None = None
        self.counts: dict | None = None
        self._counts_stale = True
        self._built_stale = False
        self.last_print_pages = 0

        self.heading = QLabel()
        self.heading.setWordWrap(True)

        # -- office details
        self.office_box = QGroupBox("Office details (captions and signature blocks)")
        office_form = QFormLayout(self.office_box)
        self.office_edits: dict[str, QLineEdit | _AddressEdit] = {}
        for field_id, label in OFFICE_LABELS.items():
            if field_id in MULTILINE_OFFICE_FIELDS:
                edit = _AddressEdit()
                edit.setTabChangesFocus(True)
                edit.setFixedHeight(edit.fontMetrics().lineSpacing() * 3 + 12)
                edit.setPlaceholderText(PLACEHOLDERS[field_id])
                edit.editing_finished.connect(lambda f=field_id: self.save_office_field(f))
            else:
                edit = QLineEdit()
                edit.setPlaceholderText(PLACEHOLDERS[field_id])
                edit.editingFinished.connect(lambda f=field_id: self.save_office_field(f))
            if field_id == "county":
                from ...core.demo import CA_COUNTIES

                completer = QCompleter([c.title() for c in CA_COUNTIES], edit)
                completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
                edit.setCompleter(completer)
            required = field_id in OFFICE_REQUIRED
            edit.setAccessibleName(f"Office detail: {label}" + ("" if required else " (optional)"))
            self.office_edits[field_id] = edit
            office_form.addRow(f"{label}{' *' if required else ''}:", edit)
        self.office_error = QLabel()
        self.office_error.setObjectName("officeError")
        self.office_error.setWordWrap(True)
        self.office_error.setAccessibleName("Office details problem")
        self.office_error.setStyleSheet("#officeError { color: palette(bright-text); background: #b3261e; "
                                        "padding: 4px; }")
        self.office_error.hide()
        office_form.addRow(self.office_error)
        self.office_hint = QLabel()
        self.office_hint.setWordWrap(True)
        self.office_hint.setAccessibleName("Office details status")
        office_form.addRow(self.office_hint)
        self.load_office_button = QPushButton("&Load office file…")
        self.load_office_button.setAccessibleName("Load the office details from an office file")
        self.load_office_button.setToolTip("The office file (TOML) the command line uses: district_attorney, "
                                           "state_bar_number, office, address, phone, email, court, county")
        self.load_office_button.clicked.connect(self.choose_office_file)
        office_form.addRow(self.load_office_button)

        # -- the filing: posture and dates
        self.filing_box = QGroupBox("The filing: where it stands in time")
        fl = QFormLayout(self.filing_box)
        self.posture = QComboBox()
        self.posture.setAccessibleName("Posture of the filing")
        for label, key in POSTURE_CHOICES:
            self.posture.addItem(label, key)
        self.posture.currentIndexChanged.connect(self._on_posture_changed)
        fl.addRow("Pos&ture:", self.posture)
        self.doj_received = _date_edit("Date DOJ's list was received", optional=True)
        self.doj_received.dateChanged.connect(self._on_options_changed)
        fl.addRow("DOJ list &received:", self.doj_received)
        self.petition_filed = _date_edit("Date the petition or application was filed", optional=True)
        self.petition_filed.dateChanged.connect(self._on_options_changed)
        fl.addRow("Petition filed:", self.petition_filed)
        self.petition_cases = QLineEdit()
        self.petition_cases.setPlaceholderText("Court case number(s) the petition names, comma-separated")
        self.petition_cases.setAccessibleName("Court case numbers the petition names")
        self.petition_cases.editingFinished.connect(self._on_options_changed)
        fl.addRow("Petition case(s):", self.petition_cases)
        self.filing_date = _date_edit("Date of the papers", optional=False)
        self.filing_date.dateChanged.connect(self._on_options_changed)
        fl.addRow("Date of the &papers:", self.filing_date)
        self.posture_hint = QLabel()
        self.posture_hint.setWordWrap(True)
        self.posture_hint.setAccessibleName("What the posture means")
        fl.addRow(self.posture_hint)

        # -- what to file
        self.options_box = QGroupBox("What to file")
        options = QFormLayout(self.options_box)
        self.court = QComboBox()
        self.court.setAccessibleName("Courthouse to file in")
        self.court.currentIndexChanged.connect(self._on_options_changed)
        options.addRow("Co&urthouse:", self.court)
        self.by_courthouse = QCheckBox("&One packet per courthouse")
        self.by_courthouse.setAccessibleName("One packet per courthouse")
        self.by_courthouse.setToolTip("With all courthouses: a separate packet for each, with its own exhibits "
                                      "and order; the court update file numbers rows per packet.")
        self.by_courthouse.toggled.connect(self._on_options_changed)
        options.addRow(self.by_courthouse)
        self.bulk = QRadioButton("&Bulk motion packet")
        self.bulk.setToolTip("Notice and motion, points and authorities, declaration, Exhibits A and B, "
                             "proposed order and proof of service")
        self.bulk.setAccessibleName("Bulk motion packet")
        self.per_case = QRadioButton("Per-c&ase motions and orders")
        self.per_case.setToolTip("Each court case its own motion and its own proposed order (PDF), and the order "
                                 "as an editable Word document")
        self.per_case.setAccessibleName("Per-case motions and orders")
        self.format_group = QButtonGroup(self)
        self.format_group.addButton(self.bulk)
        self.format_group.addButton(self.per_case)
        self.bulk.setChecked(True)
        self.bulk.toggled.connect(self._on_options_changed)
        options.addRow(self.bulk)
        options.addRow(self.per_case)
        self.compact = QCheckBox("Compact exhibits (9 pt) - only where the court accepts them")
        self.compact.setAccessibleName("Compact 9-point exhibits")
        self.compact.setToolTip("The default is 12-pt exhibits (CRC 2.104).")
        self.compact.toggled.connect(self._on_options_changed)
        options.addRow(self.compact)
        self.sealed_version = QCheckBox("Version lodged conditionally under seal (with DOB and CII)")
        self.sealed_version.setAccessibleName("Build the version lodged conditionally under seal")
        self.public_version = QCheckBox("Public version (DOB and CII redacted)")
        self.public_version.setAccessibleName("Build the public redacted version")
        for box in (self.sealed_version, self.public_version):
            box.setChecked(True)
            box.toggled.connect(self._on_options_changed)
            options.addRow(box)

        # -- what goes in
        self.contents_box = QGroupBox("What goes in")
        cl = QVBoxLayout(self.contents_box)
        self.include_undecided = QRadioButton("Include proposals no attorney has &overridden")
        self.include_undecided.setAccessibleName("Include proposals no attorney has overridden")
        self.include_decided = QRadioButton("Only proposals an attorney &accepted, and attorneys' decisions")
        self.include_decided.setAccessibleName("Only accepted proposals and attorneys' decisions")
        self.include_group = QButtonGroup(self)
        for radio in (self.include_undecided, self.include_decided):
            self.include_group.addButton(radio)
            radio.toggled.connect(self._on_options_changed)
            cl.addWidget(radio)
        self.challenge_ineligible = QCheckBox("The office challenges every conviction its criteria find ineligible")
        self.challenge_ineligible.setAccessibleName("Challenge every ineligible proposal")
        self.challenge_ineligible.setToolTip("Otherwise an ineligible proposal is a challenge only where an attorney "
                                             "challenged it or accepted the finding.")
        self.challenge_ineligible.toggled.connect(self._on_options_changed)
        cl.addWidget(self.challenge_ineligible)
        self.include_juvenile = QCheckBox("Include offenses committed under 18 (juvenile matters, WIC 602)")
        self.include_juvenile.setAccessibleName("Include juvenile matters")
        self.include_juvenile.toggled.connect(self._on_options_changed)
        cl.addWidget(self.include_juvenile)
        self.contents = QLabel()
        self.contents.setWordWrap(True)
        self.contents.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.contents.setAccessibleName("What goes in the documents")
        cl.addWidget(self.contents)

        # Build stays visible whatever the window height (issue 18.8): it is outside the scroll area.
        build_row = QHBoxLayout()
        self.build_button = QPushButton("Bu&ild documents")
        self.build_button.setAccessibleName("Build the court documents")
        self.build_button.clicked.connect(self.build)
        build_row.addWidget(self.build_button)
        build_row.addStretch(1)
        self.progress = ProgressStrip()

        left_body = QWidget()
        ll = QVBoxLayout(left_body)
        ll.addWidget(self.filing_box)
        ll.addWidget(self.contents_box)
        ll.addWidget(self.options_box)
        ll.addWidget(self.office_box)
        ll.addStretch(1)
        scroll = QScrollArea()
        scroll.setAccessibleName("The filing, what goes in, what to file and the office details")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(left_body)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(scroll, 1)
        left_layout.addLayout(build_row)
        left_layout.addWidget(self.progress)
        left.setMinimumWidth(440)
        self.left_scroll = scroll

        # -- preview and output
        self.preview_box = QGroupBox("Preview")
        pl_ = QVBoxLayout(self.preview_box)
        nav = QHBoxLayout()
        self.document = QComboBox()
        self.document.setAccessibleName("Document to preview, save or print")
        self.document.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.document.setMinimumContentsLength(24)
        self.document.currentIndexChanged.connect(self._show_document)
        doc_label = QLabel("Docu&ment:")
        doc_label.setBuddy(self.document)
        self.prev_button = QPushButton("◀ P&revious page")
        self.prev_button.setAccessibleName("Previous page")
        self.prev_button.clicked.connect(lambda: self.preview.show_page(self.preview.current_page() - 1))
        self.next_button = QPushButton("&Next page ▶")
        self.next_button.setAccessibleName("Next page")
        self.next_button.clicked.connect(lambda: self.preview.show_page(self.preview.current_page() + 1))
        self.page_label = QLabel()
        self.page_label.setAccessibleName("Page shown")
        nav.addWidget(doc_label)
        nav.addWidget(self.document, 1)
        for w in (self.prev_button, self.page_label, self.next_button):
            nav.addWidget(w)
        pl_.addLayout(nav)
        self.preview = PagePreview()
        self.preview.page_changed.connect(self._on_page_changed)
        pl_.addWidget(self.preview, 1)
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.setAccessibleName("Notes on the documents")
        pl_.addWidget(self.notes)
        out = QHBoxLayout()
        self.save_button = QPushButton("&Save…")
        self.save_button.setAccessibleName("Save the documents and the court update file in a folder")
        self.save_button.clicked.connect(self.save)
        self.print_button = QPushButton("&Print…")
        self.print_button.setAccessibleName("Print the document shown")
        self.print_button.clicked.connect(self.print_document)
        self.open_button = QPushButton("Open in PDF vie&wer")
        self.open_button.setAccessibleName("Open the saved document in the PDF viewer")
        self.open_button.clicked.connect(self.open_in_viewer)
        self.folder_button = QPushButton("Open fol&der")
        self.folder_button.setAccessibleName("Open the folder the documents were saved in")
        self.folder_button.clicked.connect(self.open_folder)
        # after filing (issue 16): the filing is recorded, with what went in and the files' hashes
        self.record_button = QPushButton("Mar&k as filed…")
        self.record_button.setAccessibleName("Record these documents as filed with the court")
        self.record_button.setToolTip("Once the documents are filed: record the filing, so each conviction's "
                                      "progress shows it and the court's ruling can be recorded against it")
        self.record_button.clicked.connect(lambda _c=False: self.record_filing())
        for w in (self.save_button, self.print_button, self.open_button, self.folder_button, self.record_button):
            out.addWidget(w)
        out.addStretch(1)
        pl_.addLayout(out)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Saved or printed")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        pl_.addWidget(self.status)
        self.files_list = QPlainTextEdit()
        self.files_list.setReadOnly(True)
        self.files_list.setAccessibleName("Every file written")
        self.files_list.setMaximumHeight(self.files_list.fontMetrics().lineSpacing() * 6 + 12)
        self.files_list.hide()
        pl_.addWidget(self.files_list)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("documentsSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.preview_box)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.splitter, 1)

        chain = [self.posture, self.doj_received, self.petition_filed, self.petition_cases, self.filing_date,
                 self.include_undecided, self.include_decided, self.challenge_ineligible, self.include_juvenile,
                 self.court, self.by_courthouse, self.bulk, self.per_case, self.compact, self.sealed_version,
                 self.public_version, *self.office_edits.values(), self.load_office_button, self.build_button, self.progress.cancel_button, self.document,
                 self.prev_button, self.next_button, self.preview, self.save_button, self.print_button,
                 self.open_button, self.folder_button]
        for a, b in zip(chain, chain[1:]):
            QWidget.setTabOrder(a, b)

        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(150)  # a burst of decisions asks for one count
        self._count_timer.timeout.connect(self.refresh_counts)

        session.workspace_changed.connect(self._on_workspace_changed)
        session.office_changed.connect(self.load_office)
        session.run_changed.connect(self._on_run_changed)
        session.decisions_changed.connect(lambda _ids: self._on_decisions_changed())
        session.runner.busy_changed.connect(lambda _b: self._update_enabled())
        self._on_posture_changed()
        self._on_workspace_changed()

    # -- state ------------------------------------------------------------------------------------

    def _on_workspace_changed(self) -> None:
        self.load_office()
        self._on_run_changed()

    def _on_run_changed(self) -> None:
        current = self.court.currentData()
        self.court.blockSignals(True)
        self.court.clear()
        self.court.addItem(ALL_COURTS, None)
        for name in self.session.run_courthouses():
            self.court.addItem(name, name)
        self.court.setCurrentIndex(max(0, self.court.findData(current)))
        self.court.blockSignals(False)
        self._clear_built()
        self._mark_counts_stale()
        self._update_heading()
        self._update_enabled()
        if self.posture.currentData() == "supplemental":
            self._on_posture_changed()  # the hint says what the run's reconciliation found

    def _on_decisions_changed(self) -> None:
        self._mark_built_stale("The decisions changed since these documents were built")
        self._mark_counts_stale()

    def _on_posture_changed(self, *_args) -> None:
        key = self.posture.currentData()
        self.doj_received.setEnabled(key == "doj_list")
        self.petition_filed.setEnabled(key == "petition")
        self.petition_cases.setEnabled(key == "petition")
        self.posture_hint.setText({
            None: "Choose what this filing is: the papers say it, with their dates.",
            "doj_list": "The office's response to DOJ's HS 11361.9 list. Give the date the list was received; a "
                        "response made after July 1, 2020 says so plainly.",
            "supplemental": "Convictions the DOJ list missed, found in the county's records (HS 11361.8; relief "
                            "beyond the statute on the People's motion, PC 1385).",
            "petition": "The office's response to one person's petition or application (HS 11361.8): give the "
                        "date it was filed and its court case number(s).",
        }[key] + (" " + self.session.supplemental_note() if key == "supplemental" else ""))
        self._on_options_changed()

    def filing_options(self, *, for_counting: bool = False) -> FilingOptions:
        """The filing's choices as the view shows them; InputError says what is still missing
        (the posture and what goes in are never assumed). ``for_counting`` fills gaps so the
        figures can be shown while the choices are being made."""
        key = self.posture.currentData()
        include = ("undecided" if self.include_undecided.isChecked() else
                   "decided" if self.include_decided.isChecked() else None)
        if not for_counting:
            missing = []
            if key is None:
                missing.append("the filing's posture")
            if include is None:
                missing.append("what goes in (proposals no attorney has overridden, or only decided ones)")
            if not (self.sealed_version.isChecked() or self.public_version.isChecked()):
                missing.append("at least one version (lodged under seal or public)")
            if missing:
                raise InputError("Choose " + " and ".join(missing) + " first.")
        elif key is None or (key == "doj_list" and _date_of(self.doj_received) is None) or (
                key == "petition" and (_date_of(self.petition_filed) is None or not self.petition_cases.text().strip())):
            key = "supplemental"
        versions = tuple(v for v, box in (("sealed", self.sealed_version), ("public", self.public_version))
                         if box.isChecked()) or ("sealed", "public")
        return FilingOptions(
            posture=key, doj_list_received=_date_of(self.doj_received), petition_filed=_date_of(self.petition_filed),
            petition_cases=tuple(c.strip() for c in self.petition_cases.text().split(",") if c.strip()),
            include=include or "undecided", challenge_ineligible=self.challenge_ineligible.isChecked(),
            include_juvenile=self.include_juvenile.isChecked(), compact=self.compact.isChecked(),
            filing_date=_date_of(self.filing_date), versions=versions)

    def _on_options_changed(self, *_args) -> None:
        self._mark_built_stale("The choices under “What to file” changed since these documents were built")
        self._mark_counts_stale()
        self._update_enabled()

    def _update_heading(self) -> None:
        run = self.session.run
        if run is None:
            self.heading.setText("<h2>Documents</h2><p>No screening run yet. Import an extract first; the "
                                 "documents are built from its results and the attorneys' decisions.</p>")
        else:
            self.heading.setText(
                f"<h2>Documents: {esc(run.county)}</h2><p>Motions for the court, a notice of challenge for the "
                "Public Defender, a cover report for the office and the court update file, built from this "
                f"run ({esc(run.profile_title)}, as of {run.as_of.isoformat()}) and the decisions recorded. "
                "Nothing is written until you save.</p>")

    def _update_enabled(self) -> None:
        s = self.session
        busy = s.runner.busy
        is_open = s.is_open
        for edit in self.office_edits.values():
            edit.setEnabled(is_open and not busy)
        self.load_office_button.setEnabled(is_open and not busy)
        has_run = s.run is not None
        for w in (self.court, self.bulk, self.per_case, self.build_button, self.posture, self.filing_date,
                  self.include_undecided, self.include_decided, self.challenge_ineligible, self.include_juvenile,
                  self.compact, self.sealed_version, self.public_version):
            w.setEnabled(has_run and not busy)
        self.by_courthouse.setEnabled(has_run and not busy and self.court.currentData() is None)
        built = self.doc_set is not None and bool(self.doc_set.documents)
        usable = built and not self._built_stale and not busy
        self.save_button.setEnabled(usable)
        self.print_button.setEnabled(usable)
        self.document.setEnabled(built)
        saved = built and self.doc_set.folder is not None
        self.open_button.setEnabled(saved and self.current_document() is not None
                                    and self.doc_set.saved_path(self.current_document()).is_file())
        self.folder_button.setEnabled(saved)
        self.record_button.setEnabled(usable and self._recorded is not self.doc_set)
        n, shown = self.preview.current_page(), self.preview.page_count_shown()
        self.prev_button.setEnabled(n > 1)
        self.next_button.setEnabled(0 < n < shown)

    # -- office details ----------------------------------------------------------------------------

    def load_office(self) -> None:
        office = self.session.office()
        for field_id, edit in self.office_edits.items():
            value = str(office.get(field_id) or "")
            edit.blockSignals(True)
            if isinstance(edit, _AddressEdit):
                if edit.toPlainText() != value:
                    edit.setPlainText(value)
            elif edit.text() != value:
                edit.setText(value)
            edit.blockSignals(False)
        self._show_office_problem("")
        self._update_office_hint()

    def _field_text(self, field_id: str) -> str:
        edit = self.office_edits[field_id]
        return edit.toPlainText() if isinstance(edit, _AddressEdit) else edit.text()

    def save_office_field(self, field_id: str) -> bool:
        """Save the field as typed (validated by the session); a refused value stays on screen
        with the reason, and the stored value is kept."""
        if not self.session.is_open:
            return False
        try:
            changed = self.session.set_office_field(field_id, self._field_text(field_id))
        except InputError as exc:
            self._show_office_problem(f"{exc} Not saved.")
            return False
        self._show_office_problem("")
        if changed:
            self._mark_built_stale("The office details changed since these documents were built")
        self._update_office_hint()
        return changed

    def _show_office_problem(self, text: str) -> None:
        self.office_error.setText(text)
        self.office_error.setVisible(bool(text))

    def _update_office_hint(self) -> None:
        if not self.session.is_open:
            self.office_hint.setText("Open a workspace to enter the office details.")
            return
        missing = missing_office_fields(self.session.office())
        proposed = [OFFICE_LABELS[k] for k in self.session.proposed_office_fields()]
        self.office_hint.setText(
            ("Still needed before building: " + ", ".join(missing) + ". " if missing else "")
            + ("Proposed from the workspace's county (edit if needed): " + ", ".join(proposed) + ". "
               if proposed else "")
            + "Each detail is saved in the workspace as soon as you leave its field. * required")

    def choose_office_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load the office details", "",
                                              "Office file (*.toml);;All files (*)")
        if path:
            self.load_office_file(Path(path))

    def load_office_file(self, path: Path) -> bool:
        try:
            self.session.load_office_file(path)
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return False
        self._mark_built_stale("The office details changed since these documents were built")
        return True

    # -- what goes in ------------------------------------------------------------------------------

    def _mark_counts_stale(self) -> None:
        self._counts_stale = True
        if self.isVisible():
            self._count_timer.start()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._counts_stale:
            self._count_timer.start()

    def refresh_counts(self) -> None:
        """Count what goes in on a reader (the count of a large run takes a moment)."""
        self._counts_stale = False
        try:
            options = self.filing_options(for_counting=True)
        except InputError:
            options = FilingOptions(posture="supplemental")
        if not self.session.count_for_filing(self.court.currentData(), self._show_counts,
                                             lambda m, d: task_failed(self, m, d), options=options):
            self.counts = None
            self.contents.setText("No screening run yet.")
            return
        if self.counts is None:
            self.contents.setText("Counting…")

    def _show_counts(self, counts: dict) -> None:
        self.counts = counts
        rows = [f"<tr><td colspan='2'><b>Exhibit A: relief requested</b></td>"
                f"<td align='right'><b>{counts['granted_total']:,}</b></td></tr>"]
        rows += [f"<tr><td width='12'></td><td>{esc(GROUP_TEXT.get(g, g))}</td><td align='right'>{n:,}</td></tr>"
                 for g, n in counts["granted"].items() if n]
        rows.append(f"<tr><td colspan='2'><b>Exhibit B: relief challenged</b></td>"
                    f"<td align='right'><b>{counts['challenged']:,}</b></td></tr>")
        rows.append(f"<tr><td colspan='2'><b>Left out, listed in the cover report</b></td>"
                    f"<td align='right'><b>{counts['left_out_total']:,}</b></td></tr>")
        rows += [f"<tr><td></td><td>{esc(LEFT_OUT_TEXT[k])}</td><td align='right'>{n:,}</td></tr>"
                 for k, n in counts["left_out"].items() if n]
        where = self.court.currentData()
        chosen = self.include_undecided.isChecked() or self.include_decided.isChecked()
        unreviewed = counts.get("unreviewed_filed", 0)
        lead = ("" if chosen else
                "<p><b>Choose what goes in above.</b> The figures below are those of the first choice.</p>")
        self.contents.setText(
            lead + "<table cellspacing='0' cellpadding='3'>" + "".join(rows) + "</table>"
            f"<p>{counts['total']:,} convictions screened{' at ' + esc(where) if where else ''}. "
            f"Of the {counts['granted_total'] + counts['challenged']:,} convictions that would be filed, "
            f"<b>{unreviewed:,}</b> {'has' if unreviewed == 1 else 'have'} no attorney decision; "
            f"{counts.get('challenged_by_attorney', 0):,} of the {counts['challenged']:,} challenges were made or "
            f"accepted by an attorney.</p>")

    # -- build --------------------------------------------------------------------------------------

    def build(self) -> Task | None:
        # a field being edited is saved first (its editingFinished may not have fired yet)
        focused = self.focusWidget()
        for field_id, edit in self.office_edits.items():
            if edit is focused:
                self.save_office_field(field_id)
        try:
            task = self.session.build_documents(options=self.filing_options(),
                                                courthouse=self.court.currentData(),
                                                by_courthouse=self.by_courthouse.isChecked(),
                                                per_case=self.per_case.isChecked())
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return None
        task.succeeded.connect(self.show_documents)
        task.failed.connect(lambda m, d: task_failed(self, m, d))
        self.progress.follow(task)
        self.status.setText("")
        return task

    def show_documents(self, doc_set: DocumentSet) -> None:
        self.doc_set = doc_set
        self._built_stale = False
        self._show_counts(doc_set.counts)
        self.document.blockSignals(True)
        self.document.clear()
        for doc in doc_set.documents:
            self.document.addItem(f"{doc.title} ({doc.file_name}, {doc.pages:,} pages)", doc.file_name)
        self.document.blockSignals(False)
        self.document.setCurrentIndex(0)
        self._show_document()
        files = doc_set.file_names
        shown = [f for f in files if not f.startswith("per-case/")]
        per_case = len(files) - len(shown)
        self.notes.setText(" ".join(esc(n) for n in doc_set.notes)
                           + (" " if doc_set.notes else "") + "Built in memory: " + esc(", ".join(shown))
                           + (f" and {per_case:,} per-case files" if per_case else "")
                           + f". Audit record {esc(doc_set.request.audit_head[:16])}… is printed on each page.")
        self._update_enabled()

    def current_document(self) -> BuiltDocument | None:
        if self.doc_set is None:
            return None
        i = self.document.currentIndex()
        return self.doc_set.documents[i] if 0 <= i < len(self.doc_set.documents) else None

    def _show_document(self, *_args) -> None:
        doc = self.current_document()
        if doc is None:
            self.preview.set_pages([], 0)
        else:
            self.preview.set_pages(doc.preview, doc.pages, doc.title)
        self._update_enabled()

    def _on_page_changed(self, number: int) -> None:
        doc = self.current_document()
        self.page_label.setText(f"Page {number} of {doc.pages:,}" if doc is not None and number else "")
        self._update_enabled()

    def _clear_built(self) -> None:
        self.doc_set = None
        self._built_stale = False
        self.document.clear()
        self.preview.set_pages([], 0)
        self.notes.setText("")
        self.status.setText("")
        self.files_list.hide()
        self._update_enabled()

    def _mark_built_stale(self, why: str) -> None:
        if self.doc_set is None or self._built_stale:
            return
        self._built_stale = True
        self.status.setText(f"<b>{esc(why)}.</b> Build again before saving or printing.")
        self._update_enabled()

    # -- save, print, open ---------------------------------------------------------------------------

    def proposed_folder(self) -> Path:
        """Where Save opens: this workspace's documents folder once chosen, else the user's
        Documents folder, never the folder the records were imported from."""
        chosen = self.session.documents_folder()
        if chosen is not None and chosen.is_dir():
            return chosen
        docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        return Path(docs or Path.home())

    def save(self) -> None:
        if self.doc_set is None:
            return
        folder = QFileDialog.getExistingDirectory(
            self, "Folder for this workspace's filings (chosen once; Save opens here next time)",
            str(self.proposed_folder()))
        if folder:
            self.session.set_documents_folder(Path(folder))
            self.save_to(Path(folder))

    def save_to(self, folder: Path, *, confirm: bool = True) -> Task | None:
        doc_set = self.doc_set
        if doc_set is None or self._built_stale:
            return None
        names = doc_set.file_names
        existing = [n for n in names if (folder / n).exists()]
        if existing and confirm:
            listed = ", ".join(existing[:8]) + (f" and {len(existing) - 8:,} more" if len(existing) > 8 else "")
            answer = QMessageBox.question(
                self, "Replace files?", f"{folder} already holds {listed}. Replace "
                f"{'it' if len(existing) == 1 else 'them'}?")
            if answer != QMessageBox.StandardButton.Yes:
                return None
        try:
            task = self.session.save_documents(doc_set, folder)
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return None

        def saved(paths: list) -> None:
            doc_set.folder = folder
            self.status.setText(f"Saved {len(paths):,} files in {esc(folder)}; each is listed below.")
            self.files_list.setPlainText("\n".join(str(Path(p).relative_to(folder)) for p in paths))
            self.files_list.show()
            self._update_enabled()

        task.succeeded.connect(saved)
        task.failed.connect(lambda m, d: task_failed(self, m, d))
        self.progress.follow(task)
        return task

    def record_filing(self, *, court: str | None = None, filed_on: date | None = None,
                      note: str | None = None, ask: bool = True) -> Task | None:
        """Record the built documents as filed (asks the court and the date unless given)."""
        doc_set = self.doc_set
        if doc_set is None or self._built_stale or not doc_set.documents:
            return None
        if ask:
            dialog = RecordFilingDialog(self, court=court or self.session.office().get("court") or "",
                                        count=doc_set.counts.get("total", 0) if isinstance(doc_set.counts, dict) else 0,
                                        files=len(doc_set.file_names))
            self.record_dialog = dialog
            accepted = dialog.exec() == QDialog.DialogCode.Accepted
            court, filed_on, note = dialog.values()
            self.record_dialog = None
            dialog.deleteLater()
            if not accepted:
                return None
        try:
            task = self.session.record_filing(doc_set, court=court or "", filed_on=filed_on or date.today(), note=note)
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return None

        def recorded(filing_id: int) -> None:
            self._recorded = doc_set
            self.status.setText(f"Recorded as filing {filing_id}: these convictions now show as filed. Record the "
                                "court's ruling with File > Import Court Rulings… or on the command line "
                                "(clearrec filings ruling).")
            self._update_enabled()

        task.succeeded.connect(recorded)
        task.failed.connect(lambda m, d: task_failed(self, m, d))
        self.progress.follow(task)
        return task

    def print_document(self) -> None:
        doc = self.current_document()
        if doc is None or self._built_stale:
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        prepare_printer(printer, doc.file_name)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle(f"Print {doc.file_name}")
        dialog.setOption(QPrintDialog.PrintDialogOption.PrintPageRange, True)
        dialog.setMinMax(1, doc.pages)
        accepted = dialog.exec() == QPrintDialog.DialogCode.Accepted
        dialog.deleteLater()
        if accepted:
            self.print_to(printer)

    def print_to(self, printer: QPrinter) -> Task | None:
        """Print the document shown on ``printer`` (already set up: the dialog, or a test's PDF file)."""
        doc = self.current_document()
        if doc is None or self._built_stale:
            return None
        try:
            task = self.session.print_document(self.doc_set, doc, printer)
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return None

        def printed(pages: int) -> None:
            self.last_print_pages = pages
            self.status.setText(f"Sent {pages:,} page{'s' if pages != 1 else ''} of {esc(doc.file_name)} "
                                "to the printer.")

        task.succeeded.connect(printed)
        task.failed.connect(lambda m, d: task_failed(self, m, d))
        self.progress.follow(task)
        return task

    def open_in_viewer(self) -> bool:
        doc = self.current_document()
        path = self.doc_set.saved_path(doc) if doc is not None else None
        if path is None or not path.is_file():
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def open_folder(self) -> bool:
        if self.doc_set is None or self.doc_set.folder is None:
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.doc_set.folder)))
