"""Overview: the run's figures at a glance (outcomes, sections, courthouses, what changed)."""

from __future__ import annotations

import polars as pl
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..models import (
    Column,
    FrameModel,
)
from ..session import Session
from ..widgets.charts import BarChart
from ..widgets.common import OUTCOME_TEXT, configure_table, esc, fmt_int, plural


SECTION_BARS = 14
# The steps of the funnel (core/workspace/filings.py STATUSES) as the Overview names them.
FUNNEL_STEPS = (("screened", "Screened"), ("decided", "Decided"), ("filed", "Filed with the court"),
                ("ruled", "Ruled by the court"), ("reported_to_doj", "Reported to DOJ"))
WAITING_COLUMNS = [Column("court_case_number", "Case number", 110), Column("name", "Name", 180),
                   Column("waiting_for", "Waiting for", 170), Column("since", "Since", 90),
                   Column("days_waiting", "Days", 60)]


class CountTable(QTableView):
    """A small read-only table of (label, count) pairs."""

    def __init__(self, name: str, label: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.model_ = FrameModel([Column("label", label, 200), Column("count", "Cannabis convictions", 140)], self)
        configure_table(self, self.model_, name, sortable=True)
        self.setMinimumHeight(120)
        # the label column takes the room left: courthouse names are long ("... Courthouse, Elk Grove")
        hh = self.horizontalHeader()
        hh.setStretchLastSection(False)
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)

    def set_counts(self, counts: dict) -> None:
        items = sorted(counts.items(), key=lambda kv: (-int(kv[1]), str(kv[0])))
        self.model_.set_frame(pl.DataFrame(
            {"label": [str(k) if k not in (None, "") else "(blank)" for k, _ in items],
             "count": [int(v) for _, v in items]},
            schema={"label": pl.String, "count": pl.Int64}))
        # the longest name fits without eliding at the window's usual widths; a tooltip has the rest
        longest = max((self.fontMetrics().horizontalAdvance(str(k)) for k, _ in items), default=0)
        self.setMinimumWidth(min(longest + 200, 560))


