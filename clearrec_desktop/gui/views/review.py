"""Review: the queue of screened convictions, the case explanation with its evidence, decisions."""

from __future__ import annotations

import polars as pl
from PySide6.QtCore import QModelIndex, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import InputError
from ...core.screen import screening
from ...core.workspace.filings import status_sentence
from ..dialogs import BulkDecisionDialog, DecisionDialog, ErrorDialog, NoteDialog
from ..models import (
    DECISION_STATUSES,
    PROGRESS_FILTERS,
    PROVENANCE_FILTERS,
    REVIEW_COLUMNS,
    REVIEW_KEEP,
    ROW_ID,
    Column,
    FrameModel,
    decision_columns,
    decision_label,
    progress_columns,
    review_filter,
    review_frame,
)
from ..session import Session
from ..widgets.common import ANY, OUTCOME_TEXT, RELIEF_TEXT, configure_table, esc, local_time

# Mnemonics E and P: the dialog's Record (R), Reason (S) and Notes (N) keep theirs.
GROUNDS = [("not_eligible", "Not &eligible under HS 11361.8"),
           ("public_safety", "Unreasonable risk to &public safety (PC 1170.18(c))")]

DECISION_WORDS = {"accept": "accept the proposal", "dismiss": "dismiss and seal", "reduce": "reduce",
                  "challenge": "challenge", "defer": "defer"}


def reason_prompt(decision: str, proposed: str | None) -> str:
    """The reason's label, in words that fit the decision (with its mnemonic)."""
    was = OUTCOME_TEXT.get(proposed or "", proposed or "none").lower()
    if decision == "challenge":
        return f"Rea&son for the challenge (required; the proposal was {was}):"
    return f"Why {DECISION_WORDS.get(decision, decision)} rather than {was}? Rea&son (required):"


def event_sentence(e: dict) -> str:
    """One decision-history event as a sentence (no internal ids)."""
    if e["kind"] == "decision":
        proposed = OUTCOME_TEXT.get(e.get("proposed") or "", e.get("proposed") or "no proposal")
        d = e["decision"]
        if d == "accept":
            text = f"accepted the proposal ({proposed.lower()})"
        elif d == "challenge":
            ground = {"not_eligible": "not eligible under HS 11361.8",
                      "public_safety": "unreasonable risk to public safety"}.get(e.get("ground") or "", "")
            text = f"challenged the conviction{': ' + ground if ground else ''} (proposal: {proposed.lower()})"
        elif d == "defer":
            text = "deferred the decision"
        else:
            text = f"decided to {DECISION_WORDS.get(d, d)} (proposal: {proposed.lower()})"
        return text
    return {"undo": "undid the decision", "redo": "redid the decision"}.get(e["kind"], e["kind"])


HISTORY_COLUMNS = [
    Column("_this", "This", 38),
    Column("_evidence", "Evidence", 64),
    Column("_cannabis", "Cannabis", 66),
    Column("cycle_date", "Cycle date", 88),
    Column("step_type", "Step", 150),
    Column("step_date", "Step date", 88),
    Column("county", "County", 110),
    Column("courthouse", "Court or agency", 190),
    Column("court_case_number", "Case", 90),
    Column("count_key", "Count", 100),
    Column("offence_text", "Offense", 210),
    Column("level", "Level", 44),
    Column("disposition", "Disposition", 170),
    Column("_sentence", "Sentence", 110),
    Column("_ref", "Record line", 120),
]

# The decision actions: (decision id, menu text, key, alternative key with Ctrl for the menu bar).
DECISION_ACTIONS = [
    ("accept", "&Accept proposal", "A"),
    ("dismiss", "&Dismiss", "D"),
    ("reduce", "&Reduce", "R"),
    ("challenge", "&Challenge…", "C"),
    ("defer", "De&fer", "F"),
]