class OverviewView(QWidget):
    """What the run found: counts, people left with no felony / no conviction, charts, warnings,
    and how far the office has got: the status funnel and the convictions waiting too long."""

    title = "Overview"
    open_case = Signal(str)  # conviction id to show in Review (a waiting conviction chosen)

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setAccessibleName("Overview")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(scroll)
        body = QWidget()
        scroll.setWidget(body)
        layout = QVBoxLayout(body)
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.heading.setAccessibleName("Run")
        layout.addWidget(self.heading)
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.setAccessibleName("Warnings")
        self.warnings.setObjectName("warnings")
        self.warnings.setStyleSheet("#warnings { border: 1px solid #c77700; border-radius: 4px; padding: 6px; }")
        layout.addWidget(self.warnings)

        grid = QGridLayout()
        left = QVBoxLayout()
        self.people = QLabel()
        self.people.setAccessibleName("People")
        self.people.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        people_box = QGroupBox("People")
        QVBoxLayout(people_box).addWidget(self.people)
        left.addWidget(people_box)
        # issue 16: how far the office has got, counted from what the session holds (a reader
        # thread; a decision never waits for it)
        self.funnel = BarChart("Cannabis convictions that reached each step")
        self.funnel_text = QLabel()
        self.funnel_text.setWordWrap(True)
        self.funnel_text.setAccessibleName("Convictions at each step now")
        self.funnel_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        progress_box = QGroupBox("Progress: screened → decided → filed → ruled → reported to DOJ")
        pl_ = QVBoxLayout(progress_box)
        pl_.addWidget(self.funnel)
        pl_.addWidget(self.funnel_text)
        left.addWidget(progress_box)
        self.outcome_chart = BarChart("Cannabis convictions by outcome")
        self.section_chart = BarChart("Cannabis convictions by code section (every section, however few)")
        self.decade_chart = BarChart("Cannabis convictions by decade of conviction")
        charts = QGroupBox("Charts")
        cl = QVBoxLayout(charts)
        cl.addWidget(self.outcome_chart)
        cl.addWidget(self.section_chart)
        cl.addWidget(self.decade_chart)
        grid.addWidget(charts, 0, 1)
        self.changes = QLabel()
        self.changes.setWordWrap(True)
        self.changes.setAccessibleName("Changes since the previous run")
        changes_box = QGroupBox("Since the previous run")
        QVBoxLayout(changes_box).addWidget(self.changes)
        left.addWidget(changes_box)
        # after a reconciliation of DOJ's list with the county's records (issue 15): its lists
        self.reconciliation = QLabel()
        self.reconciliation.setWordWrap(True)
        self.reconciliation.setAccessibleName("Reconciliation with the county's records")
        self.reconciliation_box = QGroupBox("Reconciliation with the county's records")
        QVBoxLayout(self.reconciliation_box).addWidget(self.reconciliation)
        left.addWidget(self.reconciliation_box)
        left.addStretch(1)
        grid.addLayout(left, 0, 0)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        layout.addLayout(grid)

        tables = QGridLayout()
        self.by_outcome = CountTable("Convictions by outcome", "Outcome")
        self.by_section = CountTable("Convictions by code section", "Section")
        self.by_level = CountTable("Convictions by level", "Level")
        self.by_courthouse = CountTable("Convictions by courthouse", "Courthouse")
        for i, (title, table) in enumerate([("By outcome", self.by_outcome), ("By section", self.by_section),
                                            ("By level", self.by_level), ("By courthouse", self.by_courthouse)]):
            box = QGroupBox(title)
            QVBoxLayout(box).addWidget(table)
            tables.addWidget(box, i // 2, i % 2)
        layout.addLayout(tables)

        self.waiting_days = QSpinBox()
        self.waiting_days.setRange(0, 3650)
        self.waiting_days.setValue(90)
        self.waiting_days.setSuffix(" days")
        self.waiting_days.setAccessibleName("Waiting longer than this many days")
        self.waiting_days.valueChanged.connect(lambda _v: self._progress_timer.start())
        days_label = QLabel("Waiting &longer than:")
        days_label.setBuddy(self.waiting_days)
        self.waiting_summary = QLabel()
        self.waiting_summary.setWordWrap(True)
        self.waiting_summary.setAccessibleName("How many convictions wait")
        self.waiting_model = FrameModel(WAITING_COLUMNS, self, keep=["conviction_id"])
        self.waiting_table = QTableView()
        configure_table(self.waiting_table, self.waiting_model, "Convictions waiting for their next step",
                        sortable=True)
        self.waiting_table.setMinimumHeight(160)
        self.waiting_table.setToolTip("Double-click or press Enter to open the case in Review")
        self.waiting_table.doubleClicked.connect(lambda index: self._open_waiting(index.row()))
        self.waiting_table.activated.connect(lambda index: self._open_waiting(index.row()))
        waiting_box = QGroupBox("Waiting for the next step")
        wl = QVBoxLayout(waiting_box)
        row = QHBoxLayout()
        row.addWidget(days_label)
        row.addWidget(self.waiting_days)
        row.addWidget(self.waiting_summary, 1)
        wl.addLayout(row)
        wl.addWidget(self.waiting_table)
        layout.addWidget(waiting_box)
        layout.addStretch(1)
        # decisions come one keypress at a time: count again once they pause, and only when shown
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(400)
        self._progress_timer.timeout.connect(self.refresh_progress)
        self._progress_stale = True
        self.progress: dict | None = None
        session.run_changed.connect(self.refresh)
        session.workspace_changed.connect(self.refresh)
        session.decisions_changed.connect(lambda _ids: self._mark_progress_stale())
        session.filings_changed.connect(self._mark_progress_stale)
        self.refresh()

    # -- progress (issue 16) -------------------------------------------------------------------

    def _mark_progress_stale(self) -> None:
        self._progress_stale = True
        if self.isVisible():
            self._progress_timer.start()

    def showEvent(self, event) -> None:
        if self._progress_stale:
            self._progress_timer.start(0)
        super().showEvent(event)

    def refresh_progress(self) -> bool:
        """Count each conviction's status on a reader; the funnel and the waiting list follow."""
        self._progress_stale = False
        started = self.session.progress_counts(self._show_progress, lambda m, d: self._show_progress(None),
                                               waiting_days=self.waiting_days.value())
        if not started:
            self._show_progress(None)
        return started

    def _show_progress(self, figures: dict | None) -> None:
        self.progress = figures
        run = self.session.run
        if figures is None or run is None:
            self.funnel.set_items([])
            self.funnel_text.setText("")
            self.waiting_summary.setText("")
            self.waiting_model.set_frame(None)
            return
        counts = figures["counts"]
        # a funnel: how many reached each step (a conviction at "ruled" has also been filed)
        reached, total = [], 0
        for key, _label in reversed(FUNNEL_STEPS):
            total += counts.get(key, 0)
            reached.append(total)
        reached.reverse()
        self.funnel.set_items([(label, n) for (_key, label), n in zip(FUNNEL_STEPS, reached)])
        now = " · ".join(f"{label.lower()}: <b>{fmt_int(counts.get(key))}</b>" for key, label in FUNNEL_STEPS)
        self.funnel_text.setText(f"Where each conviction is now: {now}.")
        waiting = figures["waiting"]
        days = self.waiting_days.value()
        if waiting.height:
            shown = (waiting.select("conviction_id", "waiting_for", "since", "days_waiting")
                     .join(run.results.select("conviction_id", "court_case_number", "name"), on="conviction_id",
                           how="left", maintain_order="left"))
            by_step = dict(waiting.group_by("waiting_for").len().iter_rows())
            self.waiting_summary.setText(
                f"<b>{fmt_int(waiting.height)}</b> {'conviction waits' if waiting.height == 1 else 'convictions wait'}"
                f" longer than {plural(days, 'day')}: " + ", ".join(
                    f"{fmt_int(n)} for {esc(step)}" for step, n in sorted(by_step.items())) + ".")
        else:
            shown = None
            self.waiting_summary.setText(f"No conviction waits longer than {plural(days, 'day')} for its next step.")
        self.waiting_model.set_frame(shown)

    def _open_waiting(self, row: int) -> None:
        if 0 <= row < self.waiting_model.rowCount():
            self.open_case.emit(self.waiting_model.record(row)["conviction_id"])

    def warning_lines(self) -> list[str]:
        s = self.session
        run = s.run
        if run is None:
            return []
        out = []
        if run.results.height == 0:
            out.append(f"No convictions found for the chosen county ({run.county}). Check the county: "
                       "the import report lists the counties in the file.")
        mismatch = s.run_county_warning()
        if mismatch:
            out.append(mismatch)
        ws_county = s.workspace_county.upper()
        if ws_county and run.county and ws_county != run.county:
            out.append(f"This run screened {run.county}, but the workspace was created for {ws_county}.")
        n_rejected = len(run.report.rejected)
        if n_rejected:
            out.append(f"{plural(n_rejected, 'line')} of the extract {'was' if n_rejected == 1 else 'were'} "
                       "rejected; see the import report.")
        if run.orphan_decisions:
            out.append(f"{plural(run.orphan_decisions, 'decision')} refer to convictions that are not in "
                       "this run.")
        by_flag = run.summary.get("convictions", {}).get("by_flag", {})
        unknown = int(by_flag.get("date_unknown", 0)) + int(by_flag.get("date_partial", 0))
        if unknown:
            out.append(f"{plural(unknown, 'conviction')} with an unknown or partial date "
                       f"{'goes' if unknown == 1 else 'go'} to attorney review.")
        dupes = int(by_flag.get("possible_duplicate_person", 0))
        if dupes:
            out.append(f"{plural(dupes, 'conviction')} of a possible duplicate person (never merged): "
                       "check the flag in Review.")
        return out

    def _show_reconciliation(self) -> None:
        counts = self.session.reconciliation_counts()
        self.reconciliation_box.setVisible(counts is not None)
        if counts is None:
            self.reconciliation.setText("")
            return
        lists = counts.get("lists", {})
        self.reconciliation.setText(
            f"County only (DOJ's list missed them): <b>{fmt_int(lists.get('county_only', 0))}</b><br>"
            f"DOJ only (no county record found): <b>{fmt_int(lists.get('doj_only', 0))}</b><br>"
            f"Both, disagreeing: <b>{fmt_int(lists.get('both_disagreeing', 0))}</b><br>"
            f"Both, agreeing: {fmt_int(lists.get('both', 0))}<br>"
            "See the Reconciliation view for the lists and the links to confirm or split.")

    def refresh(self) -> None:
        self._show_reconciliation()
        self._mark_progress_stale()
        run = self.session.run
        if run is None:
            self.heading.setText("<h2>Overview</h2><p>No screening run yet. Import an extract first.</p>")
            for w in (self.warnings, self.people, self.changes):
                w.setText("")
            self.warnings.hide()
            for chart in (self.outcome_chart, self.section_chart, self.decade_chart):
                chart.set_items([])
            for t in (self.by_outcome, self.by_section, self.by_level, self.by_courthouse):
                t.set_counts({})
            return
        conv = run.summary.get("convictions", {})
        people = run.summary.get("people", {})
        everything = run.summary.get("dismiss_everything", {})
        self.heading.setText(
            f"<h2>Overview: {esc(run.county)}</h2>"
            f"<p>Evaluation date <b>{run.as_of.isoformat()}</b> · profile <b>{esc(run.profile_title)}</b> "
            f"({esc(run.profile_id)}) · run {run.run_id} · {fmt_int(conv.get('total', run.results.height))} "
            "cannabis convictions screened</p>")
        lines = self.warning_lines()
        self.warnings.setVisible(bool(lines))
        self.warnings.setText("<b>Warnings</b><ul>" + "".join(f"<li>{esc(x)}</li>" for x in lines) + "</ul>")
        rows = [("People with a cannabis conviction here", "with_conviction"),
                ("People with some relief", "with_relief"),
                ("People left with no felony", "no_felony_left"),
                ("People left with no conviction at all", "no_conviction_left"),
                ("People with no conviction in the last 7 years", "none_in_7_years")]
        table = "".join(
            f"<tr><td>{label}</td><td align='right'><b>{fmt_int(people.get(key))}</b></td>"
            f"<td align='right'>{fmt_int(everything.get(key)) if key in everything else ''}</td></tr>"
            for label, key in rows)
        self.people.setText("<table cellspacing='0' cellpadding='4'><tr><th></th>"
                            "<th align='right'>This profile</th>"
                            "<th align='right'>If everything<br>were dismissed</th></tr>" + table + "</table>")
        by_outcome = conv.get("by_outcome", {})
        self.outcome_chart.set_items([(OUTCOME_TEXT.get(k, k), by_outcome.get(k, 0))
                                      for k in ("dismiss", "reduce", "review", "ineligible")])
        # the office's own screen: no small-count suppression (that is for what is published), every
        # section shown; past SECTION_BARS the smallest are summed into one bar that says how many
        by_section = sorted(conv.get("by_section", {}).items(), key=lambda kv: (-kv[1], kv[0]))
        if len(by_section) > SECTION_BARS:
            rest = by_section[SECTION_BARS - 1:]
            by_section = by_section[:SECTION_BARS - 1] + [(f"{len(rest)} other sections",
                                                           sum(v for _, v in rest))]
        self.section_chart.set_items(by_section)
        decades = run.summary.get("breakdowns", {}).get("decade", {})
        self.decade_chart.set_items([(k, v.get("convictions", 0)) for k, v in sorted(decades.items())])
        charts = (self.outcome_chart, self.section_chart, self.decade_chart)
        width = max(c.needed_label_width() for c in charts)
        for chart in charts:
            chart.label_width = width
            chart.update()
        self.by_outcome.set_counts({OUTCOME_TEXT.get(k, k): v for k, v in by_outcome.items()})
        self.by_section.set_counts(conv.get("by_section", {}))
        self.by_level.set_counts({{"F": "felony", "M": "misdemeanor", "I": "infraction"}.get(k, k): v
                                  for k, v in conv.get("by_level", {}).items()})
        self.by_courthouse.set_counts(conv.get("by_courthouse", {}))
        if run.changes is None:
            self.changes.setText("This is the first run in this workspace.")
        else:
            counts = dict(run.changes.group_by("change").len().iter_rows()) if run.changes.height else {}
            self.changes.setText(
                f"New convictions: <b>{fmt_int(counts.get('new'))}</b><br>"
                f"No longer in the data: <b>{fmt_int(counts.get('gone'))}</b><br>"
                f"Outcome changed: <b>{fmt_int(counts.get('outcome_changed'))}</b><br>"
                "Decisions stay attached to their conviction across runs.")


# -- Review ---------------------------------------------------------------------------------------