def history_frame(rows: pl.DataFrame, subject_id: str, count_key: str | None,
                  court_case: str | None, evidence: str | None) -> pl.DataFrame:
    """Every row of one person's record, in record order, marked for the timeline."""
    from ...core.ingest.normalise import CANNABIS_SECTIONS

    refs = [r for r in (evidence or "").split(";") if r]
    ref = pl.concat_str([pl.col("source_file"), pl.lit(":"), pl.col("source_line").cast(pl.String)])
    cannabis = pl.col("section_num").is_in(CANNABIS_SECTIONS).fill_null(False)
    this = (pl.col("count_key") == (count_key or "")) & pl.col("court_case_number").eq_missing(court_case)
    sentence = pl.concat_str([pl.col("sent_type"), pl.col("sent_length").cast(pl.String), pl.col("sent_unit")],
                             separator=" ", ignore_nulls=True)
    # the person's rows, and any row the evidence cites from another subject id (a possible duplicate)
    return (rows.filter((pl.col("subject_id") == subject_id) | ref.is_in(refs))
            .sort("cycle", "step", "count_key", "source_file", "source_line", nulls_last=True)
            .with_columns(
                ref.alias("_ref"),
                ref.is_in(refs).alias("_hl"),
                cannabis.alias("_bold"),
                pl.when(cannabis).then(pl.lit("yes")).otherwise(pl.lit("")).alias("_cannabis"),
                pl.when(ref.is_in(refs)).then(pl.lit("●")).otherwise(pl.lit("")).alias("_evidence"),
                pl.when(this.fill_null(False)).then(pl.lit("▶")).otherwise(pl.lit("")).alias("_this"),
                sentence.alias("_sentence"),
            ))


class ReviewView(QWidget):
    """The review queue: the results table with filters and search, and the case in detail."""

    title = "Review"

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.model = FrameModel(REVIEW_COLUMNS, self, keep=REVIEW_KEEP)
        self._results: pl.DataFrame | None = None
        self._current_rid: int | None = None

        # filters
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search name, CII or case number")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search name, CII or case number")
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(250)  # filter once typing pauses, not on every key
        self._search_timer.timeout.connect(self.apply_filters)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.search.returnPressed.connect(self._search_now)
        self.filters: dict[str, QComboBox] = {}
        filter_row = QHBoxLayout()
        for key, label in [("outcome", "Outcome"), ("flag", "Flag"), ("section", "Section"),
                           ("courthouse", "Courthouse"), ("decade", "Decade"), ("status", "Decision"),
                           ("progress", "Progress")]:
            combo = QComboBox()
            combo.setAccessibleName(f"Filter by {label.lower()}")
            combo.setToolTip(f"Show only convictions with this {label.lower()}")
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)
            combo.currentIndexChanged.connect(self.apply_filters)
            self.filters[key] = combo
            box = QVBoxLayout()
            lab = QLabel(label)
            lab.setBuddy(combo)
            box.addWidget(lab)
            box.addWidget(combo)
            filter_row.addLayout(box)
        # a reconciliation's source of each conviction (issue 15), beside the search box so the
        # filter row keeps its width
        source = self.filters["provenance"] = QComboBox()
        source.setAccessibleName("Filter by source")
        source.setToolTip("After a reconciliation: show only convictions found in the county's records only, on "
                          "DOJ's list only, or in both")
        source.currentIndexChanged.connect(self.apply_filters)
        self.bulk_button = QPushButton("Accept &proposals…")
        self.bulk_button.setAccessibleName("Accept the proposals of the selected cases, or of all cases shown")
        self.bulk_button.setToolTip("Select several rows (Shift or Ctrl + click) to accept those; with one row "
                                    "selected, every case the filters show is offered.")
        self.bulk_button.clicked.connect(lambda _c=False: self.bulk_accept())
        self.clear_button = QPushButton("C&lear filters")
        self.clear_button.setAccessibleName("Clear filters and search")
        self.clear_button.clicked.connect(self.clear_filters)

        self.table = QTableView()
        configure_table(self.table, self.model, "Convictions to review", sortable=True)
        # several rows can be selected for a bulk accept; the current row is the case shown
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_changed)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._update_bulk_button())
        self.count_label = QLabel()
        self.count_label.setAccessibleName("Number of convictions shown")
        # a large table sorts in the background: say so, and follow the current case when done
        self.model.sorting.connect(self._on_sorting)

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        search_row = QHBoxLayout()
        search_row.addWidget(self.search, 1)
        source_label = QLabel("S&ource:")
        source_label.setBuddy(self.filters["provenance"])
        search_row.addWidget(source_label)
        search_row.addWidget(self.filters["provenance"])
        # the buttons sit beside the search, not in the filter row, so the whole window fits a
        # 1366-pixel-wide laptop screen (issue 17.4)
        search_row.addWidget(self.clear_button)
        search_row.addWidget(self.bulk_button)
        ll.addLayout(search_row)
        ll.addLayout(filter_row)
        ll.addWidget(self.table, 1)
        ll.addWidget(self.count_label)

        # the case
        self.detail = QTextBrowser()
        self.detail.setOpenLinks(False)
        self.detail.setOpenExternalLinks(False)
        self.detail.setAccessibleName("Case detail")
        self.detail.setMinimumWidth(340)
        self.actions: dict[str, QAction] = {}
        self.decision_buttons: list[QPushButton] = []
        buttons = QGridLayout()
        for i, (decision, text, key) in enumerate(DECISION_ACTIONS):
            action = QAction(text, self)
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.setToolTip(f"{text.replace('&', '')} ({key})")
            action.triggered.connect(lambda _c=False, d=decision: self.decide(d))
            self.actions[decision] = action
            button = QPushButton(f"{text.replace('&', '')}  [{key}]")
            button.setAccessibleName(text.replace("&", "").replace("…", ""))
            button.clicked.connect(action.trigger)
            action.changed.connect(lambda b=button, a=action: b.setEnabled(a.isEnabled()))
            buttons.addWidget(button, i // 3, i % 3)
            self.decision_buttons.append(button)
        for name, text, keys, step in [("previous", "&Previous case", ["K", "Ctrl+Up"], -1),
                                       ("next", "&Next case", ["J", "Ctrl+Down"], 1)]:
            action = QAction(text, self)
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(lambda _c=False, s=step: self.move(s))
            self.actions[name] = action
        note = QAction("Add &note…", self)
        note.setShortcut(QKeySequence("N"))
        note.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        note.triggered.connect(self.add_note)
        self.actions["note"] = note
        note_button = QPushButton("Note…  [N]")
        note_button.setAccessibleName("Add a note to this case")
        note_button.clicked.connect(note.trigger)
        note.changed.connect(lambda: note_button.setEnabled(note.isEnabled()))
        buttons.addWidget(note_button, 1, 2)
        self.decision_buttons.append(note_button)
        self.decision_hint = QLabel("Keys: A accept · D dismiss · R reduce · C challenge · F defer · N note · "
                                    "J/K next/previous · Ctrl+Z undo")
        self.decision_hint.setWordWrap(True)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.detail, 1)
        decide_box = QGroupBox("Decision")
        dl = QVBoxLayout(decide_box)
        dl.addLayout(buttons)
        # the keys are on the buttons and in Help > Keyboard Shortcuts; the hint's line is given
        # to the case text at small screen heights (issue 17.4) and shown when there is room
        dl.addWidget(self.decision_hint)
        decide_box.setToolTip(self.decision_hint.text())
        rl.addWidget(decide_box)

        self.history_model = FrameModel(HISTORY_COLUMNS, self, highlight="_hl", bold="_bold")
        self.history = QTableView()
        configure_table(self.history, self.history_model, "Record history of the person")
        # The single-key decision shortcuts work where the case is read: the queue, the detail
        # and the history; not in the search box or the filters, where letters are typed.
        for action in self.actions.values():
            for widget in (self.table, self.detail, self.history):
                widget.addAction(action)
        self.history.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        history_box = QGroupBox("Whole record (every cycle, step and count, all counties)")
        hl = QVBoxLayout(history_box)
        legend = QLabel("▶ this conviction · ● evidence for the outcome (highlighted) · "
                        "bold: cannabis counts")
        legend.setWordWrap(True)
        hl.addWidget(legend)
        hl.addWidget(self.history)

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(left)
        top.addWidget(right)
        top.setStretchFactor(0, 1)
        top.setStretchFactor(1, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("reviewSplitter")
        self.splitter.addWidget(top)
        self.splitter.addWidget(history_box)
        # the case (proposal, reasons, evidence) gets most of the height, so it reads without
        # scrolling at 1366x768; the person's whole record takes the rest (issue 17.4)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([600, 150])
        self.top_splitter = top
        top.setObjectName("reviewTopSplitter")
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)

        QWidget.setTabOrder(self.search, self.filters["outcome"])
        order = list(self.filters.values())
        for a, b in zip(order, order[1:]):
            QWidget.setTabOrder(a, b)
        QWidget.setTabOrder(order[-1], self.clear_button)
        QWidget.setTabOrder(self.clear_button, self.table)
        QWidget.setTabOrder(self.table, self.detail)
        chain = [self.detail, *self.decision_buttons, self.history]
        for a, b in zip(chain, chain[1:]):
            QWidget.setTabOrder(a, b)

        session.run_changed.connect(self.load_run)
        session.decisions_changed.connect(self._on_decisions_changed)
        session.filings_changed.connect(self._on_filings_changed)
        session.runner.busy_changed.connect(lambda _b: self._update_actions())
        session.workspace_changed.connect(self._update_actions)
        self.load_run()

    # -- data ------------------------------------------------------------------------------------

    def load_run(self) -> None:
        run = self.session.run
        self._results = run.results if run is not None else None
        frame = review_frame(run.results, self.session.decisions, self.session.filed) if run is not None else None
        self._current_rid = None
        self.model.set_frame(frame)
        self._fill_filters(frame)
        self.apply_filters()

    def _fill_filters(self, frame: pl.DataFrame | None) -> None:
        def fill(key: str, items: list[tuple[str, str]]) -> None:
            combo = self.filters[key]
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(ANY, None)
            for text, data in items:
                combo.addItem(text, data)
            combo.blockSignals(False)

        if frame is None or frame.height == 0:
            for key in self.filters:
                fill(key, [])
            return
        fill("outcome", [(OUTCOME_TEXT.get(o, o), o) for o in ("dismiss", "reduce", "review", "ineligible")])
        flags = (frame.select(pl.col("flags").fill_null("").str.split(";")).explode("flags")
                 .filter(pl.col("flags") != "").get_column("flags").unique().sort().to_list())
        fill("flag", [(screening.FLAGS.get(f, f), f) for f in flags])
        fill("section", [(s, s) for s in frame.get_column("code_section").drop_nulls().unique().sort().to_list()])
        fill("courthouse", [(c, c) for c in frame.get_column("courthouse").drop_nulls().unique().sort().to_list()])
        fill("decade", [(d, d) for d in frame.get_column("_decade").unique().sort().to_list()])
        fill("status", [(s, s) for s in DECISION_STATUSES])
        fill("progress", list(PROGRESS_FILTERS))
        fill("provenance", list(PROVENANCE_FILTERS) if frame.get_column("_provenance").null_count() < frame.height else [])

    def filter_expr(self) -> pl.Expr | None:
        values = {k: c.currentData() for k, c in self.filters.items()}
        return review_filter(text=self.search.text(), **values)

    def _search_now(self) -> None:
        self._search_timer.stop()
        self.apply_filters()
        if self.model.rowCount():
            self.table.setFocus()

    def apply_filters(self) -> None:
        keep = self._current_rid
        self.model.set_filter(self.filter_expr())
        self._update_count()
        row = self.model.row_of(keep) if keep is not None else -1
        self.select_row(row if row >= 0 else 0)

    def _update_count(self) -> None:
        total = self.model.frame().height
        shown = self.model.rowCount()
        sorting = " · sorting…" if self.model.is_sorting() else ""
        self.count_label.setText(f"{shown:,} of {total:,} convictions shown{sorting}")

    def _on_sorting(self, busy: bool) -> None:
        self._update_count()
        if not busy and self.table.currentIndex().isValid():
            self.table.scrollTo(self.table.currentIndex())

    def clear_filters(self) -> None:
        for combo in self.filters.values():
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.apply_filters()

    # -- the current case --------------------------------------------------------------------------

    def select_row(self, row: int) -> None:
        if not 0 <= row < self.model.rowCount():
            self.table.setCurrentIndex(QModelIndex())
            self._show_case(None)
            return
        index = self.model.index(row, 0)
        same = self.table.currentIndex().row() == row and self.model.row_id(row) == self._current_rid
        self.table.selectionModel().setCurrentIndex(
            index, self.table.selectionModel().SelectionFlag.ClearAndSelect
            | self.table.selectionModel().SelectionFlag.Rows)
        self.table.scrollTo(index)
        if same:  # otherwise currentRowChanged has shown it already
            self._show_case(row)

    def show_conviction(self, conviction_id: str) -> bool:
        """Select a conviction if it is shown (after an undo, for instance)."""
        hit = self.model.frame().filter(pl.col("conviction_id") == conviction_id)
        if hit.height == 0:
            return False
        row = self.model.row_of(hit.item(0, ROW_ID))
        if row < 0:
            return False
        self.select_row(row)
        return True

    def move(self, step: int) -> None:
        row = self.table.currentIndex().row()
        self.select_row(min(max(row + step, 0), self.model.rowCount() - 1))

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = current.row() if current.isValid() else None
        if row is not None and self.model.row_id(row) == self._current_rid:
            return  # the same case moved (a re-sort): nothing to redraw
        self._show_case(row)

    def current_record(self) -> dict | None:
        if self._current_rid is None or self._results is None:
            return None
        return self._results.row(self._current_rid, named=True)

    def current_conviction_id(self) -> str | None:
        record = self.current_record()
        return record["conviction_id"] if record else None

    def _show_case(self, row: int | None) -> None:
        rid = self.model.row_id(row) if row is not None else None
        self._current_rid = rid
        record = self.current_record()
        if record is None:
            self.detail.setHtml("<p>No conviction selected.</p>" if self._results is not None
                                else "<p>No screening run yet. Import an extract first.</p>")
            self.history_model.set_frame(None)
            self._update_actions()
            return
        self.detail.setHtml(self.case_html(record))
        rows = self.session.person_rows(record["subject_id"])
        frame = history_frame(rows, record["subject_id"], record["count_key"], record["court_case_number"],
                              record["evidence"])
        self.history_model.set_frame(frame)
        first = frame.select(pl.arg_where(pl.col("_hl"))).to_series()
        if first.len():
            self.history.scrollTo(self.history_model.index(self.history_model.row_of(int(first[0])), 0),
                                  QAbstractItemView.ScrollHint.PositionAtCenter)
        self._update_actions()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self.decision_hint.setVisible(self.height() >= 720)

    def case_html(self, r: dict) -> str:
        """The case as the attorney reads it: the proposal, why, and the rows it rests on first
        (readable without scrolling at 1366x768), then what the record leaves in doubt and what
        each answer would give, then the conviction, the person, flags and decisions."""
        rows = self.session.person_rows(r["subject_id"])
        relief = RELIEF_TEXT.get(r.get("relief") or "", "")
        reasons = [x.strip() for x in (r.get("reasons") or "").split(" | ") if x.strip()]
        items = []
        for text in reasons:
            cite = ""
            if text.endswith("]") and "[" in text:
                text, cite = text[: text.rfind("[")].strip(), text[text.rfind("[") + 1:-1]
            items.append(f"<li>{esc(text)}{f' <i>[{esc(cite)}]</i>' if cite else ''}</li>")
        evidence = [e for e in (r.get("evidence") or "").split(";") if e]
        track = {"petition": "still serving the sentence: relief by petition (HS 11361.8(a))",
                 "application": "sentence completed: relief by application (HS 11361.8(e))"}.get(
                     r.get("relief_track") or "", "")
        outcome = (
            f"<h3>Proposed: {esc(OUTCOME_TEXT.get(r['outcome'], r['outcome']))}"
            f"{' (' + esc(relief) + ')' if relief else ''}</h3>"
            f"<ol style='margin-top:0'>{''.join(items)}</ol>"
            + (f"<p>{esc(track[:1].upper() + track[1:])}.</p>" if track else "")
            + f"<p><b>Rows behind it</b> (highlighted in the record below): "
              f"{esc(', '.join(evidence)) if evidence else 'none'}</p>")
        conviction = (
            f"<h3>{esc(r['code_section'])} {esc(r['level'] or '')} · case {esc(r['court_case_number'])}</h3>"
            f"<p>{esc(r['courthouse'])}, convicted {esc(r['conviction_date'] or 'on a date the record does not give')}"
            f"{' · ' + esc(r['qualifier']) if r.get('qualifier') else ''}"
            f" · as recorded: {esc(r['code_section_original'])}</p>")
        names = (rows.filter(pl.col("subject_id") == r["subject_id"]).get_column("name")
                 .drop_nulls().unique().sort().to_list())
        akas = [n for n in names if n != r["name"]]
        person = (
            f"<h3>{esc(r['name'])}</h3>"
            f"<table cellspacing='2'>"
            f"<tr><td>Other names</td><td>{esc(', '.join(akas)) or 'none recorded'}</td></tr>"
            f"<tr><td>Date of birth</td><td>{esc(r['dob'] or 'unknown')}</td></tr>"
            f"<tr><td>CII</td><td>{esc(r['cii_number'])}</td></tr>"
            f"<tr><td>Race</td><td>{esc(r['race'])}</td></tr>"
            f"<tr><td>Gender</td><td>{esc(r['gender'])}</td></tr>"
            f"<tr><td>DOJ subject id</td><td>{esc(r['subject_id'])}</td></tr></table>")
        flags = [f for f in (r.get("flags") or "").split(";") if f]
        flags_html = ("<h4>Flags</h4><ul>" + "".join(f"<li>{esc(screening.FLAGS.get(f, f))}</li>" for f in flags)
                      + "</ul>") if flags else "<p>No flags.</p>"
        return (outcome + self.doubt_html(r) + "<hr>" + conviction + flags_html + "<hr>" + person + "<hr>"
                + self.decisions_html(r["conviction_id"]) + self.filing_html(r["conviction_id"]))

    def filing_html(self, conviction_id: str) -> str:
        """Where the conviction is after filing: filed, ruled, reported to DOJ (issue 16)."""
        filed = self.session.filed
        if not filed.height or "conviction_id" not in filed.columns:
            return ""
        hit = filed.filter(pl.col("conviction_id") == conviction_id)
        if not hit.height:
            return ""
        row = hit.row(0, named=True)
        return f"<h4>Court</h4><p>{esc(status_sentence(row))} (Filing {row['filing_id']}.)</p>"

    def doubt_html(self, r: dict) -> str:
        """What the record holds where it leaves a fact in doubt, and the outcome each answer gives."""
        quality = r.get("conviction_date_quality")
        if quality in (None, "full"):
            return ""
        rows = self.session.person_rows(r["subject_id"])
        mine = rows.filter((pl.col("subject_id") == r["subject_id"]) & (pl.col("count_key") == r["count_key"])
                           & pl.col("court_case_number").eq_missing(r.get("court_case_number")))
        year = next((y for y in mine.get_column("conviction_year").to_list() if y), None) if mine.height else None
        cycle = r.get("cycle_date")
        held = []
        if quality == "partial":
            held.append(f"the conviction date is partial: only the year {year} is recorded" if year
                        else "the conviction date is partial")
        elif quality == "invalid":
            held.append("the conviction date recorded is not a real date")
        else:
            held.append("no conviction date is recorded")
        if cycle:
            held.append(f"the arrest cycle is dated {cycle}, so the conviction is on or after it")
        dispositions = sorted({d for d in mine.get_column("disposition").to_list() if d}) if mine.height else []
        if dispositions:
            held.append("disposition recorded: " + ", ".join(dispositions))
        answers = self.session.date_alternatives(r)
        lines = "".join(f"<li>If the conviction was {esc(when)}: <b>{esc(OUTCOME_TEXT.get(o, o).lower())}</b></li>"
                        for when, o in answers)
        return ("<h4>What the record leaves in doubt</h4><p>" + esc("; ".join(held)).capitalize() + ".</p>"
                + (f"<p>Once the court file gives the date:</p><ul>{lines}</ul>" if lines else ""))

    def decisions_html(self, conviction_id: str) -> str:
        history = self.session.decision_history(conviction_id)
        current = next((e for e in reversed(history) if e.get("effective")), None)
        head = (f"<h3>Decision: {esc(decision_label(current['decision'], current['ground'], current['proposed']))}</h3>"
                if current else "<h3>Decision: none yet</h3>")
        if not history:
            return head
        items = []
        for e in history:
            extra = "".join(f"<br><i>{label}:</i> {esc(e[key])}" for key, label in
                            (("reason", "reason"), ("notes", "notes")) if e.get(key))
            items.append(f"<li>{esc(local_time(e['at']))}: {esc(e['reviewer'])} "
                         f"<b>{esc(event_sentence(e))}</b>.{extra}</li>")
        notes = self.session.notes(conviction_id)
        notes_html = ("<h4>Notes</h4><ul>" + "".join(
            f"<li>{esc(local_time(n['at']))}: {esc(n['author'])}: {esc(n['text'])}</li>" for n in notes)
            + "</ul>") if notes else ""
        return head + "<h4>History</h4><ul>" + "".join(items) + "</ul>" + notes_html

    def _update_actions(self) -> None:
        record = self.current_record()
        ready = record is not None and self.session.is_open and not self.session.runner.busy
        for key, action in self.actions.items():
            if key in ("next", "previous"):
                action.setEnabled(self.model.rowCount() > 0)
            elif key == "accept":
                # "review" proposes nothing to accept: the attorney chooses the outcome.
                action.setEnabled(ready and record["outcome"] != "review")
            else:
                action.setEnabled(ready)

    # -- decisions -----------------------------------------------------------------------------------

    def decide(self, decision: str, *, reason: str | None = None, ground: str | None = None,
               notes: str | None = None, ask: bool = True) -> bool:
        """Record ``decision`` on the current case; asks for a reason (and ground) only when the
        decision needs one: a departure from the proposal, or a challenge."""
        record = self.current_record()
        if record is None or not self.actions[decision].isEnabled():
            return False
        cid = record["conviction_id"]
        needs_reason = self.session.departs(decision, record["outcome"])
        if ask and (needs_reason or decision == "challenge"):
            proposed = OUTCOME_TEXT.get(record["outcome"], record["outcome"])
            dialog = DecisionDialog(
                self, title=f"{DECISION_WORDS.get(decision, decision).capitalize()}: case "
                            f"{record['court_case_number']}",
                summary=(f"Proposed: <b>{esc(proposed)}</b>. Your decision: "
                         f"<b>{esc(DECISION_WORDS.get(decision, decision))}</b>."),
                reason_required=needs_reason, grounds=GROUNDS if decision == "challenge" else (),
                reason_prompt=reason_prompt(decision, record["outcome"]) if needs_reason else "")
            self.decision_dialog = dialog
            accepted = dialog.exec() == DecisionDialog.DialogCode.Accepted
            reason, ground, notes = dialog.values()
            self.decision_dialog = None
            dialog.deleteLater()
            if not accepted:
                return False
        try:
            self.session.decide(cid, decision, reason=reason or None, ground=ground, notes=notes or None)
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return False
        if QSettings().value("review/advance", True, type=bool):
            self.move(1)
        return True

    def add_note(self) -> None:
        record = self.current_record()
        if record is None or not self.actions["note"].isEnabled():
            return
        dialog = NoteDialog(self, f"case {record['court_case_number'] or '(no number)'}")
        self.note_dialog = dialog
        ok = dialog.exec() == NoteDialog.DialogCode.Accepted
        text = dialog.value()
        self.note_dialog = None
        dialog.deleteLater()
        if ok and text:
            try:
                self.session.add_note(record["conviction_id"], text)
            except InputError as exc:
                ErrorDialog.show_error(self, str(exc))

    # -- bulk accept -----------------------------------------------------------------------------

    def selected_rows(self) -> list[int]:
        return sorted({i.row() for i in self.table.selectionModel().selectedRows()})

    def filter_description(self) -> str:
        """The current filters in words ("outcome Dismiss and seal, section HS 11357(a)")."""
        parts = [f"{key if key != 'status' else 'decision'} {combo.currentText()}"
                 for key, combo in self.filters.items() if combo.currentData() is not None]
        if self.search.text().strip():
            parts.append(f"search “{self.search.text().strip()}”")
        return ", ".join(parts)

    def bulk_scope(self) -> tuple[pl.DataFrame, str]:
        """The cases a bulk accept would cover, and how they were chosen: the selected rows when
        several are selected, else every case the filters show."""
        rows = self.selected_rows()
        view = self.model.view_frame()
        if len(rows) > 1:
            ids = [self.model.row_id(r) for r in rows]
            chosen = view.filter(pl.col(ROW_ID).is_in(ids))
            return chosen, f"the {len(rows):,} rows selected in the review table"
        described = self.filter_description()
        return view, (f"all {view.height:,} cases shown by the current filter ({described})" if described
                      else f"all {view.height:,} cases in the review table (no filter)")

    def _update_bulk_button(self) -> None:
        n = len(self.selected_rows())
        self.bulk_button.setText("Accept &selected…" if n > 1 else "Accept all &shown…")

    def bulk_accept(self, *, confirm: bool = True, notes: str | None = None) -> int:
        """Accept the proposals of the selected cases (or all shown) in one step; cases proposing
        attorney review (nothing to accept) and cases already decided are left as they are.
        Returns how many were recorded."""
        if self.session.run is None or not self.session.is_open or self.session.runner.busy:
            return 0
        scope, how = self.bulk_scope()
        ids = scope.get_column("conviction_id")
        outcome = self._results.select("conviction_id", "outcome").filter(pl.col("conviction_id").is_in(ids.implode()))
        decided = set(self.session.decisions.get_column("conviction_id").to_list()) if self.session.decisions.height else set()
        todo = outcome.filter((pl.col("outcome") != "review") & ~pl.col("conviction_id").is_in(list(decided)))
        left = []
        n_review = outcome.filter(pl.col("outcome") == "review").height
        if n_review:
            left.append(f"{n_review:,} proposing attorney review (nothing to accept)")
        n_decided = outcome.height - todo.height - n_review
        if n_decided:
            left.append(f"{n_decided:,} already decided")
        by = dict(todo.group_by("outcome").len().iter_rows())
        breakdown = ", ".join(f"{OUTCOME_TEXT.get(k, k).lower()}: {v:,}" for k, v in sorted(by.items()))
        if left:
            breakdown = (breakdown + ". " if breakdown else "") + "Left as they are: " + "; ".join(left) + "."
        if todo.height == 0:
            ErrorDialog.show_error(self, "Nothing to accept in " + how + (". " + breakdown if breakdown else "."))
            return 0
        if confirm:
            dialog = BulkDecisionDialog(self, count=todo.height, selection=how, decision_text="Accept the proposals",
                                        breakdown=breakdown)
            self.bulk_dialog = dialog
            accepted = dialog.exec() == BulkDecisionDialog.DialogCode.Accepted
            notes = dialog.notes.toPlainText().strip() or None
            self.bulk_dialog = None
            dialog.deleteLater()
            if not accepted:
                return 0
        try:
            self.session.decide_many(todo.get_column("conviction_id").to_list(), "accept", notes=notes, selection=how)
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return 0
        return todo.height

    def _on_decisions_changed(self, ids: list) -> None:
        if self._results is None or not ids:
            return
        changed = pl.Series("conviction_id", [str(i) for i in ids], dtype=pl.String)
        cols = decision_columns(changed, self.session.decisions)
        cols = cols.with_columns(progress_columns(changed, cols.get_column("_decision"), self.session.filed))
        for row in cols.iter_rows(named=True):
            self.model.update_where("conviction_id", row["conviction_id"],
                                    {"decision": row["decision"], "_decision": row["_decision"],
                                     "_departs": row["_departs"], "_progress": row["_progress"],
                                     "progress": row["progress"]})
        record = self.current_record()
        if record is not None and record["conviction_id"] in ids:
            self.detail.setHtml(self.case_html(record))
        self._update_actions()

    def _on_filings_changed(self) -> None:
        """A filing, ruling or notice to DOJ was recorded: every row's progress again (the rows
        stay where they are, as after a decision)."""
        if self._results is None:
            return
        frame = self.model.frame()
        cols = progress_columns(frame.get_column("conviction_id"), frame.get_column("_decision"), self.session.filed)
        self.model.replace_column("_progress", cols.get_column("_progress"))
        self.model.replace_column("progress", cols.get_column("progress"))
        record = self.current_record()
        if record is not None:
            self.detail.setHtml(self.case_html(record))
